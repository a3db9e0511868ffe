"""Load a world-model folder for an env, check it against what the caller expects, build spaces.

    wm = load_for_env(checkpoint=None, env_id="worldsim/TabletopPush-v0", image_size=64)
    obs_space, action_space = spaces(wm)           # exactly the simulator's (envs.contract)

``checkpoint=None`` is ``worldsim/WorldModel-v0``'s default model (``envs.simulators``: the
TabletopPush world model shipped in ``assets/``). Asking for a
simulator id, cameras or image size the checkpoint was not trained for is a ValueError that says
what the checkpoint was trained for.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from envs.contract import image_hw, observation_space
from envs.simulators import world_model_env

ENV_ID = "worldsim/WorldModel-v0"
MAKE_DEFAULT = ("python -m posttrain.pixel_unet.export --data DATA --readers READERS --dynamics DYNAMICS_RUN "
                "--predictor deterministic=RUN --out assets/world_models/tabletop_push (assets/world_models/"
                "tabletop_push/README.md has the whole recipe)")


def default_checkpoint() -> Path:
    from assets import ROOT

    path = ROOT / world_model_env(ENV_ID).default_model
    if not (path / "model.safetensors").is_file():
        raise ValueError(f"no default world model at {path}; pass checkpoint=FOLDER or make it with: {MAKE_DEFAULT}")
    return path


def model_class(path: str):
    """The world-model class a folder was made for: its ``config.yaml`` names the family
    (``pixel_unet``: posttrain.pixel_unet; ``sawyer``: posttrain.sawyer; none: the tokenizer-latent family,
    posttrain.action.world_model)."""
    config = Path(path) / "config.yaml"
    family = None
    if config.is_file():
        from worldsim.io import read_config

        family = read_config(path).get("family")
    if family == "pixel_unet":
        from posttrain.pixel_unet.world_model import PixelWorldModel

        return PixelWorldModel
    if family == "sawyer":
        from posttrain.sawyer.world_model import SawyerWorldModel

        return SawyerWorldModel
    if family is not None:
        raise ValueError(f"{path}: unknown world-model family {family!r}; known: pixel_unet, sawyer, or none (latent)")
    from posttrain.action.world_model import WorldModel

    return WorldModel


def load_for_env(checkpoint=None, *, predictor=None, sample_steps=None, sampler=None, reencode=False,
                 judge=None, env_id=None, cameras=None, image_size=None):
    from envs.world_model.checks import check_folder, check_load_args

    path = str(checkpoint) if checkpoint is not None else str(default_checkpoint())
    check_load_args(check_folder(path), path, predictor, sample_steps, sampler)   # one-line errors before loading
    judge, rule = judge_and_rule(path, judge)
    wm = model_class(path).load(path, predictor=predictor, sample_steps=sample_steps, sampler=sampler,
                                reencode=reencode, judge=judge, rule=rule)
    check_expected(wm.sim, path, env_id, cameras, image_size)
    return wm


def judge_and_rule(path: str, judge=None):
    """The judge a folder's model steps with (``judge`` checked; default "state" where its simulator has
    a rule) and that rule (``envs.rules``; None for "learned"). A folder without a readable
    ``config.yaml`` passes ``judge`` on unchanged, so loading it says what is wrong."""
    from envs.rules import resolve_judge, state_rule

    if not (Path(path) / "config.yaml").is_file():
        return judge, None
    from worldsim.io import read_config

    sim = read_config(path).get("sim", {})
    env_id = sim.get("env_id")
    if env_id is None:
        return judge, None
    judge = resolve_judge(judge, env_id)
    return judge, (state_rule(env_id, sim.get("env_kwargs")) if judge == "state" else None)


def check_expected(sim: dict, path: str, env_id=None, cameras=None, image_size=None) -> None:
    trained = (f"{path} was trained for {sim['env_id']} with cameras {list(sim['cameras'])} at "
               f"{sim['height']}x{sim['width']}")
    if env_id is not None and env_id != sim["env_id"]:
        raise ValueError(f"{trained}, not for {env_id}; use a world model trained on {env_id}'s data")
    if cameras is not None:
        asked = [cameras] if isinstance(cameras, str) else list(cameras)
        if sorted(asked) != sorted(sim["cameras"]):   # the observation Dict sorts its keys anyway
            raise ValueError(f"{trained}; cameras={asked} were asked for")
    if image_size is not None and image_hw(image_size) != (sim["height"], sim["width"]):
        raise ValueError(f"{trained}; image_size={image_size!r} was asked for")


def spaces(wm) -> tuple[gym.spaces.Dict, gym.spaces.Box]:
    sim = wm.sim
    obs = observation_space(sim["cameras"], sim["height"], sim["width"], sim["agent_dim"], sim["env_dim"])
    low, high = np.asarray(sim["action_low"], np.float32), np.asarray(sim["action_high"], np.float32)
    return obs, gym.spaces.Box(low, high, low.shape, np.float32)


def episode_steps(env) -> int:
    """A single world-model env's episode length: ``gym.make``'s ``max_episode_steps`` where given (its
    TimeLimit ends the episode too), else the simulator's the model imitates (the registration holds
    none: one registration serves every model)."""
    spec = getattr(env, "spec", None)
    given = spec.max_episode_steps if spec is not None else None
    return int(given or env.model.sim["max_episode_steps"])


def render_option(options: dict | None, model) -> bool:
    """The reset option ``render`` (default True); False only where the model has a render switch
    (``model.render_switch``: its state never comes from frames), else it renders regardless."""
    render = (options or {}).get("render", True)
    if not isinstance(render, (bool, np.bool_)):
        raise ValueError(f"options['render']={render!r}; allowed: True or False")
    return bool(render) or not getattr(model, "render_switch", False)


def observation(frames: dict, agent_pos, environment_state, i: int) -> dict:
    """Env i's observation from batched frames {cam: (N, H, W, 3)} and states (N, D), (N, E)."""
    return {"pixels": {cam: np.array(f[i]) for cam, f in frames.items()},
            "agent_pos": np.asarray(agent_pos[i], np.float32).copy(),
            "environment_state": np.asarray(environment_state[i], np.float32).copy()}


def simulator_of(checkpoint=None) -> tuple[str, dict]:
    """(env id, kwargs) of the simulator a world-model folder imitates, to make its paired simulator:
    ``gym.make(*simulator_of(path))`` has exactly the world-model env's spaces."""
    from posttrain.common.bundle import read_bundle

    sim = read_bundle(str(checkpoint) if checkpoint is not None else str(default_checkpoint()))[0]["sim"]
    return sim["env_id"], {**sim["env_kwargs"], "cameras": tuple(sim["cameras"])}
