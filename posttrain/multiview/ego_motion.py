"""A learned model of the ego car's motion over one step, from its speed and the action.

    ego = EgoMotion()
    nxt = ego.step(agent_pos, actions)     # (N, 4) (x, y, yaw, speed) road frame, (N, 2) -> (N, 4)
    ego, metrics = fit_ego_motion(rig, train_eps, held_eps, seed=0)

The change of the car's pose in its own frame (forward, left, turn) and of its speed depends only
on the speed and the action (steering, acceleration), so a small MLP of those three numbers learns
it from recorded episodes; ``step`` turns the local change into the road frame, wraps the yaw and
keeps the speed >= 0. Fitted in seconds (``fit_ego_motion``: squared error in units of 1 cm, 1 mrad
and 1 cm/s); its held-out metric is the pose error after 20 steps of open loop under the recorded
actions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

UNITS = (0.01, 0.01, 0.001, 0.01)     # forward (m), left (m), turn (rad), speed change (m/s) per step
SCALE = (1.5, 0.1, 0.05, 0.6)         # their typical size, the network's output units
HORIZON = 20


class EgoMotion(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, 4))
        self.register_buffer("scale", torch.tensor(SCALE, dtype=torch.float64))

    def local(self, speed: Tensor, actions: Tensor) -> Tensor:
        """(N,), (N, 2) -> (N, 4) forward, left, turn, speed change."""
        x = torch.cat([speed[:, None].float() / 10.0, actions.float()], dim=1)
        return self.net(x).double() * self.scale

    def step(self, agent_pos: Tensor, actions: Tensor) -> Tensor:
        a = agent_pos.double()
        d = self.local(a[:, 3], actions)
        c, s = torch.cos(a[:, 2]), torch.sin(a[:, 2])
        yaw = torch.remainder(a[:, 2] + d[:, 2] + torch.pi, 2 * torch.pi) - torch.pi
        return torch.stack([a[:, 0] + c * d[:, 0] - s * d[:, 1], a[:, 1] + s * d[:, 0] + c * d[:, 1], yaw,
                            (a[:, 3] + d[:, 3]).clamp_min(0.0)], dim=1)


def local_targets(now: Tensor, nxt: Tensor) -> Tensor:
    """The recorded step as (forward, left, turn, speed change) in the car's frame."""
    dx, dy = nxt[:, 0] - now[:, 0], nxt[:, 1] - now[:, 1]
    c, s = torch.cos(now[:, 2]), torch.sin(now[:, 2])
    turn = torch.remainder(nxt[:, 2] - now[:, 2] + torch.pi, 2 * torch.pi) - torch.pi
    return torch.stack([c * dx + s * dy, -s * dx + c * dy, turn, nxt[:, 3] - now[:, 3]], dim=1)


def _pairs(rig, eps: np.ndarray) -> np.ndarray:
    return np.concatenate([np.arange(rig.starts[e], rig.starts[e] + rig.lengths[e] - 1) for e in eps])


def fit_ego_motion(rig, train_eps: np.ndarray, held: np.ndarray, seed: int = 0, steps: int = 3000):
    """(EgoMotion fitted on ``train_eps``, held-out metrics) from a rig's ``agent_pos`` and ``actions``."""
    torch.manual_seed(seed)
    model = EgoMotion()
    rows = torch.from_numpy(_pairs(rig, train_eps))
    target = local_targets(rig.agent_pos[rows], rig.agent_pos[rows + 1])
    units = torch.tensor(UNITS, dtype=torch.float64)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for i in range(steps):
        b = torch.randint(0, len(rows), (512,), generator=gen)
        pred = model.local(rig.agent_pos[rows[b], 3], rig.actions[rows[b]])
        loss = (((pred - target[b]) / units) ** 2).mean()
        for group in opt.param_groups:
            group["lr"] = 3e-3 * (0.05 + 0.95 * (1 - i / steps))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval().requires_grad_(False), {"ego_pose_error_at_20": open_loop_error(model, rig, held)}


@torch.no_grad()
def open_loop_error(model: EgoMotion, rig, eps: np.ndarray) -> dict:
    """Mean |error| of (x, y, yaw, speed) after ``HORIZON`` steps under the recorded actions."""
    errors = []
    for e in eps:
        s, n = rig.starts[e], rig.lengths[e]
        if n <= HORIZON:
            continue
        pos = rig.agent_pos[s:s + 1]
        for k in range(HORIZON):
            pos = model.step(pos, rig.actions[s + k:s + k + 1])
        errors.append((pos[0] - rig.agent_pos[s + HORIZON]).abs().numpy())
    err = np.mean(errors, axis=0) if errors else np.full(4, np.nan)
    return dict(zip(("x", "y", "yaw", "speed"), (float(v) for v in err)))
