"""Policy zoos: per task, policies whose true success rates spread from the expert's to random's.

    specs = zoo_policies("default", "worldsim/TabletopPush-v0", bc=["runs/bc_push"])
    # scripted expert, graded degradations (noise, epsilon-random, stuck actuator, bias, delay),
    # random, shipped BC policies, and checkpoints of each BC run given (bc:runs/bc_push/checkpoints/...)

A BC run contributes checkpoints from several training stages (``bc_per_run`` of them, evenly
spread from the first to the last; train with ``keep_last=0`` to keep the early, weaker ones). The TabletopPush rates noted below are estimates from one run each; the
MetaWorld zoo follows the same recipe and has not been measured yet.
"""

from __future__ import annotations

from pathlib import Path

ZOOS: dict[str, dict[str, list[str]]] = {
    "worldsim/TabletopPush-v0": {
        "default": [                # success rate measured on 20-40 episodes, 64 px, 100 steps
            "expert",               # 1.00
            "expert+noise:0.3",     # 0.93
            "expert+eps:0.5",       # 0.70
            "expert+delay:1",       # 0.55
            "expert+stuck:0.5",     # 0.35 (y velocity stuck at 0 in about half the episodes)
            "expert+noise:1.0",     # 0.35
            "expert+bias:0.2",      # 0.23
            "expert+noise:1.5",     # 0.12
            "expert+eps:0.8",       # 0.05
            "expert+delay:2",       # 0.00
            "random",               # 0.00
            # behaviour cloning on 5-100% of 180 expert demonstrations (assets/policies/README.md)
            "bc:tabletop_push/image_state_100",   # 0.70
            "bc:tabletop_push/image_state_25",    # 0.42
            "bc:tabletop_push/image_50",          # 0.32 (pixels only)
            "bc:tabletop_push/image_state_5",     # 0.20
        ],
        "bc": [f"bc:tabletop_push/{inputs}_{share}" for inputs in ("image_state", "image")
               for share in (5, 10, 25, 50, 100)],
        "quick": ["expert", "expert+eps:0.5", "expert+delay:1", "expert+noise:1.0", "expert+noise:1.5", "random"],
    },
    "worldsim/MetaWorld-v0": {
        "default": ["expert", "expert+noise:0.2", "expert+noise:0.5", "expert+noise:1.0", "expert+eps:0.3",
                    "expert+eps:0.6", "expert+stuck:1.0", "expert+bias:0.3", "expert+delay:3", "expert+delay:10",
                    "random"],
        "quick": ["expert", "expert+noise:0.5", "expert+eps:0.6", "random"],
    },
    # success rates measured on 20 seeds each (5000-5019 / 1000-1019)
    "worldsim/DrivingMultiView-v0": {
        "default": ["expert",               # 1.00
                    "expert+noise:0.45",    # 0.95
                    "expert+eps:0.3",       # 0.85
                    "expert+stuck:0.5",     # 0.85
                    "expert+delay:4",       # 0.70
                    "expert+bias:0.3",      # 0.65
                    "expert+noise:0.6",     # 0.45
                    "expert+noise:0.8",     # 0.25
                    "expert+eps:0.65",      # 0.20
                    "expert+eps:0.8",       # 0.00
                    "random"],              # 0.00
        "quick": ["expert", "expert+delay:4", "expert+noise:0.6", "expert+eps:0.65", "random"],
    },
}


def zoo_names(env_id: str) -> list[str]:
    return list(ZOOS.get(env_id, {}))


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
    from worldsim.training.checkpoint import MODEL, complete_checkpoints

    path = Path(path)
    if (path / MODEL).is_file():
        return [f"bc:{path}"]
    for root in (path / "checkpoints", path):
        found = complete_checkpoints(root)
        if found:
            return [f"bc:{p}" for p in spread(found, per_run)]
    raise ValueError(f"{path} holds no BC checkpoint (expected {MODEL}, or a run folder with checkpoints/step_*); "
                     f"train one with `worldsim train policy --data DATASET --out {path}`")


def zoo_policies(name: str, env_id: str, bc=(), bc_per_run: int = 3) -> list[str]:
    """The zoo ``name`` for ``env_id`` plus ``bc_per_run`` checkpoints of each BC run in ``bc``."""
    zoos = ZOOS.get(env_id)
    if not zoos:
        raise ValueError(f"no policy zoo for env {env_id!r}; zoos exist for: {', '.join(ZOOS)}; "
                         f"or list policies=[spec,...]")
    if name not in zoos:
        raise ValueError(f"unknown zoo {name!r} for {env_id}; allowed: {', '.join(zoos)}")
    return list(zoos[name]) + [spec for path in bc for spec in bc_specs(path, bc_per_run)]
