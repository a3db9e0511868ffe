"""The four control maps of a Cosmos-Transfer-style model, computed from renders (numpy, OpenCV).

Every map is float32 (T, C, H, W) with values in [0, 1]:

    depth_map(depth, near=0.0, far=0.0)          # (T, H, W) metres, inf = no hit -> (T, 1, H, W)
    segmentation_map(ids)                        # (T, H, W) class ids -> (T, 3, H, W) fixed colours
    edge_map(rgb, low=100, high=200)             # uint8 (T, H, W, 3) -> (T, 1, H, W) Canny, 0 or 1
    blur_map(rgb, factor=8)                      # uint8 (T, H, W, 3) -> (T, 3, H, W)

Depth is 0 at ``near`` and 1 at ``far`` (no-hit pixels are far); with ``far=0`` the range is the
clip's own finite minimum and maximum, so a clip's frames share one scale. Segmentation colours
are a fixed function of the class id (0, background, is black), so the same class looks the same
in every dataset. Edges follow Cosmos-Transfer's Canny presets (``EDGE_PRESETS``). Blur is a
bilateral filter, then area down-sampling by ``factor`` and linear up-sampling back.
"""

from __future__ import annotations

import cv2
import numpy as np

EDGE_PRESETS = {"low": (50, 100), "medium": (100, 200), "high": (200, 300)}


def _check_video(rgb: np.ndarray, name: str) -> None:
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"{name} needs uint8 RGB frames (T, H, W, 3); got {rgb.dtype} {rgb.shape}")


def depth_map(depth: np.ndarray, near: float = 0.0, far: float = 0.0) -> np.ndarray:
    """(T, H, W) metric depth (inf = nothing hit) -> (T, 1, H, W) in [0, 1], 1 = far."""
    depth = np.asarray(depth, np.float32)
    if depth.ndim != 3:
        raise ValueError(f"depth must be (T, H, W); got shape {depth.shape}")
    finite = depth[np.isfinite(depth)]
    if far <= 0:
        if finite.size == 0:
            return np.ones((depth.shape[0], 1) + depth.shape[1:], np.float32)
        near, far = float(finite.min()), float(finite.max())
    if far <= near:
        far = near + 1e-6
    out = (np.where(np.isfinite(depth), depth, far) - near) / (far - near)  # (T, H, W)
    return np.clip(out, 0.0, 1.0)[:, None].astype(np.float32)


def class_colours(num: int) -> np.ndarray:
    """(num, 3) float32 colours in [0, 1]: id 0 black, then hues spaced by the golden ratio."""
    ids = np.arange(num)
    hue = (ids * 0.6180339887) % 1.0
    value = np.where(ids % 2 == 0, 1.0, 0.6)
    hsv = np.stack([hue * 179, np.full(num, 200.0), value * 255], -1).astype(np.uint8)[None]  # (1, num, 3)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.float32) / 255.0
    rgb[0] = 0.0
    return rgb


def segmentation_map(ids: np.ndarray, max_classes: int = 256) -> np.ndarray:
    """(T, H, W) integer class ids -> (T, 3, H, W) fixed colours per id."""
    ids = np.asarray(ids)
    if ids.ndim != 3 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"segmentation must be integer class ids (T, H, W); got {ids.dtype} {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= max_classes):
        raise ValueError(f"segmentation ids span {ids.min()}..{ids.max()}; allowed 0..{max_classes - 1}")
    return class_colours(max_classes)[ids].transpose(0, 3, 1, 2).copy()  # (T, 3, H, W)


def edge_map(rgb: np.ndarray, low: int = 100, high: int = 200) -> np.ndarray:
    """uint8 (T, H, W, 3) -> (T, 1, H, W) Canny edges of the grey image, 1.0 on an edge."""
    _check_video(rgb, "the edge control")
    edges = [cv2.Canny(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), low, high) for frame in rgb]
    return (np.stack(edges)[:, None] > 0).astype(np.float32)


def blur_map(rgb: np.ndarray, factor: int = 8, diameter: int = 9, sigma_color: float = 75.0,
             sigma_space: float = 75.0) -> np.ndarray:
    """uint8 (T, H, W, 3) -> (T, 3, H, W): bilateral filter, down-sample by ``factor``, up again."""
    _check_video(rgb, "the blur control")
    h, w = rgb.shape[1:3]
    small = (max(1, w // factor), max(1, h // factor))
    out = []
    for frame in rgb:
        smooth = cv2.bilateralFilter(frame, diameter, sigma_color, sigma_space)
        down = cv2.resize(smooth, small, interpolation=cv2.INTER_AREA)
        out.append(cv2.resize(down, (w, h), interpolation=cv2.INTER_LINEAR))
    return (np.stack(out).astype(np.float32) / 255.0).transpose(0, 3, 1, 2).copy()
