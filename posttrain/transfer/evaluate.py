"""Control fidelity of a transfer model on held-out episodes, against the base alone and the ceiling.

    metrics = evaluate_transfer(net, codec, cfg, episodes=[3, 7], frames=4, seeds=3)

For each episode's first ``frames`` frames it generates the clip with every control at weight 1
(renormalised), once per seed, and with no control (the base alone), decodes them and reports
``edge_f1`` (Canny of the output vs Canny of the canonical render), ``seg_agreement``
(posttrain/transfer/metrics.py) and ``diversity`` (std across seeds) for both, plus the same
fidelity numbers for the tokenizer's reconstruction of the true randomised frames (``truth_*``).
"""

from __future__ import annotations

import numpy as np
import torch

from posttrain.common.latents import encode_frames
from posttrain.transfer.clips import control_rgb_key
from posttrain.transfer.config import sample_config
from posttrain.transfer.metrics import edge_f1, look_diversity, segmentation_agreement
from posttrain.transfer.sample import control_tensors, decode_frames, generate_clip
from worldsim.conditioning.control_maps import edge_map
from worldsim.conditioning.control_sources import dataset_labels, episode_inputs
from worldsim.conditioning.controls import compute_controls


def _fidelity(frames: np.ndarray, edges: np.ndarray, seg: np.ndarray, thresholds) -> dict[str, float]:
    return {"edge_f1": edge_f1(frames, edges, *thresholds), "seg_agreement": segmentation_agreement(frames, seg)}


def _episode_clip(reader, e: int, cfg, frames: int):
    ep = reader.read_episode(e)
    inputs = episode_inputs(ep, cfg.camera, dataset_labels(reader), control_rgb_key(reader, cfg.camera, cfg.rgb_key))
    clip = {k: v[:frames] if isinstance(v, np.ndarray) else v for k, v in vars(inputs).items()}
    inputs = type(inputs)(**clip)
    return inputs, control_tensors(compute_controls(inputs, cfg.controls)), ep[f"observation.images.{cfg.camera}"][:frames]


@torch.no_grad()
def evaluate_transfer(net, codec, cfg, episodes, frames: int | None = None,
                      seeds: int | None = None) -> dict[str, float]:
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader, scfg = LeRobotDatasetReader(cfg.data), sample_config(cfg, frames)
    seeds = seeds or cfg.eval_seeds
    thresholds = cfg.controls.edge.thresholds()
    rows: dict[str, list[float]] = {}
    for e in episodes:
        inputs, controls, truth = _episode_clip(reader, e, cfg, scfg.clip_len)
        latent_shape = tuple(encode_frames(codec, truth[:1]).shape[1:])  # (C, h, w)
        edges, seg = edge_map(inputs.rgb, *thresholds)[:, 0] > 0, inputs.segmentation
        for kind, ctrl in (("", controls), ("base_", {})):
            outs = np.stack([decode_frames(codec, generate_clip(net, ctrl, None, latent_shape, s, scfg))[0]
                             for s in range(seeds)])  # (S, T, H, W, 3)
            for s in range(seeds):
                for k, v in _fidelity(outs[s], edges, seg, thresholds).items():
                    rows.setdefault(kind + k, []).append(v)
            rows.setdefault(kind + "diversity", []).append(look_diversity(outs))
        recon = decode_frames(codec, encode_frames(codec, truth).permute(1, 0, 2, 3)[None])[0]
        for k, v in _fidelity(recon, edges, seg, thresholds).items():
            rows.setdefault("truth_" + k, []).append(v)
    return {k: float(np.mean(v)) for k, v in rows.items()}
