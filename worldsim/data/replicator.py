"""Read and write folders in the layout of Isaac Sim Replicator's ``BasicWriter``.

``ReplicatorWriter`` exports our renders (``{camera: CameraFrame}`` per step) as BasicWriter
would with several render products named after our cameras: ``<out>/<camera>/rgb/rgb_0000.png``
(RGBA), ``.../distance_to_image_plane/distance_to_image_plane_0000.npy`` (float32, inf = no
hit), ``.../semantic_segmentation/semantic_segmentation_0000.png`` (colourized RGBA) with
``semantic_segmentation_labels_0000.json``, and ``.../camera_params/camera_params_0000.json``.

``ReplicatorFolder`` reads such a folder, or real Isaac Sim output (any render-product folder
names, files flat or in annotator folders, or a single render product written flat), back
into ``CameraFrame``s in our conventions (see ``worldsim.data.frames``). Depth is taken as
metres, as Replicator documents ``distance_to_image_plane``; no-hit pixels (inf in Isaac's files,
0 in its docs) become inf. Camera translations are scaled by ``metersPerSceneUnit``.

    writer = ReplicatorWriter("out", cameras=("top", "front"))
    writer.write(0, env.unwrapped.capture(("rgb", "depth", "segmentation")))

    folder = ReplicatorFolder("out")
    folder.cameras, folder.num_frames        # ("front", "top"), 1
    frames = folder.read(0)                  # {camera: CameraFrame}
    for frames in folder.iter_frames(): ...
    parse_source("replicator:out")           # Path("out"): the folder of a --source argument

Layout details live in ``replicator_layout``, matrix conventions in ``replicator_camera``,
segmentation colours in ``replicator_segmentation``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from worldsim.data import replicator_layout as layout
from worldsim.data.frames import CameraFrame
from worldsim.data.replicator_camera import DEFAULT_NEAR_FAR, camera_from_params, camera_params
from worldsim.data.replicator_segmentation import ClassRegistry, colorize, decode

PREFIX = "replicator:"


def parse_source(source: str) -> Path:
    """The folder of a ``replicator:DIR`` source (``worldsim generate --source``, ``worldsim augment --source``)."""
    if not source.startswith(PREFIX) or len(source) == len(PREFIX):
        raise ValueError(f"source {source!r} is not understood; expected {PREFIX}DIR")
    path = Path(source[len(PREFIX):])
    if not path.is_dir():
        raise ValueError(f"Replicator folder {path} does not exist or is not a folder")
    return path

class ReplicatorWriter:
    """Writes ``{camera: CameraFrame}`` steps into one folder per camera, BasicWriter style."""

    def __init__(self, out_dir, cameras, near_far: tuple[float, float] = DEFAULT_NEAR_FAR):
        self.out_dir = Path(out_dir)
        self.cameras = tuple(cameras)
        if not self.cameras or len(set(self.cameras)) != len(self.cameras):
            raise ValueError(f"cameras must be distinct names, at least one; got {self.cameras}")
        self.near_far = near_far
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def path(self, camera: str, kind: str, index: int, ext: str) -> Path:
        return self.out_dir / camera / layout.FOLDER[kind] / layout.file_name(kind, index, ext)

    def write(self, step_index: int, frames: dict[str, CameraFrame]) -> None:
        if sorted(frames) != sorted(self.cameras):
            raise ValueError(f"frames for cameras {sorted(frames)}; this writer has {sorted(self.cameras)}")
        if int(step_index) != step_index or step_index < 0:
            raise ValueError(f"step_index must be a non-negative integer; got {step_index!r}")
        for camera in self.cameras:
            self._write_camera(camera, int(step_index), frames[camera])

    def _write_camera(self, camera: str, i: int, frame: CameraFrame) -> None:
        rgba = np.concatenate([frame.rgb, np.full(frame.rgb.shape[:2] + (1,), 255, np.uint8)], -1)
        _save_png(self.path(camera, layout.RGB, i, "png"), rgba)
        if frame.depth is not None:
            _save_npy(self.path(camera, layout.DEPTH, i, "npy"), frame.depth.astype(np.float32))
        if frame.segmentation is not None:
            image, names = colorize(frame.segmentation, frame.labels)
            _save_png(self.path(camera, layout.SEG, i, "png"), image)
            _save_json(self.path(camera, layout.LABELS, i, "json"), names)
        params = camera_params(frame.intrinsics, frame.extrinsics, frame.width, frame.height, self.near_far)
        _save_json(self.path(camera, layout.PARAMS, i, "json"), params)


class ReplicatorFolder:
    """A BasicWriter output folder read as ``{camera: CameraFrame}`` per frame.

    ``single_camera_name`` names the camera of a folder written by a single render product
    (files at its top level). Class ids are given in order of first appearance, scanning frame
    0 of every camera, then frame 1, ...; BACKGROUND and UNLABELLED are 0 ("background").
    A malformed folder raises a one-line ``ValueError`` naming the file and what was expected.
    """

    def __init__(self, path, single_camera_name: str = "Replicator"):
        self.path = Path(path)
        found = layout.find_cameras(self.path, single_camera_name)
        self._files = {name: layout.scan_camera(folder) for name, folder in found.items()}
        self.cameras = tuple(self._files)
        self.num_frames = self._count_frames()
        self._registry = ClassRegistry()
        for index in range(self.num_frames):
            for files in self._files.values():
                labels = files.get(layout.LABELS, index)
                if labels is not None:
                    self._registry.add_labels(_load_json(labels))

    @property
    def labels(self) -> dict[int, str]:
        return self._registry.labels

    def _count_frames(self) -> int:
        counts = {name: layout.check_complete(files) for name, files in self._files.items()}
        (first, n), *rest = counts.items()
        for name, m in rest:
            if m != n:
                raise ValueError(
                    f"camera {name!r} has {m} frames but {first!r} has {n} under {self.path}; "
                    "every camera needs the same frames")
        return n

    def read(self, step: int) -> dict[str, CameraFrame]:
        if not 0 <= step < self.num_frames:
            raise IndexError(f"frame {step} out of range: {self.path} has {self.num_frames} frames")
        return {name: self._read_camera(files, step) for name, files in self._files.items()}

    def iter_frames(self) -> Iterator[dict[str, CameraFrame]]:
        for step in range(self.num_frames):
            yield self.read(step)

    def _read_camera(self, files: layout.CameraFiles, i: int) -> CameraFrame:
        rgb = _load_rgb(files.get(layout.RGB, i))
        intrinsics, extrinsics = _load_camera(files.get(layout.PARAMS, i), rgb.shape[:2])
        frame = CameraFrame(rgb=rgb, intrinsics=intrinsics, extrinsics=extrinsics)
        depth_path = files.get(layout.DEPTH, i)
        if depth_path is not None:
            frame.depth = _load_depth(depth_path, rgb.shape[:2])
        seg_path = files.get(layout.SEG, i)
        if seg_path is not None:
            frame.segmentation = self._load_segmentation(seg_path, files.get(layout.LABELS, i), rgb.shape[:2])
            frame.labels = self.labels
        return frame

    def _load_segmentation(self, path: Path, labels_path: Path, hw) -> np.ndarray:
        image = _load_image(path)
        _check_shape(path, image.shape[:2], hw)
        try:
            return decode(image, _load_json(labels_path), self._registry)
        except ValueError as err:
            raise ValueError(f"{path}: {err} {labels_path.name}") from None


# -- file helpers: every failure names the file and what it should hold --------------------------

def _save_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array, allow_pickle=False)


def _save_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _load_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read {path} as JSON ({err}); expected a JSON object") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} holds a JSON {type(obj).__name__}; expected a JSON object")
    return obj


def _load_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return np.asarray(img)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read {path} as an image ({err})") from None


def _load_rgb(path: Path) -> np.ndarray:
    image = _load_image(path)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ValueError(f"{path} is {image.dtype} {image.shape}; expected an 8-bit RGB or RGBA image")
    return np.ascontiguousarray(image[..., :3])


def _load_depth(path: Path, hw) -> np.ndarray:
    try:
        depth = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read {path} as a .npy array ({err})") from None
    depth = depth.reshape(depth.shape[:2]) if depth.ndim == 3 and depth.shape[2] == 1 else depth
    if depth.ndim != 2 or not np.issubdtype(depth.dtype, np.floating):
        raise ValueError(f"{path} is {depth.dtype} {depth.shape}; expected float32 (H, W)")
    _check_shape(path, depth.shape, hw)
    depth = depth.astype(np.float32)
    depth[~np.isfinite(depth) | (depth <= 0)] = np.inf  # Isaac marks no-hit as inf (docs: 0)
    return depth


def _load_camera(path: Path, hw) -> tuple[np.ndarray, np.ndarray]:
    params = _load_json(path)
    try:
        intrinsics, extrinsics = camera_from_params(params)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(
            f"{path}: bad camera params ({type(err).__name__}: {err}); expected "
            "cameraViewTransform and cameraProjection (16 numbers each) and renderProductResolution"
        ) from None
    width, height = (int(v) for v in params["renderProductResolution"])
    _check_shape(path, (height, width), hw)
    return intrinsics, extrinsics


def _check_shape(path: Path, got, want) -> None:
    if tuple(got) != tuple(want):
        raise ValueError(
            f"{path} is {got[0]}x{got[1]} (HxW); the rgb image of this frame is {want[0]}x{want[1]}")
