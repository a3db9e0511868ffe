"""Evaluation metrics: success rates with intervals, world-model vs simulator agreement, video fidelity.

    from evaluation.metrics import wilson_interval, pearson, spearman, mmrv, fidelity_curve
    lo, hi = wilson_interval(7, 10)                    # 95% Wilson score interval
    mmrv(sim_rates, wm_rates)                          # simulator first: it is the ground truth
    curve = fidelity_curve(sim_videos, wm_videos)      # per-step PSNR / SSIM over the horizon
    bootstrap_agreement(sim_outcomes, wm_outcomes, paired=True)   # 95% intervals of Pearson, Spearman, MMRV

Everything here is plain numpy except ``fidelity_curve``, which imports torch when called (it
reuses ``worldsim.tokenizer.metrics``). Undefined correlations (a constant input) are ``nan``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

PSNR_CAP_DB = 100.0  # identical frames have infinite PSNR; they count as this when averaging


def z_score(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a success rate; (0, 1) when there are no trials."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z, p = z_score(confidence), successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends (no rounding residue)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def success_rate(successes) -> dict:
    """{"n", "successes", "rate", "ci_low", "ci_high"} of a list of booleans."""
    s = np.asarray(successes, dtype=bool)
    lo, hi = wilson_interval(int(s.sum()), s.size)
    return {"n": int(s.size), "successes": int(s.sum()), "rate": float(s.mean()) if s.size else float("nan"),
            "ci_low": lo, "ci_high": hi}


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need two 1-d sequences of one length, got shapes {x.shape} and {y.shape}")
    return x, y


def pearson(x, y) -> float:
    """Pearson correlation; nan for fewer than 2 points or a constant input."""
    x, y = _pair(x, y)
    if x.size < 2:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy / denom) if denom > 0 else float("nan")


def ranks(x) -> np.ndarray:
    """1-based ranks, ties given the mean of the ranks they span."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    out = np.empty(x.size)
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and x[order[j + 1]] == x[order[i]]:
            j += 1
        out[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x, y) -> float:
    """Spearman's rho: Pearson of the ranks (ties averaged)."""
    x, y = _pair(x, y)
    return pearson(ranks(x), ranks(y))


def mmrv(sim_rates, wm_rates) -> float:
    """Mean maximum rank violation (SIMPLER), simulator rates R first, world-model rates S second:
    (1/N) sum_i max_j |R_i - R_j| * 1[(S_i < S_j) != (R_i < R_j)]. In [0, 1]; lower is better."""
    r, s = _pair(sim_rates, wm_rates)
    if r.size == 0:
        return float("nan")
    violated = (s[:, None] < s[None, :]) != (r[:, None] < r[None, :])  # (N, N)
    cost = np.abs(r[:, None] - r[None, :]) * violated  # (N, N)
    return float(cost.max(axis=1).mean())


def mean_abs_error(sim_rates, wm_rates) -> float:
    r, s = _pair(sim_rates, wm_rates)
    return float(np.abs(r - s).mean()) if r.size else float("nan")


def fit_line(x, y) -> tuple[float, float]:
    """Least-squares (slope, intercept) of y on x; slope nan when x is constant."""
    x, y = _pair(x, y)
    dx = x - x.mean()
    if x.size < 2 or float(dx @ dx) == 0:
        return float("nan"), float(y.mean()) if y.size else float("nan")
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    return slope, float(y.mean() - slope * x.mean())


def agreement(sim_rates, wm_rates) -> dict:
    """Every across-policy agreement number at once."""
    slope, intercept = fit_line(sim_rates, wm_rates)
    return {"n_policies": len(sim_rates), "pearson": pearson(sim_rates, wm_rates),
            "spearman": spearman(sim_rates, wm_rates), "mmrv": mmrv(sim_rates, wm_rates),
            "mean_abs_error": mean_abs_error(sim_rates, wm_rates), "slope": slope, "intercept": intercept}


AGREEMENT_STATS = ("pearson", "spearman", "mmrv")


def bootstrap_rates(sim: list, other: list, paired: bool, resamples: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Success rates per policy of ``resamples`` bootstrap resamples: (B, P) for each column.

    ``sim[p]`` / ``other[p]`` are policy p's episode outcomes (0/1) in each column. Episodes are
    drawn with replacement within each policy; ``paired``: the same draws in both columns (episode
    i of one is episode i of the other, so their arrays must have one length), else independent ones."""
    a, b = np.empty((resamples, len(sim))), np.empty((resamples, len(sim)))
    for p, (x, y) in enumerate(zip(sim, other)):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if paired and x.shape != y.shape:
            raise ValueError(f"policy {p}: paired columns need one outcome per episode in both, got "
                             f"{x.size} and {y.size}")
        draw = rng.integers(0, x.size, (resamples, x.size))  # (B, n)
        a[:, p] = x[draw].mean(axis=1)
        b[:, p] = y[draw if paired else rng.integers(0, y.size, (resamples, y.size))].mean(axis=1)
    return a, b


def bootstrap_samples(sim: list, other: list, paired: bool, resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """(B, 3) Pearson, Spearman and MMRV of each bootstrap resample (simulator first); nan where undefined."""
    a, b = bootstrap_rates(sim, other, paired, resamples, np.random.default_rng(seed))
    return np.array([[pearson(x, y), spearman(x, y), mmrv(x, y)] for x, y in zip(a, b)]).reshape(-1, 3)


def percentile_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of the finite values; (nan, nan) when none is finite."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return float("nan"), float("nan")
    tail = 50 * (1 - confidence)
    lo, hi = np.percentile(v, [tail, 100 - tail])
    return float(lo), float(hi)


def bootstrap_agreement(sim: list, other: list, paired: bool, resamples: int = 1000, seed: int = 0,
                        confidence: float = 0.95) -> dict:
    """Percentile-bootstrap intervals of Pearson, Spearman and MMRV across policies:
    {"pearson_ci": (lo, hi), ..., "pearson_undefined": resamples where it is nan, ...,
    "resamples", "seed", "paired"}."""
    samples = bootstrap_samples(sim, other, paired, resamples, seed)
    out: dict = {"resamples": resamples, "seed": seed, "paired": paired}
    for j, name in enumerate(AGREEMENT_STATS):
        out[f"{name}_ci"] = percentile_interval(samples[:, j], confidence)
        out[f"{name}_undefined"] = int(np.isnan(samples[:, j]).sum())
    return out


def frame_scores(sim: np.ndarray, wm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame PSNR (dB, capped at PSNR_CAP_DB) and SSIM of two uint8 videos (T, H, W, 3)."""
    import torch

    from worldsim.tokenizer.metrics import psnr, ssim

    if sim.shape != wm.shape or sim.ndim != 4:
        raise ValueError(f"need two (T, H, W, 3) videos of one shape, got {sim.shape} and {wm.shape}")
    a = torch.from_numpy(np.ascontiguousarray(sim)).permute(3, 0, 1, 2)[None]  # (1, 3, T, H, W)
    b = torch.from_numpy(np.ascontiguousarray(wm)).permute(3, 0, 1, 2)[None]
    p = psnr(b, a)[0].clamp(max=PSNR_CAP_DB).nan_to_num(PSNR_CAP_DB)  # (T,)
    return p.numpy().astype(np.float64), ssim(b, a)[0].numpy().astype(np.float64)


def fidelity_curve(sim_videos: list[np.ndarray], wm_videos: list[np.ndarray]) -> dict:
    """Mean PSNR and SSIM at every step of the horizon over paired episodes of any lengths.

    Episode i's videos are cut to their common length; step t averages the episodes that reach
    it (``count``). Returns lists ``psnr``, ``ssim``, ``count`` indexed by step."""
    if len(sim_videos) != len(wm_videos):
        raise ValueError(f"{len(sim_videos)} simulator videos but {len(wm_videos)} world-model videos")
    scores = []
    for sim, wm in zip(sim_videos, wm_videos):
        t = min(len(sim), len(wm))
        scores.append(frame_scores(np.asarray(sim)[:t], np.asarray(wm)[:t]))
    horizon = max((len(p) for p, _ in scores), default=0)
    out = {"psnr": [], "ssim": [], "count": []}
    for t in range(horizon):
        at = [(p[t], s[t]) for p, s in scores if len(p) > t]
        out["psnr"].append(float(np.mean([a for a, _ in at])))
        out["ssim"].append(float(np.mean([b for _, b in at])))
        out["count"].append(len(at))
    return out
