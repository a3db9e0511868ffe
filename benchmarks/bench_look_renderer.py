"""Layout fidelity and look diversity of a look renderer on unseen layouts, against the true renders.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m posttrain.transfer.data --out runs/look/test \
        seed=1000 episodes=6 looks=3 max_steps=40          # layouts and looks never trained on
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_look_renderer \
        --model assets/world_models/look_tabletop --data runs/look/test [--frames 8 --seeds 3 --json F]

The same numbers as ``bench_transfer.py`` (edge F1 against the canonical render's Canny edges,
segmentation agreement, look diversity across seeds, flicker), for each layout's first look
episode redrawn from its canonical render, depth and segmentation in ``--seeds`` looks (seeds
0, 1, ...: looks the renderer was never trained on), with and without the sensor noise the look
adds; and for the true randomised renders of that layout (its looks in the data: the ceiling).
Also the PSNR of the renderer told the true look against the true frame, with the canonical frame's
as the floor: whether it draws the look it is told.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from benchmarks.bench_transfer import mean_rows, report, scores


def _told_psnr(model, reader, e: int, frames: int, cam: str) -> tuple[float, float]:
    from posttrain.transfer.look_renderer import class_indices
    from worldsim.conditioning.control_sources import dataset_labels

    ep = reader.read_episode(e)
    canonical = torch.from_numpy(ep[f"observation.canonical.{cam}"][:frames]).permute(0, 3, 1, 2).float() / 127.5 - 1
    truth = torch.from_numpy(ep[f"observation.images.{cam}"][:frames]).permute(0, 3, 1, 2).float() / 127.5 - 1
    classes = class_indices(ep[f"observation.segmentation.{cam}"][:frames, ..., 0], dataset_labels(reader),
                            model.renderer.cfg.classes)
    with torch.no_grad():
        out = model.renderer(canonical, torch.from_numpy(np.array(ep[f"observation.depth.{cam}"][:frames, ..., 0])),
                             torch.from_numpy(classes), torch.from_numpy(np.array(ep["observation.look"][:frames]))).clamp(-1, 1)
    mse = lambda a: float(((a - truth) ** 2).mean())  # noqa: E731
    return 10 * np.log10(4 / mse(out)), 10 * np.log10(4 / mse(canonical))


def run(model_path: str, data: str, episodes: int, frames: int, seeds: int) -> dict:
    from posttrain.transfer.look_model import LookModel
    from worldsim.conditioning.control_maps import edge_map
    from worldsim.conditioning.control_sources import dataset_labels, episode_inputs
    from worldsim.conditioning.controls import ControlInputs, EdgeControlConfig
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    model, reader = LookModel.load(model_path), LeRobotDatasetReader(data)
    cam, thresholds = model.camera, EdgeControlConfig().thresholds()
    looks = int(reader.info.get("worldsim", {}).get("randomized_looks", 1))
    chosen = list(range(0, reader.num_episodes, looks))[:episodes]
    rows: dict[str, list[dict]] = {}
    psnr: list[tuple[float, float]] = []
    start = time.perf_counter()
    for e in chosen:
        full = episode_inputs(reader.read_episode(e), cam, dataset_labels(reader), f"observation.canonical.{cam}")
        inputs = ControlInputs(rgb=full.rgb[:frames], depth=full.depth[:frames], segmentation=full.segmentation[:frames],
                               labels=full.labels)
        edges, seg = edge_map(inputs.rgb, *thresholds)[:, 0] > 0, inputs.segmentation
        for name, noise in (("look renderer", True), ("look renderer, no sensor noise", False)):
            outs = [model.render(inputs, s, sensor_noise=noise) for s in range(seeds)]
            rows.setdefault(name, []).append(scores(outs, edges, seg, thresholds))
        truth = [reader.read_episode(k)[f"observation.images.{cam}"][:frames] for k in range(e, e + looks)]
        rows.setdefault("truth (randomised renders)", []).append(scores(truth, edges, seg, thresholds))
        psnr += [_told_psnr(model, reader, k, frames, cam) for k in range(e, e + looks)]
    return {"model": model_path, "data": data, "episodes": chosen, "frames": frames, "seeds": seeds,
            "told_look_psnr": float(np.mean([p[0] for p in psnr])), "canonical_psnr": float(np.mean([p[1] for p in psnr])),
            "seconds": time.perf_counter() - start, "machine": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "results": mean_rows(rows)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="assets/world_models/look_tabletop")
    parser.add_argument("--data", default="runs/look/test")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result = run(args.model, args.data, args.episodes, args.frames, args.seeds)
    report(result, args.json)
    print(f"told the true look: {result['told_look_psnr']:.1f} dB against the truth (canonical frame: "
          f"{result['canonical_psnr']:.1f} dB)")
    return result


if __name__ == "__main__":
    main()
