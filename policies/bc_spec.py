"""The ``bc:PATH`` policy spec: a behaviour-cloning checkpoint, optionally degraded like any spec.

    policy = make_bc_policy("bc:runs/bc/checkpoints/step_0001000", action_space)
    policy = make_bc_policy("bc:runs/bc+noise:0.3", action_space)   # run folder: its latest checkpoint
    load_bc_policy("runs/bc", action_space)                          # the same, without the prefix

PATH is a checkpoint folder, a ``worldsim train policy`` run folder (its latest checkpoint) or
its ``checkpoints`` folder, or one of the shipped policies under ``assets/policies/`` named by its
path there (``bc:tabletop_push/image_state_25``). Weights load through safetensors only; a loaded network is cached
per checkpoint, so building one policy per episode is cheap.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PREFIX = "bc:"
ARCHITECTURE = "bc_policy"


def is_bc_spec(text) -> bool:
    return str(text).strip().startswith(PREFIX)


def split_bc_spec(text: str) -> tuple[str, str]:
    """``"bc:PATH+noise:0.3"`` -> (``"PATH"``, ``"+noise:0.3"``); the degradations are checked too."""
    from policies.spec import parse_spec

    body = str(text).strip()[len(PREFIX):]
    path, sep, rest = body.partition("+")
    if not path:
        raise ValueError(f"policy spec {text!r} names no checkpoint; write bc:PATH (a checkpoint or run folder)")
    parse_spec("expert" + sep + rest)  # validates the degradations with the usual messages
    return path, sep + rest


@lru_cache(maxsize=32)
def _load_net(checkpoint: str):
    from policies.bc import BCConfig, BCNet
    from worldsim.config import structured
    from worldsim.io import load_model_weights, read_config

    config = read_config(checkpoint)
    model_cfg = config.get("task", {}).get("model")
    if config.get("architecture") != ARCHITECTURE or model_cfg is None:
        raise ValueError(f"{checkpoint} is not a behaviour-cloning checkpoint "
                         f"(architecture {config.get('architecture')!r}, expected {ARCHITECTURE!r})")
    net = BCNet(structured(BCConfig, model_cfg))
    load_model_weights(net, checkpoint, architecture=ARCHITECTURE)
    return net.eval().requires_grad_(False)


def resolve_bc_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder from PATH, or from ``assets/policies/PATH`` (the shipped BC policies,
    e.g. ``tabletop_push/image_state_25``) when PATH is not there."""
    from assets import ROOT
    from worldsim.io import resolve_checkpoint

    found = next((p for p in (Path(path), ROOT / "policies" / str(path)) if p.exists()), None)
    if found is None:
        raise ValueError(f"BC checkpoint {str(path)!r} does not exist (nor under {ROOT / 'policies'}); train one "
                         f"with `worldsim train policy`")
    return resolve_checkpoint(found).resolve()


def load_bc_policy(path: str | Path, action_space):
    from policies.bc_policy import BCPolicy

    return BCPolicy(_load_net(str(resolve_bc_checkpoint(path))), action_space)


def make_bc_policy(text: str, action_space):
    """The policy of a ``bc:PATH[+degradation...]`` spec."""
    from policies.spec import parse_spec
    from policies.wrappers import WRAPPERS

    path, rest = split_bc_spec(text)
    policy = load_bc_policy(path, action_space)
    for name, strength in parse_spec("expert" + rest).degradations:
        policy = WRAPPERS[name](policy, strength)
    return policy
