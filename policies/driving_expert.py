"""Scripted driver for worldsim/DrivingMultiView-v0, reading only the observation.

Lane keeping: a Stanley-style steering law on the heading and the lane offset. Speed: cruise at
``cruise`` m/s unless a car ahead in the ego lane asks for less, then close the gap towards
``min_gap + time_gap * speed`` metres at the lead car's speed. Batched and stateless.

    expert = DrivingExpert(env.action_space)
    actions = expert.act(obs_batch)   # float32 (N, 2): (steering, acceleration)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.driving_ego import BicycleConfig
from envs.driving_layout import CAR_HALF, LANE_WIDTH
from policies.base import clip_to_space


@dataclass(frozen=True)
class DrivingExpertConfig:
    cruise: float = 11.0        # m/s on a free road
    min_gap: float = 5.0        # metres bumper to bumper kept when stopped
    time_gap: float = 1.2       # seconds of headway
    gap_gain: float = 0.5       # 1/s: how fast a gap error turns into a speed change
    speed_gain: float = 1.5     # 1/s: acceleration per m/s of speed error
    offset_gain: float = 1.0    # Stanley cross-track gain, 1/s
    steer_speed_floor: float = 2.0


class DrivingExpert:
    reads_pixels = False

    def __init__(self, action_space, cfg: DrivingExpertConfig = DrivingExpertConfig(),
                 dynamics: BicycleConfig = BicycleConfig()):
        self.action_space = action_space
        self.cfg, self.dynamics = cfg, dynamics

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        pass

    def act(self, obs: dict) -> np.ndarray:
        ego = np.asarray(obs["agent_pos"], np.float64)                 # (N, 4): x, y, yaw, speed
        state = np.asarray(obs["environment_state"], np.float64)        # (N, 20)
        yaw, speed, offset = ego[:, 2], ego[:, 3], state[:, 18]
        steer = -yaw - np.arctan(self.cfg.offset_gain * offset / (speed + self.cfg.steer_speed_floor))
        accel = self.cfg.speed_gain * (self._target_speed(state[:, :18].reshape(-1, 6, 3), offset, speed) - speed)
        d = self.dynamics
        throttle = np.where(accel >= 0, accel / d.max_accel, accel / d.max_brake)
        return clip_to_space(np.stack([steer / d.max_steer, throttle], axis=1), self.action_space)

    def _target_speed(self, cars: np.ndarray, offset: np.ndarray, speed: np.ndarray) -> np.ndarray:
        """cars: (N, 6, 3) of (dx, dy, vx); the lead is the nearest one ahead within the ego lane."""
        cfg = self.cfg
        in_lane = np.abs(cars[..., 1] + offset[:, None]) < LANE_WIDTH / 2 + 0.2
        ahead = in_lane & (cars[..., 0] > 0)
        dx = np.where(ahead, cars[..., 0], np.inf)
        lead = np.argmin(dx, axis=1)
        rows = np.arange(len(cars))
        gap = dx[rows, lead] - 2 * CAR_HALF[0]
        lead_v = np.maximum(cars[rows, lead, 2], 0.0)
        follow = lead_v + cfg.gap_gain * (gap - cfg.min_gap - cfg.time_gap * speed)
        return np.clip(np.where(np.isfinite(gap), np.minimum(cfg.cruise, follow), cfg.cruise), 0.0, cfg.cruise)
