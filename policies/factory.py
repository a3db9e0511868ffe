"""Build a policy for an env from a spec string (see ``policies.spec``).

    policy = make_policy("expert+noise:0.3", env)     # env: a gym env or vector env

Experts and play policies are named by the simulator's record (``envs.simulators``); their modules
are imported only when asked for.
"""

from __future__ import annotations

from envs.simulators import SIMULATORS, find_simulator, resolve
from policies.spec import PolicySpec, parse_spec
from policies.wrappers import WRAPPERS


def make_expert(env_id: str, action_space, env_kwargs: dict | None = None):
    spec = find_simulator(env_id)
    if spec is None:
        raise ValueError(f"no scripted expert for env {env_id!r}; experts exist for: "
                         f"{', '.join(s.env_id for s in SIMULATORS)}")
    args = [(env_kwargs or {}).get(name, default) for name, default in spec.expert_env_args]
    return resolve(spec.expert)(*args, action_space)


def make_play(env_id: str, action_space):
    """The play-data policy of ``env_id``: varied contacts for world-model training (not a task solver)."""
    spec = find_simulator(env_id)
    if spec is None or spec.play is None:
        raise ValueError(f"no play policy for env {env_id!r}; play policies exist for: "
                         f"{', '.join(s.env_id for s in SIMULATORS if s.play)}")
    return resolve(spec.play)(action_space)


def make_policy(spec: str | PolicySpec, env_id: str, action_space, env_kwargs: dict | None = None):
    """The policy named by ``spec`` for ``env_id`` with the single-env ``action_space``."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.base == "expert":
        policy = make_expert(env_id, action_space, env_kwargs)
    elif spec.base == "play":
        policy = make_play(env_id, action_space)
    else:
        from policies.random_policy import RandomPolicy

        policy = RandomPolicy(action_space)
    for name, strength in spec.degradations:
        policy = WRAPPERS[name](policy, strength)
    return policy
