"""Camera walks of three kinds for measuring camera control: orbits, pans and dollies.

    poses = walk("pan", np.random.default_rng(0), steps=8, motion=CameraMotionConfig())   # (9, 4, 4)

* ``orbit``: ``motion.sample_orbit`` (the training data's kind: the camera circles a drifting point);
* ``pan``: the camera stays put and turns about its own vertical (and a little its horizontal) axis
  at a constant rate, 40-80 % of the largest turn an action can command;
* ``dolly``: the camera moves along its line of sight, forward or back, at 40-80 % of the largest
  step, without turning.
Every walk starts from ``motion.start_pose`` (a pose on the training orbits) and each step is one
action in [-1, 1]^6 (``motion.action_between`` recovers it).
"""

from __future__ import annotations

import numpy as np

from posttrain.camera.motion import CameraMotionConfig, OrbitConfig, apply_action, sample_orbit, start_pose

KINDS = ("orbit", "pan", "dolly")


def walk(kind: str, rng: np.random.Generator, steps: int, motion: CameraMotionConfig,
         orbit: OrbitConfig | None = None) -> np.ndarray:
    """``steps + 1`` world-from-camera poses (OpenCV axes) of one walk of ``kind``."""
    orbit = orbit or OrbitConfig()
    if kind == "orbit":
        return sample_orbit(rng, steps, orbit)
    if kind not in KINDS:
        raise ValueError(f"walk kind {kind!r}; allowed: {', '.join(KINDS)}")
    pose = start_pose(rng, orbit)
    rate = rng.uniform(0.4, 0.8) * rng.choice([-1.0, 1.0])
    action = np.zeros(6)
    if kind == "pan":
        action[4], action[3] = rate, rng.uniform(-0.15, 0.15)
    else:
        action[2] = rate
    poses = [pose]
    for _ in range(steps):
        poses.append(apply_action(poses[-1], action, motion))
    return np.stack(poses)
