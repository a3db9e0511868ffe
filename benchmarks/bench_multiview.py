"""Multi-view driving world model against the simulator: per-view PSNR and cross-view consistency.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python benchmarks/bench_multiview.py \\
        [--checkpoint assets/world_models/driving_multiview] [--episodes 4] [--horizon 20] \\
        [--json benchmarks/results/multiview.json]

For each seed the simulator (``worldsim/DrivingMultiView-v0``) and the world-model env
(``worldsim/DrivingWorldModel-v0``) are reset with the same seed and driven with the same actions
(the scripted expert reading the simulator's observation). Reported, per view and over the
horizon: PSNR of generated frames against the simulator's, beside the "nothing moves" floor (the
first frame held); the Sampson distance (pixels) of SIFT matches between neighbouring views with
the rig's known poses, for the simulator's own frames (the floor: detector noise and
mismatches), for the generated frames, and for two controls on the simulator's frames: every
other view taken from another seed (the street's layout is the same across seeds and the
cameras are level at one height, so epipolar lines run near the rows and this mostly stays
consistent), and every other view shifted down by ``SHIFT`` pixels (a vertically misaligned
rig, which the metric must catch); the ego pose error at the horizon; and the time per step of
both envs.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np

import envs  # noqa: F401
from posttrain.multiview.metrics import cross_view_sampson, per_view_psnr, summarize_sampson
from policies.factory import make_policy
from policies.base import stack_obs

SIM_ID, WM_ID = "worldsim/DrivingMultiView-v0", "worldsim/DrivingWorldModel-v0"
SHIFT = 2


def shifted_down(img: np.ndarray, rows: int) -> np.ndarray:
    """The frame moved down by ``rows`` pixels, the top row repeated into the gap."""
    return np.concatenate([np.repeat(img[:1], rows, axis=0), img[:-rows]], axis=0)


def rig_of(sim) -> tuple[dict, dict]:
    """Intrinsics and world-from-camera poses of every camera now (relative poses are fixed on the rig)."""
    frames = sim.unwrapped.capture(("rgb",))
    return {c: f.intrinsics for c, f in frames.items()}, {c: f.extrinsics for c, f in frames.items()}


def episode(sim, wm, seed: int, horizon: int) -> dict:
    """Both envs from one seed under the expert's actions: per-step frames, states and timings."""
    obs, _ = sim.reset(seed=seed)
    wm_obs, _ = wm.reset(seed=seed)
    policy = make_policy("expert", SIM_ID, sim.action_space)
    policy.reset(1, seed)
    rec = {"sim": [obs], "wm": [wm_obs], "rig": [rig_of(sim)], "sim_s": 0.0, "wm_s": 0.0}
    for _ in range(horizon):
        action = np.asarray(policy.act(stack_obs([obs]))[0], np.float32)
        t0 = time.perf_counter()
        obs, _, terminated, truncated, _ = sim.step(action)
        t1 = time.perf_counter()
        wm_obs = wm.step(action)[0]
        rec["sim_s"] += t1 - t0
        rec["wm_s"] += time.perf_counter() - t1
        rec["sim"].append(obs), rec["wm"].append(wm_obs), rec["rig"].append(rig_of(sim))
        if terminated or truncated:
            break
    return rec


def fidelity(records: list[dict]) -> dict:
    """Per-view and per-step PSNR of generated and of held first frames against the simulator's."""
    per_view, held, curve, held_curve = {}, {}, {}, {}
    for rec in records:
        first = rec["sim"][0]["pixels"]
        for t in range(1, len(rec["sim"])):
            truth = rec["sim"][t]["pixels"]
            for cam, v in per_view_psnr(rec["wm"][t]["pixels"], truth).items():
                per_view.setdefault(cam, []).append(v)
                curve.setdefault(t, []).append(v)
            for cam, v in per_view_psnr(first, truth).items():
                held.setdefault(cam, []).append(v)
                held_curve.setdefault(t, []).append(v)
    return {"psnr_per_view": {c: float(np.mean(v)) for c, v in per_view.items()},
            "psnr_mean": float(np.mean([x for v in per_view.values() for x in v])),
            "psnr_nothing_moves_per_view": {c: float(np.mean(v)) for c, v in held.items()},
            "psnr_nothing_moves_mean": float(np.mean([x for v in held.values() for x in v])),
            "psnr_curve": {int(t): float(np.mean(v)) for t, v in sorted(curve.items())},
            "psnr_nothing_moves_curve": {int(t): float(np.mean(v)) for t, v in sorted(held_curve.items())}}


def consistency(records: list[dict]) -> dict:
    """Sampson distance summaries: simulator frames, generated frames, views mixed across seeds."""
    scores = {"simulator": [], "generated": [], "mixed_seeds": [], f"shifted_{SHIFT}px": []}
    for i, rec in enumerate(records):
        other = records[(i + 1) % len(records)]
        for t in range(1, len(rec["sim"])):
            K, pose = rec["rig"][t]
            scores["simulator"].append(cross_view_sampson(rec["sim"][t]["pixels"], K, pose))
            scores["generated"].append(cross_view_sampson(rec["wm"][t]["pixels"], K, pose))
            shifted = {c: (f if j % 2 else shifted_down(f, SHIFT))
                       for j, (c, f) in enumerate(sorted(rec["sim"][t]["pixels"].items()))}
            scores[f"shifted_{SHIFT}px"].append(cross_view_sampson(shifted, K, pose))
            if other is not rec and t < len(other["sim"]):
                mixed = {c: (f if j % 2 else other["sim"][t]["pixels"][c])
                         for j, (c, f) in enumerate(sorted(rec["sim"][t]["pixels"].items()))}
                scores["mixed_seeds"].append(cross_view_sampson(mixed, K, pose))
    return {k: summarize_sampson(v) for k, v in scores.items() if v}


def pose_error(records: list[dict]) -> dict:
    last = [(r["wm"][-1]["agent_pos"], r["sim"][-1]["agent_pos"]) for r in records]
    err = np.abs(np.array([w - s for w, s in last]))  # (episodes, 4)
    return {"agent_pos_abs_error_at_horizon": dict(zip(("x", "y", "yaw", "speed"), err.mean(0).tolist()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="multi-view run/checkpoint (default: the shipped model)")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1000, help="first seed (held out from training seeds 0..N)")
    parser.add_argument("--sample-steps", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    wm = gym.make(WM_ID, checkpoint=args.checkpoint, sample_steps=args.sample_steps)
    model = wm.unwrapped.model
    cfg = getattr(model, "cfg", None)                 # the DiT's task config; the reprojection model has none
    sim_spec = model.sim
    sim = gym.make(SIM_ID, cameras=tuple(sim_spec["cameras"]), image_size=(sim_spec["height"], sim_spec["width"]))
    records = [episode(sim, wm, args.seed + i, args.horizon) for i in range(args.episodes)]
    steps = sum(len(r["sim"]) - 1 for r in records)
    result = {"checkpoint": args.checkpoint or "default",
              "predictor": cfg.predictor if cfg is not None else "reprojection",
              "sample_steps": model.predict_cfg.steps if cfg is not None else 0,
              "image_size": [sim_spec["height"], sim_spec["width"]], "episodes": args.episodes, "horizon": args.horizon,
              "steps": steps, **fidelity(records), "sampson": consistency(records), **pose_error(records),
              "sim_step_ms": 1000 * sum(r["sim_s"] for r in records) / steps,
              "wm_step_ms": 1000 * sum(r["wm_s"] for r in records) / steps,
              "machine": platform.processor() or platform.machine()}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
