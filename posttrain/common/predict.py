"""How a latent world model steps, and the per-env noise that keeps a batch equal to its envs alone.

    cfg = PredictConfig(kind="diffusion", steps=3)         # or kind="deterministic", network="conv"
    noise = slot_noise((N, C, h, w), generators)            # row i from generators[i] only

``kind="deterministic"`` is one forward of a regression network (``network`` "conv" or "dit";
``deadband`` > 0 drops its changes smaller than that); ``kind="diffusion"`` integrates EDM's
probability-flow ODE over ``steps`` Euler/Heun steps from ``sigma_max`` to ``sigma_min``. The
action world model (posttrain/action/predict.py) and the multi-view one
(posttrain/multiview/predict.py) read the same config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

KINDS = ("deterministic", "diffusion")


@dataclass
class PredictConfig:
    kind: str = "deterministic"
    network: str = "conv"          # deterministic only: "conv" or "dit"
    steps: int = 3                 # diffusion only
    sampler: str = "euler"
    sigma_max: float = 80.0
    sigma_min: float = 0.002
    sigma_data: float = 0.5
    deadband: float = 0.0          # deterministic only: changes of a latent element below this are dropped

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}; allowed: {', '.join(KINDS)}")
        if self.deadband < 0:
            raise ValueError(f"deadband={self.deadband} must be >= 0")


def slot_noise(shape: tuple, generators: Optional[Sequence[torch.Generator]], device=None) -> Tensor:
    """(B, *shape[1:]) standard normal noise, row i drawn from generators[i] (or the global RNG)."""
    if generators is None:
        return torch.randn(shape, device=device)
    if len(generators) != shape[0]:
        raise ValueError(f"{len(generators)} generators for a batch of {shape[0]}")
    return torch.stack([torch.randn(shape[1:], generator=g) for g in generators]).to(device)
