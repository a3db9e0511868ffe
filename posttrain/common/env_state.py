"""Restarting single envs of a batched world-model state (shared by both world-model families).

    new = replace_envs(state, [1, 3], fresh, ("latents", "agent_pos", "environment_state"))

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
