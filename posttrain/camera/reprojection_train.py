"""Train the reprojection camera model's U-Net on a camera dataset with depth, resumably.

    python -m posttrain.camera.data --out runs/camera_depth episodes=240 steps=23 image_size=64 depth=true
    python -m posttrain.camera.reprojection_train data=runs/camera_depth out=runs/camera_reproj steps=3000

A sample is one frame j of an episode, its depth and camera, reprojected into the camera of a frame
t of the same episode (1 <= |t - j| <= ``max_gap``, either direction), and frame t as the target;
the loss is the squared error. The last ``holdout_episodes`` episodes are kept out for
``metrics.json``: PSNR of the completed views, of the bare reprojection, and of repeating frame j
(the baseline that ignores the camera), against the true frame t. Checkpoints (safetensors) as
``posttrain.pixel_unet.train`` writes them; rerunning resumes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posttrain.camera.reprojection import ViewFiller
from posttrain.camera.reprojection_config import ViewFillerTrainConfig


@dataclass
class DepthEpisodes:
    frames: torch.Tensor      # (N, 3, H, W) float in [-1, 1], episodes back to back
    depth: torch.Tensor       # (N, H, W) planar metres (inf: nothing hit)
    poses: torch.Tensor       # (N, 4, 4) float64 world-from-camera
    intrinsics: torch.Tensor  # (3, 3) float64
    starts: np.ndarray        # (E,)
    lengths: np.ndarray       # (E,)


def load_depth_episodes(root: str, camera: str) -> DepthEpisodes:
    """Every episode of a camera dataset recorded with depth."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    keys = [f"observation.images.{camera}", f"observation.depth.{camera}", f"observation.camera.{camera}.intrinsics",
            f"observation.camera.{camera}.extrinsics"]
    missing = [k for k in keys if k not in reader.features]
    if missing:
        raise ValueError(f"{root} lacks {missing}; the reprojection model needs frames, depth and cameras: make it "
                         "with `python -m posttrain.camera.data ... depth=true`")
    parts: list[list[np.ndarray]] = [[], [], []]
    lengths, intrinsics = [], None
    for e in range(reader.num_episodes):
        ep = reader.read_episode(e)
        for part, key in zip(parts, (keys[0], keys[1], keys[3])):
            part.append(np.asarray(ep[key]))
        lengths.append(len(parts[0][-1]))
        intrinsics = np.asarray(ep[keys[2]][0], np.float64)
    frames = torch.from_numpy(np.concatenate(parts[0])).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    lengths = np.asarray(lengths)
    return DepthEpisodes(frames, torch.from_numpy(np.concatenate(parts[1])[..., 0].astype(np.float32)),
                         torch.from_numpy(np.concatenate(parts[2]).astype(np.float64)), torch.from_numpy(intrinsics),
                         np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)


def pairs(data: DepthEpisodes, eps: np.ndarray, n: int, max_gap: int, rng: np.random.Generator):
    """(source rows, target rows) of ``n`` random pairs within episodes ``eps``."""
    ep = rng.choice(eps, n)
    length = data.lengths[ep]
    gap = np.minimum(rng.integers(1, max_gap + 1, n), length - 1)
    j = rng.integers(0, length - gap)
    j, t = data.starts[ep] + j, data.starts[ep] + j + gap
    flip = rng.random(n) < 0.5
    return np.where(flip, t, j), np.where(flip, j, t)


def complete(filler: ViewFiller, data: DepthEpisodes, src: np.ndarray, dst: np.ndarray) -> torch.Tensor:
    k = data.intrinsics.expand(len(src), 3, 3)
    return filler(data.frames[src], data.depth[src], k, data.poses[src], data.poses[dst])


@torch.no_grad()
def held_out_psnr(filler: ViewFiller, data: DepthEpisodes, held: np.ndarray, max_gap: int, n: int = 256) -> dict:
    from posttrain.pixel_unet.export import psnr

    src, dst = pairs(data, held, n, max_gap, np.random.default_rng(0))
    filled, warped = [], []
    for i in range(0, n, 32):
        s, d = src[i:i + 32], dst[i:i + 32]
        filled.append(complete(filler, data, s, d))
        k = data.intrinsics.expand(len(s), 3, 3)
        warped.append(filler.reproject(data.frames[s].double(), data.depth[s].double(), k, data.poses[s],
                                       data.poses[d]).rgb.float())
    target = data.frames[dst]
    return {"completed_psnr": psnr(torch.cat(filled), target), "reprojection_psnr": psnr(torch.cat(warped), target),
            "repeat_source_psnr": psnr(data.frames[src], target), "pairs": n, "max_gap": max_gap}


def train(cfg: ViewFillerTrainConfig) -> Path:
    from posttrain.common.fit_loop import fit
    from posttrain.pixel_unet.train import lr_at, start_run
    from worldsim.io import write_json

    out = start_run(cfg)
    data = load_depth_episodes(cfg.data, cfg.camera)
    if data.frames.shape[-1] != cfg.net.image_size:
        raise ValueError(f"{cfg.data} has {data.frames.shape[-1]} px frames; net.image_size={cfg.net.image_size}")
    episodes = np.arange(len(data.lengths))
    if len(episodes) <= cfg.holdout_episodes:
        raise ValueError(f"{cfg.data} has {len(episodes)} episodes; holdout_episodes={cfg.holdout_episodes} leaves none")
    train_eps, held = episodes[:len(episodes) - cfg.holdout_episodes], episodes[len(episodes) - cfg.holdout_episodes:]
    torch.manual_seed(cfg.seed)
    filler = ViewFiller(cfg.net)

    def batch_loss(step: int, rng, gen):
        src, dst = pairs(data, train_eps, cfg.batch_size, cfg.max_gap, rng)
        return ((complete(filler, data, src, dst) - data.frames[dst]) ** 2).mean(), ""

    ckpt = fit(filler, cfg, batch_loss, lr_at, "train view filler")
    write_json(out / "metrics.json", held_out_psnr(filler.eval(), data, held, cfg.max_gap), indent=2)
    return ckpt


def load_filler(run: str) -> tuple[ViewFiller, ViewFillerTrainConfig]:
    """A trained run folder's (or shipped folder's) filler, eval mode, and its config."""
    from posttrain.common.fit_loop import load_trained

    return load_trained(run, ViewFillerTrainConfig, lambda cfg: ViewFiller(cfg.net))


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config
    from worldsim.io.lock import hold_folder

    cfg = load_config(ViewFillerTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    with hold_folder(cfg.out, "python -m posttrain.camera.reprojection_train"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
