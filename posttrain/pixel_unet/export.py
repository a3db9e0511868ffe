"""Make a pixel world-model folder: trained predictors, the state reader, the simulator's spec.

    python -m posttrain.pixel_unet.export --data runs/push_wm --seg-data runs/push_seg \
        --predictor deterministic=runs/pix_det --predictor diffusion=runs/pix_diff --out assets/world_models/tabletop_push
    python -m posttrain.pixel_unet.export --data runs/push_wm --readers runs/readers --dynamics runs/dyn \
        --predictor deterministic=runs/pix_lay --out assets/world_models/tabletop_push    # grounded

The folder (posttrain.common.bundle layout: ``model.safetensors`` with ``predictors.<name>.*`` and
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
from posttrain.pixel_unet.reader_fit import fit_state_reader, frame_split, load_readers
from posttrain.pixel_unet.world_model import FAMILY


def load_run(run: str) -> tuple[torch.nn.Module, dict]:
    from posttrain.pixel_unet.config import PixelTrainConfig
    from worldsim.config import load_config, to_dict
    from worldsim.io import load_tensor_state, read_tensors

    cfg = load_config(PixelTrainConfig, Path(run) / "config.yaml")
    net_cfg = cfg.network()
    if cfg.is_latent:
        from posttrain.pixel_unet.latent_dit import with_tokenizer

        net_cfg = with_tokenizer(net_cfg)[0]
    model = make_predictor(cfg.predictor, net_cfg, cfg.edm)
    load_tensor_state(model, read_tensors(Path(run) / "checkpoint" / "model.safetensors"))
    return model.eval().requires_grad_(False), {"kind": cfg.predictor, "net": to_dict(net_cfg),
                                                "edm": to_dict(cfg.edm), "train": to_dict(cfg)}


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over the batch of per-image PSNR (dB) of [-1, 1] images (B, C, H, W), the prediction ``a``
    clamped first; what the pixel world model's reports have always used (per-frame video PSNR:
    ``worldsim.tokenizer.metrics.psnr``)."""
    mse = ((a.clamp(-1, 1) - b) ** 2).mean(dim=(1, 2, 3)) / 4.0  # in [0, 1] units
    return float((10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean())


@torch.no_grad()
def one_step_psnr(model, held: Episodes, context: int, layout=None) -> dict:
    rng = np.random.default_rng(0)
    win = sample_windows(held, 256, context, 1, rng)
    maps = layout(win.sim_states[:, context]) if model.net.cfg.layout else None
    pred = model.predict(network_context(win, context, model.net.cfg.anchor), win.actions[:, :context],
                         [torch.Generator().manual_seed(i) for i in range(256)], layout=maps)
    target = win.frames[:, context]
    return {"one_step_psnr": psnr(pred, target), "copy_last_psnr": psnr(win.frames[:, context - 1], target)}


def readers_for(episodes: Episodes, readers: str | None, seg_data: str | None, camera: str, holdout: int):
    """(state reader, yaw reader or None, metrics): loaded from ``readers``, else fitted on ``seg_data``."""
    if readers:
        return load_readers(readers)
    if not seg_data:
        raise ValueError("export needs --readers FOLDER (python -m posttrain.pixel_unet.reader_fit) or --seg-data")
    train_idx, test_idx = frame_split(episodes, holdout)
    reader, metrics = fit_state_reader(episodes, seg_data, camera, train_idx, test_idx)
    return reader, None, metrics


def grounding_parts(dynamics: str, yaw_reader, layout_cfg) -> tuple[dict, dict]:
    """(config entries, tensors) of a grounded folder: dynamics, yaw reader, layout."""
    from posttrain.pixel_unet.dynamics_train import load_dynamics
    from worldsim.config import to_dict

    if yaw_reader is None:
        raise ValueError("--dynamics needs a yaw reader: fit --readers on a dataset with observation.sim_state")
    model, cfg = load_dynamics(dynamics)
    tensors = {f"dynamics.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"yaw_reader.{k}": v for k, v in yaw_reader.state_dict().items()})
    config = {"dynamics": {"net": to_dict(cfg.net), "train": to_dict(cfg)}, "yaw_reader": to_dict(yaw_reader.cfg),
              "layout": to_dict(layout_cfg)}
    return config, tensors


def export(data: str, seg_data: str | None, predictors: dict[str, str], out: str, default: str, camera: str = "top",
           deadband: float = 0.0, context_sigma: float = 0.0, readers: str | None = None,
           dynamics: str | None = None) -> Path:
    """Write the world-model folder; ``deadband`` and ``context_sigma`` are each predictor's stepping
    settings (see world_model.PixelWorldModel); ``dynamics`` (a run of pixel_unet.dynamics_train)
    makes it grounded (pixel_unet.grounding), its predictors then being layout-conditioned."""
    from posttrain.common.bundle import sim_spec, write_bundle
    from posttrain.pixel_unet.layout import Layout, LayoutConfig
    from worldsim.config import to_dict
    from worldsim.io import tensor_state

    if default not in predictors:
        raise ValueError(f"default predictor {default!r} is not one of {sorted(predictors)}")
    episodes = load_episodes(data, camera, sim_state=dynamics is not None)
    runs = {name: load_run(run) for name, run in predictors.items()}
    holdout = next(iter(runs.values()))[1]["train"]["holdout_episodes"]
    reader, yaw_reader, reader_metrics = readers_for(episodes, readers, seg_data, camera, holdout)
    sim = sim_spec(data, [camera])
    layout_cfg = LayoutConfig(height=sim["height"], width=sim["width"])
    layout = Layout(layout_cfg, reader) if dynamics else None
    pieces, tensors, metrics = {}, {}, {}
    for name, (model, piece) in runs.items():
        if bool(piece["net"]["layout"]) != bool(dynamics):
            raise ValueError(f"predictor {name} ({predictors[name]}) has net.layout={piece['net']['layout']}; "
                             f"{'a grounded folder needs layout=2' if dynamics else 'layout needs --dynamics'}")
        pieces[name] = {**piece, "deadband": float(deadband), "context_sigma": float(context_sigma)}
        tensors.update({f"predictors.{name}.{k}": v for k, v in tensor_state(model).items()})
        held = episodes.subset(np.arange(len(episodes.lengths))[-holdout:])
        metrics[name] = one_step_psnr(model, held, piece["net"]["context"], layout)
    metrics["reader"] = reader_metrics
    tensors.update({f"reader.{k}": v for k, v in reader.state_dict().items()})
    config = {"family": FAMILY, "sim": sim, "default_predictor": default,
              "predictors": pieces, "reader": to_dict(reader.cfg),
              "provenance": {"data": str(data), "seg_data": str(seg_data), "readers": str(readers),
                             "dynamics": str(dynamics), "train_policies": sorted(set(episodes.policies))}}
    if dynamics:
        extra_config, extra_tensors = grounding_parts(dynamics, yaw_reader, layout_cfg)
        config.update(extra_config)
        tensors.update(extra_tensors)
    return write_bundle(out, config, tensors, metrics)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--seg-data", default=None, help="segmentation dataset to fit the reader on (without --readers)")
    p.add_argument("--readers", default=None, help="folder from python -m posttrain.pixel_unet.reader_fit")
    p.add_argument("--dynamics", default=None, help="run folder of python -m posttrain.pixel_unet.dynamics_train")
    p.add_argument("--predictor", action="append", required=True, help="NAME=RUN_FOLDER (repeatable)")
    p.add_argument("--default", default=None, help="default predictor name (the first given if omitted)")
    p.add_argument("--camera", default="top")
    p.add_argument("--deadband", type=float, default=0.0, help="keep pixels whose predicted change is smaller")
    p.add_argument("--context-sigma", type=float, default=0.0, help="context noise level told to the network")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    runs = dict(item.split("=", 1) for item in args.predictor)
    out = export(args.data, args.seg_data, runs, args.out, args.default or next(iter(runs)), args.camera,
                 args.deadband, args.context_sigma, args.readers, args.dynamics)
    print(f"world model in {out}")


if __name__ == "__main__":
    main()
