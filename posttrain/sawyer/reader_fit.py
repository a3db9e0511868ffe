"""Train the Sawyer state reader on a Meta-World dataset, and measure it on held-out episodes.

    python -m posttrain.sawyer.reader_fit --data runs/mw_push_frames,runs/mw_push_layouts --out runs/mw_reader

The datasets (``worldsim generate --env worldsim/MetaWorld-v0 cameras=[corner2,corner4] ...``,
comma-separated) give the frames of every camera and the true state; the last ``--holdout``
episodes of the first dataset are held out. Many short episodes teach the object's look over
many layouts (the object only moves when touched); long ones teach pushing and carrying. ``<out>/`` gets ``model.safetensors``, ``config.json`` (reader config, cameras) and
``metrics.json`` (held-out error in cm: mean, p95 for the hand and the object).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from posttrain.sawyer.reader import TARGETS, SawyerReader, SawyerReaderConfig


def load_views(root: str, cameras: list[str]) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """uint8 frames (F, V, 3, H, W), float targets (F, 6) and each frame's episode index."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    keys = [f"observation.images.{c}" for c in cameras]
    missing = [k for k in keys + ["observation.state", "observation.environment_state"] if k not in reader.features]
    if missing:
        raise ValueError(f"{root} lacks {missing}; it has {sorted(reader.features)}")
    frames, targets, episode = [], [], []
    for i in tqdm(range(reader.num_episodes), desc="loading episodes", unit="ep"):
        ep = reader.read_episode(i)
        views = np.stack([ep[k] for k in keys], axis=1)                       # (T, V, H, W, 3)
        frames.append(torch.from_numpy(np.ascontiguousarray(views)).permute(0, 1, 4, 2, 3))
        state = np.concatenate([ep["observation.state"][:, :3], ep["observation.environment_state"][:, :3]], axis=1)
        targets.append(torch.from_numpy(state.astype(np.float32)))
        episode.append(np.full(len(state), i))
    return torch.cat(frames), torch.cat(targets), np.concatenate(episode)


def as_float(frames: torch.Tensor) -> torch.Tensor:
    return frames.float() / 127.5 - 1.0


@torch.no_grad()
def errors_cm(reader: SawyerReader, frames: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    pred = torch.cat([reader(as_float(frames[i:i + 256])) for i in range(0, len(frames), 256)])
    out = {}
    for name, part in (("hand", slice(0, 3)), ("object", slice(3, 6))):
        err = (pred[:, part] - targets[:, part]).norm(dim=-1) * 100
        out[f"{name}_cm_mean"], out[f"{name}_cm_p95"] = float(err.mean()), float(err.quantile(0.95))
    return out


def fit(frames, targets, cfg: SawyerReaderConfig, steps: int, batch: int, lr: float, seed: int,
        noise: float = 0.03) -> SawyerReader:
    torch.manual_seed(seed)
    reader = SawyerReader(cfg)
    reader.set_normalization(targets)
    opt = torch.optim.AdamW(reader.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)
    bar = tqdm(range(steps), desc="fit reader", unit="step")
    for _ in bar:
        idx = torch.randint(len(frames), (batch,), generator=gen)
        x = as_float(frames[idx])
        x = x + noise * torch.randn(x.shape, generator=gen)   # generated frames are not the renderer's exactly
        loss = reader.loss(x, targets[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    return reader.eval()


def main(argv=None) -> None:
    from worldsim.io.files import write_json
    from worldsim.io.lock import hold_folder
    from worldsim.io.tensors import write_tensors

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cameras", default="corner2,corner4")
    p.add_argument("--holdout", type=int, default=8, help="last episodes held out for the metrics")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    cameras = args.cameras.split(",")
    with hold_folder(args.out, "python -m posttrain.sawyer.reader_fit"):
        parts = [load_views(root, cameras) for root in args.data.split(",")]
        frames, targets = torch.cat([f for f, _, _ in parts]), torch.cat([t for _, t, _ in parts])
        first = parts[0][2]
        episode = np.concatenate([first] + [e + first.max() + 1 + 10**6 for _, _, e in parts[1:]])   # others: train
        cut = first.max() + 1 - args.holdout
        if cut < 1:
            raise ValueError(f"--holdout {args.holdout} leaves no training episode of {episode.max() + 1}")
        train, test = (episode < cut) | (episode > first.max()), (episode >= cut) & (episode <= first.max())
        cfg = SawyerReaderConfig(views=len(cameras))
        reader = fit(frames[train], targets[train], cfg, args.steps, args.batch, args.lr, args.seed)
        metrics = {"held_out": errors_cm(reader, frames[test], targets[test]),
                   "train": errors_cm(reader, frames[train][::10], targets[train][::10]),
                   "frames_train": int(train.sum()), "frames_held_out": int(test.sum())}
        out = Path(args.out)
        write_tensors(out / "model.safetensors", reader.state_dict())
        write_json(out / "config.json", {"reader": dataclasses.asdict(cfg), "cameras": cameras, "targets": TARGETS,
                                         "data": args.data, "steps": args.steps}, indent=2)
        write_json(out / "metrics.json", metrics, indent=2)
        print(metrics)


if __name__ == "__main__":
    main()
