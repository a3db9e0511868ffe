"""Control fidelity and look diversity of a transfer model on unseen randomised-look layouts.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m posttrain.transfer.data --out runs/transfer/test_data \
        seed=1000 episodes=6 looks=3 max_steps=40          # layouts and looks never trained on
    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python benchmarks/bench_transfer.py \
        --model assets/world_models/transfer_tabletop --data runs/transfer/test_data \
        [--episodes 6 --frames 8 --seeds 3 --json benchmarks/results/transfer.json]

PSNR against the held-out ground truth is ill-posed (its look is one random draw), so this
reports, per setting, over the first ``--frames`` frames of each layout's first look (generated in
overlapping clips, as ``worldsim augment`` does) and ``--seeds`` looks each:
``edge_f1`` (Canny of the output vs Canny of the canonical render, 1 px slack),
``seg_agreement`` (balanced accuracy of nearest class-mean colour against the segmentation),
``diversity`` (mean per-pixel std across seeds, 0-255) and ``flicker`` (mean absolute change
between consecutive frames, 0-255; the ground truth's own is its motion plus sensor noise).
Settings: every control (weights 1, renormalised), each control alone, edges on the pusher and
block with segmentation elsewhere (a ``where`` map), the base alone (no branch: the ablation),
and the true randomised frames (``truth``, the ceiling; its diversity is across the looks of the
same layout in the data).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch


def settings(names) -> dict[str, dict]:
    out = {"all controls": {"names": list(names)}}
    out.update({f"{n} only": {"names": [n]} for n in names})
    if "edge" in names and "segmentation" in names:
        out["edge on objects + seg elsewhere"] = {"names": ["edge", "segmentation"], "edge_where": ["pusher", "block"]}
    out["base alone (no branch)"] = {"names": []}
    return out


def _controls(inputs, cfg, setting):
    import dataclasses

    from posttrain.transfer.sample import control_tensors, weight_tensors
    from worldsim.conditioning.controls import compute_controls, control_weights

    if not setting["names"]:
        return {}, None
    ccfg = dataclasses.replace(cfg.controls, names=setting["names"])
    if setting.get("edge_where"):
        ccfg.edge = dataclasses.replace(ccfg.edge, where=setting["edge_where"], elsewhere=0.0)
        ccfg.segmentation = dataclasses.replace(ccfg.segmentation, where=[
            v for v in inputs.labels.values() if v not in setting["edge_where"]], elsewhere=0.0)
    return control_tensors(compute_controls(inputs, ccfg)), weight_tensors(control_weights(inputs, ccfg))


def scores(frames_per_seed, edges, seg, thresholds) -> dict[str, float]:
    from posttrain.transfer.metrics import edge_f1, look_diversity, segmentation_agreement

    f1 = [edge_f1(f, edges, *thresholds) for f in frames_per_seed]
    agree = [segmentation_agreement(f, seg) for f in frames_per_seed]
    flicker = [np.abs(np.diff(f.astype(np.float32), axis=0)).mean() for f in frames_per_seed]
    return {"edge_f1": float(np.mean(f1)), "seg_agreement": float(np.mean(agree)),
            "diversity": look_diversity(np.stack(frames_per_seed)) if len(frames_per_seed) > 1 else 0.0,
            "flicker": float(np.mean(flicker))}


def run(model: str, data: str, episodes: int, frames: int, seeds: int, steps: int) -> dict:
    from posttrain.common.latents import encode_frames
    from posttrain.transfer.checkpoint import load_transfer_model
    from posttrain.transfer.clips import control_rgb_key
    from posttrain.transfer.config import sample_config
    from posttrain.transfer.sample import generate_episode
    from worldsim.conditioning.control_maps import edge_map
    from worldsim.conditioning.control_sources import dataset_labels, episode_inputs
    from worldsim.conditioning.controls import ControlInputs
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    net, cfg, codec = load_transfer_model(model)
    reader = LeRobotDatasetReader(data)
    scfg = sample_config(cfg)
    scfg.steps = steps or scfg.steps
    thresholds = cfg.controls.edge.thresholds()
    looks = int(reader.info.get("worldsim", {}).get("randomized_looks", 1))
    chosen = list(range(0, reader.num_episodes, looks))[:episodes]   # the first look of each layout
    rows: dict[str, list[dict]] = {}
    start = time.perf_counter()
    for e in chosen:
        ep = reader.read_episode(e)
        full = episode_inputs(ep, cfg.camera, dataset_labels(reader), control_rgb_key(reader, cfg.camera, cfg.rgb_key))
        inputs = ControlInputs(rgb=full.rgb[:frames], depth=full.depth[:frames],
                               segmentation=full.segmentation[:frames], labels=full.labels)
        edges, seg = edge_map(inputs.rgb, *thresholds)[:, 0] > 0, inputs.segmentation
        latent_shape = tuple(encode_frames(codec, inputs.rgb[:1]).shape[1:])
        for name, setting in settings(cfg.controls.names).items():
            maps, weights = _controls(inputs, cfg, setting)
            outs = [generate_episode(net, codec, maps, weights, s, scfg, latent_shape, length=len(seg))
                    for s in range(seeds)]
            rows.setdefault(name, []).append(scores(outs, edges, seg, thresholds))
        first = e - e % looks
        key = f"observation.images.{cfg.camera}"
        truth = [reader.read_episode(k)[key][:frames] for k in range(first, first + looks)]
        rows.setdefault("truth (randomised renders)", []).append(scores(truth, edges, seg, thresholds))
    return {"model": model, "data": data, "episodes": chosen, "frames": frames, "seeds": seeds,
            "sample_steps": scfg.steps, "sampler": scfg.sampler, "clip_len": scfg.clip_len,
            "seconds": time.perf_counter() - start, "machine": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "results": mean_rows(rows)}


def mean_rows(rows: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    """{setting: [scores per layout]} -> {setting: mean scores}."""
    return {name: {k: float(np.mean([r[k] for r in rs])) for k in rs[0]} for name, rs in rows.items()}


def report(result: dict, json_path: str) -> None:
    """Print the table; write the whole result to ``json_path`` when one is given."""
    print(markdown(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)


def markdown(result: dict) -> str:
    lines = ["| setting | edge F1 | seg agreement | look diversity | flicker |", "|---|---|---|---|---|"]
    for name, r in result["results"].items():
        lines.append(f"| {name} | {r['edge_f1']:.3f} | {r['seg_agreement']:.3f} | {r['diversity']:.1f} | "
                     f"{r['flicker']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="assets/world_models/transfer_tabletop")
    parser.add_argument("--data", default="runs/transfer/test_data")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0, help="sampler steps (0: the model's)")
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from worldsim.diffusion.testing import megatron_world

    with megatron_world(seed=0):
        result = run(args.model, args.data, args.episodes, args.frames, args.seeds, args.steps)
    report(result, args.json)
    return result


if __name__ == "__main__":
    main()
