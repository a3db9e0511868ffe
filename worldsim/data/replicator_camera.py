"""Camera conventions of Replicator's ``camera_params_####.json``, to and from ours.

Replicator (Isaac Sim) stores two flattened 4x4 matrices per frame, both row-major and both
meant for row vectors (USD's convention, translation in the last row):

- ``cameraViewTransform`` ``V``: world -> camera, camera axes as in USD/OpenGL (x right,
  y up, looking down -z): ``p_cam = [x, y, z, 1] @ V``.
- ``cameraProjection`` ``P``: camera -> clip, reversed-Z with the near plane in ``P[3, 2]``
  (``P[2, 2] = n / (f - n)``, ``P[2, 3] = -1``, ``P[3, 2] = n f / (f - n)``); after the divide
  by ``w = -z_cam``, ``u = (ndc_x + 1) / 2 * W`` and ``v = (1 - ndc_y) / 2 * H``.

Ours (``worldsim.data.frames``): ``intrinsics`` K in pixels, ``extrinsics`` world-from-camera in
OpenCV axes (x right, y down, z forward). Hence ``V = (GL_FROM_CV @ inv(E)).T`` and
``fx = P[0, 0] W / 2``, ``fy = P[1, 1] H / 2``, ``cx = (1 - P[2, 0]) W / 2``,
``cy = (1 + P[2, 1]) H / 2``.

    params = camera_params(frame.intrinsics, frame.extrinsics, width, height)   # JSON dict
    K, E = camera_from_params(params)
"""

from __future__ import annotations

import numpy as np

# USD/OpenGL camera axes from OpenCV camera axes (and back: it is its own inverse).
GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])
# USD's default horizontal aperture (mm); any value works, focal length scales with it.
DEFAULT_APERTURE_MM = 20.955
DEFAULT_NEAR_FAR = (0.01, 1_000_000.0)


def view_transform(extrinsics: np.ndarray) -> np.ndarray:
    """Replicator's ``cameraViewTransform`` (4, 4) from a world-from-camera pose in OpenCV axes."""
    cam_from_world_gl = GL_FROM_CV @ np.linalg.inv(np.asarray(extrinsics, np.float64))
    return cam_from_world_gl.T


def extrinsics_from_view(view: np.ndarray, meters_per_unit: float = 1.0) -> np.ndarray:
    """World-from-camera (4, 4) in OpenCV axes and metres from a ``cameraViewTransform``."""
    view = np.asarray(view, np.float64).reshape(4, 4)
    pose = np.linalg.inv(view.T) @ GL_FROM_CV
    pose[:3, 3] *= meters_per_unit
    return pose.astype(np.float32)


def projection_matrix(intrinsics: np.ndarray, width: int, height: int,
                      near_far: tuple[float, float] = DEFAULT_NEAR_FAR) -> np.ndarray:
    """Replicator's reversed-Z ``cameraProjection`` (4, 4, row-vector layout) for a pinhole K."""
    k = np.asarray(intrinsics, np.float64)
    near, far = near_far
    proj = np.zeros((4, 4))
    proj[0, 0] = 2.0 * k[0, 0] / width
    proj[1, 1] = 2.0 * k[1, 1] / height
    proj[2, 0] = 1.0 - 2.0 * k[0, 2] / width
    proj[2, 1] = 2.0 * k[1, 2] / height - 1.0
    proj[2, 2] = near / (far - near)
    proj[2, 3] = -1.0
    proj[3, 2] = near * far / (far - near)
    return proj


def intrinsics_from_projection(projection: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pinhole K (3, 3) in pixels from a ``cameraProjection`` and the render resolution."""
    proj = np.asarray(projection, np.float64).reshape(4, 4)
    fx, fy = proj[0, 0] * width / 2.0, proj[1, 1] * height / 2.0
    cx, cy = (1.0 - proj[2, 0]) * width / 2.0, (1.0 + proj[2, 1]) * height / 2.0
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], np.float32)


def camera_params(intrinsics: np.ndarray, extrinsics: np.ndarray, width: int, height: int,
                  near_far: tuple[float, float] = DEFAULT_NEAR_FAR) -> dict:
    """The ``camera_params`` annotator's dict, as BasicWriter serializes it, for one camera."""
    k = np.asarray(intrinsics, np.float64)
    h_aperture = DEFAULT_APERTURE_MM
    focal = k[0, 0] * h_aperture / width
    v_aperture = focal * height / k[1, 1]
    # USD aperture offsets (mm) that shift the principal point as K says (0 for centred K).
    offset = [(width / 2.0 - k[0, 2]) * h_aperture / width, (k[1, 2] - height / 2.0) * v_aperture / height]
    return {
        "cameraAperture": [h_aperture, v_aperture],
        "cameraApertureOffset": offset,
        "cameraFisheyeLensP": [],
        "cameraFisheyeLensS": [],
        "cameraFisheyeMaxFOV": 0.0,
        "cameraFisheyeNominalHeight": 0,
        "cameraFisheyeNominalWidth": 0,
        "cameraFisheyeOpticalCentre": [0.0, 0.0],
        "cameraFisheyePolynomial": [0.0, 0.0, 0.0, 0.0, 0.0],
        "cameraFocalLength": focal,
        "cameraFocusDistance": 0.0,
        "cameraFStop": 0.0,
        "cameraModel": "pinhole",
        "cameraNearFar": [float(near_far[0]), float(near_far[1])],
        "cameraProjection": projection_matrix(k, width, height, near_far).ravel().tolist(),
        "cameraViewTransform": view_transform(extrinsics).ravel().tolist(),
        "metersPerSceneUnit": 1.0,
        "renderProductResolution": [int(width), int(height)],
    }


def camera_from_params(params: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(intrinsics, extrinsics)`` in our conventions from a ``camera_params`` dict.

    Raises ``KeyError``/``ValueError`` on missing keys or wrong shapes; callers name the file.
    """
    model = str(params.get("cameraModel", "pinhole"))
    if "pinhole" not in model.lower():
        raise ValueError(f"cameraModel is {model!r}; only pinhole cameras are supported")
    width, height = (int(v) for v in params["renderProductResolution"])
    projection = np.asarray(params["cameraProjection"], np.float64)
    view = np.asarray(params["cameraViewTransform"], np.float64)
    if projection.size != 16 or view.size != 16:
        raise ValueError("cameraProjection and cameraViewTransform must hold 16 numbers each")
    meters = float(params.get("metersPerSceneUnit", 1.0))
    return intrinsics_from_projection(projection, width, height), extrinsics_from_view(view, meters)
