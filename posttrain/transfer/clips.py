"""Training clips for the transfer model: target latents and control maps, and a resumable loader.

    frames = load_transfer_frames("runs/transfer/data", codec, "top", ControlsConfig())
    frames.latents           # float32 (N, C, h, w): each target frame encoded alone
    frames.controls["edge"]  # uint8 (N, 1, H, W): the control map times 255
    loader = ClipLoader(frames, episodes=[0, 1, 2], clip_len=4, batch_size=8, seed=0)
    batch = next(loader)     # {"latents": (B, C, T, h, w), "controls": {name: (B, C_k, T, H, W) in [0, 1]}}

Targets are ``observation.images.<cam>`` (the randomised looks); controls come from the depth and
segmentation features and, for edges and blur, from ``observation.canonical.<cam>`` when the
dataset has it (worldsim/generation/transfer_data.py), else from the target frames themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from posttrain.common.latents import encode_frames
from worldsim.conditioning.control_sources import check_dataset_features, dataset_labels, episode_inputs
from worldsim.conditioning.controls import ControlsConfig, compute_controls


@dataclass
class TransferFrames:
    latents: Tensor                 # (N, C, h, w)
    controls: dict[str, Tensor]     # {name: uint8 (N, C_k, H, W)}
    starts: Tensor                  # (E + 1,) int64: episode e is rows starts[e]..starts[e+1]-1
    fingerprint: str


def control_rgb_key(reader, camera: str, rgb_key: str = "") -> str:
    """The frames edges and blur are computed from: the canonical render when the dataset has one."""
    canonical = f"observation.canonical.{camera}"
    return rgb_key or (canonical if canonical in reader.features else f"observation.images.{camera}")


def load_transfer_frames(data: str, codec, camera: str, cfg: ControlsConfig, rgb_key: str = "",
                         progress: bool = True) -> TransferFrames:
    from worldsim.data.clips import dataset_fingerprint
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(data)
    target = f"observation.images.{camera}"
    if target not in reader.features:
        raise ValueError(f"{data} has no {target!r}; cameras: "
                         f"{[k.split('.')[-1] for k in reader.features if k.startswith('observation.images.')]}")
    key = control_rgb_key(reader, camera, rgb_key)
    check_dataset_features(reader, camera, cfg.names, key)
    labels = dataset_labels(reader)
    latents, maps, lengths = [], {n: [] for n in cfg.names}, []
    for e in tqdm(range(reader.num_episodes), desc="encoding transfer clips", disable=not progress,
                  dynamic_ncols=True):
        episode = reader.read_episode(e)
        latents.append(encode_frames(codec, episode[target]))
        for name, m in compute_controls(episode_inputs(episode, camera, labels, key), cfg).items():
            maps[name].append(torch.from_numpy(np.rint(m * 255).astype(np.uint8)))
        lengths.append(len(episode[target]))
    starts = torch.tensor(np.concatenate([[0], np.cumsum(lengths)]), dtype=torch.int64)
    return TransferFrames(torch.cat(latents), {n: torch.cat(v) for n, v in maps.items()}, starts,
                          dataset_fingerprint(data))


def clip_starts(frames: TransferFrames, episodes, clip_len: int) -> np.ndarray:
    """First rows of every clip of ``clip_len`` frames inside one of ``episodes``."""
    out = [np.arange(int(frames.starts[e]), int(frames.starts[e + 1]) - clip_len + 1) for e in episodes]
    out = np.concatenate(out) if out else np.zeros(0, np.int64)
    if out.size == 0:
        raise ValueError(f"no episode is {clip_len} frames long; lower clip_len")
    return out


def clip_batch(frames: TransferFrames, starts, clip_len: int) -> dict:
    rows = torch.as_tensor(np.asarray(starts))[:, None] + torch.arange(clip_len)  # (B, T)
    latents = frames.latents[rows].permute(0, 2, 1, 3, 4)  # (B, C, T, h, w)
    controls = {n: m[rows].permute(0, 2, 1, 3, 4).float() / 255 for n, m in frames.controls.items()}
    return {"latents": latents, "controls": controls}


class ClipLoader:
    """Endless shuffled clips (one permutation per epoch, seeded); position saved for exact resume."""

    def __init__(self, frames: TransferFrames, episodes, clip_len: int, batch_size: int, seed: int,
                 rank: int = 0, world: int = 1):
        self.frames, self.clip_len, self.batch_size = frames, clip_len, batch_size
        self.starts = clip_starts(frames, episodes, clip_len)[rank::world]
        self.seed, self.epoch, self.pos = seed, 0, 0
        self.fingerprint = frames.fingerprint

    def __iter__(self):
        return self

    def _order(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.starts))

    def __next__(self) -> dict:
        picked = []
        while len(picked) < self.batch_size:
            order = self._order()
            take = order[self.pos:self.pos + self.batch_size - len(picked)]
            picked.extend(self.starts[take].tolist())
            self.pos += len(take)
            if self.pos >= len(order):
                self.epoch, self.pos = self.epoch + 1, 0
        return clip_batch(self.frames, picked, self.clip_len)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
