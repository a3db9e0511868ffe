"""Learned dynamics of the planar pushing state: the part of the world model that carries physics.

    dyn = StateDynamics(DynamicsConfig())
    nxt = dyn(states, actions)     # (B, K, 10) SIM_STATE history, (B, K, A) actions (last: the one applied) -> (B, 10)

The state is the simulator's whole physical state of TabletopPush (``envs.tabletop_push.SIM_STATE``:
pusher x, y, block x, y, yaw, and their velocities), so one state is enough (``context`` 1) and
nothing has to be inferred from pixels between steps. An MLP maps features that make contact
easy to express to the change of every state variable over one 0.1 s step: the pusher's offset
from the block in the block's own frame (where a face contact is an axis-aligned boundary), the
yaw as (cos 4 yaw, sin 4 yaw) (a square repeats every 90 degrees), the velocities, the absolute
positions (the pusher's travel limits), and the actions; with ``contact_gap``, also the gap
between the pusher's disk and the block's square (the scene's two shapes), where contact starts.
A linear path from the features beside the MLP (``linear_skip``) keeps small, nearly linear
responses (a gentle command moving the free pusher a millimetre) precise. With ``integrate``
the network predicts the velocities' change and each position moves by the new velocity over the
step (plus a small learned correction), so positions and velocities cannot disagree. With
``frame="canonical"`` every vector goes in and every change comes out in the square block's
symmetry frame (``symmetry_frame.py``): one pushing situation, whatever the block's pose on the
table, is one input, so the network need not learn each pose (and its mirror) again; the pusher's
travel limit, the one thing tied to the table, is then held by ``pusher_limit``. It is trained on
multi-step rollouts of its own predictions (``dynamics_train``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from posttrain.pixel_unet.symmetry_frame import SymmetryFrame

STATE_DIM = 10
FRAMES = ("world", "canonical")
# one step's typical change per state variable: positions (m), yaw (rad), velocities (m/s), yaw rate (rad/s)
DELTA_SCALE = (0.05, 0.05, 0.05, 0.05, 0.2, 0.5, 0.5, 0.5, 0.5, 5.0)
# with integration the positions move by velocity x dt; the network adds a small correction
CORRECTION_SCALE = (0.01, 0.01, 0.01, 0.01, 0.05, 0.5, 0.5, 0.5, 0.5, 5.0)


@dataclass
class DynamicsConfig:
    context: int = 1          # states of history (the state is Markov: 1 is enough)
    action_dim: int = 2
    width: int = 384
    layers: int = 3
    linear_skip: bool = True
    contact_gap: bool = True
    integrate: bool = False   # measured: no better in closed loop, worse open loop (README)
    frame: str = "world"      # "world", or "canonical": in and out in the square's symmetry frame
    pusher_limit: float = 0.0  # > 0: the pusher's travel limit (|x|, |y|, metres) the prediction is held in
    dt: float = 0.1           # seconds per step (integrate)
    pusher_radius: float = 0.02
    block_half: float = 0.025


def _in_block_frame(v: Tensor, yaw: Tensor) -> Tensor:
    c, s = torch.cos(yaw), torch.sin(yaw)
    return torch.stack([c * v[..., 0] + s * v[..., 1], -s * v[..., 0] + c * v[..., 1]], dim=-1)


def contact_gap(offset: Tensor, yaw: Tensor, cfg: DynamicsConfig) -> Tensor:
    """(B,) distance from the pusher's disk to the block's square (negative: overlapping), metres."""
    q = _in_block_frame(offset, yaw).abs() - cfg.block_half
    outside = q.clamp_min(0).norm(dim=-1) + q.amax(dim=-1).clamp_max(0)
    return outside - cfg.pusher_radius


def features(states: Tensor, actions: Tensor, cfg: DynamicsConfig) -> Tensor:
    """(B, K, 10), (B, K, A) -> (B, F)."""
    now = states[:, -1]
    pusher, block, yaw = now[:, :2], now[:, 2:4], now[:, 4]
    offset = (pusher - block) / 0.05
    rel_vel = _in_block_frame(now[:, 5:7] - now[:, 7:9], yaw) * 2
    history = (states[:, 1:, :4] - states[:, :-1, :4]).flatten(1) / 0.05
    parts = [offset, _in_block_frame(offset, yaw), torch.cos(4 * yaw)[:, None], torch.sin(4 * yaw)[:, None],
             pusher / 0.3, block / 0.3, now[:, 5:9] * 2, now[:, 9:10] / 5, rel_vel, history, actions.flatten(1)]
    return torch.cat(parts + gap_features(pusher - block, yaw, cfg), dim=1)


def gap_features(offset: Tensor, yaw: Tensor, cfg: DynamicsConfig) -> list[Tensor]:
    """The contact gap in centimetres, squashed, and as a proximity (empty without ``contact_gap``)."""
    if not cfg.contact_gap:
        return []
    gap = contact_gap(offset, yaw, cfg)[:, None] / 0.01
    return [gap, torch.tanh(gap), torch.exp(-gap.clamp_min(0))]


def frame_features(states: Tensor, actions: Tensor, frame: SymmetryFrame, cfg: DynamicsConfig) -> Tensor:
    """(B, K, 10), (B, K, A) -> (B, F): every vector in the square's symmetry frame, so the same
    contact gives the same features whatever the block's pose (no world position: see ``pusher_limit``)."""
    now = states[:, -1]
    pusher, block = now[:, :2], now[:, 2:4]
    offset = frame.vectors_in(pusher - block) / 0.05
    vp, vb = frame.vectors_in(now[:, 5:7]) * 2, frame.vectors_in(now[:, 7:9]) * 2
    steps = (states[:, 1:, :4] - states[:, :-1, :4]).reshape(len(states), -1, 2)
    parts = [offset, vp, vb, vp - vb, (frame.signs * now[:, 9] / 5)[:, None],
             frame.vectors_in(steps).flatten(1) / 0.05, frame.vectors_in(actions).flatten(1)]
    return torch.cat(parts + gap_features(pusher - block, now[:, 4], cfg), dim=1)


def frame_of(states: Tensor, cfg: DynamicsConfig) -> SymmetryFrame | None:
    """The symmetry frame of each sample's current state (``frame="canonical"``), else None."""
    now = states[:, -1]
    return SymmetryFrame.of(now[:, :2] - now[:, 2:4], now[:, 4]) if cfg.frame == "canonical" else None


def network_input(states: Tensor, actions: Tensor, frame: SymmetryFrame | None, cfg: DynamicsConfig) -> Tensor:
    return features(states, actions, cfg) if frame is None else frame_features(states, actions, frame, cfg)


def change_out(change: Tensor, frame: SymmetryFrame) -> Tensor:
    """(B, 10) a state change in the symmetry frame -> the world's."""
    pairs = frame.vectors_out(change[:, [0, 1, 2, 3, 5, 6, 7, 8]].view(-1, 4, 2)).flatten(1)
    turns = frame.signs[:, None] * change[:, [4, 9]]
    return torch.cat([pairs[:, :4], turns[:, :1], pairs[:, 4:], turns[:, 1:]], dim=1)


class StateDynamics(nn.Module):
    def __init__(self, cfg: DynamicsConfig):
        super().__init__()
        if cfg.frame not in FRAMES:
            raise ValueError(f"net.frame={cfg.frame!r}; allowed: {', '.join(FRAMES)}")
        if cfg.frame == "canonical" and (cfg.integrate or cfg.action_dim != 2):
            raise ValueError("net.frame=canonical needs integrate=false and 2-D (planar velocity) actions")
        self.cfg = cfg
        probe = torch.zeros(1, cfg.context, STATE_DIM), torch.zeros(1, cfg.context, cfg.action_dim)
        n_in = network_input(*probe, frame_of(probe[0], cfg), cfg).shape[1]
        layers: list[nn.Module] = []
        for i in range(cfg.layers):
            layers += [nn.Linear(n_in if i == 0 else cfg.width, cfg.width), nn.SiLU()]
        self.mlp = nn.Sequential(*layers, nn.Linear(cfg.width, STATE_DIM))
        self.linear = nn.Linear(n_in, STATE_DIM) if cfg.linear_skip else None
        if self.linear is not None:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
        self.register_buffer("scale", torch.tensor(CORRECTION_SCALE if cfg.integrate else DELTA_SCALE))

    def forward(self, states: Tensor, actions: Tensor) -> Tensor:
        k = self.cfg.context
        if states.shape[1:] != (k, STATE_DIM) or actions.shape[1:] != (k, self.cfg.action_dim):
            raise ValueError(f"dynamics take states (B, {k}, {STATE_DIM}) and actions (B, {k}, "
                             f"{self.cfg.action_dim}), got {tuple(states.shape)} and {tuple(actions.shape)}")
        now = states[:, -1]
        frame = frame_of(states, self.cfg)
        x = network_input(states, actions, frame, self.cfg)
        change = self.mlp(x) + (self.linear(x) if self.linear is not None else 0)
        if frame is not None:
            change = change_out(change, frame)
        change = self.scale * change
        if not self.cfg.integrate:
            return self._limit(now + change)
        vel = now[:, 5:] + change[:, 5:]  # (B, 5): pusher, block, yaw rate
        return self._limit(torch.cat([now[:, :5] + self.cfg.dt * vel + change[:, :5], vel], dim=1))

    def _limit(self, state: Tensor) -> Tensor:
        """Hold the pusher inside its travel limit; it stops along an axis it reaches the end of."""
        lim = self.cfg.pusher_limit
        if lim <= 0:
            return state
        pos = state[:, :2]
        held = pos.abs() > lim
        return torch.cat([pos.clamp(-lim, lim), state[:, 2:5], torch.where(held, 0.0, state[:, 5:7]),
                          state[:, 7:]], dim=1)
