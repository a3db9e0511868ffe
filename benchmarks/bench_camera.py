"""Camera world model: PSNR against the simulator at the commanded poses, and camera following.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_camera \
        --model assets/world_models/camera_tabletop --data runs/camera_orbits --horizon 6 \
        --json benchmarks/results/camera.json

Held-out episodes of the model's training split (same ``held_out``/``split_seed``) are rolled out
the way ``worldsim/CameraWorld-v0`` steps: from the rendered first frame, one generated view per
commanded camera motion, latents carried. Reported per step over the horizon and averaged:

* PSNR of the generated view against the simulator's render at the commanded pose, beside
  repeating the first frame (the baseline that ignores the camera);
* motion scale (``posttrain.camera.following.motion_scale``): the fraction s of the commanded
  motion (from frame 0) whose render matches the generated view best; following error |s - 1|
  (the true renders give 0, repeating the first frame gives 1);
* flow error: end-point distance (pixels) between the optical flow frame 0 -> t of the generated
  and of the true views (repeating the first frame: the true flow's magnitude);
* essential-matrix estimate (OpenCV, dense flow matches, known K): rotation and translation-
  direction errors of the generated pair and, as the floor of this estimator, of the true pair.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _geometry(generated, truth, poses, k):
    from posttrain.camera.following import (commanded_motion, dense_matches, direction_error_deg, relative_motion,
                                            rotation_error_deg)

    out = {"model": [], "truth": []}
    for name, frames in (("model", generated), ("truth", truth)):
        est = relative_motion(*dense_matches(frames[0], frames[-1]), k)
        r, t = commanded_motion(poses[0], poses[-1])
        out[name] = [np.nan, np.nan] if est is None else [rotation_error_deg(est[0], r), direction_error_deg(est[1], t)]
    return out


def _following(generated, truth, poses, scene, layout_seed):
    from posttrain.camera.following import flow_error, motion_scale

    scene.reset(layout_seed)
    scales = [motion_scale(generated[t], scene.render, poses[0], poses[t]) for t in range(1, len(poses))]
    flow_model = [flow_error(generated[0], generated[t], truth[0], truth[t]) for t in range(1, len(poses))]
    flow_copy = [flow_error(truth[0], truth[0], truth[0], truth[t]) for t in range(1, len(poses))]
    return scales, flow_model, flow_copy


def run(model: str, data: str, horizon: int, episodes: int, sample_steps: int | None) -> dict:
    from envs.camera_scene import CameraScene
    from posttrain.camera.clips import CameraEpisodes
    from posttrain.camera.evaluate import frame_psnr, held_out_rollouts
    from posttrain.camera.world_model import CameraWorldModel
    from posttrain.common.runtime import ensure_megatron
    from worldsim.data.clips import held_out_split
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    ensure_megatron()
    wm = CameraWorldModel.load(model, sample_steps=sample_steps)
    from posttrain.camera.checkpoint import load_camera_run

    cfg = load_camera_run(model)[2]
    data_set = CameraEpisodes(data, cfg.camera, wm.codec, wm.scale)
    held = held_out_split(data_set.num_episodes, cfg.held_out, cfg.split_seed)[1][:episodes]
    seed = int(LeRobotDatasetReader(data).info["worldsim"]["config"]["seed"])
    start = time.perf_counter()
    generated, truth, poses = held_out_rollouts(wm, data_set, held, horizon)
    seconds = time.perf_counter() - start
    copy = np.repeat(truth[:, :1], horizon + 1, axis=1)
    fovy = float(np.degrees(2 * np.arctan(wm.height / (2 * wm.intrinsics[1, 1]))))
    scene = CameraScene(wm.height, fovy)
    follow = [_following(g, t, p, scene, seed + e) for g, t, p, e in zip(generated, truth, poses, held)]
    geometry = [_geometry(g, t, p, wm.intrinsics) for g, t, p in zip(generated, truth, poses)]
    scene.close()
    scales = np.array([f[0] for f in follow])           # (N, horizon)
    return {
        "model": model, "data": data, "episodes": len(held), "horizon": horizon,
        "sample_steps": wm.sampling.steps, "seconds_per_generated_view": seconds / (len(held) * horizon),
        "psnr_per_step": frame_psnr(generated, truth)[:, 1:].mean(0).round(2).tolist(),
        "copy_first_psnr_per_step": frame_psnr(copy, truth)[:, 1:].mean(0).round(2).tolist(),
        "psnr_mean": float(frame_psnr(generated, truth)[:, 1:].mean()),
        "copy_first_psnr_mean": float(frame_psnr(copy, truth)[:, 1:].mean()),
        "motion_scale_per_step": scales.mean(0).round(3).tolist(),
        "following_error": float(np.abs(scales - 1.0).mean()),
        "flow_error_px": float(np.mean([f[1] for f in follow])),
        "copy_first_flow_error_px": float(np.mean([f[2] for f in follow])),
        "essential_rotation_error_deg": _median(geometry, 0),
        "essential_direction_error_deg": _median(geometry, 1),
        "commanded_rotation_deg": float(np.mean([_angle(p[0], p[-1]) for p in poses])),
    }


def _median(geometry: list, index: int) -> dict:
    return {k: float(np.nanmedian([g[k][index] for g in geometry])) for k in ("model", "truth")}


def _angle(p0, p1) -> float:
    from posttrain.camera.following import commanded_motion, rotation_error_deg

    return rotation_error_deg(np.eye(3), commanded_motion(p0, p1)[0])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="assets/world_models/camera_tabletop")
    p.add_argument("--data", required=True, help="a camera dataset (python -m posttrain.camera.data)")
    p.add_argument("--horizon", type=int, default=6)
    p.add_argument("--episodes", type=int, default=24)
    p.add_argument("--sample-steps", type=int, default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    result = run(args.model, args.data, args.horizon, args.episodes, args.sample_steps)
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
