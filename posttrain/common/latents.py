"""Per-frame tokenizer latents of a whole LeRobotDataset, with the labels the world model learns.

    cache = load_or_build_latents("runs/push_train", "runs/tokenizer", cameras=["top"],
                                  path="runs/wm/latents.safetensors")
    cache.latents          # float32 (N, C, h, V*w): every frame, cameras side by side in width
    cache.starts           # int64 (episodes + 1,): episode e is rows starts[e] .. starts[e+1]-1
    cache.action, cache.state, cache.env_state, cache.reward, cache.success   # (N, ...) per row

``tokenizer`` is a tokenizer run or ``pixels:P`` (posttrain/common/codec.py). Each frame is encoded alone (the causal tokenizer's T = 1 mode, which every training clip's
first frame uses), so a world model can decode any single generated latent frame without the
history. Row t holds the observation at frame t, the action taken there and the reward/success
after it (LeRobot's ``next.*``). Encoding runs once; the file is reused while the dataset
fingerprint, the tokenizer's weights and the cameras are unchanged.
"""

from __future__ import annotations

import os
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from worldsim.data.clips import dataset_fingerprint, resolve_cameras
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from posttrain.common.codec import codec_fingerprint, load_codec

LABELS = {"action": "action", "state": "observation.state", "env_state": "observation.environment_state",
          "reward": "next.reward", "success": "next.success"}


@dataclass
class LatentDataset:
    latents: torch.Tensor
    starts: torch.Tensor
    action: torch.Tensor
    state: torch.Tensor
    env_state: torch.Tensor
    reward: torch.Tensor
    success: torch.Tensor
    key: dict

    @property
    def num_episodes(self) -> int:
        return len(self.starts) - 1

    def episode_rows(self, episode: int) -> range:
        return range(int(self.starts[episode]), int(self.starts[episode + 1]))

    def tensors(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in ("latents", "starts", *LABELS)}


def tokenizer_fingerprint(path: str) -> str:
    return codec_fingerprint(path)


def cache_key(data: str, tokenizer: str, cameras: list[str]) -> dict:
    return {"data": dataset_fingerprint(data), "tokenizer": tokenizer_fingerprint(tokenizer), "cameras": list(cameras)}


def check_labels(reader: LeRobotDatasetReader) -> None:
    missing = [key for key in LABELS.values() if key not in reader.features]
    if missing:
        raise ValueError(f"{reader.root} lacks {missing}: world-model training needs a dataset from "
                         f"`worldsim generate` (state, environment_state, action, next.reward, next.success)")


@torch.no_grad()
def encode_frames(tokenizer, frames: np.ndarray, batch: int = 64) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> latents (T, C, h, w), every frame encoded alone."""
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # (T, 3, H, W)
    out = [tokenizer.encode(chunk[:, :, None])[:, :, 0] for chunk in video.split(batch)]
    return torch.cat(out)


def encode_views(tokenizer, views: list[np.ndarray]) -> torch.Tensor:
    """One uint8 (T, H, W, 3) array per camera -> (T, C, h, V*w), cameras side by side."""
    return torch.cat([encode_frames(tokenizer, v) for v in views], dim=-1)


def build_latents(data: str, tokenizer_path: str, cameras: list[str], progress: bool = True) -> LatentDataset:
    reader = LeRobotDatasetReader(data)
    check_labels(reader)
    cameras = resolve_cameras(reader, list(cameras))
    tokenizer = load_codec(tokenizer_path)
    if tokenizer.cfg.temporal_compression != 1:
        raise ValueError(f"{tokenizer_path} has temporal_compression={tokenizer.cfg.temporal_compression}; the "
                         f"world model steps one frame at a time and needs a tokenizer with temporal_compression=1")
    columns: dict[str, list] = {name: [] for name in ("latents", *LABELS)}
    lengths = []
    for ep in tqdm(range(reader.num_episodes), desc="encoding latents", disable=not progress, dynamic_ncols=True):
        episode = reader.read_episode(ep)
        columns["latents"].append(encode_views(tokenizer, [episode[f"observation.images.{c}"] for c in cameras]))
        for name, key in LABELS.items():
            columns[name].append(torch.from_numpy(np.array(episode[key])))
        lengths.append(len(episode["action"]))
    tensors = {name: torch.cat(parts) for name, parts in columns.items()}
    tensors["reward"] = tensors["reward"].float().reshape(-1)
    tensors["success"] = tensors["success"].bool().reshape(-1)
    tensors["starts"] = torch.tensor(np.concatenate([[0], np.cumsum(lengths)]), dtype=torch.int64)
    return LatentDataset(**tensors, key=cache_key(data, tokenizer_path, cameras))


def save_latents(cache: LatentDataset, path: str | Path) -> None:
    tensors = {k: v.contiguous() for k, v in cache.tensors().items()}
    tensors["success"] = tensors["success"].to(torch.uint8)
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata={"key": json.dumps(cache.key)})
    tmp.replace(path)


def read_latents(path: str | Path) -> LatentDataset:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        key = json.loads((f.metadata() or {}).get("key", "{}"))
    tensors = load_file(str(path))
    tensors["success"] = tensors["success"].bool()
    return LatentDataset(**tensors, key=key)


def load_or_build_latents(data: str, tokenizer: str, cameras: list[str], path: str = "",
                          progress: bool = True) -> LatentDataset:
    """The cached latents at ``path`` if they match (data, tokenizer, cameras); else encode (and save)."""
    if path and Path(path).is_file():
        cache = read_latents(path)
        if cache.key == cache_key(data, tokenizer, resolve_cameras(LeRobotDatasetReader(data), list(cameras))):
            return cache
    cache = build_latents(data, tokenizer, cameras, progress)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_latents(cache, path)
    return cache


@torch.no_grad()
def decode_views(tokenizer, latents: torch.Tensor, views: int) -> torch.Tensor:
    """Latents (B, C, h, V*w) -> frames float (B, 3, H, V*W) in [-1, 1], each view decoded alone."""
    parts = latents.chunk(views, dim=-1)  # V x (B, C, h, w)
    frames = [tokenizer.decode(p[:, :, None])[:, :, 0] for p in parts]  # V x (B, 3, H, W)
    return torch.cat(frames, dim=-1).clamp(-1, 1)
