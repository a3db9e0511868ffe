"""Evaluation throughput (``worldsim eval``), as ratios measured in one run.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_eval [--episodes 20] [--zoo default]
        [--cameras top] [--world-model default] [--steps 60] [--json benchmarks/results/eval.json]

Reports, with torch on one thread, on TabletopPush at the evaluation's cameras and 64 px:

1. per column, episodes per second of the rollout runner over the zoo (``--episodes`` per
   policy, ``--num-envs`` slots): the simulator before (every episode rendered, as before the
   render switch) and after (physics only for policies that read no pixels), the world model,
   and the simulator read through the world model's perception (each built by
   ``evaluation.vector.make_vector_env`` as the evaluation builds it);
2. the whole default evaluation's wall time (``run_evaluation`` with ``--episodes`` per policy,
   all columns, both worker lanes at once) in a temporary folder, and its per-column times;
3. world-model env steps per second against the simulator with rendering, at N = 1 and N = 16
   (the world model's native vector env, one batched forward; the simulator as a sync vector
   env), over ``--steps`` steps of random actions.

``--cameras`` must match the world model's (the shipped one sees ``top``). A tiny check
that it runs: ``--episodes 2 --zoo quick --steps 5 --max-steps 10 --json /tmp/eval.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import gymnasium as gym

from benchmarks.rates import vector_rate
from evaluation.columns import make_columns
from evaluation.config import EvalConfig
from evaluation.pipeline import describe_env, resolve_policies
from evaluation.policy_specs import build_policy
from evaluation.runner import Job, run_jobs
from evaluation.vector import make_vector_env

RESULTS = Path(__file__).resolve().parent / "results" / "eval.json"


def column_rate(cfg: EvalConfig, column, specs: list[str], render: bool | None) -> dict:
    """Episodes and env steps per second of one column's rollouts (``render``: the jobs' render option)."""
    jobs = [Job(spec, k, cfg.seed + k, render=render) for spec in specs for k in range(cfg.episodes)]
    env = make_vector_env(column.env_id, min(cfg.num_envs, len(jobs)), column.env_kwargs)
    space, kwargs = env.single_action_space, cfg.env_kwargs_resolved()
    lengths: list[int] = []
    start = time.perf_counter()
    run_jobs(env, jobs, lambda job: build_policy(job.policy, cfg.env, space, kwargs, ""),
             lambda record, _: lengths.append(record["length"]))
    seconds = time.perf_counter() - start
    env.close()
    return {"episodes": len(lengths), "seconds": seconds, "episodes_per_s": len(lengths) / seconds,
            "steps_per_s": sum(lengths) / seconds}


def per_column(cfg: EvalConfig, specs: list[str]) -> dict:
    columns = {c.name: c for c in make_columns(cfg)}
    sim = columns["simulator"]
    out = {"simulator": {"rendering": column_rate(cfg, sim, specs, True),
                         "only_what_is_read": column_rate(cfg, sim, specs, False)}}
    out["simulator"]["speedup"] = (out["simulator"]["only_what_is_read"]["episodes_per_s"]
                                   / out["simulator"]["rendering"]["episodes_per_s"])
    for name in ("world_model", "simulator_perceived"):
        if name in columns:
            out[name] = column_rate(cfg, columns[name], specs, None)
    return out


def whole_evaluation(cfg: EvalConfig) -> dict:
    """Wall time of the evaluation ``cfg`` describes, run from scratch in a temporary folder."""
    from evaluation.pipeline import run_evaluation

    with tempfile.TemporaryDirectory() as folder:
        cfg.out = str(Path(folder) / "eval")
        start = time.perf_counter()
        run_evaluation(cfg)
        wall = time.perf_counter() - start
        results = json.loads((Path(cfg.out) / "results.json").read_text())
    return {"wall_s": wall, "episodes_per_policy": cfg.episodes, "policies": len(results["policies"]),
            "columns": [c["name"] for c in results["columns"]],
            "column_s": {k: v["eval_s"] for k, v in results["timing_per_column"].items()}}


def world_model_vs_simulator(cfg: EvalConfig, steps: int) -> dict:
    wm = next((c for c in make_columns(cfg) if c.name == "world_model"), None)
    if wm is None:
        return {}
    kwargs = {**wm.env_kwargs, "max_episode_steps": 10_000}
    out = {}
    for n in (1, 16):
        sim = vector_rate(lambda k: gym.make_vec(cfg.env, num_envs=k, vectorization_mode="sync",
                                                 **cfg.env_kwargs_resolved()), n, steps)
        model = vector_rate(lambda k: make_vector_env(wm.env_id, k, kwargs), n, steps)
        out[str(n)] = {"world_model_steps_per_s": model, "simulator_rendering_steps_per_s": sim,
                       "world_model_vs_simulator": model / sim}
    return out


def main() -> None:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=20, help="per policy, for the column rates and the whole run")
    ap.add_argument("--zoo", default="default")
    ap.add_argument("--cameras", default=",".join(EvalConfig().cameras_resolved()))
    ap.add_argument("--world-model", default="default")
    ap.add_argument("--num-envs", type=int, default=EvalConfig().num_envs)
    ap.add_argument("--max-steps", type=int, help="episode length (default: the env's)")
    ap.add_argument("--steps", type=int, default=60, help="steps of the env steps/s comparison")
    ap.add_argument("--json", default=str(RESULTS))
    args = ap.parse_args()
    cfg = EvalConfig(zoo=args.zoo, episodes=args.episodes, cameras=args.cameras.split(","), num_envs=args.num_envs,
                     world_model=args.world_model, max_steps=args.max_steps, progress=False)
    specs = resolve_policies(cfg)
    describe_env(cfg, specs)   # clear errors for bad settings before anything is timed
    results = {"machine": platform.machine(), "torch_threads": 1, "config": {k: v for k, v in vars(args).items()
                                                                             if k != "json"}}
    results["columns"] = per_column(cfg, specs)
    print("columns", json.dumps(results["columns"], indent=1), flush=True)
    results["world_model_vs_simulator"] = world_model_vs_simulator(cfg, args.steps)
    print("world model vs simulator", json.dumps(results["world_model_vs_simulator"], indent=1), flush=True)
    results["whole_evaluation"] = whole_evaluation(cfg)
    print("whole evaluation", json.dumps(results["whole_evaluation"], indent=1), flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
