"""Train the Sawyer frame painter on a rendered Meta-World dataset, resumably.

    python -m posttrain.sawyer.painter_train data=runs/mw_push_c4 out=runs/mw_push_painter steps=3000

The dataset comes from ``worldsim generate --env worldsim/MetaWorld-v0 ... cameras=[corner4]
sim_state=true camera_params=true`` (lossless video keeps the small puck sharp: ``video_crf=0
video_pix_fmt=yuv444p``). Every sample is one recorded frame with its episode's first frame and
first state and the frame's own state; the loss is the squared error, ``1 + changed_weight`` on
pixels that differ from the first frame (the arm and the object: most of the image never
changes). The last ``holdout_episodes`` are kept out for ``metrics.json`` (PSNR of painted
frames, and of the first frame as the do-nothing baseline). Checkpoints as
``posttrain.pixel_unet.train`` writes them; rerunning resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from posttrain.pixel_unet.data import Episodes, load_episodes
from posttrain.sawyer.camera import camera_parameters
from posttrain.sawyer.config import SawyerPainterTrainConfig
from posttrain.sawyer.painter import SawyerPainter


def state_stats(episodes: Episodes, train_eps: np.ndarray) -> dict[str, torch.Tensor]:
    rows = np.concatenate([np.arange(episodes.starts[e], episodes.starts[e] + episodes.lengths[e]) for e in train_eps])
    states = episodes.sim_states[torch.from_numpy(rows)].double()
    return {"state_mean": states.mean(0).float(), "state_std": states.std(0).clamp_min(1e-3).float()}


def batch(episodes: Episodes, eps: np.ndarray, n: int, rng: np.random.Generator):
    """(first frames, first states, states, target frames) of ``n`` random frames of episodes ``eps``."""
    ep = rng.choice(eps, n)
    idx = torch.from_numpy(episodes.starts[ep] + rng.integers(0, episodes.lengths[ep]))
    first = torch.from_numpy(episodes.starts[ep])
    to_float = lambda x: x.float() / 127.5 - 1.0   # noqa: E731
    return (to_float(episodes.frames[first]), episodes.sim_states[first], episodes.sim_states[idx],
            to_float(episodes.frames[idx]))


def loss_of(painter: SawyerPainter, first, start, state, target, changed_weight: float) -> torch.Tensor:
    moved = ((target - first).abs().amax(dim=1, keepdim=True) > 0.06).float()
    weight = 1.0 + changed_weight * torch.nn.functional.max_pool2d(moved, 3, stride=1, padding=1)
    return (weight * (painter(first, start, state) - target) ** 2).mean()


@torch.no_grad()
def held_out_psnr(painter: SawyerPainter, episodes: Episodes, held: np.ndarray, n: int = 512) -> dict[str, float]:
    from posttrain.pixel_unet.export import psnr

    first, start, state, target = batch(episodes, held, n, np.random.default_rng(0))
    painted = torch.cat([painter(first[i:i + 64], start[i:i + 64], state[i:i + 64]) for i in range(0, n, 64)])
    return {"painted_psnr": psnr(painted, target), "first_frame_psnr": psnr(first, target), "frames": n}


def train(cfg: SawyerPainterTrainConfig) -> Path:
    from posttrain.common.fit_loop import fit
    from posttrain.pixel_unet.train import lr_at, start_run
    from worldsim.io import write_json

    out = start_run(cfg)
    episodes = load_episodes(cfg.data, cfg.camera, sim_state=True)
    all_eps = np.arange(len(episodes.lengths))
    if len(all_eps) <= cfg.holdout_episodes:
        raise ValueError(f"{cfg.data} has {len(all_eps)} episodes; holdout_episodes={cfg.holdout_episodes} leaves none")
    train_eps, held = all_eps[:-cfg.holdout_episodes or None], all_eps[len(all_eps) - cfg.holdout_episodes:]
    intrinsics, extrinsics = camera_parameters(cfg.data, cfg.camera)
    torch.manual_seed(cfg.seed)
    painter = SawyerPainter(cfg.net, intrinsics, extrinsics, state_stats(episodes, train_eps))

    def batch_loss(step: int, rng, gen):
        return loss_of(painter, *batch(episodes, train_eps, cfg.batch_size, rng), cfg.changed_weight), ""

    ckpt = fit(painter, cfg, batch_loss, lr_at, "train sawyer painter")
    write_json(out / "metrics.json", held_out_psnr(painter.eval(), episodes, held), indent=2)
    return ckpt


def load_painter(run: str) -> tuple[SawyerPainter, SawyerPainterTrainConfig]:
    """A trained run folder's painter (eval mode, no gradients) and its config."""
    from posttrain.common.fit_loop import load_trained

    return load_trained(run, SawyerPainterTrainConfig, lambda cfg: SawyerPainter(cfg.net))


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config
    from worldsim.io.lock import hold_folder

    cfg = load_config(SawyerPainterTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    with hold_folder(cfg.out, "python -m posttrain.sawyer.painter_train"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
