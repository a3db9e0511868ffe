"""Training data for camera-conditioned post-training: TabletopPush layouts under moving cameras.

Each episode resets the TabletopPush scene with its own seed (random block, pusher and goal) and
flies a camera along a smooth random orbit around the table (``posttrain/camera/motion.py``),
rendering RGB with the MuJoCo render source. The camera is the scene's spare ``side`` camera,
moved at runtime through ``model.cam_pos``/``cam_quat`` of this process's own model copy (the
XML is unchanged). The dataset is a LeRobotDataset v3.0 with

    observation.images.camera                  uint8 video (H, W, 3)
    observation.state                          camera position (3) + yaw, pitch, roll
    observation.camera.camera.intrinsics       (3, 3)
    observation.camera.camera.extrinsics       (4, 4) world-from-camera, OpenCV axes
    observation.depth.camera                   (H, W, 1) planar metres, with ``depth=true``
    action                                     the camera motion to the next frame (0 on the last),
                                               as posttrain.camera.motion defines it

    python -m posttrain.camera.data --out runs/camera_pan episodes=240 steps=23 image_size=32
    build_dataset(CameraDataConfig(out="runs/camera_pan", episodes=8))

The scene is ``envs.camera_scene.CameraScene``; this module drives it, so it sits with the other
data makers of ``worldsim generate`` (the command layer, docs/design.md); ``python -m
posttrain.camera.data`` runs its ``main``.

Resumable like ``worldsim generate``: finished episodes are staged under ``<out>/.worldsim`` and a
rerun of the same command continues; a progress bar shows the episodes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from envs.camera_scene import CameraScene
from posttrain.camera.motion import CameraMotionConfig, OrbitConfig, action_between, camera_state, sample_orbit

CAMERA_KEY = "camera"
TASK = "look around the tabletop push scene"
FPS = 10


@dataclass
class CameraDataConfig:
    out: str = ""
    episodes: int = 240         # <= ~250: stats.py quantiles fail on episode_index >= ~256 (see report)
    steps: int = 15              # camera motions per episode (frames = steps + 1)
    image_size: int = 32
    fovy: float = 60.0           # vertical field of view, degrees
    seed: int = 0                # episode i: layout seed seed + i, orbit rng (seed, i)
    video_crf: int = 10
    depth: bool = False          # also record each frame's depth (the reprojection camera model needs it)
    motion: CameraMotionConfig = field(default_factory=CameraMotionConfig)
    orbit: OrbitConfig = field(default_factory=OrbitConfig)

    def check(self) -> None:
        if not self.out:
            raise ValueError("out is empty: give the dataset folder")
        for name in ("episodes", "steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        if not 0.0 < self.fovy < 180.0:
            raise ValueError(f"fovy={self.fovy} must be in (0, 180) degrees")


def episode(scene: CameraScene, cfg: CameraDataConfig, index: int) -> dict[str, np.ndarray]:
    """Render episode ``index``: frames, camera parameters, camera state and motions."""
    scene.reset(cfg.seed + index)
    poses = sample_orbit(np.random.default_rng([cfg.seed, index]), cfg.steps, cfg.orbit)  # (T, 4, 4)
    frames, depths, extrinsics = [], [], []
    for pose in poses:
        if cfg.depth:
            rgb, depth = scene.render_depth(pose)
            frames.append(rgb)
            depths.append(depth[..., None])
        else:
            frames.append(scene.render(pose))
        extrinsics.append(scene.extrinsics())
    actions = [action_between(a, b, cfg.motion) for a, b in zip(poses[:-1], poses[1:])] + [np.zeros(6)]
    actions = np.stack(actions).astype(np.float32)
    if np.abs(actions).max() > 1.0:
        raise ValueError(f"episode {index}: an orbit step needs action {np.abs(actions).max():.3f} > 1; "
                         "lower the orbit rates or raise motion.max_translation / max_rotation")
    t = len(poses)
    out = {f"observation.depth.{CAMERA_KEY}": np.stack(depths).astype(np.float32)} if cfg.depth else {}
    return out | {
        f"observation.images.{CAMERA_KEY}": np.stack(frames),
        "observation.state": np.stack([camera_state(p) for p in poses]),
        f"observation.camera.{CAMERA_KEY}.intrinsics": np.repeat(scene.intrinsics()[None], t, 0),
        f"observation.camera.{CAMERA_KEY}.extrinsics": np.stack(extrinsics).astype(np.float32),
        "action": actions,
        "next.reward": np.zeros((t, 1), np.float32),
        "next.done": (np.arange(t) == t - 1)[:, None],
    }


def features(image_size: int, depth: bool = False) -> dict[str, dict]:
    vec = lambda n, names=None: {"dtype": "float32", "shape": (n,), "names": names}  # noqa: E731
    out = {f"observation.depth.{CAMERA_KEY}": {"dtype": "float32", "shape": (image_size, image_size, 1),
                                               "names": ["height", "width", "channels"]}} if depth else {}
    return out | {
        f"observation.images.{CAMERA_KEY}": {"dtype": "video", "shape": (image_size, image_size, 3),
                                             "names": ["height", "width", "channels"]},
        "observation.state": vec(6, ["x", "y", "z", "yaw", "pitch", "roll"]),
        f"observation.camera.{CAMERA_KEY}.intrinsics": {"dtype": "float32", "shape": (3, 3), "names": None},
        f"observation.camera.{CAMERA_KEY}.extrinsics": {"dtype": "float32", "shape": (4, 4), "names": None},
        "action": vec(6, ["tx", "ty", "tz", "rx", "ry", "rz"]),
        "next.reward": vec(1),
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    }


def build_dataset(cfg: CameraDataConfig) -> Path:
    """Render every episode (resuming staged ones) and write the LeRobotDataset at ``cfg.out``."""
    from tqdm.auto import tqdm

    from worldsim.config import to_dict
    from worldsim.generation.staging import RunFolder

    cfg.check()
    run = RunFolder(cfg.out)
    manifest = run.open({"config": to_dict(cfg), "kind": "camera_orbits"})
    if manifest.get("status") == "complete":
        print(f"dataset already complete: {run.out}", file=sys.stderr)
        return run.out
    todo = [i for i in range(cfg.episodes) if i not in run.finished()]
    scene = CameraScene(cfg.image_size, cfg.fovy)
    try:
        for i in tqdm(todo, total=cfg.episodes, initial=cfg.episodes - len(todo), desc="camera episodes",
                      unit="ep", dynamic_ncols=True):
            run.save_episode(i, episode(scene, cfg, i))
    finally:
        scene.close()
    _assemble(cfg, run, manifest)
    run.mark_complete(manifest)
    run.drop_episodes()
    return run.out


def _assemble(cfg: CameraDataConfig, run, manifest: dict) -> None:
    from tqdm.auto import tqdm

    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

    run.clear_dataset_parts()
    staging = run.state / "assembling"
    info = {"worldsim": {k: v for k, v in manifest.items() if k != "status"}}
    writer = LeRobotWriter(staging, WriterConfig(fps=FPS, robot_type="free_camera", features=features(cfg.image_size, cfg.depth),
                                                 extra_info=info, crf=cfg.video_crf))
    for i in tqdm(range(cfg.episodes), desc="writing dataset", unit="ep", dynamic_ncols=True):
        writer.add_episode(run.load_episode(i), task=TASK)
    writer.finalize()
    run.publish(staging)


def main(argv=None) -> int:
    from worldsim.config import load_config

    p = argparse.ArgumentParser(description="Render TabletopPush layouts under moving cameras into a LeRobotDataset.")
    p.add_argument("--out", required=True)
    p.add_argument("overrides", nargs="*", help="key=value settings of CameraDataConfig")
    args = p.parse_args(argv)
    cfg = load_config(CameraDataConfig, overrides=args.overrides, out=args.out)
    print(build_dataset(cfg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
