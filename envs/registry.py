"""Registration of worldsim's Gymnasium envs, with string entry points (nothing heavy imported).

Importing ``envs`` registers every simulator and world-model env recorded in ``envs.simulators``;
``make`` adds a clear error for unknown ids.
"""

from __future__ import annotations

import gymnasium as gym

from envs.simulators import SIMULATORS, WORLD_MODEL_ENVS

# registration kwargs by id, read from the records (simulators; learned world models apart, so the
# simulator test suite does not run over them)
ENVS = {spec.env_id: spec.registration() for spec in SIMULATORS}
WORLD_MODELS = {spec.env_id: spec.registration() for spec in WORLD_MODEL_ENVS}


def register_all() -> None:
    for env_id, kwargs in {**ENVS, **WORLD_MODELS}.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)


def check_env_id(env_id: str) -> str:
    if env_id not in ENVS and env_id not in WORLD_MODELS:
        raise ValueError(f"unknown env id {env_id!r}; allowed: {', '.join([*ENVS, *WORLD_MODELS])}")
    return env_id


# arguments gym.make takes itself (not passed to the env's constructor)
GYM_MAKE_ARGS = ("max_episode_steps", "disable_env_checker", "render_mode", "autoreset", "apply_api_compatibility")


def env_arguments(env_id: str) -> list[str] | None:
    """The keyword arguments ``env_id``'s entry points take (its vector entry point's too), or None
    when one takes ``**kwargs`` (anything goes). Imports the env's module."""
    import inspect

    from gymnasium.envs.registration import load_env_creator

    spec = gym.spec(env_id)
    names: set[str] = set()
    for point in (spec.entry_point, getattr(spec, "vector_entry_point", None)):
        if point is None:
            continue
        creator = load_env_creator(point) if isinstance(point, str) else point
        params = list(inspect.signature(creator).parameters.values())
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        names |= {p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                       inspect.Parameter.KEYWORD_ONLY)}
    return sorted(names - {"self", "num_envs"})


def check_env_kwargs(env_id: str, kwargs: dict) -> None:
    """ValueError naming the arguments ``env_id`` takes when ``kwargs`` has one it does not."""
    allowed = env_arguments(env_id)
    if allowed is None:
        return
    bad = [k for k in kwargs if k not in allowed and k not in GYM_MAKE_ARGS]
    if bad:
        raise ValueError(f"{env_id} takes no argument {', '.join(map(repr, bad))}; its arguments: "
                         f"{', '.join(allowed)} (and gym.make's max_episode_steps)")


def make(env_id: str, /, **kwargs) -> gym.Env:
    """``gym.make`` for worldsim ids, with a one-line error for an unknown id or argument."""
    check_env_kwargs(check_env_id(env_id), kwargs)
    return gym.make(env_id, **kwargs)
