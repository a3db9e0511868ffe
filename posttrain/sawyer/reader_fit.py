"""Train the Sawyer state reader on rendered Meta-World datasets, resumably, and measure it on held-out episodes.

    python -m posttrain.sawyer.reader_fit data=runs/mw_push_c4 out=runs/mw_push_reader steps=2000

The datasets (``worldsim generate --env worldsim/MetaWorld-v0 ... cameras=[corner4] sim_state=true
camera_params=true``, comma-separated) give frames, the recorded state and the camera. Each frame's
keypoint targets are the camera's projection of the state (``reader.KEYPOINTS``); the goal's height
is its mean in the first states, the table points' the table (z = 0). The last ``holdout_episodes`` of the first dataset are held out:
``metrics.json`` has their errors in cm (mean, 95th percentile) for the hand, the object and the
goal, and the gripper opening's mean absolute error. Checkpoints as ``posttrain.pixel_unet.train``
writes them; rerunning resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from posttrain.pixel_unet.data import Episodes, load_episodes
from posttrain.sawyer.camera import camera_parameters, project
from posttrain.sawyer.config import GOAL, GRIPPER, HAND, OBJ, SawyerReaderTrainConfig
from posttrain.sawyer.reader import SawyerReader

FLOOR_Z = 0.0   # Meta-World's table top


def keypoint_targets(states: torch.Tensor, reader: SawyerReader) -> torch.Tensor:
    """(B, 44) states -> (B, 5, 2) pixels of the hand, the table under it, the object, the table under
    it and the goal."""
    def floor(p):
        return torch.cat([p[:, :2], torch.full((len(p), 1), FLOOR_Z)], dim=1)

    hand, obj = states[:, HAND], states[:, OBJ]
    points = torch.stack([hand, floor(hand), obj, floor(obj), states[:, GOAL]], dim=1)
    return project(points, reader.intrinsics, reader.extrinsics)


def load_all(cfg: SawyerReaderTrainConfig) -> tuple[Episodes, np.ndarray, np.ndarray]:
    """All datasets as one Episodes, and (training episode indices, held-out episode indices)."""
    parts = [load_episodes(root, cfg.camera, sim_state=True) for root in cfg.data.split(",")]
    if len(parts[0].lengths) <= cfg.holdout_episodes:
        raise ValueError(f"{cfg.data.split(',')[0]} has {len(parts[0].lengths)} episodes; holdout_episodes="
                         f"{cfg.holdout_episodes} leaves none")
    offsets = np.cumsum([0] + [len(p.frames) for p in parts[:-1]])
    episodes = Episodes(torch.cat([p.frames for p in parts]), torch.cat([p.actions for p in parts]),
                        torch.cat([p.states for p in parts]), np.concatenate([p.starts + o for p, o in zip(parts, offsets)]),
                        np.concatenate([p.lengths for p in parts]), sum((p.policies for p in parts), []),
                        torch.cat([p.sim_states for p in parts]))
    n_first = len(parts[0].lengths)
    held = np.arange(n_first - cfg.holdout_episodes, n_first)
    return episodes, np.setdiff1d(np.arange(len(episodes.lengths)), held), held


def heights_of(episodes: Episodes, eps: np.ndarray) -> torch.Tensor:
    first = episodes.sim_states[torch.from_numpy(episodes.starts[eps])]
    return torch.tensor([FLOOR_Z, float(first[:, GOAL][:, 2].mean())])


def frames_of(episodes: Episodes, eps: np.ndarray) -> np.ndarray:
    return np.concatenate([np.arange(episodes.starts[e], episodes.starts[e] + episodes.lengths[e]) for e in eps])


@torch.no_grad()
def errors(reader: SawyerReader, episodes: Episodes, idx: np.ndarray) -> dict[str, float]:
    idx = torch.from_numpy(idx)
    reads = [reader(episodes.frames[idx[i:i + 256]].float() / 127.5 - 1) for i in range(0, len(idx), 256)]
    states = episodes.sim_states[idx]
    out = {}
    for name, part in (("hand", HAND), ("object", OBJ), ("goal", GOAL)):
        err = (torch.cat([r[name] for r in reads]) - states[:, part]).norm(dim=1) * 100
        out[f"{name}_cm_mean"], out[f"{name}_cm_p95"] = float(err.mean()), float(err.quantile(0.95))
    out["gripper_abs_mean"] = float((torch.cat([r["gripper"] for r in reads]) - states[:, GRIPPER]).abs().mean())
    out["frames"] = len(idx)
    return out


def train(cfg: SawyerReaderTrainConfig) -> Path:
    from posttrain.common.fit_loop import fit
    from posttrain.pixel_unet.train import lr_at, start_run
    from worldsim.io import write_json

    out = start_run(cfg)
    episodes, train_eps, held = load_all(cfg)
    intrinsics, extrinsics = camera_parameters(cfg.data.split(",")[0], cfg.camera)
    torch.manual_seed(cfg.seed)
    reader = SawyerReader(cfg.net, intrinsics, extrinsics, heights_of(episodes, train_eps))
    pool = frames_of(episodes, train_eps)

    def batch_loss(step: int, rng, gen):
        idx = torch.from_numpy(rng.choice(pool, cfg.batch_size))
        x = episodes.frames[idx].float() / 127.5 - 1
        x = x + cfg.frame_noise * torch.randn(x.shape, generator=gen)
        states = episodes.sim_states[idx]
        targets = keypoint_targets(states, reader)
        return reader.loss(x, targets, states[:, GRIPPER], states[:, HAND], states[:, OBJ]), ""

    ckpt = fit(reader, cfg, batch_loss, lr_at, "train sawyer reader")
    reader.eval()
    write_json(out / "metrics.json", {"held_out": errors(reader, episodes, frames_of(episodes, held)),
                                      "train": errors(reader, episodes, frames_of(episodes, train_eps)[::20])}, indent=2)
    return ckpt


def load_reader_run(run: str) -> tuple[SawyerReader, dict]:
    """A trained run folder's reader (eval mode, no gradients) and its network config as plain data."""
    from posttrain.common.fit_loop import load_trained
    from worldsim.config import to_dict

    reader, cfg = load_trained(run, SawyerReaderTrainConfig, lambda cfg: SawyerReader(cfg.net))
    return reader, to_dict(cfg.net)


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config
    from worldsim.io.lock import hold_folder

    cfg = load_config(SawyerReaderTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    with hold_folder(cfg.out, "python -m posttrain.sawyer.reader_fit"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
