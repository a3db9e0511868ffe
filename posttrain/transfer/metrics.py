"""How well generated frames follow their controls, and how much their look varies across seeds.

    edge_f1(frames, edges, low=100, high=200)   # Canny of the output vs the input edges, 1 px slack
    segmentation_agreement(frames, seg)         # balanced accuracy of nearest class-mean colour
    look_diversity(frames_per_seed)             # mean per-pixel std across seeds, 0-255 units

``frames`` are uint8 (N, H, W, 3); ``edges`` bool (N, H, W); ``seg`` integer class ids (N, H, W).
A flat grey image scores edge F1 0 and segmentation agreement 1/classes; a frame drawn with one
colour per class scores agreement 1. Comparing with the randomised ground truth in the same
metrics gives the ceiling the renderer itself reaches.
"""

from __future__ import annotations

import cv2
import numpy as np

_KERNEL = np.ones((3, 3), np.uint8)


def _canny(frames: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.stack([cv2.Canny(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), low, high) > 0 for f in frames])


def _dilate(masks: np.ndarray) -> np.ndarray:
    return np.stack([cv2.dilate(m.astype(np.uint8), _KERNEL) > 0 for m in masks])


def edge_f1(frames: np.ndarray, edges: np.ndarray, low: int = 100, high: int = 200) -> float:
    """F1 of the output's Canny edges against ``edges``, a pixel counting as matched within 1 px."""
    pred, target = _canny(frames, low, high), np.asarray(edges, bool)
    if pred.sum() == 0 or target.sum() == 0:
        return float(pred.sum() == target.sum())
    precision = (pred & _dilate(target)).sum() / pred.sum()
    recall = (target & _dilate(pred)).sum() / target.sum()
    return float(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))


def _frame_agreement(frame: np.ndarray, seg: np.ndarray) -> float:
    classes = np.unique(seg)
    pixels = frame.reshape(-1, 3).astype(np.float32)
    means = np.stack([pixels[seg.reshape(-1) == c].mean(0) for c in classes])  # (K, 3)
    nearest = classes[np.argmin(((pixels[:, None] - means[None]) ** 2).sum(-1), axis=1)]
    recalls = [(nearest[seg.reshape(-1) == c] == c).mean() for c in classes]
    return float(np.mean(recalls))


def segmentation_agreement(frames: np.ndarray, seg: np.ndarray) -> float:
    """Mean over frames of the balanced accuracy of assigning pixels to the nearest class-mean colour."""
    return float(np.mean([_frame_agreement(f, s) for f, s in zip(frames, np.asarray(seg))]))


def look_diversity(frames_per_seed: np.ndarray) -> float:
    """(S, N, H, W, 3) uint8 -> mean over pixels of the std across the S seeds."""
    return float(np.asarray(frames_per_seed, np.float32).std(axis=0).mean())
