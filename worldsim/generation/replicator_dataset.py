"""``worldsim generate --source replicator:DIR``: a LeRobotDataset from a Replicator render folder.

A BasicWriter folder (Isaac Sim output, or our own export) holds frames and annotators but no
robot state or actions, so the dataset carries, per camera: video, metric depth, segmentation
and camera parameters, as one episode at ``fps``.

    dataset_from_replicator("replicator:path/to/isaac_output", "runs/isaac_dataset")
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from worldsim.data.replicator import parse_source
from worldsim.generation.features import HWC
from worldsim.io.lock import contents


def _features(first: dict) -> dict[str, dict]:
    feats = {}
    for cam, f in first.items():
        h, w = f.height, f.width
        feats[f"observation.images.{cam}"] = {"dtype": "video", "shape": (h, w, 3), "names": HWC}
        if f.depth is not None:
            feats[f"observation.depth.{cam}"] = {"dtype": "float32", "shape": (h, w, 1), "names": HWC}
        if f.segmentation is not None:
            feats[f"observation.segmentation.{cam}"] = {"dtype": "int32", "shape": (h, w, 1), "names": HWC}
        feats[f"observation.camera.{cam}.intrinsics"] = {"dtype": "float32", "shape": (3, 3), "names": None}
        feats[f"observation.camera.{cam}.extrinsics"] = {"dtype": "float32", "shape": (4, 4), "names": None}
    feats["next.done"] = {"dtype": "bool", "shape": (1,), "names": None}
    return feats


def _frame_arrays(frames: dict) -> dict[str, np.ndarray]:
    out = {}
    for cam, f in frames.items():
        out[f"observation.images.{cam}"] = f.rgb
        if f.depth is not None:
            out[f"observation.depth.{cam}"] = f.depth[..., None].astype(np.float32)
        if f.segmentation is not None:
            out[f"observation.segmentation.{cam}"] = f.segmentation[..., None].astype(np.int32)
        out[f"observation.camera.{cam}.intrinsics"] = f.intrinsics.astype(np.float32)
        out[f"observation.camera.{cam}.extrinsics"] = f.extrinsics.astype(np.float32)
    return out


def dataset_from_replicator(source: str, out: str | Path, fps: int = 10, task: str = "replicator render") -> Path:
    """The LeRobotDataset of a Replicator folder, written to ``out`` (a new or empty folder, locked meanwhile)."""
    from worldsim.io.lock import hold_folder

    with hold_folder(out, "worldsim generate --source"):
        return _dataset_from_replicator(source, out, fps, task)


def _dataset_from_replicator(source: str, out: str | Path, fps: int, task: str) -> Path:
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig
    from worldsim.data.replicator import ReplicatorFolder

    folder = ReplicatorFolder(parse_source(source))
    out = Path(out)
    if contents(out):
        raise ValueError(f"output folder {out} is not empty; choose a new or empty folder")
    steps = [_frame_arrays(frames) for frames in tqdm(folder.iter_frames(), total=folder.num_frames,
                                                       desc="reading renders", unit="frame")]
    episode = {k: np.stack([s[k] for s in steps]) for k in steps[0]}
    episode["next.done"] = np.arange(len(steps)) == len(steps) - 1
    extra = {"worldsim": {"source": str(folder.path), "segmentation_labels": {str(k): v for k, v in folder.labels.items()}}}
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    writer = LeRobotWriter(tmp, WriterConfig(fps=fps, robot_type="replicator", features=_features(folder.read(0)),
                                             extra_info=extra))
    writer.add_episode(episode, task=task)
    writer.finalize()
    out.mkdir(parents=True, exist_ok=True)
    for part in tmp.iterdir():
        part.rename(out / part.name)
    tmp.rmdir()
    return out
