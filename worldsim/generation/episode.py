"""Record one episode of a policy in a simulator as arrays keyed by LeRobot feature names.

Step t holds the observation before action t, the action, and the reward/done/success after
it (LeRobot's convention: the final observation is not stored).
"""

from __future__ import annotations

import numpy as np

from policies.base import stack_obs


def record_episode(env, policy, seed: int, modalities, camera_params: bool,
                   sim_state: bool = False, render: bool = True) -> dict[str, np.ndarray]:
    """``render=False``: the episode renders no camera and records no frames (state only)."""
    obs, info = env.reset(seed=seed, options=None if render else {"render": False})
    policy.reset(1, seed)
    steps: list[dict] = []
    done = False
    while not done:
        frame = _observation_features(env, obs, modalities, camera_params and render)
        if sim_state:
            frame["observation.sim_state"] = np.asarray(env.unwrapped.sim_state(), np.float32)
        action = np.asarray(policy.act(stack_obs([obs]))[0], np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        done = bool(terminated or truncated)
        frame.update({"action": action, "next.reward": np.float32(reward),
                      "next.done": done, "next.success": bool(info["is_success"])})
        steps.append(frame)
    return {k: np.stack([s[k] for s in steps]) for k in steps[0]}


def _observation_features(env, obs, modalities, camera_params: bool) -> dict:
    out = {f"observation.images.{cam}": img for cam, img in obs["pixels"].items()} if modalities else {}
    out["observation.state"] = np.asarray(obs["agent_pos"], np.float32)
    out["observation.environment_state"] = np.asarray(obs["environment_state"], np.float32)
    if len(modalities) > 1 or camera_params:
        for cam, frame in env.unwrapped.capture(modalities).items():
            out.update(_extras(cam, frame, camera_params))
    return out


def _extras(cam: str, frame, camera_params: bool) -> dict:
    out = {}
    if frame.depth is not None:
        out[f"observation.depth.{cam}"] = frame.depth[..., None]                      # (H, W, 1)
    if frame.segmentation is not None:
        out[f"observation.segmentation.{cam}"] = frame.segmentation[..., None].astype(np.uint8)
    if camera_params:
        out[f"observation.camera.{cam}.intrinsics"] = frame.intrinsics                 # (3, 3)
        out[f"observation.camera.{cam}.extrinsics"] = frame.extrinsics                 # (4, 4)
    return out
