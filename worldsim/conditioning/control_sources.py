"""Where control inputs come from: a LeRobotDataset episode or a Replicator render folder.

    check_dataset_features(reader, "top", ["depth", "edge"])        # ValueError names the feature
    inputs = episode_inputs(reader.read_episode(0), "top", dataset_labels(reader))
    folder = ReplicatorFolder(path); check_replicator(folder, "top", ["depth"])
    inputs = replicator_inputs(folder, "top")

A dataset carries depth as ``observation.depth.<cam>`` and segmentation as
``observation.segmentation.<cam>`` (``worldsim generate`` writes both); edges and blur come from
``observation.images.<cam>`` (or ``rgb_key``). A Replicator folder needs the annotator of each
control: ``distance_to_image_plane`` for depth, ``semantic_segmentation`` for segmentation, ``rgb``.
"""

from __future__ import annotations

import numpy as np

from worldsim.conditioning.controls import REQUIRES, ControlInputs, check_names

ANNOTATORS = {"rgb": "rgb", "depth": "distance_to_image_plane", "segmentation": "semantic_segmentation"}


def feature_keys(camera: str, rgb_key: str = "") -> dict[str, str]:
    """{input: dataset feature key} for one camera."""
    return {"rgb": rgb_key or f"observation.images.{camera}", "depth": f"observation.depth.{camera}",
            "segmentation": f"observation.segmentation.{camera}"}


def check_dataset_features(reader, camera: str, names, rgb_key: str = "") -> None:
    """Every control in ``names`` finds its input feature in the dataset, else a ValueError."""
    keys = feature_keys(camera, rgb_key)
    for name in check_names(names):
        key = keys[REQUIRES[name]]
        if key not in reader.features:
            have = ", ".join(k for k in reader.features if k.startswith("observation."))
            raise ValueError(f"control {name!r} needs the feature {key!r}, which {reader.root} lacks "
                             f"(it has: {have}); regenerate with depth/segmentation on, or drop {name!r}")


def dataset_labels(reader) -> dict[int, str]:
    """Segmentation class names of a dataset written by ``worldsim generate`` (else {})."""
    labels = reader.info.get("worldsim", {}).get("segmentation_labels", {})
    return {int(k): str(v) for k, v in labels.items()}


def episode_inputs(episode: dict, camera: str, labels: dict[int, str], rgb_key: str = "") -> ControlInputs:
    """The control inputs present in one read episode (``LeRobotDatasetReader.read_episode``)."""
    keys = feature_keys(camera, rgb_key)
    depth = episode.get(keys["depth"])
    seg = episode.get(keys["segmentation"])
    return ControlInputs(rgb=episode.get(keys["rgb"]),
                         depth=None if depth is None else np.asarray(depth, np.float32)[..., 0],
                         segmentation=None if seg is None else np.asarray(seg).astype(np.int32)[..., 0],
                         labels=labels)


def check_replicator(folder, camera: str, names) -> None:
    """Each control's annotator exists for ``camera`` in the Replicator folder, else a ValueError."""
    if camera not in folder.cameras:
        raise ValueError(f"camera {camera!r} is not in {folder.path}; it has: {', '.join(folder.cameras)}")
    first = folder.read(0)[camera]
    for name in check_names(names):
        need = REQUIRES[name]
        if need != "rgb" and getattr(first, need) is None:
            raise ValueError(f"control {name!r} needs the Replicator annotator {ANNOTATORS[need]!r}, which "
                             f"{folder.path} (camera {camera!r}) lacks; render it or drop {name!r}")


def replicator_inputs(folder, camera: str) -> ControlInputs:
    """Every frame of one camera of a ``ReplicatorFolder`` as control inputs."""
    frames = [folder.read(i)[camera] for i in range(folder.num_frames)]

    def stack(attr: str):
        return None if getattr(frames[0], attr) is None else np.stack([getattr(f, attr) for f in frames])

    return ControlInputs(rgb=stack("rgb"), depth=stack("depth"), segmentation=stack("segmentation"),
                         labels=dict(folder.labels))
