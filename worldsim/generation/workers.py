"""Run episodes in worker processes, each with its own simulator, staging every finished one.

Workers are spawned (not forked), so each builds its own OpenGL context; the parent never
touches the simulator. With ``workers == 1`` everything runs in this process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator

_STATE: dict = {}


def _die_with_parent(parent: int) -> None:
    """A worker process ends at once, silently, when its parent dies (else it would finish its episode
    and print a BrokenPipeError traceback sending the result): Linux asks the kernel to SIGKILL it;
    elsewhere a watcher thread exits when the parent is gone. Ctrl-C is the parent's to handle."""
    import os
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    else:
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:   # died before the request took effect
        os._exit(0)


def _init(cfg_dict: dict, out: str, parent: int | None = None) -> None:
    if parent is not None:
        _die_with_parent(parent)
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
    import os

    ctx = mp.get_context("spawn")
    with ctx.Pool(min(workers, len(jobs)), initializer=_init, initargs=(cfg_dict, out, os.getpid())) as pool:
        yield from pool.imap_unordered(_run, jobs)
