"""Kinematic traffic for the DrivingMultiView street: seeded layout and a car-following rule.

Cars ``0 .. N_LEAD-1`` drive ahead of the ego in its lane (+x), slower than the ego may go,
with a gently varying cruise speed; cars ``N_LEAD ..`` drive the oncoming lane (-x) on a loop:
a car that leaves the road at ``X_MIN`` comes back at ``X_MAX``. Every car keeps a time gap
to the car ahead of it in its lane, so cars never pass through each other. Parked cars stand
in the parking strips.

    traffic = sample_traffic(np.random.default_rng(0), ego_x=0.0)
    traffic = step_traffic(traffic, t=0.1, dt=0.1)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from envs.driving_layout import CAR_HALF, EGO_LANE_Y, N_LEAD, N_ONCOMING, N_PARKED, PARKING_Y, X_MAX, X_MIN

MIN_GAP = 4.0          # metres bumper to bumper a following car keeps when stopped
TIME_GAP = 1.5         # seconds of headway a following car keeps
LOOP = X_MAX - X_MIN


@dataclass(frozen=True)
class Traffic:
    x: np.ndarray          # (N,) centre x of every moving car
    y: np.ndarray          # (N,) centre y (lane centre)
    direction: np.ndarray  # (N,) +1 drives +x (ego lane), -1 drives -x (oncoming)
    speed: np.ndarray      # (N,) current speed, m/s (>= 0)
    cruise: np.ndarray     # (N,) mean cruise speed
    swing: np.ndarray      # (N,) amplitude of the cruise-speed oscillation
    omega: np.ndarray      # (N,) its angular frequency, rad/s
    phase: np.ndarray      # (N,) its phase
    parked: np.ndarray     # (P, 2) parked cars' centres

    @property
    def velocity_x(self) -> np.ndarray:
        return self.direction * self.speed


def sample_traffic(rng: np.random.Generator, ego_x: float) -> Traffic:
    lead_x = ego_x + np.cumsum(np.concatenate([rng.uniform(18, 35, 1), rng.uniform(20, 45, N_LEAD - 1)]))
    segment = LOOP / N_ONCOMING
    oncoming_x = X_MIN + segment * np.arange(N_ONCOMING) + rng.uniform(0, segment - 20, N_ONCOMING)
    x = np.concatenate([lead_x, oncoming_x])
    direction = np.concatenate([np.ones(N_LEAD), -np.ones(N_ONCOMING)])
    cruise = np.concatenate([rng.uniform(6.0, 9.0, N_LEAD), rng.uniform(7.0, 11.0, N_ONCOMING)])
    per_side = N_PARKED // 2
    slot = 230.0 / per_side
    parked_x = -30.0 + slot * np.arange(per_side)[None] + rng.uniform(0, slot - 2 * CAR_HALF[0] - 1, (2, per_side))
    parked = np.stack([parked_x.ravel(), np.repeat([-PARKING_Y, PARKING_Y], per_side)], axis=1)
    traffic = Traffic(x=x, y=direction * EGO_LANE_Y, direction=direction, speed=cruise.copy(), cruise=cruise,
                      swing=rng.uniform(0.0, 1.5, x.size), omega=rng.uniform(0.2, 0.6, x.size),
                      phase=rng.uniform(0, 2 * np.pi, x.size), parked=parked)
    return replace(traffic, speed=_speeds(traffic, t=0.0))


def _gaps(s: np.ndarray, loop: float | None) -> np.ndarray:
    """Bumper-to-bumper gap from each car to the next one ahead along its travel coordinate ``s``."""
    order = np.argsort(s)
    ahead = np.roll(s[order], -1) - s[order]
    ahead[-1] = ahead[-1] + loop if loop is not None else np.inf
    gaps = np.empty_like(s)
    gaps[order] = ahead - 2 * CAR_HALF[0]
    return gaps


def _speeds(traffic: Traffic, t: float) -> np.ndarray:
    wanted = traffic.cruise + traffic.swing * np.sin(traffic.omega * t + traffic.phase)
    gaps = np.empty_like(traffic.x)
    lead, oncoming = traffic.direction > 0, traffic.direction < 0
    gaps[lead] = _gaps(traffic.x[lead], None)
    gaps[oncoming] = _gaps(-traffic.x[oncoming], LOOP)
    return np.clip(np.minimum(wanted, (gaps - MIN_GAP) / TIME_GAP), 0.0, None)


def step_traffic(traffic: Traffic, t: float, dt: float) -> Traffic:
    """Move every car for ``dt`` seconds at the speed its cruise and its gap allow at time ``t``."""
    speed = _speeds(traffic, t)
    x = traffic.x + traffic.direction * speed * dt
    x = np.where(x < X_MIN, x + LOOP, x)
    return replace(traffic, x=x, speed=speed)
