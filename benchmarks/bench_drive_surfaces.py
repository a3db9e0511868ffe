"""How consistent can the driving views be, given only what the first views saw? Points against mesh.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_drive_surfaces \\
        [--episodes 3] [--horizon 20] [--json benchmarks/results/drive_surfaces.json]

For each seed (1000, 1001, ...) the simulator is reset and driven by the expert. The six first views,
lifted by their depth, are seen from every camera's true pose at each later step, as splatted
points (``surface: points``, two per pixel side) and as a mesh (``surface: mesh``). No network is
involved: this is the geometry the U-Net starts from. Reported per surface: the share of pixels
the first views cover, and the Sampson median of SIFT matches between neighbouring views
(``posttrain.multiview.metrics``) for the surface with the simulator's own pixels where it
leaves a hole (the best any painting can do) and with grey there (no painting), beside the
simulator's own frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from policies.base import stack_obs
from policies.factory import make_policy
from posttrain.camera.reprojection import ViewFiller
from posttrain.multiview.metrics import cross_view_sampson, summarize_sampson
from posttrain.multiview.reprojection_config import driving_filler
from worldsim.io import write_json

SIM_ID = "worldsim/DrivingMultiView-v0"
CAMERAS = ("front", "front_left", "front_right", "back_left", "back", "back_right")


def rig(frames: dict, key: str) -> torch.Tensor:
    return torch.stack([torch.as_tensor(np.asarray(getattr(frames[c], key))) for c in CAMERAS])


def first_views(sim) -> tuple[torch.Tensor, ...]:
    """(1, V, 3, H, W) in [-1, 1], (1, V, H, W) depth, (1, V, 3, 3), (1, V, 4, 4) of the rig now."""
    cap = sim.unwrapped.capture(("rgb", "depth"))
    views = rig(cap, "rgb").permute(0, 3, 1, 2).float() / 127.5 - 1
    return views[None], rig(cap, "depth").float()[None], rig(cap, "intrinsics").double()[None], rig(cap, "extrinsics").double()[None]


def composed(view, truth: dict, fill: str) -> dict:
    """The surface's pixels where it landed; the simulator's (``fill="sim"``) or grey elsewhere."""
    rgb = ((view.rgb.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    hit = view.hit[:, 0].bool().numpy()[..., None]
    return {c: np.where(hit[i], rgb[i], truth[c] if fill == "sim" else 128).astype(np.uint8) for i, c in enumerate(CAMERAS)}


def episode(sim, fillers: dict, seed: int, horizon: int, scores: dict, cover: dict) -> None:
    obs, _ = sim.reset(seed=seed)
    surfaces = {name: f.lift(*first_views(sim)) for name, f in fillers.items()}
    policy = make_policy("expert", SIM_ID, sim.action_space)
    policy.reset(1, seed)
    for _ in range(horizon):
        obs, _, terminated, truncated, _ = sim.step(np.asarray(policy.act(stack_obs([obs]))[0], np.float32))
        cap = sim.unwrapped.capture(("rgb",))
        k, pose = {c: cap[c].intrinsics for c in CAMERAS}, {c: cap[c].extrinsics for c in CAMERAS}
        truth = {c: cap[c].rgb for c in CAMERAS}
        scores["simulator"].append(cross_view_sampson(truth, k, pose))
        for name, f in fillers.items():
            many = [x.expand(len(CAMERAS), *x.shape[1:]) for x in surfaces[name]]
            view = f.see(*many, rig(cap, "intrinsics").double(), rig(cap, "extrinsics").double(), truth["front"].shape[:2])
            cover[name].append(float(view.hit.mean()))
            for fill in ("sim", "grey"):
                scores[f"{name}_{fill}"].append(cross_view_sampson(composed(view, truth, fill), k, pose))
        if terminated or truncated:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    sim = gym.make(SIM_ID, cameras=CAMERAS, image_size=(args.size, args.size))
    fillers = {s: ViewFiller(dataclasses.replace(driving_filler(), surface=s, views=1)) for s in ("points", "mesh")}
    scores = {"simulator": [], **{f"{s}_{f}": [] for s in fillers for f in ("sim", "grey")}}
    cover = {s: [] for s in fillers}
    for i in range(args.episodes):
        episode(sim, fillers, 1000 + i, args.horizon, scores, cover)
    result = {"episodes": args.episodes, "horizon": args.horizon, "image_size": args.size,
              "covered_share": {s: float(np.mean(v)) for s, v in cover.items()},
              "sampson": {k: summarize_sampson(v) for k, v in scores.items()}}
    print(json.dumps(result, indent=1))
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
