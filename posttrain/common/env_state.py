"""Restarting single envs of a batched world-model state (shared by both world-model families).

    new = replace_envs(state, [1, 3], fresh, ("latents", "agent_pos", "environment_state"))
    new = replace_rows(state, [1, 3], fresh)     # a state whose every field is per env (tensors, arrays)

``state`` is a dataclass of per-env tensors batched on dim 0 plus ``generators`` (one
torch.Generator per env) and ``steps`` (N,); ``fresh`` holds ``len(indices)`` envs of the same kind.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch


def replace_envs(state, indices: Sequence[int], other, tensors: Sequence[str]):
    """A copy of ``state`` whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
    idx = torch.as_tensor(list(indices), dtype=torch.long)
    if len(idx) != other.num_envs:
        raise ValueError(f"replacing {len(idx)} envs with a state of {other.num_envs}")
    out = dataclasses.replace(state, **{n: getattr(state, n).clone() for n in tensors},
                              generators=list(state.generators), steps=state.steps.copy())
    for name in tensors:
        getattr(out, name)[idx] = getattr(other, name)
    for j, i in enumerate(idx.tolist()):
        out.generators[i], out.steps[i] = other.generators[j], other.steps[j]
    return out


def replace_rows(state, indices: Sequence[int], other):
    """A copy of dataclass ``state`` whose envs ``indices`` are ``other``'s envs 0..len(indices)-1, for
    states whose every field is a per-env tensor or numpy array batched on dim 0 (no generators)."""
    idx = list(indices)
    if len(idx) != other.num_envs:
        raise ValueError(f"replacing {len(idx)} envs with a state of {other.num_envs}")
    names = [f.name for f in dataclasses.fields(state)]
    copy = lambda v: v.clone() if isinstance(v, torch.Tensor) else v.copy()   # noqa: E731
    out = dataclasses.replace(state, **{n: copy(getattr(state, n)) for n in names})
    for n in names:
        getattr(out, n)[idx] = getattr(other, n)
    return out
