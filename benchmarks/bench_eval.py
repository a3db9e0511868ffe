"""Evaluation throughput, as ratios measured in one run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_eval.py [--episodes 12] [--json out.json]

Reports env steps per second of the rollout runner on TabletopPush (two 64 px cameras) with 1 and
4 env slots, against a plain single-env loop of the same policy and seeds (the runner's own
overhead: per-slot policies, records, vector-env bookkeeping), for the scripted expert and, when
``--bc RUN`` is given, a behaviour-cloning checkpoint (torch on one thread).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

import envs
from evaluation.policy_specs import build_policy
from evaluation.runner import Job, run_jobs
from evaluation.vector import make_vector_env
from policies.base import stack_obs

ENV_ID = "worldsim/TabletopPush-v0"
KWARGS = {"cameras": ("top", "front"), "image_size": 64}


def plain_loop(spec: str, episodes: int) -> float:
    env = envs.make(ENV_ID, **KWARGS)
    steps, start = 0, time.perf_counter()
    for k in range(episodes):
        policy = build_policy(spec, ENV_ID, env.action_space)
        obs, _ = env.reset(seed=k)
        policy.reset(1, k)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy.act(stack_obs([obs]))[0])
            done, steps = terminated or truncated, steps + 1
    env.close()
    return steps / (time.perf_counter() - start)


def runner(spec: str, episodes: int, num_envs: int) -> float:
    env = make_vector_env(ENV_ID, num_envs, KWARGS)
    lengths: list[int] = []
    start = time.perf_counter()
    run_jobs(env, [Job(spec, k, k) for k in range(episodes)],
             lambda job: build_policy(job.policy, ENV_ID, env.single_action_space),
             lambda record, _: lengths.append(record["length"]))
    rate = sum(lengths) / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--bc", help="a BC run or checkpoint to time as well")
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    specs = ["expert"] + ([f"bc:{args.bc}"] if args.bc else [])
    results = {"machine": platform.machine(), "episodes": args.episodes, "steps_per_s": {}}
    for spec in specs:
        rates = {"plain_loop": plain_loop(spec, args.episodes)}
        for n in (1, 4):
            rates[f"runner_{n}_envs"] = runner(spec, args.episodes, n)
        rates["runner_1_vs_plain"] = rates["runner_1_envs"] / rates["plain_loop"]
        rates["runner_4_vs_1"] = rates["runner_4_envs"] / rates["runner_1_envs"]
        results["steps_per_s"][spec] = rates
        print(spec, {k: round(v, 2) for k, v in rates.items()}, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
