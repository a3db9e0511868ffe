"""Spatio-temporal control weights: a scalar or a (T, H, W) map per control, renormalised where
the controls together ask for more than 1.

    w = weight_map(1.0, where=["pusher"], elsewhere=0.0, segmentation=seg, labels={4: "pusher"})
    weights = renormalize({"edge": w, "segmentation": 1.0})   # sum > 1 at a pixel -> divided by it

``renormalize`` works on numpy arrays, torch tensors and floats alike: at every pixel where the
weights sum above 1 each is divided by the sum; elsewhere they are left as given (Cosmos-Transfer).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np


def renormalize(weights: Mapping[str, object]) -> dict[str, object]:
    """{control: float | (..., T, H, W) array} -> same, divided by the sum where the sum is above 1."""
    if not weights:
        return {}
    for name, w in weights.items():
        if (np.asarray(w) < 0).any() if not hasattr(w, "detach") else bool((w < 0).any()):
            raise ValueError(f"control weight of {name!r} has negative values; weights must be >= 0")
    total = sum(weights.values())
    scale = 1.0 / (total.clip(min=1.0) if hasattr(total, "clip") else max(float(total), 1.0))
    return {name: w * scale for name, w in weights.items()}


def class_mask(segmentation: np.ndarray, labels: Mapping[int, str], classes) -> np.ndarray:
    """(T, H, W) bool: pixels whose class name is in ``classes`` (unknown names are an error)."""
    ids_by_name = {name: int(i) for i, name in labels.items()}
    unknown = [c for c in classes if c not in ids_by_name]
    if unknown:
        raise ValueError(f"weight class {unknown[0]!r} is not a segmentation label; labels: "
                         f"{', '.join(sorted(ids_by_name))}")
    return np.isin(segmentation, [ids_by_name[c] for c in classes])


def weight_map(weight: float, where=(), elsewhere: float = 0.0, segmentation=None, labels=None,
               shape: tuple[int, int, int] | None = None) -> np.ndarray | float:
    """``weight`` everywhere (a float), or a (T, H, W) float32 map: ``weight`` on the pixels of the
    classes ``where`` and ``elsewhere`` on the others."""
    if weight < 0 or elsewhere < 0:
        raise ValueError(f"control weights must be >= 0; got weight={weight}, elsewhere={elsewhere}")
    if not where:
        return float(weight) if shape is None else np.full(shape, weight, np.float32)
    if segmentation is None:
        raise ValueError(f"a weight restricted to classes {list(where)} needs segmentation, which this input lacks")
    mask = class_mask(np.asarray(segmentation), labels or {}, where)
    return np.where(mask, weight, elsewhere).astype(np.float32)
