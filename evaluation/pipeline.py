"""``worldsim eval``: roll out a set of policies in the simulator (and world model), then write the report.

    from evaluation.config import EvalConfig
    from evaluation.pipeline import run_evaluation
    index = run_evaluation(EvalConfig(policies=["expert", "random"], episodes=20, out="runs/eval"))

Columns: ``simulator`` (ground truth) always; ``world_model`` when ``world_model`` names a
checkpoint (needs ``worldsim/WorldModel-v0``); with it, unless ``perception=false``,
``simulator_perceived`` (the simulator with the world model's state head and judge in place of the
true state and success: perception error alone); ``simulator_resampled`` (the simulator on other
seeds: how far sampling noise alone moves the numbers) when ``resampled_sim=true``. Episode k
of every policy is reset with ``seed + k`` in the simulator and the world model alike.

Resumable: each finished episode is appended to ``<out>/records/<column>.jsonl`` at once; a
rerun skips recorded episodes. A folder holding another evaluation (other env, env arguments,
seed or world model, or a changed BC checkpoint) is refused with the differing settings named.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from evaluation.assemble import build_report
from evaluation.config import RESUMABLE, EvalConfig
from evaluation.policy_specs import build_policy, check_spec, fingerprint
from evaluation.records import RecordStore
from evaluation.runner import Job, run_jobs

RESAMPLED_OFFSET = 1_000_000
PERCEIVED_ENV = "worldsim/PerceivedSim-v0"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    env_id: str
    env_kwargs: dict = field(hash=False)
    seed_offset: int = 0
    paired: bool = True  # same seeds as the simulator: episodes pair up, replays make sense
    own_frames: bool = True  # renders frames of its own (else the simulator's: no fidelity, no video panel)


# world models shipped in assets/, used by world_model=default
DEFAULT_WORLD_MODELS = {"worldsim/TabletopPush-v0": "world_models/tabletop_push"}


def resolve_world_model(cfg: EvalConfig) -> str | None:
    """The world-model checkpoint to evaluate: ``default`` is the one shipped for ``cfg.env``
    (none for an env without one), ``none`` or empty means the simulator alone."""
    if cfg.world_model in (None, "", "none"):
        return None
    if cfg.world_model == "default":
        from assets import asset_path

        relative = DEFAULT_WORLD_MODELS.get(cfg.env)
        return None if relative is None else str(asset_path(relative))
    if not Path(cfg.world_model).exists():
        raise ValueError(f"world_model={cfg.world_model!r} does not exist; give a world-model folder, "
                         "'default' or 'none'")
    return cfg.world_model


def make_columns(cfg: EvalConfig) -> list[Column]:
    from evaluation.vector import check_registered

    check_registered(cfg.env)
    kwargs = cfg.env_kwargs_resolved()
    columns = [Column("simulator", "simulator", cfg.env, kwargs)]
    world_model = resolve_world_model(cfg)
    if world_model:
        try:
            check_registered(cfg.world_model_env)
        except ValueError:
            raise ValueError(f"world_model is set but the world-model env {cfg.world_model_env!r} is not "
                             f"registered; run without world_model for a simulator-only report") from None
        steps = {"max_episode_steps": cfg.max_steps} if cfg.max_steps is not None else {}
        # the world model must imitate exactly this simulator: the env refuses another one
        expected = {"env_id": cfg.env, "cameras": list(cfg.cameras), "image_size": cfg.image_size}
        wm_kwargs = {"checkpoint": world_model, **expected, **steps, **cfg.world_model_kwargs}
        columns.append(Column("world_model", "world model", cfg.world_model_env, wm_kwargs))
        if cfg.perception:
            judge = {k: v for k, v in cfg.world_model_kwargs.items() if k == "judge"}
            columns.append(Column("simulator_perceived", "simulator, world model's perception", PERCEIVED_ENV,
                                  {"checkpoint": world_model, **expected, **steps, **judge}, own_frames=False))
    if cfg.resampled_sim:
        columns.append(Column("simulator_resampled", "simulator, other seeds (not a world model)", cfg.env, kwargs,
                              RESAMPLED_OFFSET, paired=False, own_frames=False))
    return columns


def identity(cfg: EvalConfig) -> dict:
    from worldsim.config import to_dict

    return {k: v for k, v in to_dict(cfg).items() if k not in RESUMABLE}


def resolve_policies(cfg: EvalConfig) -> list[str]:
    from evaluation.zoo import zoo_policies

    specs = [str(s).strip() for s in cfg.policies] or zoo_policies(cfg.zoo, cfg.env, cfg.bc, cfg.bc_per_run)
    specs = list(dict.fromkeys(s for s in specs if s))
    if not specs:
        raise ValueError("no policies to evaluate: set policies=[spec,...] or a zoo")
    for spec in specs:
        check_spec(spec)
    return specs


def describe_env(cfg: EvalConfig, specs: list[str]) -> dict:
    """Build the simulator once (clear errors for bad env arguments) and every policy once."""
    import envs

    env = envs.make(cfg.env, **cfg.env_kwargs_resolved())
    try:
        env.reset(seed=cfg.seed)
        task = str(getattr(env.unwrapped, "task", cfg.env))
        for spec in specs:
            build_policy(spec, cfg.env, env.action_space, cfg.env_kwargs_resolved(), task)
        return {"action_space": env.action_space, "task": task,
                "fps": int(env.metadata.get("render_fps", 10))}
    finally:
        env.close()


def plan(cfg: EvalConfig, specs: list[str], column: Column, done: set) -> list[Job]:
    return [Job(spec, k, cfg.seed + column.seed_offset + k, record_frames=column.paired and k < cfg.video_episodes)
            for spec in specs for k in range(cfg.episodes) if (spec, k) not in done]


def run_column(cfg: EvalConfig, column: Column, jobs: list[Job], store: RecordStore, described: dict, bar) -> None:
    from evaluation.vector import make_vector_env

    if not jobs:
        return
    env = make_vector_env(column.env_id, min(cfg.num_envs, len(jobs)), column.env_kwargs)
    wins: dict[str, int] = {}
    finished = [0]

    def policy_for(job: Job):
        return build_policy(job.policy, cfg.env, described["action_space"], cfg.env_kwargs_resolved(), described["task"])

    def on_episode(record: dict, recording: dict | None) -> None:
        store.append(column.name, record, recording)
        wins[record["policy"]] = wins.get(record["policy"], 0) + bool(record[f"success_{cfg.success}"])
        bar.set_postfix_str(f"{column.name}: {record['policy'][:32]} {wins[record['policy']]} wins")
        bar.update(1)
        finished[0] += 1

    start = time.perf_counter()
    try:
        run_jobs(env, jobs, policy_for, on_episode)
    finally:
        env.close()
        store.add_time(column.name, finished[0], time.perf_counter() - start)


def run_evaluation(cfg: EvalConfig) -> Path:
    """Run (or resume) the evaluation ``cfg`` describes; returns ``<out>/index.html``."""
    cfg.validate()
    columns = make_columns(cfg)
    specs = resolve_policies(cfg)
    described = describe_env(cfg, specs)
    store = RecordStore(cfg.out, identity(cfg), {s: fingerprint(s) for s in specs})
    jobs = {c.name: plan(cfg, specs, c, store.done(c.name)) for c in columns}
    total = sum(len(j) for j in jobs.values())
    with tqdm(total=total, desc="episodes", unit="ep", dynamic_ncols=True, disable=not cfg.progress) as bar:
        for column in columns:
            run_column(cfg, column, jobs[column.name], store, described, bar)
    return build_report(cfg, columns, specs, store, described)
