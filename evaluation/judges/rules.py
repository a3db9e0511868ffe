"""Success and reward from (predicted) state, with the simulator's own rule.

A world model's state head reads the block and goal positions from its generated frames; the
task's success predicate and reward applied to them is a judge with no learned decision of its
own (its errors are the state head's). The learned judges (``evaluation.judges.model``) read
frames instead and stay available as ``judge="learned"``.

    outcome = state_rule("worldsim/TabletopPush-v0")   # None for a simulator without a rule
    reward, success = outcome(agent_pos, environment_state)   # (N, D), (N, E) -> (N,), (N,) bool
"""

from __future__ import annotations

import importlib
from typing import Callable, Optional

import numpy as np

JUDGES = ("state", "learned")
# simulator id -> "module:function(agent_pos, environment_state) -> (reward, success)"
RULES = {"worldsim/TabletopPush-v0": "envs.tabletop_push:state_outcome"}

Outcome = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def state_rule(env_id: str) -> Optional[Outcome]:
    if env_id not in RULES:
        return None
    module, _, name = RULES[env_id].partition(":")
    return getattr(importlib.import_module(module), name)


def resolve_judge(judge: Optional[str], env_id: str) -> str:
    """``judge`` checked, or the default: the state rule where the simulator has one."""
    if judge is None:
        return "state" if env_id in RULES else "learned"
    if judge not in JUDGES:
        raise ValueError(f"judge={judge!r}; allowed: {', '.join(JUDGES)}")
    if judge == "state" and env_id not in RULES:
        raise ValueError(f"judge='state' needs a success rule for {env_id}; rules exist for: {', '.join(RULES)}")
    return judge
