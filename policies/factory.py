"""Build a policy for an env from a spec string (see ``policies.spec``).

    policy = make_policy("expert+noise:0.3", env)     # env: a gym env or vector env

Experts are looked up by the env's id; their modules are imported only when asked for.
"""

from __future__ import annotations

import importlib

from policies.spec import PolicySpec, parse_spec
from policies.wrappers import WRAPPERS

EXPERTS = {
    "worldsim/TabletopPush-v0": "policies.tabletop_expert:TabletopPushExpert",
    "worldsim/MetaWorld-v0": "policies.metaworld_expert:MetaWorldExpert",
    "worldsim/DrivingMultiView-v0": "policies.driving_expert:DrivingExpert",
}
# play data: varied contacts and pushes for world-model training (not a task solver)
PLAY = {"worldsim/TabletopPush-v0": "policies.tabletop_play:TabletopPushPlay"}


def _load(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def make_expert(env_id: str, action_space, env_kwargs: dict | None = None):
    if env_id not in EXPERTS:
        raise ValueError(f"no scripted expert for env {env_id!r}; experts exist for: {', '.join(EXPERTS)}")
    cls = _load(EXPERTS[env_id])
    if env_id == "worldsim/MetaWorld-v0":
        return cls((env_kwargs or {}).get("task", "push-v3"), action_space)
    return cls(action_space)


def make_policy(spec: str | PolicySpec, env_id: str, action_space, env_kwargs: dict | None = None):
    """The policy named by ``spec`` for ``env_id`` with the single-env ``action_space``."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.base == "expert":
        policy = make_expert(env_id, action_space, env_kwargs)
    elif spec.base == "play":
        if env_id not in PLAY:
            raise ValueError(f"no play policy for env {env_id!r}; play policies exist for: {', '.join(PLAY)}")
        policy = _load(PLAY[env_id])(action_space)
    else:
        from policies.random_policy import RandomPolicy

        policy = RandomPolicy(action_space)
    for name, strength in spec.degradations:
        policy = WRAPPERS[name](policy, strength)
    return policy
