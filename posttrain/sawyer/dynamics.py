"""Learned dynamics of Meta-World's physical state (``STATE_NAMES``): the part of a grounded
Sawyer world model that carries physics.

    dyn = SawyerDynamics(SawyerDynamicsConfig(), stats)
    nxt = dyn(states, actions)   # (B, K, 44) history, (B, K, 4) actions (last: the one applied) -> (B, 44)

An MLP maps the context (the states normalised by the data's statistics, their changes over the
context, the contact geometry that decides what happens next: the hand's offset from the object,
the object's from the goal, the mocap's lead over the hand, optionally each finger pad's offset
from the object, and the actions) to the change of every
state variable over one step, in units of that variable's typical one-step change in the data
(``stats["delta_std"]``); a zero-initialised linear path beside it keeps small nearly linear
responses precise. Two parts are not learned: the goal does not move, and with ``mocap_exact`` the
mocap target moves exactly as Meta-World moves it (``action * 0.01``, clipped to its box). The
object's quaternion is renormalised. It is trained on rollouts of its own predictions
(``dynamics_train``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from posttrain.sawyer.config import FINGERS, GOAL, HAND, MOCAP, OBJ, OBJ_QUAT, STATE_DIM, SawyerDynamicsConfig

STAT_KEYS = ("state_mean", "state_std", "delta_std")


def features(states: Tensor, actions: Tensor, stats: dict[str, Tensor], cfg: SawyerDynamicsConfig) -> Tensor:
    """(B, K, 44), (B, K, A) -> (B, F)."""
    now = states[:, -1]
    hand, obj, goal, mocap = now[:, HAND], now[:, OBJ], now[:, GOAL], now[:, MOCAP]
    offset = hand - obj
    parts = [(now - stats["state_mean"]) / stats["state_std"], offset / 0.05, (obj - goal) / 0.1,
             (mocap - hand) / 0.02, torch.exp(-offset.norm(dim=1, keepdim=True) / 0.02),
             torch.exp(-offset[:, :2].norm(dim=1, keepdim=True) / 0.02), actions.flatten(1)]
    if cfg.mocap_exact:
        parts.append((next_mocap(mocap, actions[:, -1], cfg) - hand) / 0.02)
    if cfg.pad_features:
        parts += pad_offsets(now, cfg)
    if states.shape[1] > 1:
        parts.append(((states[:, 1:] - states[:, :-1]) / stats["delta_std"]).flatten(1))
    return torch.cat(parts, dim=1)


def pad_offsets(now: Tensor, cfg: SawyerDynamicsConfig) -> list[Tensor]:
    """Each finger pad's offset from the object (in units of 2 cm) and its nearness in the table
    plane: whether a pad comes down on the object or beside it. The Sawyer's fingers slide along
    world y, ``pad_reach`` from the hand when open, closing by their joint positions (right +, left -)."""
    hand, obj, fingers = now[:, HAND], now[:, OBJ], now[:, FINGERS]
    out = []
    for side, q in ((-1.0, fingers[:, 0]), (1.0, -fingers[:, 1])):
        pad = hand.clone()
        pad[:, 1] = hand[:, 1] + side * (cfg.pad_reach - q)
        rel = pad - obj
        out += [rel / 0.02, torch.exp(-rel[:, :2].norm(dim=1, keepdim=True) / 0.02)]
    return out


def next_mocap(mocap: Tensor, action: Tensor, cfg: SawyerDynamicsConfig) -> Tensor:
    """Meta-World's ``set_xyz_action``: the mocap moves by ``action * action_scale``, clipped to its box."""
    low = torch.tensor(cfg.mocap_low, dtype=mocap.dtype, device=mocap.device)
    high = torch.tensor(cfg.mocap_high, dtype=mocap.dtype, device=mocap.device)
    return torch.minimum(torch.maximum(mocap + cfg.action_scale * action[:, :3].clamp(-1, 1), low), high)


def default_stats() -> dict[str, Tensor]:
    return {"state_mean": torch.zeros(STATE_DIM), "state_std": torch.ones(STATE_DIM),
            "delta_std": torch.ones(STATE_DIM)}


class SawyerDynamics(nn.Module):
    def __init__(self, cfg: SawyerDynamicsConfig, stats: dict[str, Tensor] | None = None):
        super().__init__()
        self.cfg = cfg
        for key, value in (stats or default_stats()).items():
            self.register_buffer(key, torch.as_tensor(value, dtype=torch.float32).clone())
        probe = torch.zeros(1, cfg.context, STATE_DIM), torch.zeros(1, cfg.context, cfg.action_dim)
        n_in = features(*probe, self.stats, cfg).shape[1]
        layers: list[nn.Module] = []
        for i in range(cfg.layers):
            layers += [nn.Linear(n_in if i == 0 else cfg.width, cfg.width), nn.SiLU()]
        self.mlp = nn.Sequential(*layers, nn.Linear(cfg.width, STATE_DIM))
        self.linear = nn.Linear(n_in, STATE_DIM)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    @property
    def stats(self) -> dict[str, Tensor]:
        return {k: getattr(self, k) for k in STAT_KEYS}

    def forward(self, states: Tensor, actions: Tensor) -> Tensor:
        k = self.cfg.context
        if states.shape[1:] != (k, STATE_DIM) or actions.shape[1:] != (k, self.cfg.action_dim):
            raise ValueError(f"dynamics take states (B, {k}, {STATE_DIM}) and actions (B, {k}, "
                             f"{self.cfg.action_dim}), got {tuple(states.shape)} and {tuple(actions.shape)}")
        now = states[:, -1]
        x = features(states, actions, self.stats, self.cfg)
        nxt = now + (self.mlp(x) + self.linear(x)) * self.delta_std
        quat = nxt[:, OBJ_QUAT]
        parts = [(OBJ_QUAT, quat / quat.norm(dim=1, keepdim=True).clamp_min(1e-6)), (GOAL, now[:, GOAL])]
        if self.cfg.mocap_exact:
            parts.append((MOCAP, next_mocap(now[:, MOCAP], actions[:, -1], self.cfg)))
        return _assign(nxt, parts)


def _assign(state: Tensor, parts: list[tuple[slice, Tensor]]) -> Tensor:
    """``state`` with the given (slice, values) replaced (out of place, so gradients flow)."""
    cols, start = [], 0
    for sl, values in sorted(parts, key=lambda p: p[0].start):
        cols += [state[:, start:sl.start], values]
        start = sl.stop
    return torch.cat(cols + [state[:, start:]], dim=1)
