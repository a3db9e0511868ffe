"""A tiny next-frame task for the trainer tests, usable in-process and as a training script.

    TINY_TASK_SLEEP_S=0.05 python tests/training/tiny_task.py --data DS --out RUN steps=30 ckpt_every=10
    torchrun --standalone --nproc_per_node=2 tests/training/tiny_task.py --data DS --out RUN --dump-rank-weights

A per-pixel MLP predicts frame t+1 from a noised frame t and action t on clips of a small
synthetic LeRobotDataset (``write_tiny_dataset``). Its loss draws fresh noise from torch's global
RNG and uses dropout, and ``evaluate`` draws random numbers too, so an exact resume has to
restore every RNG and the loader position. Overrides whose key is a TrainerConfig field go to
the trainer, the rest to ``TinyConfig``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from worldsim.config import load_config
from worldsim.data.clips import ClipConfig, ClipLoader
from worldsim.training.trainer import Trainer, TrainerConfig

H = W = 16
SLEEP_ENV = "TINY_TASK_SLEEP_S"  # seconds to sleep in each loss call; not part of the config
ACTION_DIM = 2


@dataclass
class TinyConfig:
    data: str = ""
    hidden: int = 8
    clip_len: int = 3
    dropout: float = 0.2
    noise: float = 0.1


class TinyNet(nn.Module):
    """Per-pixel MLP conditioned on the action of its frame."""

    def __init__(self, hidden: int, dropout: float):
        super().__init__()
        self.inp = nn.Linear(3, hidden)
        self.action_embed = nn.Linear(ACTION_DIM, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, 3)

    def forward(self, video: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        # video (B, 3, T, H, W), action (B, T, A)
        x = video.permute(0, 2, 3, 4, 1)  # (B, T, H, W, 3)
        h = self.inp(x) + self.action_embed(action)[:, :, None, None]  # (B, T, H, W, hidden)
        return self.out(self.drop(F.gelu(self.norm(h)))).permute(0, 4, 1, 2, 3)  # (B, 3, T, H, W)


class TinyTask:
    name = "tiny_next_frame"

    def __init__(self, cfg: TinyConfig):
        self.cfg = cfg

    def config(self) -> TinyConfig:
        return self.cfg

    def build_model(self) -> nn.Module:
        return TinyNet(self.cfg.hidden, self.cfg.dropout)

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> ClipLoader:
        clips = ClipConfig(root=self.cfg.data, cameras=["top"], clip_len=self.cfg.clip_len)
        return ClipLoader(clips, batch_size=batch_size, rank=data_rank, world=data_world, seed=seed)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        time.sleep(float(os.environ.get(SLEEP_ENV, 0)))  # lets a test catch the run mid-way
        video, action = batch["video"]["top"], batch["action"]  # (B, 3, T, H, W), (B, T, A)
        noisy = video[:, :, :-1] + self.cfg.noise * torch.randn_like(video[:, :, :-1])
        pred = model(noisy, action[:, :-1])
        loss = F.mse_loss(pred, video[:, :, 1:])
        return loss, {"mse": float(loss.detach())}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        probe = torch.randn(1, 3, 2, H, W)
        return {"probe_mean": float(model(probe, torch.zeros(1, 2, ACTION_DIM)).mean())}


def write_tiny_dataset(root, episodes: int = 4, length: int = 6) -> None:
    """A LeRobotDataset of smooth random colour frames with actions and states."""
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

    video = {"dtype": "video", "shape": (H, W, 3), "names": ["height", "width", "channels"]}
    features = {"observation.images.top": video,
                "observation.state": {"dtype": "float32", "shape": (2,), "names": None},
                "action": {"dtype": "float32", "shape": (ACTION_DIM,), "names": None}}
    writer = LeRobotWriter(root, WriterConfig(fps=10, features=features))
    rng = np.random.default_rng(0)
    for _ in range(episodes):
        colours = rng.integers(30, 220, size=(length, 1, 1, 3))  # (T, 1, 1, 3)
        frames = np.broadcast_to(colours, (length, H, W, 3)).astype(np.uint8)
        writer.add_episode({"observation.images.top": frames,
                            "observation.state": rng.normal(size=(length, 2)).astype(np.float32),
                            "action": rng.normal(size=(length, ACTION_DIM)).astype(np.float32)}, task="tiny")
    writer.finalize()


TEST_SETTINGS = {"batch_size": 4, "warmup_steps": 2, "lr": 1e-2, "log_every": 2, "progress": False,
                 "steps": 4, "ckpt_every": 2}


def tiny_trainer(out, data: str, task: dict | None = None, **trainer) -> Trainer:
    """A Trainer (not yet fitted) of the tiny task with small test settings, overridable."""
    cfg = TrainerConfig(out=str(out), **{**TEST_SETTINGS, **trainer})
    return Trainer(cfg, TinyTask(TinyConfig(data=data, **(task or {}))))


def split_overrides(overrides: list[str]) -> tuple[list[str], list[str]]:
    trainer_keys = {f.name for f in dataclasses.fields(TrainerConfig)}
    ours = [o for o in overrides if o.split("=", 1)[0] in trainer_keys]
    return ours, [o for o in overrides if o not in ours]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dump-rank-weights", action="store_true", help="each rank writes rank<r>.safetensors")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    trainer_overrides, task_overrides = split_overrides(args.overrides)
    cfg = load_config(TrainerConfig, overrides=trainer_overrides, out=args.out, progress=False)
    trainer = Trainer(cfg, TinyTask(load_config(TinyConfig, overrides=task_overrides, data=args.data)))
    trainer.fit()
    if args.dump_rank_weights:
        rank = int(os.environ.get("RANK", 0))
        weights = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
        save_file(weights, f"{args.out}/rank{rank}.safetensors")


if __name__ == "__main__":
    main()
