"""Success and reward from (predicted) state, with the simulator's own rule.

A world model's state head reads the block and goal positions from its generated frames; the
task's success predicate and reward applied to them is a judge with no learned decision of its
own (its errors are the state head's). The learned judges (``posttrain.action.judges``) read
frames instead and stay available as ``judge="learned"``.

    outcome = state_rule("worldsim/TabletopPush-v0")   # None for a simulator without a rule
    reward, success = outcome(agent_pos, environment_state)   # (N, D), (N, E) -> (N,), (N,) bool
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from envs.simulators import SIMULATORS, find_simulator

JUDGES = ("state", "learned")

Outcome = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def rule_path(env_id: str) -> Optional[str]:
    """``"module:function"`` of the simulator's state rule (its record's ``rule``), None without one."""
    spec = find_simulator(env_id)
    return None if spec is None else spec.rule


def state_rule(env_id: str, env_kwargs: Optional[dict] = None) -> Optional[Outcome]:
    """The simulator's state rule for an env made with ``env_kwargs`` (a rule may depend on them,
    e.g. Meta-World's on ``task``: ``SimulatorSpec.rule_env_args``), None without one."""
    spec = find_simulator(env_id)
    return None if spec is None else spec.outcome(env_kwargs)


def resolve_judge(judge: Optional[str], env_id: str) -> str:
    """``judge`` checked, or the default: the state rule where the simulator has one."""
    if judge is None:
        return "state" if rule_path(env_id) else "learned"
    if judge not in JUDGES:
        raise ValueError(f"judge={judge!r}; allowed: {', '.join(JUDGES)}")
    if judge == "state" and not rule_path(env_id):
        raise ValueError(f"judge='state' needs a success rule for {env_id}; rules exist for: "
                         f"{', '.join(s.env_id for s in SIMULATORS if s.rule)}")
    return judge
