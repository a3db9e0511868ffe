"""Simulator and generation throughput, as ratios measured in one run.

    .venv/bin/python benchmarks/bench_simulators.py [--steps 300] [--episodes 8] [--json out.json]

Reports (1) env steps per second of TabletopPush (two cameras), Meta-World push-v3 and
DrivingMultiView (six cameras) with rendering at 64, 128 and 256 pixels, against stepping with
no rendering at all, and (2) the episodes per second of ``worldsim generate`` with 1 and 2
worker processes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time

import numpy as np

import envs


def steps_per_second(env_id: str, kwargs: dict, steps: int, render: bool = True) -> float:
    env = envs.make(env_id, disable_env_checker=True, **kwargs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    inner = env.unwrapped
    if not render:  # physics and observation bookkeeping only
        inner.render_source.render_rgb = lambda: {c: None for c in inner.cameras}
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def generation_rate(workers: int, episodes: int) -> float:
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import generate

    out = tempfile.mkdtemp(prefix="bench_gen_")
    shutil.rmtree(out)
    cfg = GenerateConfig(episodes=episodes, out=out, workers=workers, policy="expert,expert+noise:0.3")
    start = time.perf_counter()
    generate(cfg)
    rate = episodes / (time.perf_counter() - start)
    shutil.rmtree(out, ignore_errors=True)
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    results = {"machine": platform.processor() or platform.machine(), "steps": {}, "generation": {}}
    sims = {"TabletopPush": ("worldsim/TabletopPush-v0", {}), "MetaWorld push-v3": ("worldsim/MetaWorld-v0", {"task": "push-v3"}),
            "DrivingMultiView (6 cameras)": ("worldsim/DrivingMultiView-v0", {})}
    for name, (env_id, kw) in sims.items():
        base = steps_per_second(env_id, {**kw, "image_size": 64}, args.steps, render=False)
        row = {"no_render": base}
        for size in (64, 128, 256):
            row[f"render_{size}"] = steps_per_second(env_id, {**kw, "image_size": size}, args.steps)
        results["steps"][name] = row
        print(f"{name}: " + ", ".join(f"{k} {v:.0f} steps/s" for k, v in row.items()))
    for workers in (1, 2):
        results["generation"][f"workers_{workers}"] = generation_rate(workers, args.episodes)
    g = results["generation"]
    g["speedup_2_vs_1"] = g["workers_2"] / g["workers_1"]
    print(f"generate: 1 worker {g['workers_1']:.2f} ep/s, 2 workers {g['workers_2']:.2f} ep/s, "
          f"ratio {g['speedup_2_vs_1']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
