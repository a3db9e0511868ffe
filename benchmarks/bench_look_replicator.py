"""A look renderer on Replicator folders whose frames are already in random looks, through ``worldsim augment``.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_look_replicator \
        --model assets/world_models/look_tabletop --out runs/look/replicator [--layouts 6 --frames 40 --looks 20]

For each layout (TabletopPush seeds 2000, 2001, ...), the expert's episode is rendered with
``looks=7000`` (a random look per episode: materials, lights, camera offset, sensor noise) and
written by our ``ReplicatorWriter`` (RGB in that look; depth, segmentation and camera parameters
from the same moved camera),
then ``worldsim augment --source replicator:DIR looks=N seed=i*N`` redraws layout i in N looks
(seeds i*N .. i*N+N-1: every layout its own). The same numbers
as ``bench_look_renderer.py``: edge F1 against the canonical render's Canny edges (the scene's own look
from the same moved camera), segmentation agreement, look diversity across the N looks and flicker; the
Replicator frames themselves (one random look each) are the reference row.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_transfer import mean_rows, report, scores


def write_layout(folder: Path, seed: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The expert's episode from ``seed`` as a Replicator folder in a random look; returns the canonical
    frames, the segmentation and the frames in the look."""
    from envs.tabletop_push import TabletopPushEnv
    from policies.base import stack_obs
    from policies.tabletop_expert import TabletopPushExpert
    from worldsim.data.replicator import ReplicatorWriter

    looked = TabletopPushEnv(cameras=("top",), image_size=64, looks=7000, terminate_on_success=False)
    writer, policy = ReplicatorWriter(folder, cameras=("top",)), TabletopPushExpert(looked.action_space)
    obs, _ = looked.reset(seed=seed)
    policy.reset(1, seed)
    canonical, seg, seen = [], [], []
    for t in range(frames):
        captured = looked.capture(("rgb", "depth", "segmentation"))
        writer.write(t, captured)
        canonical.append(looked.canonical_rgb()["top"])
        seg.append(captured["top"].segmentation)
        seen.append(captured["top"].rgb)
        action = np.asarray(policy.act(stack_obs([obs]))[0], np.float32)
        obs, *_ = looked.step(action)
    return np.stack(canonical), np.stack(seg), np.stack(seen)


def run(model: str, out: str, layouts: int, frames: int, looks: int) -> dict:
    from posttrain.augment.command import augment_command
    from worldsim.conditioning.control_maps import edge_map
    from worldsim.conditioning.controls import EdgeControlConfig
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    thresholds, rows, start = EdgeControlConfig().thresholds(), {}, time.perf_counter()
    for i in range(layouts):
        folder = Path(out) / f"layout{i}"
        canonical, seg, seen = write_layout(folder / "replicator", 2000 + i, frames)
        done = augment_command(model, None, f"replicator:{folder / 'replicator'}", folder / "augmented", None,
                               [f"looks={looks}", f"seed={i * looks}"])
        reader = LeRobotDatasetReader(done)
        outs = [reader.read_episode(k)["observation.images.top"] for k in range(looks)]
        edges = edge_map(canonical, *thresholds)[:, 0] > 0
        rows.setdefault("look renderer from Replicator frames", []).append(scores(outs, edges, seg, thresholds))
        rows.setdefault("the Replicator frames (one random look)", []).append(scores([seen], edges, seg, thresholds))
    return {"model": model, "layouts": layouts, "frames": frames, "looks": looks,
            "seconds": time.perf_counter() - start, "results": mean_rows(rows)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="assets/world_models/look_tabletop")
    parser.add_argument("--out", default="runs/look/replicator")
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--looks", type=int, default=20)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    result = run(args.model, args.out, args.layouts, args.frames, args.looks)
    report(result, args.json)
    return result


if __name__ == "__main__":
    main()
