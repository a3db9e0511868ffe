"""Judge metrics on held-out labels: accuracy, precision, recall, F1 of success; MAE of reward.

    binary_metrics(predicted=np.array([1, 0, 1]), actual=np.array([1, 0, 0]))
    # {'accuracy': 0.667, 'precision': 0.5, 'recall': 1.0, 'f1': 0.667, 'positives': 1, ...}

Precision is 0 when nothing is predicted positive, recall 0 when there are no positives (both
reported with the counts, so a reader can tell "undefined" from "bad").
"""

from __future__ import annotations

import numpy as np


def binary_metrics(predicted, actual) -> dict[str, float]:
    p = np.asarray(predicted).astype(bool).reshape(-1)
    a = np.asarray(actual).astype(bool).reshape(-1)
    if p.shape != a.shape or p.size == 0:
        raise ValueError(f"predicted {p.shape} and actual {a.shape} labels must be the same non-empty shape")
    tp, fp, fn = int(np.sum(p & a)), int(np.sum(p & ~a)), int(np.sum(~p & a))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float(np.mean(p == a)), "precision": precision, "recall": recall, "f1": f1,
            "positives": float(a.sum()), "predicted_positives": float(p.sum()), "count": float(a.size)}


def reward_mae(predicted, actual) -> float:
    p, a = np.asarray(predicted, np.float64).reshape(-1), np.asarray(actual, np.float64).reshape(-1)
    if p.shape != a.shape or p.size == 0:
        raise ValueError(f"predicted {p.shape} and actual {a.shape} rewards must be the same non-empty shape")
    return float(np.mean(np.abs(p - a)))
