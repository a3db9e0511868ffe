"""Recorded physical states and actions for the state-dynamics recipes, episodes back to back.

    data = load_transitions("runs/a,runs/b", dim=10)       # datasets made with `worldsim generate ... sim_state=true`
    data.states (F, dim), data.actions (F, A), data.starts (E,), data.lengths (E,)

``names`` (optional) must equal the dataset's ``observation.sim_state`` names, so a dataset of
another simulator is refused even when its state has the same size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

KEY = "observation.sim_state"


@dataclass
class Transitions:
    states: np.ndarray    # (F, D) every recorded state, episodes back to back
    actions: np.ndarray   # (F, A)
    starts: np.ndarray    # (E,)
    lengths: np.ndarray   # (E,)


def load_transitions(data: str, dim: int, names: Sequence[str] | None = None, what: str = "state dynamics"
                     ) -> Transitions:
    """The states and actions of one dataset, or of several (``data`` comma-separated) back to back."""
    parts = [_load_one(root.strip(), dim, names, what) for root in data.split(",") if root.strip()]
    if not parts:
        raise ValueError(f"data={data!r}; give one dataset folder or several, comma-separated")
    offsets = np.cumsum([0] + [len(p.states) for p in parts[:-1]])
    return Transitions(np.concatenate([p.states for p in parts]), np.concatenate([p.actions for p in parts]),
                       np.concatenate([p.starts + o for p, o in zip(parts, offsets)]),
                       np.concatenate([p.lengths for p in parts]))


def _load_one(root: str, dim: int, names, what: str) -> Transitions:
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    feature = reader.features.get(KEY)
    if feature is None:
        raise ValueError(f"{root} has no {KEY} that the {what} train on; make it with "
                         f"`worldsim generate ... sim_state=true`")
    if tuple(feature["shape"]) != (dim,) or (names is not None and list(feature.get("names") or []) != list(names)):
        wanted = f"{dim} values" + (f" named {list(names)}" if names is not None else "")
        raise ValueError(f"{root}: {KEY} has {feature['shape'][0]} values named {feature.get('names')}; the {what} "
                         f"take {wanted}")
    cols = reader.read_columns([KEY, "action"])
    _, starts, lengths = np.unique(cols["episode_index"], return_index=True, return_counts=True)
    return Transitions(cols[KEY].astype(np.float32), cols["action"].astype(np.float32), starts, lengths)
