"""AdamW with decoupled weight decay, a warmup + cosine learning-rate schedule, gradient clipping.

    from worldsim.training.optim import build_adamw, lr_at, set_lr, clip_gradients
    opt = build_adamw(model, lr=3e-4, weight_decay=0.05)
    set_lr(opt, lr_at(step, base_lr=3e-4, warmup_steps=100, total_steps=10_000, min_lr_ratio=0.1))

Weight decay applies to weight matrices and kernels only: biases, norm parameters (any module
whose class name contains "Norm"), embeddings (class name contains "Embedding", or a parameter
whose own name contains "embed") and every parameter with fewer than two dimensions are left
undecayed. The schedule is a pure function of the step, so it needs no state of its own.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


def _undecayed(module: nn.Module, param_name: str, param: nn.Parameter) -> bool:
    kind = type(module).__name__
    return param.ndim < 2 or "Norm" in kind or "Embedding" in kind or "embed" in param_name or param_name == "bias"


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: decayed weights and undecayed biases/norms/embeddings (each param once)."""
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            (no_decay if _undecayed(module, name, param) else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_adamw(
    model: nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.999), eps: float = 1e-8
) -> torch.optim.AdamW:
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=tuple(betas), eps=eps)


def lr_at(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr_ratio: float) -> float:
    """Learning rate of update number ``step`` (1-based).

    Linear warmup reaches ``base_lr`` exactly at ``step == warmup_steps``; a cosine then falls to
    ``base_lr * min_lr_ratio`` at ``step == total_steps`` (and stays there beyond it).
    """
    if warmup_steps > 0 and step <= warmup_steps:
        return base_lr * step / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / decay_steps, 1.0)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def clip_gradients(params, max_norm: float) -> float:
    """Clip the global gradient norm to ``max_norm`` (no clipping when <= 0); returns the norm before."""
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return 0.0
    limit = max_norm if max_norm > 0 else float("inf")
    return float(torch.nn.utils.clip_grad_norm_(grads, limit))


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict, path: Path) -> None:
    """``optimizer.load_state_dict`` after checking the groups and moment shapes match."""
    check_optimizer_state(optimizer, state, path)
    optimizer.load_state_dict(state)


def check_optimizer_state(optimizer: torch.optim.Optimizer, state: dict, path: Path) -> None:
    groups = state.get("param_groups", [])
    ours = [len(g["params"]) for g in optimizer.param_groups]
    theirs = [len(g.get("params", [])) for g in groups]
    if ours != theirs:
        raise ValueError(f"{path}: optimizer groups hold {theirs} parameters, this model's optimizer {ours}")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for index, moments in state.get("state", {}).items():
        if not (isinstance(index, int) and 0 <= index < len(params)):
            raise ValueError(f"{path}: optimizer state for parameter {index!r}, the model has {len(params)}")
        for name, value in moments.items():
            if value.ndim and value.shape != params[index].shape:
                raise ValueError(
                    f"{path}: optimizer {name} of parameter {index} has shape {tuple(value.shape)}, "
                    f"the parameter {tuple(params[index].shape)}"
                )
