"""Ego-car dynamics and car-to-car collision for the DrivingMultiView street.

A kinematic bicycle model about the car's centre (rear and front axle each ``wheelbase / 2``
from it), integrated in ``substeps`` explicit-Euler steps per control step. Speed is clipped
to ``[0, max_speed]``: the car brakes to a stop and never reverses.

    ego = EgoState(x=0.0, y=-1.75, yaw=0.0, speed=8.0)
    ego = bicycle_step(ego, steer=0.1, accel=1.0, dt=0.1, cfg=BicycleConfig())
    hit = boxes_overlap((ego.x, ego.y, ego.yaw), (12.0, -1.75, 0.0), CAR_HALF)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BicycleConfig:
    wheelbase: float = 2.8        # metres between the axles
    max_steer: float = 0.5        # radians of front-wheel angle at action[0] = +-1
    max_accel: float = 3.0        # m/s^2 at action[1] = +1
    max_brake: float = 6.0        # m/s^2 of deceleration at action[1] = -1
    max_speed: float = 15.0       # m/s
    substeps: int = 5


@dataclass(frozen=True)
class EgoState:
    x: float
    y: float
    yaw: float
    speed: float

    def as_array(self) -> np.ndarray:
        return np.array([self.x, self.y, self.yaw, self.speed], np.float32)


def action_to_controls(action: np.ndarray, cfg: BicycleConfig) -> tuple[float, float]:
    """(steering angle in radians, positive = left; acceleration in m/s^2) from a [-1, 1]^2 action."""
    steer = float(action[0]) * cfg.max_steer
    accel = float(action[1]) * (cfg.max_accel if action[1] >= 0 else cfg.max_brake)
    return steer, accel


def bicycle_step(s: EgoState, steer: float, accel: float, dt: float, cfg: BicycleConfig) -> EgoState:
    """Advance the ego car by ``dt`` seconds under a constant steering angle and acceleration."""
    h = dt / cfg.substeps
    beta = np.arctan(0.5 * np.tan(steer))            # slip angle at the centre (lr = lf)
    x, y, yaw, v = s.x, s.y, s.yaw, s.speed
    for _ in range(cfg.substeps):
        v = float(np.clip(v + accel * h, 0.0, cfg.max_speed))
        x += v * np.cos(yaw + beta) * h
        y += v * np.sin(yaw + beta) * h
        yaw += v / (cfg.wheelbase / 2) * np.sin(beta) * h
    yaw = (yaw + np.pi) % (2 * np.pi) - np.pi
    return EgoState(float(x), float(y), float(yaw), float(v))


def box_corners(pose, half) -> np.ndarray:
    """The four corners (4, 2) of a box centred at pose[:2] with heading pose[2] and half-extents ``half``."""
    x, y, yaw = pose
    c, s = np.cos(yaw), np.sin(yaw)
    local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * np.asarray(half)
    return local @ np.array([[c, s], [-s, c]]) + np.array([x, y])


def boxes_overlap(pose_a, pose_b, half) -> bool:
    """Separating-axis test for two equal-size oriented boxes in the plane."""
    a, b = box_corners(pose_a, half), box_corners(pose_b, half)
    for yaw in (pose_a[2], pose_b[2]):
        for axis in (np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])):
            pa, pb = a @ axis, b @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True
