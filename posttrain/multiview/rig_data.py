"""A multi-camera dataset with depth in memory: every camera's frames, depth and camera per step.

    rig = load_rig("runs/drive_depth64")      # RigEpisodes
    rig.frames (N, V, 3, H, W) in [-1, 1]; rig.depth (N, V, H, W) metres; rig.intrinsics (N, V, 3, 3);
    rig.poses (N, V, 4, 4) world-from-camera; rig.agent_pos (N, 4); rig.actions (N, A); rig.starts, rig.lengths

Made by ``worldsim generate --env worldsim/DrivingMultiView-v0 ... depth=true camera_params=true``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class RigEpisodes:
    cameras: list[str]
    frames: torch.Tensor
    depth: torch.Tensor
    intrinsics: torch.Tensor
    poses: torch.Tensor
    agent_pos: torch.Tensor
    actions: torch.Tensor
    starts: np.ndarray
    lengths: np.ndarray


def load_rig(root: str, cameras: list[str] | None = None) -> RigEpisodes:
    from tqdm.auto import tqdm

    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    cams = cameras or sorted(k.split(".")[-1] for k in reader.features if k.startswith("observation.images."))
    keys = {c: (f"observation.images.{c}", f"observation.depth.{c}", f"observation.camera.{c}.intrinsics",
                f"observation.camera.{c}.extrinsics") for c in cams}
    missing = [k for ks in keys.values() for k in ks if k not in reader.features]
    if missing:
        raise ValueError(f"{root} lacks {missing}; make it with `worldsim generate ... depth=true camera_params=true`")
    parts: dict[str, list] = {name: [] for name in ("frames", "depth", "intrinsics", "poses", "agent_pos", "actions")}
    lengths = []
    for e in tqdm(range(reader.num_episodes), desc="loading episodes", unit="ep"):
        ep = reader.read_episode(e)
        for name, index in (("frames", 0), ("depth", 1), ("intrinsics", 2), ("poses", 3)):
            parts[name].append(np.stack([np.asarray(ep[keys[c][index]]) for c in cams], axis=1))
        parts["agent_pos"].append(np.asarray(ep["observation.state"], np.float64))
        parts["actions"].append(np.asarray(ep["action"], np.float32))
        lengths.append(len(parts["agent_pos"][-1]))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    lengths = np.asarray(lengths)
    return RigEpisodes(cams, torch.from_numpy(cat["frames"]).permute(0, 1, 4, 2, 3).float() / 127.5 - 1.0,
                       torch.from_numpy(cat["depth"][..., 0].astype(np.float32)),
                       torch.from_numpy(cat["intrinsics"].astype(np.float64)),
                       torch.from_numpy(cat["poses"].astype(np.float64)), torch.from_numpy(cat["agent_pos"]),
                       torch.from_numpy(cat["actions"]), np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
