"""A valid pixel world-model folder with random weights, for tests and smoke runs (no training).

    sim = envs.sim_spec.sim_spec_of("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 32})
    path = untrained_pixel_world_model("runs/wm_tiny", sim, UNetConfig(channels=[16, 32]), perturb=0.05)
    path = untrained_pixel_world_model(..., grounded=True)   # with state dynamics, yaw reader, layout

The predictors' weights are perturbed from their (copy-the-last-frame) initialisation so steps
change the frame; the reader maps the image square linearly onto the table (0.77 m across, y up),
roughly what the top camera sees, without being fitted.
"""

from __future__ import annotations

import dataclasses

import torch

from posttrain.pixel_unet.config import EDMSettings, PixelTrainConfig, UNetConfig
from posttrain.pixel_unet.predictors import make_predictor
from posttrain.pixel_unet.reader import ReaderConfig, StateReader
from posttrain.pixel_unet.world_model import FAMILY

TABLE_VIEW = 0.77  # metres of table across the top camera's image


def linear_reader() -> StateReader:
    reader = StateReader(ReaderConfig())
    coef = torch.zeros(len(reader.cfg.objects), 6, 2)
    coef[:, 0] = torch.tensor([-TABLE_VIEW / 2, TABLE_VIEW / 2])
    coef[:, 1, 0], coef[:, 2, 1] = TABLE_VIEW, -TABLE_VIEW
    reader.coef.copy_(coef)
    return reader


def untrained_pixel_world_model(out: str, sim: dict, net: UNetConfig, perturb: float = 0.05, seed: int = 0,
                                grounded: bool = False):
    """``sim``: the simulator's record (``envs.sim_spec.sim_spec_of``; TabletopPush for the reader)."""
    from posttrain.common.bundle import write_bundle
    from worldsim.config import to_dict

    torch.manual_seed(seed)
    net = dataclasses.replace(net, layout=2 if grounded else 0)
    pieces, tensors = {}, {}
    for kind in ("deterministic", "diffusion"):
        model = make_predictor(kind, net, EDMSettings())
        with torch.no_grad():
            for p in model.parameters():
                p.add_(perturb * torch.randn_like(p))
        train = dataclasses.replace(PixelTrainConfig(), predictor=kind, net=net)
        pieces[kind] = {"kind": kind, "net": to_dict(net), "edm": to_dict(EDMSettings()), "train": to_dict(train)}
        tensors.update({f"predictors.{kind}.{k}": v for k, v in model.state_dict().items()})
    reader = linear_reader()
    tensors.update({f"reader.{k}": v for k, v in reader.state_dict().items()})
    config = {"family": FAMILY, "sim": sim, "default_predictor": "deterministic",
              "predictors": pieces, "reader": to_dict(reader.cfg), "provenance": {"untrained": True}}
    if grounded:
        config.update(untrained_grounding(tensors, config["sim"]))
    return write_bundle(out, config, tensors, {})


def untrained_grounding(tensors: dict, sim: dict) -> dict:
    """Random dynamics and yaw reader (added to ``tensors``); the config entries of a grounded folder."""
    from posttrain.pixel_unet.dynamics import DynamicsConfig, StateDynamics
    from posttrain.pixel_unet.layout import LayoutConfig
    from posttrain.pixel_unet.yaw_reader import YawReader, YawReaderConfig
    from worldsim.config import to_dict

    dynamics, yaw_reader = StateDynamics(DynamicsConfig(width=32, layers=2)), YawReader(YawReaderConfig(hidden=8))
    tensors.update({f"dynamics.{k}": v for k, v in dynamics.state_dict().items()})
    tensors.update({f"yaw_reader.{k}": v for k, v in yaw_reader.state_dict().items()})
    return {"dynamics": {"net": to_dict(dynamics.cfg)}, "yaw_reader": to_dict(yaw_reader.cfg),
            "layout": to_dict(LayoutConfig(height=sim["height"], width=sim["width"]))}
