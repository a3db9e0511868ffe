"""Camera control on held-out layouts and walks: does the generated view follow the camera?

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_camera_motions \
        --model assets/world_models/camera_reprojection --episodes 8 --horizon 8 --json runs/camera_motions.json

For each walk kind of ``posttrain.camera.walks`` (orbit, pan, dolly) and each of ``--episodes``
TabletopPush layouts the model never saw (layout seeds ``--seed``..; the training data uses
0..239), the model starts from the simulator's render of the first pose (and its depth, where
the model takes it) and generates one view per commanded camera motion, the way
``worldsim/CameraWorld-v0`` steps. Reported per kind and over all, per step:

* PSNR against the simulator's render at the commanded pose, beside repeating the first frame;
* motion scale (``posttrain.camera.following.motion_scale``): the fraction s of the commanded
  motion (from the first pose) whose render matches the generated view best (1: follows, 0:
  ignores the command);
* for the reprojection model, the bare reprojection's PSNR (holes black): what the U-Net adds.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def rollout(wm, frame: np.ndarray, depth: np.ndarray, poses: np.ndarray) -> list[np.ndarray]:
    """The model's views along ``poses`` from the simulator's first ``frame`` (and its ``depth``)."""
    from posttrain.camera.motion import action_between

    context = {"depth": depth[None]} if getattr(wm, "needs_depth", False) else None
    state = wm.start({"camera": frame[None, None]}, poses[:1], context, seeds=[0])
    views = [frame]
    for a, b in zip(poses[:-1], poses[1:]):
        state, frames, _ = wm.step(state, action_between(a, b, wm.motion)[None])
        views.append(frames["camera"][0])
    return views


def bare_reprojection(wm, frame: np.ndarray, depth: np.ndarray, poses: np.ndarray) -> list[np.ndarray] | None:
    import torch

    if not hasattr(wm, "filler"):
        return None
    first = torch.from_numpy(frame).permute(2, 0, 1)[None].double() / 127.5 - 1
    k = torch.as_tensor(wm.intrinsics)[None]
    out = []
    for pose in poses[1:]:
        view = wm.filler.reproject(first, torch.from_numpy(depth)[None].double(), k, torch.as_tensor(poses[:1]),
                                   torch.as_tensor(pose[None]))
        out.append(((view.rgb[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy())
    return out


def run(model: str, episodes: int, horizon: int, seed: int) -> dict:
    from envs.camera_scene import CameraScene
    from envs.world_model.camera_env import load_camera_model
    from posttrain.camera.following import motion_scale
    from posttrain.camera.walks import KINDS, walk

    wm = load_camera_model(model)
    fovy = float(np.degrees(2 * np.arctan(wm.height / (2 * wm.intrinsics[1, 1]))))
    scene = CameraScene(wm.height, fovy)
    rows = {kind: {"model": [], "repeat": [], "scale": [], "bare": []} for kind in KINDS}
    seconds, views = 0.0, 0
    for k, kind in enumerate(KINDS):
        for i in range(episodes):
            scene.reset(seed + i)
            poses = walk(kind, np.random.default_rng([seed, i, k]), horizon, wm.motion)
            frame, depth = scene.render_depth(poses[0])
            truth = [frame] + [scene.render(p) for p in poses[1:]]
            t0 = time.perf_counter()
            generated = rollout(wm, frame, depth, poses)
            seconds, views = seconds + time.perf_counter() - t0, views + horizon
            bare = bare_reprojection(wm, frame, depth, poses)
            r = rows[kind]
            r["model"].append([psnr(g, t) for g, t in zip(generated[1:], truth[1:])])
            r["repeat"].append([psnr(truth[0], t) for t in truth[1:]])
            r["scale"].append([motion_scale(g, scene.render, poses[0], p) for g, p in zip(generated[1:], poses[1:])])
            if bare is not None:
                r["bare"].append([psnr(g, t) for g, t in zip(bare, truth[1:])])
    scene.close()
    result = {"model": model, "image_size": wm.height, "episodes_per_kind": episodes, "horizon": horizon,
              "layout_seeds": [seed, seed + episodes - 1], "seconds_per_view": seconds / max(views, 1)}
    for kind, r in list(rows.items()) + [("all", {key: sum((rows[k][key] for k in KINDS), []) for key in rows[KINDS[0]]})]:
        result[kind] = {f"{key}_per_step": np.mean(v, 0).round(3).tolist() for key, v in r.items() if v}
        result[kind]["motion_scale_mean"] = float(np.mean(r["scale"]))
        result[kind]["psnr_gain_at_last_step_db"] = float(np.mean(r["model"], 0)[-1] - np.mean(r["repeat"], 0)[-1])
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="assets/world_models/camera_reprojection")
    p.add_argument("--episodes", type=int, default=8, help="layouts per walk kind")
    p.add_argument("--horizon", type=int, default=8)
    p.add_argument("--seed", type=int, default=50000, help="first layout seed (the training data uses 0..239)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    result = run(args.model, args.episodes, args.horizon, args.seed)
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
