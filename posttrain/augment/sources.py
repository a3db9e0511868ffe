"""What ``worldsim augment`` reads: episodes of a LeRobotDataset, or a Replicator render folder.

    src = open_source(data="runs/push", source=None, camera="top", controls=["edge", "depth"])
    src.features, src.fps, src.num_episodes, src.image_hw, src.fingerprint
    arrays, inputs, task = src.episode(0)     # every feature (T, ...), ControlInputs, task string

Both check up front that every control finds its input (a dataset feature, a Replicator
annotator), so a missing one is a ValueError before any frame is generated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worldsim.conditioning.control_sources import (check_dataset_features, check_replicator, dataset_labels,
                                                   episode_inputs, replicator_inputs)
from worldsim.data.features import DEFAULT_FEATURES

HWC = ["height", "width", "channels"]


class DatasetSource:
    def __init__(self, root: str, camera: str, controls):
        from worldsim.data.clips import dataset_fingerprint
        from worldsim.data.lerobot_reader import LeRobotDatasetReader

        self.reader = LeRobotDatasetReader(root)
        self.camera, self.image_key = camera, f"observation.images.{camera}"
        if self.image_key not in self.reader.features:
            cams = [k.split(".", 2)[2] for k in self.reader.features if k.startswith("observation.images.")]
            raise ValueError(f"camera {camera!r} is not in {root}; cameras: {', '.join(cams)}")
        check_dataset_features(self.reader, camera, controls)
        self.labels = dataset_labels(self.reader)
        self.features = {k: {"dtype": f["dtype"], "shape": tuple(f["shape"]), "names": f.get("names")}
                         for k, f in self.reader.features.items() if k not in DEFAULT_FEATURES}
        self.fps, self.num_episodes = self.reader.fps, self.reader.num_episodes
        self.image_hw = tuple(self.features[self.image_key]["shape"][:2])
        self.robot_type = self.reader.info.get("robot_type")
        self.fingerprint = f"lerobot:{Path(root).resolve()}:{dataset_fingerprint(root)}"

    def episode(self, index: int):
        ep = self.reader.read_episode(index)
        return {k: ep[k] for k in self.features}, episode_inputs(ep, self.camera, self.labels), ep["task"]


class ReplicatorSource:
    """A Replicator folder as one episode: video, depth, segmentation and camera parameters per camera."""

    def __init__(self, source: str, camera: str, controls):
        from worldsim.data.replicator import ReplicatorFolder, parse_source

        self.folder = ReplicatorFolder(parse_source(source))
        camera = camera if camera in self.folder.cameras or len(self.folder.cameras) != 1 else self.folder.cameras[0]
        check_replicator(self.folder, camera, controls)
        self.camera, self.image_key = camera, f"observation.images.{camera}"
        self.inputs = replicator_inputs(self.folder, camera)
        t, h, w = self.inputs.rgb.shape[:3]
        self.features = {self.image_key: {"dtype": "video", "shape": (h, w, 3), "names": HWC}}
        if self.inputs.depth is not None:
            self.features[f"observation.depth.{camera}"] = {"dtype": "float32", "shape": (h, w, 1), "names": HWC}
        if self.inputs.segmentation is not None:
            self.features[f"observation.segmentation.{camera}"] = {"dtype": "int32", "shape": (h, w, 1), "names": HWC}
        self.features["next.done"] = {"dtype": "bool", "shape": (1,), "names": None}
        self.fps, self.num_episodes, self.image_hw, self.robot_type = 10, 1, (h, w), "replicator"
        self.labels = dict(self.folder.labels)
        self.fingerprint = f"replicator:{self.folder.path.resolve()}:{t}"

    def episode(self, index: int):
        inputs, t = self.inputs, len(self.inputs.rgb)
        arrays = {self.image_key: inputs.rgb, "next.done": np.arange(t) == t - 1}
        if inputs.depth is not None:
            arrays[f"observation.depth.{self.camera}"] = inputs.depth[..., None].astype(np.float32)
        if inputs.segmentation is not None:
            arrays[f"observation.segmentation.{self.camera}"] = inputs.segmentation[..., None].astype(np.int32)
        return arrays, inputs, "replicator render"


def open_source(data: str | None, source: str | None, camera: str, controls):
    if (data is None) == (source is None):
        raise ValueError("give exactly one of --data DIR (a LeRobotDataset) or --source replicator:DIR")
    return DatasetSource(data, camera, controls) if data else ReplicatorSource(source, camera, controls)
