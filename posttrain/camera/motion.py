"""Camera motion as an action: a 6-d delta pose in the camera's own frame, and smooth orbits.

Poses are world-from-camera 4x4 in OpenCV axes (x right, y down, z forward), as the render
sources write them. An action ``a`` in [-1, 1]^6 moves the camera by ``a[:3] * max_translation``
metres along its own axes and turns it by the rotation vector ``a[3:] * max_rotation`` (radians,
about its own axes): ``pose_next = pose @ delta_pose(a)``.

    motion = CameraMotionConfig()
    nxt = apply_action(pose, a, motion)                 # (4, 4)
    a = action_between(pose, nxt, motion)               # the inverse: (6,) in [-1, 1]
    poses = sample_orbit(np.random.default_rng(0), steps=16, cfg=OrbitConfig())   # (17, 4, 4)

``sample_orbit`` draws a smooth trajectory around the table: the camera looks at a drifting
point near the table centre (pan) from spherical coordinates whose azimuth (orbit), elevation and
radius (dolly) change at constant rates, reflecting at the range limits; the drift of the point
looked at (up to 3 cm a step) pans the view, so the image moves by pixels per step, not only
changes perspective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CameraMotionConfig:
    """Scale of one action step: metres per unit of a[:3], radians per unit of a[3:]."""

    max_translation: float = 0.08
    max_rotation: float = 0.15


@dataclass
class OrbitConfig:
    """Ranges of the random orbits (metres, radians, per step where named so)."""

    radius: tuple[float, float] = (0.55, 0.85)
    elevation: tuple[float, float] = (0.45, 1.1)
    target_box: float = 0.2
    azimuth_rate: float = 0.06
    elevation_rate: float = 0.02
    radius_rate: float = 0.015
    target_rate: float = 0.03


def skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def rotvec_to_matrix(r: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vector (3,) -> (3, 3)."""
    r = np.asarray(r, np.float64)
    angle = float(np.linalg.norm(r))
    if angle < 1e-12:
        return np.eye(3) + skew(r)
    k = skew(r / angle)
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def matrix_to_rotvec(rot: np.ndarray) -> np.ndarray:
    """(3, 3) rotation -> rotation vector (3,), angle in [0, pi]."""
    cos = np.clip((np.trace(rot) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(cos))
    axis = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    if angle < 1e-8:
        return axis / 2.0
    if np.pi - angle < 1e-6:  # near pi the antisymmetric part vanishes: use the symmetric part
        w, v = np.linalg.eigh((rot + rot.T) / 2.0)
        return v[:, np.argmax(w)] * angle
    return axis * angle / (2.0 * np.sin(angle))


def rigid_inverse(pose: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = pose[:3, :3].T
    out[:3, 3] = -pose[:3, :3].T @ pose[:3, 3]
    return out


def delta_pose(action: np.ndarray, cfg: CameraMotionConfig) -> np.ndarray:
    """Action (6,) -> the 4x4 motion in the camera frame."""
    a = np.asarray(action, np.float64)
    out = np.eye(4)
    out[:3, :3] = rotvec_to_matrix(a[3:] * cfg.max_rotation)
    out[:3, 3] = a[:3] * cfg.max_translation
    return out


def apply_action(pose: np.ndarray, action: np.ndarray, cfg: CameraMotionConfig) -> np.ndarray:
    return np.asarray(pose, np.float64) @ delta_pose(action, cfg)


def action_between(pose: np.ndarray, next_pose: np.ndarray, cfg: CameraMotionConfig) -> np.ndarray:
    """The action taking ``pose`` to ``next_pose`` (may exceed [-1, 1] for large motions)."""
    rel = rigid_inverse(np.asarray(pose, np.float64)) @ np.asarray(next_pose, np.float64)
    return np.concatenate([rel[:3, 3] / cfg.max_translation, matrix_to_rotvec(rel[:3, :3]) / cfg.max_rotation])


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World-from-camera pose (OpenCV axes) of a camera at ``eye`` looking at ``target``, no roll."""
    z = np.asarray(target, np.float64) - np.asarray(eye, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, np.float64))
    if np.linalg.norm(x) < 1e-9:
        raise ValueError(f"look_at: viewing direction {z.tolist()} is parallel to up {list(up)}")
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    pose[:3, 3] = eye
    return pose


def pose_angles(pose: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) of a camera: heading of its viewing axis in the world xy plane, its
    elevation (negative looking down), and the tilt of its x axis out of the horizontal."""
    x, y, z = pose[:3, 0], pose[:3, 1], pose[:3, 2]
    yaw = np.arctan2(z[1], z[0])
    pitch = np.arcsin(np.clip(z[2], -1.0, 1.0))
    roll = np.arctan2(-x[2], -y[2])
    return np.array([yaw, pitch, roll])


def camera_state(pose: np.ndarray) -> np.ndarray:
    """``agent_pos`` of a camera: position (3,) then yaw, pitch, roll: float32 (6,)."""
    return np.concatenate([pose[:3, 3], pose_angles(pose)]).astype(np.float32)


def _orbit_eye(target, azimuth, elevation, radius) -> np.ndarray:
    return target + radius * np.array([np.cos(elevation) * np.cos(azimuth),
                                       np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])


def _reflect(value: float, rate: float, lo: float, hi: float) -> tuple[float, float]:
    value += rate
    if value < lo or value > hi:
        rate = -rate
        value = float(np.clip(value, lo, hi))
    return value, rate


def orbit_start(rng: np.random.Generator, cfg: OrbitConfig) -> dict:
    """Random spherical coordinates around a random target, and their rates."""
    return {
        "target": np.array([*rng.uniform(-cfg.target_box, cfg.target_box, 2), 0.0]),
        "azimuth": rng.uniform(0.0, 2 * np.pi), "elevation": rng.uniform(*cfg.elevation),
        "radius": rng.uniform(*cfg.radius),
        "rates": {"azimuth": rng.uniform(-1, 1) * cfg.azimuth_rate,
                  "elevation": rng.uniform(-1, 1) * cfg.elevation_rate, "radius": rng.uniform(-1, 1) * cfg.radius_rate},
        "target_rate": np.array([*rng.uniform(-1, 1, 2) * cfg.target_rate, 0.0]),
    }


def start_pose(rng: np.random.Generator, cfg: OrbitConfig) -> np.ndarray:
    """A random start pose on the orbit sphere (what ``sample_orbit`` starts from for the same rng)."""
    s = orbit_start(rng, cfg)
    return look_at(_orbit_eye(s["target"], s["azimuth"], s["elevation"], s["radius"]), s["target"])


def sample_orbit(rng: np.random.Generator, steps: int, cfg: OrbitConfig) -> np.ndarray:
    """``steps + 1`` poses (steps+1, 4, 4) of one smooth random orbit."""
    s = orbit_start(rng, cfg)
    target, rates, target_rate = s["target"].copy(), dict(s["rates"]), s["target_rate"].copy()
    az, el, rad = s["azimuth"], s["elevation"], s["radius"]
    poses = [look_at(_orbit_eye(target, az, el, rad), target)]
    for _ in range(steps):
        az += rates["azimuth"]
        el, rates["elevation"] = _reflect(el, rates["elevation"], *cfg.elevation)
        rad, rates["radius"] = _reflect(rad, rates["radius"], *cfg.radius)
        for axis in (0, 1):
            target[axis], target_rate[axis] = _reflect(target[axis], target_rate[axis], -cfg.target_box, cfg.target_box)
        poses.append(look_at(_orbit_eye(target, az, el, rad), target))
    return np.stack(poses)
