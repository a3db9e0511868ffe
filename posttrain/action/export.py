"""Assemble the latent world-model folder (posttrain/common/bundle.py) from trained action and judge runs.

    export_world_model("runs/wm", tokenizer="runs/tokenizer",
                       predictors={"deterministic": "runs/det", "diffusion": "runs/action"},
                       judges="runs/judge", data="runs/push_train")
    add_predictor("runs/wm", "diffusion", "runs/action2", out="runs/wm2")   # one more predictor
    model, cfg = load_action_run("runs/action")                             # one run, LoRA merged

LoRA adapters are merged, so loading the folder needs no LoRA code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from posttrain.action.config import ActionTaskConfig, JudgeTaskConfig, predict_config
from posttrain.action.judges import Judges
from posttrain.action.task import build_action_model
from posttrain.common.bundle import ARCHITECTURE, read_bundle, sim_spec, write_bundle
from posttrain.common.codec import load_codec
from posttrain.common.lora import apply_lora, merge_lora
from posttrain.common.predict import PredictConfig
from posttrain.common.runtime import ensure_megatron
from worldsim import io as wio
from worldsim.config import structured, to_dict

ACTION_ARCHITECTURE = "action_world_model"
JUDGE_ARCHITECTURE = "world_model_judges"


def _task(path: str, architecture: str) -> dict:
    config = wio.read_config(path)
    if config.get("architecture") != architecture:
        raise ValueError(f"{path} is a {config.get('architecture')!r} checkpoint, expected {architecture!r}")
    return config["task"]


def load_action_run(path: str, ema: bool = False):
    """(ActionWorldModel with LoRA merged, resolved ActionTaskConfig) of a posttrain action run."""
    cfg = structured(ActionTaskConfig, _task(path, ACTION_ARCHITECTURE))
    if cfg.network == "dit":
        ensure_megatron()
    model = build_action_model(cfg)
    if cfg.network == "dit":
        apply_lora(model.dynamics.dit, cfg.lora)
    wio.load_model_weights(model, path, ema=ema, architecture=ACTION_ARCHITECTURE)
    merge_lora(model)
    return model.eval(), cfg


def load_judge_run(path: str, ema: bool = False):
    cfg = structured(JudgeTaskConfig, _task(path, JUDGE_ARCHITECTURE))
    judges = Judges(cfg.model)
    wio.load_model_weights(judges, path, ema=ema, architecture=JUDGE_ARCHITECTURE)
    return judges.eval(), cfg


def _check_compatible(name: str, cfg, first) -> None:
    for key in ("cameras", "latent_scale", "context_frames"):
        if getattr(cfg, key) != getattr(first, key):
            raise ValueError(f"predictor {name!r} has {key}={getattr(cfg, key)!r}, the first has "
                             f"{getattr(first, key)!r}: predictors of one world model must agree")


def export_world_model(out: str, tokenizer: str, predictors: dict[str, str], judges: str, data: str,
                       default_predictor: str | None = None, ema: bool = False, provenance: dict | None = None) -> Path:
    """Assemble the world-model folder ``out`` from trained runs; returns it."""
    if not predictors:
        raise ValueError("export needs at least one predictor run")
    tensors, pieces, metrics, first = {}, {}, {}, None
    for name, path in predictors.items():
        model, cfg = load_action_run(path, ema)
        first = first or cfg
        _check_compatible(name, cfg, first)
        tensors.update({f"predictors.{name}.{k}": v for k, v in wio.tensor_state(model).items()})
        net = to_dict(cfg.conv) if cfg.network == "conv" else {"dit": to_dict(cfg.model), "action_dim": cfg.action_dim}
        pieces[name] = {"network": cfg.network, "net": net, "predict": to_dict(predict_config(cfg)),
                        "state_head": to_dict(cfg.state_head), "source": str(path)}
        metrics[name] = wio.read_meta(path).get("metrics", {})
    judge_model, judge_cfg = load_judge_run(judges, ema)
    if judge_cfg.latent_scale != first.latent_scale or judge_cfg.cameras != first.cameras:
        raise ValueError(f"judges ({judges}) read cameras {judge_cfg.cameras} at latent_scale {judge_cfg.latent_scale}; "
                         f"the predictors use {first.cameras} at {first.latent_scale}")
    tensors.update({f"judges.{k}": v for k, v in wio.tensor_state(judge_model).items()})
    metrics["judges"] = wio.read_meta(judges).get("metrics", {})
    tok = load_codec(tokenizer)
    tensors.update({f"tokenizer.{k}": v for k, v in wio.tensor_state(tok).items()})
    config = {
        "architecture": ARCHITECTURE, "sim": sim_spec(data, first.cameras), "latent_scale": first.latent_scale,
        "context_frames": first.context_frames, "tokenizer": to_dict(tok.cfg), "predictors": pieces,
        "default_predictor": default_predictor or next(iter(predictors)), "judges": to_dict(judge_cfg.model),
        "provenance": {"data": str(data), "tokenizer": str(tokenizer), "judges": str(judges), **(provenance or {})},
    }
    return write_bundle(out, config, tensors, metrics)


def add_predictor(bundle: str, name: str, run: str, out: str, default: bool = False, ema: bool = False,
                  predict: dict | None = None) -> Path:
    """A copy of world-model folder ``bundle`` at ``out`` with predictor ``name`` from action run ``run``.

    The run must read the same codec, cameras, latent scale and context length as the bundle;
    ``predict`` overrides how it steps (posttrain.common.predict.PredictConfig fields, e.g. deadband)."""
    config, tensors, meta = read_bundle(bundle)
    if name in config["predictors"]:
        raise ValueError(f"{bundle} already has a predictor {name!r}; pick another name")
    model, cfg = load_action_run(run, ema)
    codec = load_codec(cfg.tokenizer)
    same = to_dict(codec.cfg) == config["tokenizer"] and all(
        torch.equal(v, tensors.get(f"tokenizer.{k}", torch.empty(0))) for k, v in wio.tensor_state(codec).items())
    if not same:
        raise ValueError(f"{run} was trained on codec {cfg.tokenizer} ({to_dict(codec.cfg)}), not on the codec "
                         f"stored in {bundle} ({config['tokenizer']})")
    for key, have in (("cameras", config["sim"]["cameras"]), ("latent_scale", config["latent_scale"]),
                      ("context_frames", config["context_frames"])):
        if getattr(cfg, key) != have:
            raise ValueError(f"{run} has {key}={getattr(cfg, key)!r}, {bundle} has {have!r}: they must agree")
    tensors = {**tensors, **{f"predictors.{name}.{k}": v for k, v in wio.tensor_state(model).items()}}
    net = to_dict(cfg.conv) if cfg.network == "conv" else {"dit": to_dict(cfg.model), "action_dim": cfg.action_dim}
    stepping = to_dict(structured(PredictConfig, {**to_dict(predict_config(cfg)), **(predict or {})}))
    config["predictors"][name] = {"network": cfg.network, "net": net, "predict": stepping,
                                  "state_head": to_dict(cfg.state_head), "source": str(run)}
    if default:
        config["default_predictor"] = name
    metrics = {**meta.get("metrics", {}), name: wio.read_meta(run).get("metrics", {})}
    return write_bundle(out, config, tensors, metrics)
