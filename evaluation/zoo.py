"""Policy zoos: per task, policies whose true success rates spread from the expert's to random's.

    specs = zoo_policies("default", "worldsim/TabletopPush-v0", bc=["runs/bc_push"])
    # scripted expert, graded degradations (noise, epsilon-random, stuck actuator, bias, delay),
    # random, shipped BC policies, and checkpoints of each BC run given (bc:runs/bc_push/checkpoints/...)

A BC run contributes checkpoints from several training stages (``bc_per_run`` of them, evenly
spread from the first to the last; train with ``keep_last=0`` to keep the early, weaker ones).
The zoos themselves are part of each simulator's record (``envs.simulators``, with the success
rates measured for them).
"""

from __future__ import annotations

from pathlib import Path

from envs.simulators import SIMULATORS, find_simulator


def zoos(env_id: str, task: str | None = None) -> dict[str, tuple[str, ...]]:
    """The policy zoos of ``env_id`` (for ``task``, where the env has tasks) by name ({} without zoos)."""
    spec = find_simulator(env_id)
    return spec.zoos_for(task) if spec is not None else {}


def zoo_names(env_id: str, task: str | None = None) -> list[str]:
    return list(zoos(env_id, task))


def spread(items: list, k: int) -> list:
    """``k`` items evenly spread from first to last (all of them when k <= 0 or k >= len)."""
    if k <= 0 or k >= len(items):
        return list(items)
    if k == 1:
        return [items[-1]]
    picks = sorted({round(i * (len(items) - 1) / (k - 1)) for i in range(k)})
    return [items[i] for i in picks]


def bc_specs(path: str | Path, per_run: int = 0) -> list[str]:
    """``bc:`` specs for a BC checkpoint folder, or the checkpoints of a run / checkpoints folder
    (``per_run`` > 0: that many, evenly spread from the first to the last)."""
    from worldsim.io.checkpoints import MODEL, complete_checkpoints

    path = Path(path)
    if (path / MODEL).is_file():
        return [f"bc:{path}"]
    for root in (path / "checkpoints", path):
        found = complete_checkpoints(root)
        if found:
            return [f"bc:{p}" for p in spread(found, per_run)]
    raise ValueError(f"{path} holds no BC checkpoint (expected {MODEL}, or a run folder with checkpoints/step_*); "
                     f"train one with `worldsim train policy --data DATASET --out {path}`")


def zoo_policies(name: str, env_id: str, bc=(), bc_per_run: int = 3, task: str | None = None) -> list[str]:
    """The zoo ``name`` for ``env_id`` (and ``task``) plus ``bc_per_run`` checkpoints of each BC run in ``bc``."""
    named = zoos(env_id, task)
    if not named:
        raise ValueError(f"no policy zoo for env {env_id!r}; zoos exist for: "
                         f"{', '.join(s.env_id for s in SIMULATORS if s.zoos)}; or list policies=[spec,...]")
    if name not in named:
        raise ValueError(f"unknown zoo {name!r} for {env_id}; allowed: {', '.join(named)}")
    return list(named[name]) + [spec for path in bc for spec in bc_specs(path, bc_per_run)]
