"""Latent-window plumbing for the action world model's next-frame networks: context + one target slot.

A step of the world model predicts latent frame t+1 from the context frames t-K+1 .. t and the
action of step t. For the DiT this is a clip of K + 1 latent frames whose first K are
conditioning (clean) and whose last gets the action's embedding:

    x, cond_mask, actions = dit_inputs(context, action, slot)   # (B, C, K+1, h, w), (B, K+1), (B, K+1, A)
"""

from __future__ import annotations

import torch
from torch import Tensor


def dit_inputs(context: Tensor, action: Tensor, slot: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """context (B, C, K, h, w), action (B, A), slot (B, C, h, w) -> clip, cond_mask, per-frame actions."""
    b, _, k = context.shape[:3]
    x = torch.cat([context, slot[:, :, None]], dim=2)  # (B, C, K+1, h, w)
    cond_mask = torch.zeros(b, k + 1, dtype=torch.bool, device=context.device)
    cond_mask[:, :k] = True
    actions = torch.zeros(b, k + 1, action.shape[-1], dtype=context.dtype, device=context.device)
    actions[:, k] = action
    return x, cond_mask, actions
