"""Action-conditioned DiT: a base video DiT plus a per-latent-frame action embedding (Cosmos style).

    net = ActionDiT(ActionDiTConfig(dit=base_cfg, action_dim=2))
    load_base_weights(net, "runs/base")               # posttrain.common.base; a `worldsim train base` run
    out = net(x, c_noise, actions, cond_mask)         # x (B, C, T, h, w); actions (B, T, A*k)

``actions[:, j]`` are the (grouped) actions that lead to latent frame j (see
``worldsim.diffusion.action_embed.group_actions``); conditioning frames get a zero embedding
and the embedder's last layer starts at zero, so right after ``load_base_weights`` the network
computes exactly the base model's function. Latent frame t+1 is predicted from frames <= t
(conditioning) and the actions of step t.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor, nn

from worldsim.diffusion.action_embed import ActionEmbedder
from worldsim.diffusion.dit import DiT, DiTConfig


@dataclass
class ActionDiTConfig:
    """``action_dim`` is the simulator's action size times ``actions_per_latent_frame``."""

    dit: DiTConfig = field(default_factory=DiTConfig)
    action_dim: int = 2
    actions_per_latent_frame: int = 1


class ActionDiT(nn.Module):
    """``dit`` (the base network, keys unchanged under ``dit.``) + ``action_embedder``."""

    def __init__(self, cfg: ActionDiTConfig):
        super().__init__()
        self.cfg = cfg
        self.dit = DiT(cfg.dit)
        self.action_embedder = ActionEmbedder(cfg.action_dim, cfg.dit.hidden_size)

    def forward(self, x: Tensor, c_noise: Tensor, actions: Tensor, cond_mask: Tensor) -> Tensor:
        """x (B, C, T, h, w), c_noise (B,), actions (B, T, action_dim), cond_mask (B, T) -> like x."""
        if actions.shape[:2] != (x.shape[0], x.shape[2]):
            raise ValueError(f"actions {tuple(actions.shape)} must be (B, T, A) for latents {tuple(x.shape)}")
        extra = self.action_embedder(actions, cond_mask)  # (B, T, hidden)
        return self.dit(x, c_noise, extra_emb=extra, cond_mask=cond_mask)



class ActionWorldModel(nn.Module):
    """What ``worldsim posttrain action`` trains: next-frame ``dynamics`` and the ``state_head``."""

    def __init__(self, dynamics: nn.Module, state_head: nn.Module):
        super().__init__()
        self.dynamics = dynamics
        self.state_head = state_head
