"""The one interface every recipe's world model implements, and the envs step (docs/design.md).

    state = wm.start(context_frames, context_actions=None, context_state=None, seeds=None)
    state, frames, extras = wm.step(state, actions)            # actions float32 (N, A)
    state = state.replace([i], wm.start(...))                  # restart env i only
    frames == wm.decode(wm.encode(frames))                     # exactly (pixels) or nearly (latents)

- ``context_frames``: ``{camera: uint8 (N, T, H, W, 3)}``, T >= 1, the last frame the current one.
- ``context_actions``: float32 (N, T-1, A) between them, or None (the camera recipe: the camera
  poses, float (N, 4, 4) world-from-camera at the current frame).
- ``context_state``: ``{"agent_pos": (N, D), "environment_state": (N, E)}`` at the current frame, or
  None where the recipe reads no state.
- ``frames``: ``{camera: uint8 (N, H, W, 3)}``; ``extras``: per-env arrays, with ``reward`` float32
  (N,) and ``success`` bool (N,), and ``agent_pos``/``environment_state`` where the recipe has them.
- ``encode({camera: uint8 (N, H, W, 3)})`` -> the model's own latents (a tensor, N first);
  ``decode`` maps them back.
- ``judge_step(...)`` -> (reward (N,), success (N,)) of one step, what ``step`` reports; the arguments are the
  recipe's (the state before, the actions and the state after, or the latent family's tensors).
  A recipe without a task answers ``no_task(n)``.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class State(Protocol):
    """A batched world-model state: N envs, any of which can be restarted alone."""

    @property
    def num_envs(self) -> int: ...

    def replace(self, indices: Sequence[int], other: "State") -> "State":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        ...


@runtime_checkable
class WorldModel(Protocol):
    """A batched, stateful world model: see the module docstring."""

    def start(self, context_frames: dict, context_actions: Any = None, context_state: Optional[dict] = None,
              seeds: Optional[Sequence[Optional[int]]] = None) -> State: ...

    def step(self, state: Any, actions: Any) -> tuple[Any, dict[str, np.ndarray], dict[str, np.ndarray]]: ...

    def encode(self, frames: dict[str, np.ndarray]) -> Any: ...

    def decode(self, latents: Any) -> dict[str, np.ndarray]: ...

    def judge_step(self, *step: Any) -> tuple[np.ndarray, np.ndarray]: ...


def no_task(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The judgement of a recipe without a task: reward 0 and no success for each of ``n`` envs."""
    return np.zeros(n, np.float32), np.zeros(n, bool)
