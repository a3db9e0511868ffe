"""``worldsim train policy``: behaviour cloning of a small image-and-state policy on a LeRobotDataset.

    task = PolicyTask(PolicyTaskConfig(data="runs/push_train", model=BCConfig(camera="top")))
    Trainer(TrainerConfig(out="runs/bc", steps=2000, keep_last=0, ckpt_every=250), task).fit()
    # every checkpoint is a policy: bc:runs/bc/checkpoints/step_0000250, ... (graded quality)

Frames of one camera, ``observation.state`` (agent_pos) and ``observation.environment_state``
are decoded once into memory (``FrameLoader``); each batch is a random set of frames, the
target the action taken there. The network's normalization comes from the dataset's
``meta/stats.json``. ``evaluate`` reports the held-out episodes' action MSE (normalized units).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from policies.bc import BCConfig, BCNet
from policies.bc_spec import ARCHITECTURE
from worldsim.data.clips import dataset_fingerprint, held_out_split
from worldsim.data.lerobot_reader import LeRobotDatasetReader

IMAGE_PREFIX = "observation.images."
STATE, ENV_STATE, ACTION = "observation.state", "observation.environment_state", "action"


@dataclass
class PolicyTaskConfig:
    data: str = ""
    held_out: float = 0.1
    split_seed: int = 0
    fraction: float = 1.0          # share of the training episodes used (nested: 5% is inside 10%)
    random_shift: int = 4          # pixels of random translation augmentation (0: none)
    colour_jitter: float = 0.0     # photometric augmentation: per frame and channel, gain 1 +- this and
                                   # offset +- this * 128 (0: none)
    eval_frames: int = 2048
    model: BCConfig = field(default_factory=BCConfig)


def load_frames(reader: LeRobotDatasetReader, episodes: list[int], camera: str, use_env: bool) -> dict:
    """{"image": uint8 (N, H, W, 3), "state": float32 (N, D), "action": float32 (N, A)} of ``episodes``."""
    parts: dict[str, list] = {"image": [], "state": [], "action": []}
    for e in episodes:
        ep = reader.read_episode(e)
        state = [ep[STATE]] + ([ep[ENV_STATE]] if use_env else [])
        parts["image"].append(ep[IMAGE_PREFIX + camera])
        parts["state"].append(np.concatenate(state, axis=1).astype(np.float32))
        parts["action"].append(ep[ACTION].astype(np.float32))
    return {k: np.concatenate(v) for k, v in parts.items()}


class FrameLoader:
    """Endless random batches of frames; position = (epoch, index) in a per-epoch permutation."""

    def __init__(self, frames: dict, batch_size: int, rank: int, world: int, seed: int, fingerprint: str):
        self.frames, self.batch_size, self.rank, self.world, self.seed = frames, batch_size, rank, world, seed
        self.fingerprint = fingerprint
        self.per_epoch = len(frames["action"]) // (batch_size * world)
        if self.per_epoch < 1:
            raise ValueError(f"{len(frames['action'])} training frames, fewer than batch_size * world "
                             f"= {batch_size * world}; use a smaller batch or more episodes")
        self.epoch, self.index = 0, 0
        self._order: tuple[int, np.ndarray] | None = None

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict) -> None:
        epoch, index = state.get("epoch"), state.get("index")
        if not (isinstance(epoch, int) and isinstance(index, int) and epoch >= 0 and 0 <= index <= self.per_epoch):
            raise ValueError(f"bad frame loader position {state!r}: need ints epoch >= 0, 0 <= index <= {self.per_epoch}")
        self.epoch, self.index = epoch, index

    def _permutation(self) -> np.ndarray:
        if self._order is None or self._order[0] != self.epoch:
            self._order = (self.epoch, np.random.default_rng([self.seed, self.epoch]).permutation(len(self.frames["action"])))
        return self._order[1]

    def __iter__(self) -> "FrameLoader":
        return self

    def __next__(self) -> dict:
        if self.index >= self.per_epoch:
            self.epoch, self.index = self.epoch + 1, 0
        start = (self.index * self.world + self.rank) * self.batch_size
        rows = np.sort(self._permutation()[start:start + self.batch_size])
        self.index += 1
        return {k: torch.from_numpy(v[rows]) for k, v in self.frames.items()}


def random_shift(images: torch.Tensor, pad: int) -> torch.Tensor:
    """Translate each uint8 (B, H, W, 3) frame by up to ``pad`` pixels (edge padding), DrQ style."""
    if pad <= 0:
        return images
    B, H, W, _ = images.shape
    padded = nn.functional.pad(images.permute(0, 3, 1, 2).float(), (pad,) * 4, mode="replicate")  # (B, 3, H+2p, W+2p)
    dy, dx = torch.randint(0, 2 * pad + 1, (2, B))
    crops = [padded[b, :, dy[b]:dy[b] + H, dx[b]:dx[b] + W] for b in range(B)]
    return torch.stack(crops).permute(0, 2, 3, 1).to(images.dtype)


def colour_jitter(images: torch.Tensor, strength: float) -> torch.Tensor:
    """Each uint8 (B, H, W, 3) frame with its own random per-channel gain and offset."""
    if strength <= 0:
        return images
    b = images.shape[0]
    gain = 1 + strength * (2 * torch.rand(b, 1, 1, 3) - 1)
    offset = strength * 128 * (2 * torch.rand(b, 1, 1, 3) - 1)
    return (images.float() * gain + offset).round().clamp(0, 255).to(images.dtype)


def data_fraction(episodes: list[int], fraction: float, seed: int) -> list[int]:
    """About ``fraction`` of ``episodes`` (at least one), sorted; a smaller fraction's episodes are a
    subset of a larger one's (one shuffled order, cut at different lengths)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction!r}; the share of training episodes must be in (0, 1]")
    order = np.random.default_rng([seed, len(episodes), 1]).permutation(episodes)
    return sorted(order[:max(1, round(fraction * len(episodes)))].tolist())


class PolicyTask:
    name = ARCHITECTURE

    def __init__(self, cfg: PolicyTaskConfig):
        self.cfg = cfg
        self.reader = LeRobotDatasetReader(cfg.data)
        self._fit_model_config()
        self.train_episodes, self.eval_episodes = held_out_split(self.reader.num_episodes, cfg.held_out, cfg.split_seed)
        self.train_episodes = data_fraction(self.train_episodes, cfg.fraction, cfg.split_seed)
        self._eval_frames: dict | None = None

    def _fit_model_config(self) -> None:
        """Dimensions and camera checked against the dataset (a mismatch names what it has)."""
        m, features = self.cfg.model, self.reader.features
        cams = [k[len(IMAGE_PREFIX):] for k in features if k.startswith(IMAGE_PREFIX)]
        if m.camera not in cams:
            raise ValueError(f"model.camera={m.camera!r} is not in {self.reader.root}; cameras: {cams}")
        h, w, _ = features[IMAGE_PREFIX + m.camera]["shape"]
        if (h, w) != (m.image_size, m.image_size):
            raise ValueError(f"model.image_size={m.image_size} but {self.reader.root} has {h}x{w} frames")
        m.agent_dim = int(features[STATE]["shape"][0])
        m.env_dim = int(features[ENV_STATE]["shape"][0]) if ENV_STATE in features and m.env_dim else 0
        m.action_dim = int(features[ACTION]["shape"][0])

    def config(self) -> PolicyTaskConfig:
        return self.cfg

    def build_model(self) -> nn.Module:
        net = BCNet(self.cfg.model)
        stats = self.reader.stats
        keys = [STATE] + ([ENV_STATE] if self.cfg.model.env_dim else [])
        mean = np.concatenate([stats[k]["mean"] for k in keys])
        std = np.concatenate([stats[k]["std"] for k in keys])
        net.set_normalization(mean, std, stats[ACTION]["min"], stats[ACTION]["max"])
        return net

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> FrameLoader:
        frames = load_frames(self.reader, self.train_episodes, self.cfg.model.camera, self.cfg.model.env_dim > 0)
        return FrameLoader(frames, batch_size, data_rank, data_world, seed, dataset_fingerprint(self.cfg.data))

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        images = colour_jitter(random_shift(batch["image"], self.cfg.random_shift), self.cfg.colour_jitter)
        target = model.normalize_action(batch["action"])  # (B, A)
        loss = nn.functional.mse_loss(model(images, batch["state"]), target)
        return loss, {}

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        if self._eval_frames is None:
            frames = load_frames(self.reader, self.eval_episodes, self.cfg.model.camera, self.cfg.model.env_dim > 0)
            keep = np.linspace(0, len(frames["action"]) - 1, min(self.cfg.eval_frames, len(frames["action"]))).astype(int)
            self._eval_frames = {k: torch.from_numpy(v[keep]) for k, v in frames.items()}
        device = next(model.parameters()).device
        f = {k: v.to(device) for k, v in self._eval_frames.items()}
        mse = nn.functional.mse_loss(model(f["image"], f["state"]), model.normalize_action(f["action"]))
        return {"action_mse": float(mse)}
