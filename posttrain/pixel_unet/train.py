"""Train one predictor of the pixel world model: context noise, then training on its own rollouts.

    python -m posttrain.pixel_unet.train data=runs/push_wm out=runs/pix_det predictor=deterministic steps=2000
    python -m posttrain.pixel_unet.train data=runs/push_wm out=runs/pix_diff predictor=diffusion steps=2000
    python -m posttrain.pixel_unet.train data=runs/push_wm out=runs/lat predictor=latent_deterministic \
        latent.tokenizer=runs/tok4 net.layout=2 readers=runs/readers      # Cosmos-style (latent_dit.py)

Each step samples windows of ``net.context`` frames and their actions from the dataset and
predicts the next frame. The context frames get Gaussian noise of a random level (0 in 30% of
samples), and the network is told the level (GameNGen); the change it predicts is added to the
clean last frame, so it learns to predict motion from imperfect context without learning to
repaint the static scene. After ``rollout_start`` of the steps, each sample is
unrolled ``rollout_k`` steps, the model's own (detached) predictions becoming the context of
the next step, with the true frame as every step's target (DIAMOND-style stability on its own
rollouts). A layout-conditioned network (``net.layout=2``, the grounded default) also gets the
silhouettes of each target frame's recorded ``observation.sim_state`` (``layout.py``, through the
readers of ``readers=FOLDER``). Checkpoints (``<out>/checkpoint/``: weights, optimizer, RNG; safetensors and JSON,
never pickle) are written every ``ckpt_every`` steps; rerunning the same command resumes.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from posttrain.pixel_unet.config import PixelTrainConfig
from posttrain.pixel_unet.data import Episodes, check_context, load_episodes, sample_windows
from posttrain.pixel_unet.predictors import make_predictor
from worldsim import io as wio
from worldsim.training.flat_state import flatten_state, unflatten_state

CKPT = "checkpoint"


def changed_weight(target, last, extra: float):
    """1 everywhere, ``1 + extra`` where the target frame differs from the last context frame: (B, 1, H, W)."""
    moved = ((target - last).abs().amax(dim=1, keepdim=True) > 0.06).float()
    return 1.0 + extra * torch.nn.functional.max_pool2d(moved, 3, stride=1, padding=1)


def noisy_context(context, max_sigma: float, gen: torch.Generator):
    """(context + noise, sigma (B,)): sigma ~ U(0, max) in 70% of samples, else 0."""
    b = context.shape[0]
    sigma = torch.rand(b, generator=gen) * max_sigma * (torch.rand(b, generator=gen) < 0.7).float()
    return context + sigma.view(b, 1, 1, 1, 1) * torch.randn(context.shape, generator=gen), sigma


def with_anchor(context, batch, cfg: PixelTrainConfig):
    return torch.cat([batch.anchor[:, None], context], dim=1) if cfg.net.anchor else context


def train_step(model, batch, cfg: PixelTrainConfig, horizon: int, gen: torch.Generator, layout=None) -> torch.Tensor:
    """Mean loss over ``horizon`` unrolled steps of one batch of windows. The next step's context
    takes the model's own frame: the deterministic prediction, or for diffusion a one-Euler-step
    sample from the clean context (what it would generate, not a denoiser's blurry estimate).
    A layout-conditioned model gets ``layout`` maps of each target frame's recorded state."""
    k = cfg.net.context
    frames, actions = batch.frames, batch.actions  # (B, K + h, 3, H, W), (B, K + h - 1, A)
    context, total = frames[:, :k], 0.0
    for j in range(horizon):
        target, last, acts = frames[:, k + j], context[:, -1], actions[:, j:j + k]
        maps = layout(batch.sim_states[:, k + j]) if layout is not None else None
        noisy, sigma = noisy_context(context, cfg.context_noise_max, gen)
        loss, pred = model.loss(with_anchor(noisy, batch, cfg), acts, sigma, target,
                                changed_weight(target, frames[:, k + j - 1], cfg.changed_weight), gen, base=last,
                                layout=maps)
        total = total + loss / horizon
        if j + 1 < horizon and model.diffusion:
            pred = model.predict(with_anchor(context, batch, cfg), acts, None, steps=1, layout=maps)
        context = torch.cat([context[:, 1:], pred.detach().clamp(-1, 1)[:, None]], dim=1)
    return total


def make_layout(cfg: PixelTrainConfig, height: int, width: int):
    """Layout maps at the dataset's image size, through the fitted reader of ``cfg.readers``."""
    import dataclasses

    from posttrain.pixel_unet.layout import Layout
    from posttrain.pixel_unet.reader_fit import load_readers

    return Layout(dataclasses.replace(cfg.layout_maps, height=height, width=width), load_readers(cfg.readers)[0])


def lr_at(step: int, cfg: PixelTrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def save(out: Path, model, opt, step: int, rng: np.random.Generator, gen: torch.Generator) -> None:
    folder = out / CKPT
    tmp = out / (CKPT + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    wio.write_tensors(tmp / "model.safetensors", wio.tensor_state(model))
    tensors: dict = {"torch_rng": gen.get_state()}
    structure = flatten_state(opt.state_dict(), tensors, "opt")
    wio.write_tensors(tmp / "train_state.safetensors", tensors)
    wio.write_json(tmp / "train_state.json", {"step": step, "opt": structure, "numpy_rng": rng.bit_generator.state})
    if folder.exists():
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    tmp.rename(folder)


def resume(out: Path, model, opt, rng: np.random.Generator, gen: torch.Generator) -> int:
    folder = out / CKPT
    if not (folder / "train_state.json").is_file():
        return 0
    wio.load_tensor_state(model, wio.read_tensors(folder / "model.safetensors"))
    tensors = wio.read_tensors(folder / "train_state.safetensors")
    state = wio.read_json(folder / "train_state.json")
    opt.load_state_dict(unflatten_state(state["opt"], tensors))
    rng.bit_generator.state = state["numpy_rng"]
    gen.set_state(tensors["torch_rng"])
    return int(state["step"])


def holdout_split(episodes: Episodes, n: int) -> tuple[Episodes, Episodes]:
    idx = np.arange(len(episodes.lengths))
    return episodes.subset(idx[:-n] if n else idx), episodes.subset(idx[-n:] if n else idx[:0])


def train_one(model, opt, episodes, cfg: PixelTrainConfig, step: int, rng, gen, bar, log, layout=None) -> None:
    """One optimizer step: one-step targets before ``rollout_start``, unrolled ones after."""
    rolling = step >= cfg.rollout_start * cfg.steps
    horizon = cfg.rollout_k if rolling else 1
    batch = sample_windows(episodes, max(4, cfg.batch_size // horizon * 2) if rolling else cfg.batch_size,
                           cfg.net.context, horizon, rng)
    for group in opt.param_groups:
        group["lr"] = lr_at(step, cfg)
    loss = train_step(model, batch, cfg, horizon, gen, layout)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    opt.step()
    bar.set_postfix(loss=f"{loss.item():.5f}", h=horizon)
    log.write(f"{step} {horizon} {loss.item():.6f} {time.time():.0f}\n")


def build_model(cfg: PixelTrainConfig, episodes: Episodes):
    """The predictor to train; a latent one starts from its tokenizer run's weights, with its latent
    scale measured on the training frames."""
    if not cfg.is_latent:
        return make_predictor(cfg.predictor, cfg.net, cfg.edm)
    from posttrain.pixel_unet.latent_dit import with_tokenizer

    net_cfg, tokenizer = with_tokenizer(cfg.network())
    model = make_predictor(cfg.predictor, net_cfg, cfg.edm)
    model.net.tokenizer.load_state_dict(tokenizer.state_dict())
    pick = np.random.default_rng(cfg.seed).choice(len(episodes.frames), min(512, len(episodes.frames)), replace=False)
    model.net.fit_scale(episodes.frames[torch.from_numpy(pick)].float() / 127.5 - 1.0)
    return model


def start_run(cfg) -> Path:
    """Check a run's config, set its threads, make its folder and save the config there."""
    from worldsim.config import save_config

    cfg.validate()
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")
    return out


def train(cfg: PixelTrainConfig) -> Path:
    """Train (or resume) the run ``cfg.out``; returns the checkpoint folder."""
    out = start_run(cfg)
    episodes, _ = holdout_split(load_episodes(cfg.data, cfg.camera, sim_state=bool(cfg.net.layout)),
                                cfg.holdout_episodes)
    check_context(episodes, cfg.net.context, cfg.rollout_k)
    layout = make_layout(cfg, *episodes.frames.shape[-2:]) if cfg.net.layout else None
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, episodes)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng, gen = np.random.default_rng(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    start = resume(out, model, opt, rng, gen)
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=f"train {cfg.predictor}", unit="step")
    with open(out / "loss.log", "a") as log:
        for step in bar:
            train_one(model, opt, episodes, cfg, step, rng, gen, bar, log, layout)
            if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps:
                log.flush()
                save(out, model, opt, step + 1, rng, gen)
    return out / CKPT


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config

    cfg = load_config(PixelTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    from worldsim.io.lock import hold_folder

    with hold_folder(cfg.out, "python -m posttrain.pixel_unet.train"):   # a second run on the folder is refused at once
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
