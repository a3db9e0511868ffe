"""Where Replicator's BasicWriter puts its files, and checking a folder against that.

One render product: files flat in the output folder (``rgb_0000.png``, ...). Several: one
folder per render product (Isaac names them ``Replicator``, ``Replicator_01``, ... or by the
``name=`` given to ``rep.create.render_product``) holding one folder per annotator::

    out/Replicator/rgb/rgb_0000.png
    out/Replicator/distance_to_image_plane/distance_to_image_plane_0000.npy
    out/Replicator/semantic_segmentation/semantic_segmentation_0000.png
    out/Replicator/semantic_segmentation/semantic_segmentation_labels_0000.json
    out/Replicator/camera_params/camera_params_0000.json

Files are ``<annotator>_<frame, zero-padded to 4>.<ext>``. ``scan_camera`` accepts a camera
folder with its files flat or in annotator folders; ``find_cameras`` accepts a folder that is
one camera or holds one folder per camera.

    cameras = find_cameras(Path("out"), single_name="Replicator")   # {name: folder}
    files = scan_camera(cameras["Replicator"])                      # CameraFiles
    num_frames = check_complete(files)                              # ValueError names a gap
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PADDING = 4
RGB, DEPTH, PARAMS = "rgb", "distance_to_image_plane", "camera_params"
SEG, LABELS = "semantic_segmentation", "semantic_segmentation_labels"
EXTENSIONS = {
    RGB: ("png", "jpg", "jpeg"), DEPTH: ("npy",), SEG: ("png",), LABELS: ("json",), PARAMS: ("json",)}
# The annotator folder each kind of file sits in when a writer has several render products.
FOLDER = {RGB: RGB, DEPTH: DEPTH, SEG: SEG, LABELS: SEG, PARAMS: PARAMS}
_NAME = re.compile(r"^(?P<kind>[a-z_]+?)_(?P<index>\d+)\.(?P<ext>[a-z]+)$")


def file_name(kind: str, index: int, ext: str) -> str:
    return f"{kind}_{index:0{PADDING}d}.{ext}"


def parse_name(name: str) -> tuple[str, int] | None:
    """``(kind, frame)`` of a BasicWriter file name we read, else None."""
    m = _NAME.match(name)
    if not m or m["kind"] not in EXTENSIONS or m["ext"] not in EXTENSIONS[m["kind"]]:
        return None
    return m["kind"], int(m["index"])


@dataclass
class CameraFiles:
    """Paths of one camera's files: ``paths[kind][frame]``."""

    folder: Path
    paths: dict[str, dict[int, Path]] = field(default_factory=dict)

    @property
    def frames(self) -> list[int]:
        return sorted(set().union(*(p.keys() for p in self.paths.values())))

    def get(self, kind: str, index: int) -> Path | None:
        return self.paths.get(kind, {}).get(index)

    def expected(self, kind: str, index: int) -> Path:
        """Where a missing file would be, next to its siblings (annotator folder or flat)."""
        siblings = self.paths.get(kind) or self.paths.get(RGB) or {}
        base = next(iter(siblings.values())).parent if siblings else self.folder
        if kind != RGB and not self.paths.get(kind) and base.name == RGB:
            base = base.parent / FOLDER[kind]
        return base / file_name(kind, index, EXTENSIONS[kind][0])


def _candidate_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file()]
    for sub in set(FOLDER.values()):
        if (folder / sub).is_dir():
            files += [p for p in (folder / sub).iterdir() if p.is_file()]
    return files


def scan_camera(folder: Path) -> CameraFiles:
    files = CameraFiles(folder)
    for path in sorted(_candidate_files(folder)):
        parsed = parse_name(path.name)
        if parsed is not None:
            kind, index = parsed
            files.paths.setdefault(kind, {}).setdefault(index, path)
    return files


def has_output(folder: Path) -> bool:
    return bool(scan_camera(folder).paths.get(RGB))


def check_complete(files: CameraFiles) -> int:
    """Number of frames; ``ValueError`` naming the first missing file.

    Every frame 0..N-1 needs rgb and camera params; depth and segmentation (with its labels)
    are optional but then needed for every frame.
    """
    frames = files.frames
    count = frames[-1] + 1 if frames else 0
    for kind in (RGB, PARAMS):
        _check_kind(files, kind, count, what="every frame needs one")
    for kind in (DEPTH, SEG, LABELS):
        if files.paths.get(kind) or (kind == LABELS and files.paths.get(SEG)):
            _check_kind(files, kind, count, what=f"other frames of this camera have {kind}")
    return count


def _check_kind(files: CameraFiles, kind: str, count: int, what: str) -> None:
    for index in range(count):
        if files.get(kind, index) is None:
            raise ValueError(f"missing {files.expected(kind, index)} ({what})")


def find_cameras(root: Path, single_name: str) -> dict[str, Path]:
    """``{camera: folder}``: ``root`` itself if it holds rgb files, else its subfolders that do."""
    if not root.is_dir():
        raise ValueError(f"Replicator folder {root} does not exist or is not a directory")
    if has_output(root):
        return {single_name: root}
    cameras = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and has_output(p)}
    if not cameras:
        raise ValueError(
            f"no Replicator output under {root}: expected {file_name(RGB, 0, 'png')} there, "
            f"or <camera>/{file_name(RGB, 0, 'png')}, or <camera>/rgb/{file_name(RGB, 0, 'png')}")
    return cameras
