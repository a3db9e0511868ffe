"""Deterministic, resumable clip batches from a LeRobotDataset, sharded by data-parallel rank.

    from worldsim.data.clips import ClipConfig, ClipLoader, held_out_split
    train_eps, eval_eps = held_out_split(num_episodes=50, fraction=0.1, seed=0)
    loader = ClipLoader(ClipConfig(root="runs/push", cameras=["top"], clip_len=8, episodes=train_eps),
                        batch_size=4, rank=0, world=1, seed=0)
    batch = next(loader)
    batch["video"]["top"]   # float32 (B, C, T, H, W) in [-1, 1]
    batch["action"]         # float32 (B, T, A): action t was taken at frame t
    batch["state"]          # float32 (B, T, D): observation.state at frame t
    state = loader.state_dict()      # {"epoch": 3, "index": 17}; load_state_dict(state) resumes there

A clip is a window of ``clip_len`` frames (every ``frame_step``-th frame) starting at any
``hop``-th frame of an episode. Each epoch visits every window once in an order drawn from
(seed, epoch); rank r of ``world`` takes every world-th window of that order (the remainder is
dropped, so all ranks take the same number of batches) and the epoch ends when a rank has no
full batch left. With ``max_clip_len`` set, each clip's length is drawn from
[clip_len, max_clip_len] (cut at the episode's end) and a batch is packed along time:
``video[cam]`` (1, C, sum T_i, H, W), ``action`` (1, sum T_i, A), with ``cu_seqlens`` (B + 1,)
int32 marking where each clip starts. Fixed-length batches carry ``cu_seqlens`` and ``lengths``
too. Decoded episodes stay in memory up to ``cache_mb`` (least recently used ones leave first).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from worldsim.data.lerobot_reader import LeRobotDatasetReader

IMAGE_PREFIX = "observation.images."
LOW_DIM = {"action": "action", "state": "observation.state"}


@dataclass
class ClipConfig:
    """Which clips to cut from which dataset."""

    root: str = ""
    cameras: list[str] = field(default_factory=list)  # empty: every camera of the dataset
    clip_len: int = 8
    max_clip_len: int | None = None  # set: variable lengths in [clip_len, max_clip_len], packed batches
    frame_step: int = 1
    hop: int = 1
    episodes: list[int] | None = None  # None: all episodes
    cache_mb: float = 1024.0

    def check(self) -> None:
        for name in ("clip_len", "frame_step", "hop"):
            if getattr(self, name) < 1:
                raise ValueError(f"ClipConfig.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.max_clip_len is not None and self.max_clip_len < self.clip_len:
            raise ValueError(f"ClipConfig.max_clip_len ({self.max_clip_len}) must be >= clip_len ({self.clip_len})")


def held_out_split(num_episodes: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) episode indices, sorted; about ``fraction`` held out, at least one each side."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"held-out fraction must be in [0, 1), got {fraction!r}")
    if fraction == 0.0:
        return list(range(num_episodes)), []
    if num_episodes < 2:
        raise ValueError(f"cannot hold out episodes from a dataset of {num_episodes}: need at least 2")
    n_held = min(max(round(fraction * num_episodes), 1), num_episodes - 1)
    order = np.random.default_rng([seed, num_episodes]).permutation(num_episodes)
    return sorted(order[n_held:].tolist()), sorted(order[:n_held].tolist())


def dataset_fingerprint(root: str | Path) -> str:
    """Hash of the dataset's info.json and episode index: changes when the data changes."""
    root = Path(root)
    digest = hashlib.sha256((root / "meta/info.json").read_bytes())
    for path in sorted((root / "meta/episodes").glob("*/*.parquet")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class EpisodeCache:
    """Decoded episodes kept in memory up to ``budget_bytes``, least recently used evicted first."""

    def __init__(self, load: Callable[[int], dict[str, np.ndarray]], budget_bytes: float):
        self.load, self.budget = load, budget_bytes
        self.items: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()
        self.nbytes = 0

    def get(self, episode: int) -> dict[str, np.ndarray]:
        if episode in self.items:
            self.items.move_to_end(episode)
            return self.items[episode]
        data = self.load(episode)
        self.items[episode] = data
        self.nbytes += sum(a.nbytes for a in data.values())
        while self.nbytes > self.budget and len(self.items) > 1:
            _, old = self.items.popitem(last=False)
            self.nbytes -= sum(a.nbytes for a in old.values())
        return data


def resolve_cameras(reader: LeRobotDatasetReader, cameras: list[str]) -> list[str]:
    available = [k[len(IMAGE_PREFIX):] for k, ft in reader.features.items()
                 if k.startswith(IMAGE_PREFIX) and ft["dtype"] in ("video", "image")]
    if not available:
        raise ValueError(f"{reader.root} has no camera features ({IMAGE_PREFIX}<cam>)")
    unknown = [c for c in cameras if c not in available]
    if unknown:
        raise ValueError(f"unknown camera(s) {unknown} in {reader.root}; allowed: {available}")
    return list(cameras) or available


def clip_windows(lengths: np.ndarray, episodes: list[int], span: int, hop: int) -> np.ndarray:
    """(N, 2) int64 rows (episode, start) of every window of ``span`` frames, episode by episode."""
    rows = [(e, s) for e in episodes for s in range(0, int(lengths[e]) - span + 1, hop)]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


class ClipLoader:
    """Endless iterator of clip batches; ``state_dict()`` is its (epoch, index) position."""

    def __init__(self, cfg: ClipConfig, batch_size: int, rank: int = 0, world: int = 1, seed: int = 0):
        cfg.check()
        if not 0 <= rank < world or batch_size < 1:
            raise ValueError(f"need batch_size >= 1 and 0 <= rank < world, got {batch_size=}, {rank=}, {world=}")
        self.cfg, self.batch_size, self.rank, self.world, self.seed = cfg, batch_size, rank, world, seed
        self.reader = LeRobotDatasetReader(cfg.root)
        self.cameras = resolve_cameras(self.reader, cfg.cameras)
        self.low_dim = {name: key for name, key in LOW_DIM.items() if key in self.reader.features}
        self.windows = clip_windows(self.reader.episode_lengths, self._episodes(), self._span(cfg.clip_len), cfg.hop)
        self.batches_per_epoch = len(self.windows) // world // batch_size
        if self.batches_per_epoch < 1:
            raise ValueError(
                f"{cfg.root}: {len(self.windows)} clips of {cfg.clip_len} frames, fewer than batch_size * world "
                f"= {batch_size} * {world}; use shorter clips, a smaller batch or more episodes"
            )
        self.cache = EpisodeCache(self._load_episode, cfg.cache_mb * 1024**2)
        self.fingerprint = dataset_fingerprint(cfg.root)
        self.epoch, self.index = 0, 0
        self._plan_epoch: int | None = None

    def _episodes(self) -> list[int]:
        n = self.reader.num_episodes
        episodes = list(range(n)) if self.cfg.episodes is None else list(self.cfg.episodes)
        bad = [e for e in episodes if not 0 <= e < n]
        if bad:
            raise ValueError(f"ClipConfig.episodes {bad} out of range: {self.cfg.root} has {n} episodes")
        return episodes

    def _span(self, length: int) -> int:
        return (length - 1) * self.cfg.frame_step + 1

    def _load_episode(self, episode: int) -> dict[str, np.ndarray]:
        data = self.reader.read_episode(episode)
        out = {cam: data[IMAGE_PREFIX + cam] for cam in self.cameras}  # uint8 (T, H, W, 3)
        out.update({name: data[key].astype(np.float32) for name, key in self.low_dim.items()})  # (T, A)
        return out

    # -------------------------------------------------------- position

    def __len__(self) -> int:
        return self.batches_per_epoch

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict) -> None:
        epoch, index = state.get("epoch"), state.get("index")
        last = self.batches_per_epoch
        if not (isinstance(epoch, int) and isinstance(index, int) and epoch >= 0 and 0 <= index <= last):
            raise ValueError(f"bad clip loader position {state!r}: need ints epoch >= 0 and 0 <= index <= {last}")
        self.epoch, self.index = epoch, index

    def _plan(self) -> tuple[np.ndarray, np.ndarray]:
        """This rank's window rows and clip lengths for the current epoch, in visiting order."""
        if self._plan_epoch != self.epoch:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.permutation(len(self.windows))
            high = self.cfg.max_clip_len or self.cfg.clip_len
            lengths = rng.integers(self.cfg.clip_len, high + 1, size=len(self.windows))
            mine = np.arange(self.rank, self.batches_per_epoch * self.batch_size * self.world, self.world)
            self._rows, self._lengths = self.windows[order[mine]], lengths[mine]
            self._plan_epoch = self.epoch
        return self._rows, self._lengths

    # -------------------------------------------------------- batches

    def __iter__(self) -> "ClipLoader":
        return self

    def __next__(self) -> dict:
        if self.index >= self.batches_per_epoch:
            self.epoch, self.index = self.epoch + 1, 0
        rows, lengths = self._plan()
        take = slice(self.index * self.batch_size, (self.index + 1) * self.batch_size)
        clips = [self._clip(int(e), int(s), int(n)) for (e, s), n in zip(rows[take], lengths[take])]
        self.index += 1
        return self._collate(clips)

    def _clip(self, episode: int, start: int, length: int) -> dict:
        data = self.cache.get(episode)
        episode_len = len(data[self.cameras[0]])
        length = min(length, (episode_len - 1 - start) // self.cfg.frame_step + 1)
        frames = start + self.cfg.frame_step * np.arange(length)  # (T,)
        clip = {"video": {cam: _to_video(data[cam][frames]) for cam in self.cameras}}  # (C, T, H, W)
        clip.update({name: torch.from_numpy(data[name][frames]) for name in self.low_dim})  # (T, A)
        clip.update(episode=episode, start=start, length=length)
        return clip

    def _collate(self, clips: list[dict]) -> dict:
        lengths = torch.tensor([c["length"] for c in clips], dtype=torch.int64)  # (B,)
        packed = self.cfg.max_clip_len is not None
        if packed:  # (1, C, sum T, H, W) and (1, sum T, A)
            video = {cam: torch.cat([c["video"][cam] for c in clips], 1)[None] for cam in self.cameras}
            low = {name: torch.cat([c[name] for c in clips])[None] for name in self.low_dim}
        else:  # (B, C, T, H, W) and (B, T, A)
            video = {cam: torch.stack([c["video"][cam] for c in clips]) for cam in self.cameras}
            low = {name: torch.stack([c[name] for c in clips]) for name in self.low_dim}
        cu_seqlens = torch.cat([torch.zeros(1, dtype=torch.int32), lengths.cumsum(0).to(torch.int32)])  # (B + 1,)
        return {
            "video": video, **low, "lengths": lengths, "cu_seqlens": cu_seqlens,
            "episode": torch.tensor([c["episode"] for c in clips]), "start": torch.tensor([c["start"] for c in clips]),
        }


def _to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float32 (3, T, H, W) in [-1, 1]."""
    return torch.from_numpy(frames).permute(3, 0, 1, 2).float().div(127.5).sub(1.0)
