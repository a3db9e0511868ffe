"""``TrainerConfig``: how the generic loop trains (steps, batch, optimizer, schedule, checkpoints, precision).

    cfg = load_config(TrainerConfig, overrides=["out=runs/tok", "steps=2000", "batch_size=16"])
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainerConfig:
    """How to train; the model, loss and data come from the task."""

    out: str = ""
    steps: int = 1000
    batch_size: int = 8  # global: split evenly over the data-parallel ranks
    lr: float = 3e-4
    weight_decay: float = 0.05
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0  # <= 0: no clipping
    ema_decay: float = 0.999
    log_every: int = 10
    ckpt_every: int = 500
    keep_last: int = 3  # 0: keep every checkpoint
    seed: int = 0
    precision: str = "fp32"  # "fp32" | "bf16" (bf16 autocast on GPU; fp32 on CPU)
    tp: int = 1
    pp: int = 1
    cp: int = 1
    deterministic: bool = False  # torch deterministic algorithms (for bit-exact resume on GPU)
    progress: bool = True

    def check(self) -> None:
        if not self.out:
            raise ValueError("TrainerConfig.out is empty: name the run folder (out=runs/NAME)")
        for name in ("steps", "batch_size", "log_every", "ckpt_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainerConfig.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.lr <= 0 or self.warmup_steps < 0 or self.keep_last < 0:
            raise ValueError(
                f"need lr > 0, warmup_steps >= 0, keep_last >= 0; got {self.lr}, {self.warmup_steps}, {self.keep_last}"
            )
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"TrainerConfig.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"TrainerConfig.precision must be 'fp32' or 'bf16', got {self.precision!r}")
