"""Feature statistics as lerobot 0.4.4 computes them: per episode, then aggregated.

Per episode and feature: min, max, mean, std, count and quantiles q01, q10, q50, q90, q99.
- Numeric features: statistics per entry of the last axis (an (T, H, W, 1) depth map gives
  shape-(1,) stats; an (T, 2) action gives shape-(2,)); ``count`` is T. Quantiles come from a
  5000-bin histogram between min and max, read off the empirical CDF (lerobot's
  ``RunningQuantileStats``); an episode of one frame gets quantiles equal to its mean.
- Videos: per-channel stats over frames sampled as lerobot samples them, in [0, 1], shaped
  (3, 1, 1); ``count`` is the number of sampled frames.
Episodes combine with :func:`aggregate` (count-weighted means, the parallel variance formula,
count-weighted quantiles), so a dataset's stats never need all its frames in memory.

    ep = episode_stats({"action": actions, "observation.images.top": frames}, features)
    total = ep if total is None else aggregate([total, ep])
    json.dump(to_json(total), f)
"""

from __future__ import annotations

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)
NUM_BINS = 5000

Stats = dict[str, np.ndarray]


def episode_stats(arrays: dict[str, np.ndarray], features: dict[str, dict]) -> dict[str, Stats]:
    """Stats of one episode: {key: {stat: array}} for every key of ``arrays`` ((T, *shape) each)."""
    out = {}
    for key, arr in arrays.items():
        if features[key]["dtype"] in ("video", "image"):
            out[key] = frame_stats(arr)
        else:
            out[key] = array_stats(arr)
    return out


def array_stats(arr: np.ndarray) -> Stats:
    """Stats per entry of the last axis of a (T, ..., C) array; ``count`` = T.

    Rows with a non-finite entry (``inf`` depth where a ray hit nothing) are left out.
    """
    T = arr.shape[0]
    rows = arr.reshape(-1, arr.shape[-1] if arr.ndim > 1 else 1)  # (N, C)
    if np.issubdtype(rows.dtype, np.floating):
        finite = np.isfinite(rows).all(axis=1)
        rows = rows[finite] if finite.any() else np.zeros((1, rows.shape[1]), rows.dtype)
    return _row_stats(rows, count=T, with_quantiles=len(rows) >= 2 and T >= 2)


def frame_stats(frames: np.ndarray) -> Stats:
    """Per-channel stats in [0, 1] of uint8 (T, H, W, C) frames sampled like lerobot; (C, 1, 1)."""
    sampled = frames[sample_indices(len(frames))]  # (N, H, W, C)
    sampled = downsample(sampled)
    rows = sampled.reshape(-1, sampled.shape[-1])  # (N * h * w, C)
    stats = _row_stats(rows, count=len(sampled), with_quantiles=len(rows) >= 2)
    return {name: v if name == "count" else (v / 255.0).reshape(-1, 1, 1) for name, v in stats.items()}


def sample_indices(num_frames: int) -> np.ndarray:
    """Which frames of an episode feed the image stats: all below 100 frames, then ~T**0.75."""
    num_samples = num_frames if num_frames < 100 else max(100, min(int(num_frames**0.75), 10_000))
    return np.round(np.linspace(0, num_frames - 1, num_samples)).astype(int)


def downsample(frames: np.ndarray, target: int = 150, threshold: int = 300) -> np.ndarray:
    """(N, H, W, C) frames strided down to about ``target`` pixels when larger than ``threshold``."""
    _, height, width, _ = frames.shape
    if max(height, width) < threshold:
        return frames
    step = int(width / target) if width > height else int(height / target)
    return frames[:, ::step, ::step]


def _row_stats(rows: np.ndarray, count: int, with_quantiles: bool) -> Stats:
    """min/max in the data's dtype, the rest in float64, over axis 0 of (N, C) rows."""
    values = rows.astype(np.float64)
    mean = values.mean(axis=0)
    stats = {
        "min": rows.min(axis=0),
        "max": rows.max(axis=0),
        "mean": mean,
        "std": np.sqrt(np.maximum(0.0, (values**2).mean(axis=0) - mean**2)),
        "count": np.array([count]),
    }
    for name, q in zip(QUANTILE_KEYS, QUANTILES):
        stats[name] = _histogram_quantile(values, q) if with_quantiles else mean.copy()
    return stats


def _histogram_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """Quantile q of each column of (N, C) values from a NUM_BINS histogram over [min, max]."""
    out = np.empty(values.shape[1])
    target = q * len(values)
    for c in range(values.shape[1]):
        column = values[:, c]
        low, high = float(column.min()), float(column.max())
        if low == high:   # a constant column: every quantile is that value (and a 1e-10 pad is below float
            out[c] = low  # resolution for values of a few hundred, which numpy's histogram refuses)
            continue
        counts, edges = np.histogram(column, bins=NUM_BINS, range=(low, high))  # uniform bins: no sort
        cumulative = np.cumsum(counts)
        out[c] = _read_quantile(cumulative, edges, target)
    return out


def _read_quantile(cumulative: np.ndarray, edges: np.ndarray, target: float) -> float:
    """Invert the histogram's CDF at ``target`` counts, linearly inside the bin that holds it."""
    idx = int(np.searchsorted(cumulative, target))
    if idx == 0:
        return float(edges[0])
    if idx >= len(cumulative):
        return float(edges[-1])
    before = cumulative[idx - 1]
    in_bin = cumulative[idx] - before
    if in_bin == 0:
        return float(edges[idx])
    return float(edges[idx] + (target - before) / in_bin * (edges[idx + 1] - edges[idx]))


def aggregate(stats_list: list[dict[str, Stats]]) -> dict[str, Stats]:
    """Combine stats of disjoint parts of a dataset (lerobot's ``aggregate_stats``)."""
    keys = {key for stats in stats_list for key in stats}
    return {key: _aggregate_feature([s[key] for s in stats_list if key in s]) for key in keys}


def _aggregate_feature(parts: list[Stats]) -> Stats:
    means = np.stack([p["mean"] for p in parts])  # (P, *stat_shape)
    counts = np.stack([p["count"] for p in parts]).astype(np.float64)  # (P, 1)
    total = counts.sum(axis=0)  # (1,)
    weights = counts.reshape(-1, *([1] * (means.ndim - 1)))  # broadcast over stat_shape
    mean = (means * weights).sum(axis=0) / total
    variances = np.stack([p["std"] ** 2 for p in parts]) + (means - mean) ** 2
    out = {
        "min": np.min(np.stack([p["min"] for p in parts]), axis=0),
        "max": np.max(np.stack([p["max"] for p in parts]), axis=0),
        "mean": mean,
        "std": np.sqrt((variances * weights).sum(axis=0) / total),
        "count": np.array([int(total[0])]),
    }
    for name in QUANTILE_KEYS:
        if all(name in p for p in parts):
            out[name] = (np.stack([p[name] for p in parts]) * weights).sum(axis=0) / total
    return out


def to_json(stats: dict[str, Stats]) -> dict[str, dict[str, list]]:
    """Nested lists (bools stay bools, ints stay ints) for stats.json and episode rows."""
    return {key: {name: np.asarray(value).tolist() for name, value in s.items()} for key, s in stats.items()}


def from_json(data: dict[str, dict[str, list]]) -> dict[str, Stats]:
    return {key: {name: np.asarray(value) for name, value in s.items()} for key, s in data.items()}
