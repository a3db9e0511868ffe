"""Make a pixel world-model folder: trained predictors, a state reader fitted here, the simulator's spec.

    python -m posttrain.pixel_unet.export --data runs/push_wm --seg-data runs/push_seg \
        --predictor deterministic=runs/pix_det --predictor diffusion=runs/pix_diff --out assets/world_models/tabletop_push

The folder (posttrain.bundle layout: ``model.safetensors`` with ``predictors.<name>.*`` and
``reader.*``, ``config.yaml``, ``meta.json``) says ``family: pixel_unet``; envs load it with
``envs.world_model.session.load_for_env``. ``meta.json`` holds held-out metrics: the reader's
position error on simulator frames, and each predictor's one-step PSNR against copying the last frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from posttrain.pixel_unet.data import Episodes, load_episodes, network_context, sample_windows
from posttrain.pixel_unet.predictors import make_predictor
from posttrain.pixel_unet.reader import OBJECTS, ReaderConfig, StateReader, class_targets, fit_pixels, fit_positions
from posttrain.pixel_unet.world_model import FAMILY


def load_run(run: str) -> tuple[torch.nn.Module, dict]:
    from posttrain.pixel_unet.config import PixelTrainConfig
    from worldsim.config import load_config, to_dict
    from worldsim.training.checkpoint import load_tensor_state, read_tensors

    cfg = load_config(PixelTrainConfig, Path(run) / "config.yaml")
    model = make_predictor(cfg.predictor, cfg.net, cfg.edm)
    load_tensor_state(model, read_tensors(Path(run) / "checkpoint" / "model.safetensors"))
    return model.eval().requires_grad_(False), {"kind": cfg.predictor, "net": to_dict(cfg.net),
                                                "edm": to_dict(cfg.edm), "train": to_dict(cfg)}


def seg_frames(root: str, camera: str, objects: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    labels = reader.info.get("worldsim", {}).get("segmentation_labels")
    key = f"observation.segmentation.{camera}"
    if not labels or key not in reader.features:
        raise ValueError(f"{root} has no {key}: make it with `worldsim generate ... segmentation=true`")
    frames, classes = [], []
    for i in range(reader.num_episodes):
        ep = reader.read_episode(i)
        frames.append(torch.from_numpy(ep[f"observation.images.{camera}"]).permute(0, 3, 1, 2).float() / 127.5 - 1)
        classes.append(torch.from_numpy(class_targets(ep[key], labels, objects)))
    return torch.cat(frames), torch.cat(classes)


def frames_of(episodes: Episodes, idx: np.ndarray) -> torch.Tensor:
    return episodes.frames[torch.from_numpy(idx)].float() / 127.5 - 1.0


@torch.no_grad()
def reader_error(reader: StateReader, frames: torch.Tensor, positions: torch.Tensor) -> dict:
    err = (reader(frames) - positions).norm(dim=-1) * 100  # (F, objects) cm
    return {f"{name}_cm_mean": float(err[:, i].mean()) for i, name in enumerate(reader.cfg.objects)} | \
        {f"{name}_cm_p95": float(err[:, i].quantile(0.95)) for i, name in enumerate(reader.cfg.objects)}


def fit_state_reader(episodes: Episodes, seg_root: str, camera: str, train_idx, test_idx) -> tuple[StateReader, dict]:
    reader = StateReader(ReaderConfig())
    frames, classes = seg_frames(seg_root, camera, list(OBJECTS))
    fit_pixels(reader, frames, classes)
    fit_positions(reader, frames_of(episodes, train_idx), episodes.states[torch.from_numpy(train_idx)].view(-1, 3, 2))
    return reader, reader_error(reader, frames_of(episodes, test_idx),
                                episodes.states[torch.from_numpy(test_idx)].view(-1, 3, 2))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a.clamp(-1, 1) - b) ** 2).mean(dim=(1, 2, 3)) / 4.0  # in [0, 1] units
    return float((10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean())


@torch.no_grad()
def one_step_psnr(model, held: Episodes, context: int) -> dict:
    rng = np.random.default_rng(0)
    win = sample_windows(held, 256, context, 1, rng)
    pred = model.predict(network_context(win, context, model.net.cfg.anchor), win.actions[:, :context],
                         [torch.Generator().manual_seed(i) for i in range(256)])
    target = win.frames[:, context]
    return {"one_step_psnr": psnr(pred, target), "copy_last_psnr": psnr(win.frames[:, context - 1], target)}


def frame_split(episodes: Episodes, holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the training episodes (every 4th frame) and of the held-out episodes."""
    cut = episodes.starts[-holdout]
    return np.arange(0, cut, 4), np.arange(cut, len(episodes.frames))


def export(data: str, seg_data: str, predictors: dict[str, str], out: str, default: str, camera: str = "top",
           deadband: float = 0.0, context_sigma: float = 0.0) -> Path:
    """Write the world-model folder; ``deadband`` and ``context_sigma`` are each predictor's stepping
    settings (see world_model.PixelWorldModel)."""
    from posttrain.bundle import sim_spec, write_bundle
    from worldsim.config import to_dict

    if default not in predictors:
        raise ValueError(f"default predictor {default!r} is not one of {sorted(predictors)}")
    episodes = load_episodes(data, camera)
    pieces, tensors, metrics = {}, {}, {}
    holdout = None
    for name, run in predictors.items():
        model, piece = load_run(run)
        holdout = holdout or piece["train"]["holdout_episodes"]
        pieces[name] = {**piece, "deadband": float(deadband), "context_sigma": float(context_sigma)}
        tensors.update({f"predictors.{name}.{k}": v for k, v in model.state_dict().items()})
        held = episodes.subset(np.arange(len(episodes.lengths))[-holdout:])
        metrics[name] = one_step_psnr(model, held, piece["net"]["context"])
    train_idx, test_idx = frame_split(episodes, holdout)
    reader, metrics["reader"] = fit_state_reader(episodes, seg_data, camera, train_idx, test_idx)
    tensors.update({f"reader.{k}": v for k, v in reader.state_dict().items()})
    config = {"family": FAMILY, "sim": sim_spec(data, [camera]), "default_predictor": default,
              "predictors": pieces, "reader": to_dict(reader.cfg),
              "provenance": {"data": str(data), "seg_data": str(seg_data),
                             "train_policies": sorted(set(episodes.policies))}}
    return write_bundle(out, config, tensors, metrics)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--seg-data", required=True)
    p.add_argument("--predictor", action="append", required=True, help="NAME=RUN_FOLDER (repeatable)")
    p.add_argument("--default", default=None, help="default predictor name (the first given if omitted)")
    p.add_argument("--camera", default="top")
    p.add_argument("--deadband", type=float, default=0.0, help="keep pixels whose predicted change is smaller")
    p.add_argument("--context-sigma", type=float, default=0.0, help="context noise level told to the network")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    runs = dict(item.split("=", 1) for item in args.predictor)
    out = export(args.data, args.seg_data, runs, args.out, args.default or next(iter(runs)), args.camera,
                 args.deadband, args.context_sigma)
    print(f"world model in {out}")


if __name__ == "__main__":
    main()
