"""A model's tensors as a flat dict, loaded back strictly, compared with a clear error.

    from worldsim.io.state import tensor_state, load_tensor_state, check_matches
    check_matches(path, loaded, tensor_state(model))    # ValueError naming missing/unexpected/mis-shaped keys
    load_tensor_state(model, loaded)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch


def tensor_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` without its non-tensor entries (megatron layers add ``_extra_state: None``)."""
    return {k: v for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}


def load_tensor_state(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """``load_state_dict`` of a ``tensor_state``: only ``_extra_state`` entries may be absent."""
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if not k.endswith("_extra_state")]
    if missing or unexpected:
        raise ValueError(f"state does not fit the model: missing {few(missing)}, unexpected {few(list(unexpected))}")


def model_state_for_saving(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors as separate CPU tensors (tied weights are stored twice)."""
    return {k: v.detach().cpu().clone() for k, v in tensor_state(model).items()}


def param_shapes_hash(state: dict[str, torch.Tensor]) -> str:
    """Hash of (name, shape, dtype) for every entry: equal hashes mean the same architecture."""
    items = sorted((k, list(v.shape), str(v.dtype)) for k, v in state.items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def check_matches(path: Path, loaded: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """ValueError naming missing/unexpected keys and shape mismatches between two state dicts."""
    missing = sorted(set(expected) - set(loaded))
    unexpected = sorted(set(loaded) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(loaded[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(loaded) & set(expected))
        if loaded[k].shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        parts = [("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)]
        found = "; ".join(f"{what} {few(items)}" for what, items in parts if items)
        raise ValueError(f"{path} does not fit this model (a checkpoint of another architecture?): {found}")


def few(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")
