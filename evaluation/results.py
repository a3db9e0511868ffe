"""From per-episode records to the numbers of a report: per-policy rates, agreement, eval_info.json.

    per_policy = policy_table(records, specs, episodes=20, success="any", confidence=0.95)
    agree = column_agreement(per_policy["simulator"], per_policy["world_model"])
    compared = compare_columns(sim_records, wm_records, specs, episodes=20, success="any", paired=True)
    info = lerobot_eval_info(records, specs, eval_s=123.0)     # lerobot-eval's schema

Records are the dicts ``evaluation.runner`` produces (plus ``column`` and ``finished_at``). Only
episodes ``0..episodes-1`` count, so a folder that once ran more episodes still reports ``episodes``.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from evaluation.metrics import agreement, bootstrap_agreement, success_rate, wilson_interval


def select(records: list[dict], spec: str, episodes: int) -> list[dict]:
    """The policy's records for episodes 0..episodes-1, one per episode, in episode order."""
    by_episode = {int(r["episode"]): r for r in records if r["policy"] == spec and int(r["episode"]) < episodes}
    return [by_episode[k] for k in sorted(by_episode)]


def failure_reasons(records: list[dict]) -> dict[str, int]:
    reasons = Counter(re.sub(r" at step \d+$", "", r["failure"]) for r in records if r.get("failure"))
    return dict(reasons.most_common())


def policy_summary(records: list[dict], success: str, confidence: float) -> dict:
    ok = [bool(r[f"success_{success}"]) for r in records]
    n, k = len(ok), int(sum(ok))
    lo, hi = wilson_interval(k, n, confidence)
    mean = (lambda key: float(np.mean([r[key] for r in records])) if records else float("nan"))
    return {"n": n, "successes": k, "rate": k / n if n else float("nan"), "ci_low": lo, "ci_high": hi,
            "success_any_rate": success_rate([r["success_any"] for r in records])["rate"],
            "success_end_rate": success_rate([r["success_end"] for r in records])["rate"],
            "mean_return": mean("return"), "mean_max_reward": mean("max_reward"), "mean_length": mean("length"),
            "failures": sum(1 for r in records if r.get("failure")), "failure_reasons": failure_reasons(records),
            "clipped_steps": int(sum(r.get("clipped_steps", 0) for r in records))}


def policy_table(records: list[dict], specs: list[str], episodes: int, success: str, confidence: float) -> dict:
    return {spec: policy_summary(select(records, spec, episodes), success, confidence) for spec in specs}


def paired_outcome_agreement(ref: list[dict], other: list[dict], success: str) -> float:
    """Fraction of (policy, episode) pairs present in both columns whose outcome is the same."""
    a = {(r["policy"], r["episode"]): r[f"success_{success}"] for r in ref}
    b = {(r["policy"], r["episode"]): r[f"success_{success}"] for r in other}
    both = sorted(set(a) & set(b))
    return float(np.mean([a[k] == b[k] for k in both])) if both else float("nan")


def column_agreement(ref_table: dict, other_table: dict) -> dict:
    """Pearson, Spearman, MMRV (reference = simulator first), MAE over policies present in both."""
    specs = [s for s in ref_table if ref_table[s]["n"] and other_table.get(s, {}).get("n")]
    sim = [ref_table[s]["rate"] for s in specs]
    other = [other_table[s]["rate"] for s in specs]
    return {**agreement(sim, other), "policies": specs}


def episode_outcomes(records: list[dict], spec: str, episodes: int, success: str) -> dict[int, bool]:
    return {int(r["episode"]): bool(r[f"success_{success}"]) for r in select(records, spec, episodes)}


def outcome_lists(ref: list[dict], other: list[dict], specs: list[str], episodes: int, success: str,
                  paired: bool) -> tuple[list, list]:
    """Per policy the outcomes of each column, for the bootstrap; paired: episodes present in both, aligned."""
    a_all, b_all = [], []
    for spec in specs:
        a, b = episode_outcomes(ref, spec, episodes, success), episode_outcomes(other, spec, episodes, success)
        if paired:
            keys_a = keys_b = sorted(set(a) & set(b))
        else:
            keys_a, keys_b = sorted(a), sorted(b)
        if keys_a and keys_b:
            a_all.append([a[k] for k in keys_a])
            b_all.append([b[k] for k in keys_b])
    return a_all, b_all


def compare_columns(ref: list[dict], other: list[dict], specs: list[str], episodes: int, success: str,
                    paired: bool, confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> dict:
    """Every agreement number of a column against the simulator over ``specs``: Pearson, Spearman,
    MMRV, MAE, fit (``column_agreement``), their bootstrap intervals (``resamples`` > 0; episodes
    resampled within each policy, jointly in both columns when ``paired``) and, when ``paired``,
    the paired-episode outcome agreement."""
    ref_table = policy_table(ref, specs, episodes, success, confidence)
    out = column_agreement(ref_table, policy_table(other, specs, episodes, success, confidence))
    if resamples and out["policies"]:
        sim, oth = outcome_lists(ref, other, out["policies"], episodes, success, paired)
        out.update(bootstrap_agreement(sim, oth, paired, resamples, seed, confidence))
    if paired:
        ref, other = ([r for spec in specs for r in select(rs, spec, episodes)] for rs in (ref, other))
    out["paired_outcome_agreement"] = paired_outcome_agreement(ref, other, success) if paired else None
    return out


def lerobot_eval_info(records: list[dict], specs: list[str], episodes: int, success: str, eval_s: float,
                      video_paths: dict[str, list[str]] | None = None) -> dict:
    """lerobot-eval's ``eval_info.json``: one task group per policy (task_id 0: the env's one task)."""
    video_paths = video_paths or {}
    per_task, per_group, overall = [], {}, {"sum_rewards": [], "max_rewards": [], "successes": [], "video_paths": []}
    for spec in specs:
        chosen = select(records, spec, episodes)
        metrics = {"sum_rewards": [float(r["return"]) for r in chosen],
                   "max_rewards": [float(r["max_reward"]) for r in chosen],
                   "successes": [bool(r[f"success_{success}"]) for r in chosen],
                   "video_paths": list(video_paths.get(spec, []))}
        per_task.append({"task_group": spec, "task_id": 0, "metrics": metrics})
        per_group[spec] = _aggregate(metrics)
        for key in overall:
            overall[key] += metrics[key]
    n = len(overall["sum_rewards"])
    summary = {**_aggregate(overall), "eval_s": float(eval_s), "eval_ep_s": float(eval_s) / max(1, n)}
    summary["video_paths"] = summary.pop("video_paths")
    return {"per_task": per_task, "per_group": per_group, "overall": summary}


def _aggregate(metrics: dict) -> dict:
    def mean(xs):
        return float(np.mean(np.asarray(xs, dtype=float))) if len(xs) else float("nan")

    return {"avg_sum_reward": mean(metrics["sum_rewards"]), "avg_max_reward": mean(metrics["max_rewards"]),
            "pc_success": mean(metrics["successes"]) * 100 if metrics["successes"] else float("nan"),
            "n_episodes": len(metrics["sum_rewards"]), "video_paths": list(metrics["video_paths"])}


def json_safe(obj):
    """NaN and infinities become None (``JSON.parse`` rejects them); tuples become lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    return obj
