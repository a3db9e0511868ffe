"""Action conditioning for the DiT, as Cosmos does it: actions grouped per latent frame, embedded
by an MLP and added to the timestep (AdaLN) embedding of that latent frame only.

    embedder = ActionEmbedder(action_dim=2 * 1, hidden_size=256)     # 1 action per latent frame
    grouped = group_actions(actions, per_latent_frame=1)             # (B, T_video, A) -> (B, T, A*k)
    extra = embedder(grouped, cond_mask)                             # (B, T, hidden), 0 on cond frames
    out = dit(x, c_noise, extra_emb=extra, cond_mask=cond_mask)

Latent frame j >= 1 is reached by the ``k`` actions taken at the ``k`` video frames before it
(frame 0 is encoded alone); its embedding is ``Linear(A*k -> 4C) -> GELU -> Linear(4C -> C)`` of
those actions. Conditioning frames get a zero embedding, and the last linear starts at zero, so
a freshly added embedder leaves the base model's function unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def group_actions(actions: Tensor, per_latent_frame: int, latent_frames: int | None = None) -> Tensor:
    """Actions (B, T_video, A) taken at each video frame -> (B, T_latent, A*k) per latent frame.

    Row 0 (the first frame, encoded alone) is zeros; row j holds the actions of video frames
    (j-1)*k .. j*k - 1, the ones that lead to latent frame j."""
    b, t, a = actions.shape
    k = per_latent_frame
    latent_frames = latent_frames or 1 + t // k
    need = (latent_frames - 1) * k
    if t < need:
        raise ValueError(f"{latent_frames} latent frames need {need} actions of {k} per frame, got {t}")
    grouped = actions[:, :need].reshape(b, latent_frames - 1, k * a)  # (B, T-1, A*k)
    return torch.cat([grouped.new_zeros(b, 1, k * a), grouped], dim=1)  # (B, T, A*k)


class ActionEmbedder(nn.Module):
    """(B, T, A*k) grouped actions -> (B, T, hidden) embeddings, zero on conditioning frames."""

    def __init__(self, action_dim: int, hidden_size: int):
        super().__init__()
        self.action_dim = action_dim
        self.linear_1 = nn.Linear(action_dim, 4 * hidden_size)
        self.linear_2 = nn.Linear(4 * hidden_size, hidden_size)
        nn.init.zeros_(self.linear_2.weight)
        nn.init.zeros_(self.linear_2.bias)

    def forward(self, actions: Tensor, cond_mask: Tensor | None = None) -> Tensor:
        if actions.ndim != 3 or actions.shape[-1] != self.action_dim:
            raise ValueError(f"actions must be (B, T, {self.action_dim}) per latent frame, "
                             f"got {tuple(actions.shape)}")
        emb = self.linear_2(F.gelu(self.linear_1(actions.to(self.linear_1.weight.dtype))))  # (B, T, C)
        if cond_mask is not None:
            emb = emb * (~cond_mask.bool()).to(emb.dtype)[..., None]
        return emb
