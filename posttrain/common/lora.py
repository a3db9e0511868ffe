"""LoRA adapters on the linear layers of a network (the DiT's attention and MLP projections).

    n = apply_lora(net.dit, LoRAConfig(rank=8, alpha=8))   # base weights frozen, n layers adapted
    ...train...
    merge_lora(net.dit)                                   # bake W + (alpha / r) B A into W

Each adapted weight ``W`` (out, in) is reparametrised as ``W + (alpha / rank) * B @ A`` with
``A`` (rank, in) small random and ``B`` (out, rank) zero, so an adapted network starts as the
base network. It works through ``torch.nn.utils.parametrize``, so megatron's
Column/RowParallelLinear (which read ``self.weight`` in their own forward) and ``nn.Linear`` are
adapted alike. State-dict keys of adapted layers become ``<layer>.parametrizations.weight.*``;
``merge_lora`` restores the plain keys.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize


@dataclass
class LoRAConfig:
    """``rank`` 0 turns LoRA off. ``targets``: glob patterns on module names."""

    rank: int = 0
    alpha: float = 8.0
    targets: list[str] = field(default_factory=lambda: ["*linear_qkv", "*linear_proj", "*linear_fc1",
                                                        "*linear_fc2"])
    freeze_base: bool = True

    def __post_init__(self):
        if self.rank < 0:
            raise ValueError(f"LoRAConfig.rank={self.rank} must be >= 0 (0: no LoRA)")


class LoRADelta(nn.Module):
    """Parametrization W -> W + scale * B @ A."""

    def __init__(self, out_features: int, in_features: int, rank: int, alpha: float):
        super().__init__()
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, in_features))
        self.lora_b = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, weight: Tensor) -> Tensor:
        return weight + self.scale * (self.lora_b @ self.lora_a).to(weight.dtype)


def _targets(module: nn.Module, patterns: list[str]) -> list[tuple[str, nn.Module]]:
    found = []
    for name, child in module.named_modules():
        weight = getattr(child, "weight", None)
        if isinstance(weight, nn.Parameter) and weight.ndim == 2 and any(fnmatch.fnmatch(name, p) for p in patterns):
            found.append((name, child))
    return found


def apply_lora(module: nn.Module, cfg: LoRAConfig) -> int:
    """Adapt the matching layers of ``module`` in place; returns how many were adapted."""
    if cfg.rank == 0:
        return 0
    targets = _targets(module, cfg.targets)
    if not targets:
        raise ValueError(f"LoRA targets {cfg.targets} match no linear layer of {type(module).__name__}")
    if cfg.freeze_base:
        module.requires_grad_(False)
    for _, layer in targets:
        out_features, in_features = layer.weight.shape
        delta = LoRADelta(out_features, in_features, cfg.rank, cfg.alpha).to(layer.weight.device)
        parametrize.register_parametrization(layer, "weight", delta)
    return len(targets)


def merge_lora(module: nn.Module) -> int:
    """Fold every LoRA delta into its weight (plain keys again); returns how many were merged."""
    merged = 0
    for layer in list(module.modules()):
        if parametrize.is_parametrized(layer, "weight"):
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
            merged += 1
    return merged


def lora_parameters(module: nn.Module) -> list[nn.Parameter]:
    return [p for name, p in module.named_parameters() if ".lora_" in name]
