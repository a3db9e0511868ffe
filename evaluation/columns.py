"""The columns of an evaluation: which env each one runs, how its episodes pair with the simulator's,
and which worker lane runs it.

    columns = make_columns(cfg)       # [simulator, world_model, simulator_perceived, ...]

``simulator`` (ground truth) always; ``world_model`` when ``cfg.world_model`` names a world-model
folder (``default``: the one shipped for the env); with it, unless ``perception=false``,
``simulator_perceived`` (the simulator with the world model's state head and judge in place of
the true state and success: perception error alone); ``simulator_resampled`` (the simulator on
other seeds: the sampling-noise floor) when ``resampled_sim=true``. The simulator-side columns
share the ``simulator`` lane (one worker), the world model has its own; the perceived column
(the costliest: it renders every step) is shared: both lanes take chunks of it once their own
columns are done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.config import EvalConfig
from evaluation.world_model_folder import resolve_world_model, world_model_config

RESAMPLED_OFFSET = 1_000_000
PERCEIVED_ENV = "worldsim/PerceivedSim-v0"
SIM_LANE, WORLD_MODEL_LANE = "simulator", "world_model"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    env_id: str
    env_kwargs: dict = field(hash=False)
    seed_offset: int = 0
    paired: bool = True  # same seeds as the simulator: episodes pair up, replays make sense
    own_frames: bool = True  # renders frames of its own (else the simulator's: no fidelity, no video panel)
    render_switch: bool = False  # an env with reset(options={"render": ...}) (simulators, grounded world
    #                              models): renders only what is read or kept
    lane: str = SIM_LANE  # the worker that runs it
    shared: bool = False  # every lane takes chunks of its episodes once its own columns are done


def check_world_model(folder: str, cfg: EvalConfig) -> None:
    """ValueError, before anything runs, when the folder was trained for another simulator, task,
    other cameras or another image size than ``cfg`` asks for."""
    from envs.world_model.checks import check_folder, check_load_args
    from envs.world_model.session import check_expected

    if cfg.world_model_env != "worldsim/WorldModel-v0":   # another env's folder format: its own load checks it
        return
    config = check_folder(folder)
    kw = cfg.world_model_kwargs
    check_load_args(config, folder, kw.get("predictor"), kw.get("sample_steps"), kw.get("sampler"))
    check_expected(config["sim"], folder, cfg.env, cfg.cameras_resolved(), cfg.image_size)
    made_for = (config["sim"].get("env_kwargs") or {}).get("task")
    if cfg.task is not None and made_for is not None and made_for != cfg.task:
        raise ValueError(f"world model {folder} was made for task {made_for!r}, not task={cfg.task!r}; give that "
                         f"task's world model, world_model=default or world_model=none")


def make_columns(cfg: EvalConfig) -> list[Column]:
    from evaluation.vector import check_registered

    check_registered(cfg.env)
    kwargs = cfg.env_kwargs_resolved()
    columns = [Column("simulator", "simulator", cfg.env, kwargs, render_switch=True)]
    world_model = resolve_world_model(cfg)
    if world_model:
        columns += world_model_columns(cfg, world_model)
    if cfg.resampled_sim:
        columns.append(Column("simulator_resampled", "simulator, other seeds (not a world model)", cfg.env, kwargs,
                              RESAMPLED_OFFSET, paired=False, own_frames=False, render_switch=True))
    check_inputs(columns)
    return columns


def check_inputs(columns: list[Column]) -> None:
    """Every column's env arguments against what its env takes (ValueError before the first episode)."""
    from envs.registry import check_env_kwargs

    for column in columns:
        check_env_kwargs(column.env_id, column.env_kwargs)


def simulator_steps(env_id: str) -> int:
    """The simulator's registered episode length."""
    import gymnasium as gym

    import envs  # noqa: F401

    return int(gym.spec(env_id).max_episode_steps)


def world_model_columns(cfg: EvalConfig, world_model: str) -> list[Column]:
    from evaluation.vector import check_registered

    try:
        check_registered(cfg.world_model_env)
    except ValueError:
        from envs.simulators import WORLD_MODEL_ENVS

        raise ValueError(f"world_model is set but the world-model env {cfg.world_model_env!r} is not "
                         f"registered (world-model envs: {', '.join(s.env_id for s in WORLD_MODEL_ENVS)}); "
                         f"run without world_model for a simulator-only report") from None
    check_world_model(world_model, cfg)
    # episodes end where the simulator's do (the world-model envs' registrations hold one length for all models)
    steps = {"max_episode_steps": cfg.max_steps if cfg.max_steps is not None else simulator_steps(cfg.env)}
    # the world model must imitate exactly this simulator: the env refuses another one
    expected = {"env_id": cfg.env, "cameras": cfg.cameras_resolved(), "image_size": cfg.image_size}
    wm_kwargs = {"checkpoint": world_model, **expected, **steps, **cfg.world_model_kwargs}
    config = world_model_config(world_model)
    grounded = "dynamics" in config or bool(config.get("render_switch"))   # its state never comes from frames
    columns = [Column("world_model", "world model", cfg.world_model_env, wm_kwargs, lane=WORLD_MODEL_LANE,
                      render_switch=grounded)]
    if cfg.perception:
        judge = {k: v for k, v in cfg.world_model_kwargs.items() if k == "judge"}
        columns.append(Column("simulator_perceived", "simulator, world model's perception", PERCEIVED_ENV,
                              {"checkpoint": world_model, **expected, **steps, **judge}, own_frames=False,
                              shared=True))
    return columns
