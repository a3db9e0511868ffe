"""Run episodes in worker processes, each with its own simulator, staging every finished one.

Workers are spawned (not forked), so each builds its own OpenGL context; the parent never
touches the simulator. With ``workers == 1`` everything runs in this process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator

_STATE: dict = {}


def _init(cfg_dict: dict, out: str) -> None:
    import envs  # noqa: F401  (registers the ids in this process)
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.staging import RunFolder

    cfg = GenerateConfig(**cfg_dict)
    env = envs.make(cfg.env, **cfg.env_kwargs())
    _STATE.update(cfg=cfg, env=env, run=RunFolder(out), policies={})


def _policy(spec: str):
    from policies.factory import make_policy

    cfg, env = _STATE["cfg"], _STATE["env"]
    if spec not in _STATE["policies"]:
        from policies.base import reads_pixels

        policy = make_policy(spec, cfg.env, env.action_space, cfg.env_kwargs())
        if not cfg.render and reads_pixels(policy):
            raise ValueError(f"render=false records no frames, but policy {spec!r} reads pixels")
        _STATE["policies"][spec] = policy
    return _STATE["policies"][spec]


def _run(job: tuple[int, str]) -> tuple[int, int, bool]:
    from worldsim.generation.episode import record_episode

    index, spec = job
    cfg, env, run = _STATE["cfg"], _STATE["env"], _STATE["run"]
    arrays = record_episode(env, _policy(spec), cfg.seed + index, cfg.modalities(), cfg.camera_params,
                            cfg.sim_state, cfg.render)
    run.save_episode(index, arrays)
    return index, len(arrays["action"]), bool(arrays["next.success"].any())


def _close() -> None:
    env = _STATE.pop("env", None)
    if env is not None:
        env.close()


def run_jobs(cfg_dict: dict, out: str, jobs: list[tuple[int, str]], workers: int) -> Iterator[tuple[int, int, bool]]:
    """Yield ``(episode index, length, success)`` as each job finishes, in any order."""
    if workers <= 1 or len(jobs) <= 1:
        _init(cfg_dict, out)
        try:
            yield from map(_run, jobs)
        finally:
            _close()
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(min(workers, len(jobs)), initializer=_init, initargs=(cfg_dict, out)) as pool:
        yield from pool.imap_unordered(_run, jobs)
