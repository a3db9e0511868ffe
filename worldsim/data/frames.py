"""What a render source returns for one camera at one step.

Conventions, shared by every source (MuJoCo, Replicator folders, Isaac Sim):
- ``rgb``: uint8 (H, W, 3).
- ``depth``: float32 (H, W), metric distance to the image plane (Replicator's
  ``distance_to_image_plane``; MuJoCo's planar depth). ``inf`` where nothing was hit.
- ``segmentation``: int32 (H, W) class ids; 0 is background. Names in ``labels``.
- ``intrinsics``: float32 (3, 3) pinhole matrix in pixels.
- ``extrinsics``: float32 (4, 4) world-from-camera pose in the OpenCV camera convention
  (x right, y down, z forward), so ``world_point = extrinsics @ [x_cam, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MODALITIES = ("rgb", "depth", "segmentation")


@dataclass
class CameraFrame:
    rgb: np.ndarray
    intrinsics: np.ndarray
    extrinsics: np.ndarray
    depth: np.ndarray | None = None
    segmentation: np.ndarray | None = None
    labels: dict[int, str] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])


def check_modalities(modalities) -> tuple[str, ...]:
    """Validate a list of modality names; ``rgb`` is always included."""
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown:
        raise ValueError(f"unknown render modality {unknown[0]!r}; allowed: {', '.join(MODALITIES)}")
    return tuple(m for m in MODALITIES if m == "rgb" or m in modalities)


def pinhole_intrinsics(fovy_deg: float, height: int, width: int) -> np.ndarray:
    """Square-pixel pinhole matrix for a vertical field of view (MuJoCo's camera model)."""
    fy = height / (2.0 * np.tan(np.deg2rad(fovy_deg) / 2.0))
    return np.array([[fy, 0.0, width / 2.0], [0.0, fy, height / 2.0], [0.0, 0.0, 1.0]], np.float32)


# MuJoCo and OpenGL cameras look down -z with y up; OpenCV looks down +z with y down.
GL_TO_CV = np.diag([1.0, -1.0, -1.0]).astype(np.float64)


def pose_from_gl(position: np.ndarray, rotation_gl: np.ndarray) -> np.ndarray:
    """World-from-camera 4x4 (OpenCV axes) from a position and a GL-convention rotation matrix."""
    pose = np.eye(4)
    pose[:3, :3] = np.asarray(rotation_gl, np.float64).reshape(3, 3) @ GL_TO_CV
    pose[:3, 3] = position
    return pose.astype(np.float32)
