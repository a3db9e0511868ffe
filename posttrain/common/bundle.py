"""The world-model folder the envs load: one checkpoint holding every trained piece.

    export_world_model("runs/wm", tokenizer="runs/tokenizer",
                       predictors={"deterministic": "runs/det", "diffusion": "runs/action"},
                       judges="runs/judge", data="runs/push_train")
    bundle = read_bundle("runs/wm")      # config dict + tensors, validated
    add_predictor("runs/wm", "diffusion", "runs/action2", out="runs/wm2")   # one more predictor

Layout (DESIGN "Checkpoints"): ``model.safetensors`` with keys ``tokenizer.*``,
``predictors.<name>.dynamics.*``, ``predictors.<name>.state_head.*``, ``judges.*``;
``config.yaml`` with each piece's config, the simulator it imitates (env id, kwargs, spaces)
and where every piece came from; ``meta.json`` with the pieces' held-out metrics. LoRA adapters
are merged, so loading needs no LoRA code. Reading never unpickles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from posttrain.common.lora import apply_lora, merge_lora
from worldsim.config import structured, to_dict
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.training import checkpoint as ckpt

ARCHITECTURE = "worldsim_world_model"
ACTION_ARCHITECTURE = "action_world_model"
JUDGE_ARCHITECTURE = "world_model_judges"


def _task(path: str, architecture: str) -> dict:
    config = ckpt.read_config(path)
    if config.get("architecture") != architecture:
        raise ValueError(f"{path} is a {config.get('architecture')!r} checkpoint, expected {architecture!r}")
    return config["task"]


def load_action_run(path: str, ema: bool = False):
    """(ActionWorldModel with LoRA merged, resolved ActionTaskConfig) of a posttrain action run."""
    from posttrain.action.task import ActionTaskConfig, build_action_model

    cfg = structured(ActionTaskConfig, _task(path, ACTION_ARCHITECTURE))
    if cfg.network == "dit":
        from posttrain.common.runtime import ensure_megatron

        ensure_megatron()
    model = build_action_model(cfg)
    if cfg.network == "dit":
        apply_lora(model.dynamics.dit, cfg.lora)
    ckpt.load_model_weights(model, path, ema=ema, architecture=ACTION_ARCHITECTURE)
    merge_lora(model)
    return model.eval(), cfg


def load_judge_run(path: str, ema: bool = False):
    from evaluation.judges.model import Judges
    from posttrain.action.judge_task import JudgeTaskConfig

    cfg = structured(JudgeTaskConfig, _task(path, JUDGE_ARCHITECTURE))
    judges = Judges(cfg.model)
    ckpt.load_model_weights(judges, path, ema=ema, architecture=JUDGE_ARCHITECTURE)
    return judges.eval(), cfg


def sim_spec(data: str, cameras: list[str]) -> dict:
    """The simulator a dataset came from, restricted to ``cameras``, with its spaces (makes the env once)."""
    reader = LeRobotDatasetReader(data)
    gen = reader.info.get("worldsim", {}).get("config")
    if not gen:
        raise ValueError(f"{data} has no worldsim generation config in meta/info.json: not made by `worldsim generate`")
    kwargs = {"cameras": list(cameras), "image_size": gen["image_size"]}
    if gen.get("task"):
        kwargs["task"] = gen["task"]
    return sim_spec_of(gen["env"], kwargs)


def sim_spec_of(env_id: str, env_kwargs: dict) -> dict:
    """Spaces and settings of simulator ``env_id`` made with ``env_kwargs`` (cameras, image_size, ...)."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    cameras = list(env_kwargs["cameras"])
    env = gym.make(env_id, **{**env_kwargs, "cameras": tuple(cameras)})
    try:
        obs_space, action_space = env.observation_space, env.action_space
        height, width = obs_space["pixels"][cameras[0]].shape[:2]
        return {"env_id": env_id, "env_kwargs": dict(env_kwargs, cameras=cameras), "cameras": cameras,
                "height": int(height), "width": int(width), "agent_dim": int(obs_space["agent_pos"].shape[0]),
                "env_dim": int(obs_space["environment_state"].shape[0]),
                "action_low": action_space.low.tolist(), "action_high": action_space.high.tolist(),
                "terminate_on_success": bool(getattr(env.unwrapped, "terminate_on_success", True)),
                "max_episode_steps": int(env.spec.max_episode_steps or 100),
                "render_fps": int(env.metadata.get("render_fps", 10))}
    finally:
        env.close()


def _check_compatible(name: str, cfg, first) -> None:
    for key in ("cameras", "latent_scale", "context_frames"):
        if getattr(cfg, key) != getattr(first, key):
            raise ValueError(f"predictor {name!r} has {key}={getattr(cfg, key)!r}, the first has "
                             f"{getattr(first, key)!r}: predictors of one world model must agree")


def export_world_model(out: str, tokenizer: str, predictors: dict[str, str], judges: str, data: str,
                       default_predictor: str | None = None, ema: bool = False, provenance: dict | None = None) -> Path:
    """Assemble the world-model folder ``out`` from trained runs; returns it."""
    from posttrain.common.codec import load_codec
    from posttrain.action.task import predict_config

    if not predictors:
        raise ValueError("export needs at least one predictor run")
    tensors, pieces, metrics, first = {}, {}, {}, None
    for name, path in predictors.items():
        model, cfg = load_action_run(path, ema)
        first = first or cfg
        _check_compatible(name, cfg, first)
        tensors.update({f"predictors.{name}.{k}": v for k, v in ckpt.tensor_state(model).items()})
        net = to_dict(cfg.conv) if cfg.network == "conv" else {"dit": to_dict(cfg.model), "action_dim": cfg.action_dim}
        pieces[name] = {"network": cfg.network, "net": net, "predict": to_dict(predict_config(cfg)),
                        "state_head": to_dict(cfg.state_head), "source": str(path)}
        metrics[name] = ckpt.read_meta(path).get("metrics", {})
    judge_model, judge_cfg = load_judge_run(judges, ema)
    if judge_cfg.latent_scale != first.latent_scale or judge_cfg.cameras != first.cameras:
        raise ValueError(f"judges ({judges}) read cameras {judge_cfg.cameras} at latent_scale {judge_cfg.latent_scale}; "
                         f"the predictors use {first.cameras} at {first.latent_scale}")
    tensors.update({f"judges.{k}": v for k, v in ckpt.tensor_state(judge_model).items()})
    metrics["judges"] = ckpt.read_meta(judges).get("metrics", {})
    tok = load_codec(tokenizer)
    tensors.update({f"tokenizer.{k}": v for k, v in ckpt.tensor_state(tok).items()})
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
    ``predict`` overrides how it steps (posttrain.action.predict.PredictConfig fields, e.g. deadband)."""
    import torch

    from posttrain.common.codec import load_codec
    from posttrain.action.task import predict_config

    config, tensors, meta = read_bundle(bundle)
    if name in config["predictors"]:
        raise ValueError(f"{bundle} already has a predictor {name!r}; pick another name")
    model, cfg = load_action_run(run, ema)
    codec = load_codec(cfg.tokenizer)
    same = to_dict(codec.cfg) == config["tokenizer"] and all(
        torch.equal(v, tensors.get(f"tokenizer.{k}", torch.empty(0))) for k, v in ckpt.tensor_state(codec).items())
    if not same:
        raise ValueError(f"{run} was trained on codec {cfg.tokenizer} ({to_dict(codec.cfg)}), not on the codec "
                         f"stored in {bundle} ({config['tokenizer']})")
    for key, have in (("cameras", config["sim"]["cameras"]), ("latent_scale", config["latent_scale"]),
                      ("context_frames", config["context_frames"])):
        if getattr(cfg, key) != have:
            raise ValueError(f"{run} has {key}={getattr(cfg, key)!r}, {bundle} has {have!r}: they must agree")
    tensors = {**tensors, **{f"predictors.{name}.{k}": v for k, v in ckpt.tensor_state(model).items()}}
    net = to_dict(cfg.conv) if cfg.network == "conv" else {"dit": to_dict(cfg.model), "action_dim": cfg.action_dim}
    from posttrain.action.predict import PredictConfig

    stepping = to_dict(structured(PredictConfig, {**to_dict(predict_config(cfg)), **(predict or {})}))
    config["predictors"][name] = {"network": cfg.network, "net": net, "predict": stepping,
                                  "state_head": to_dict(cfg.state_head), "source": str(run)}
    if default:
        config["default_predictor"] = name
    metrics = {**meta.get("metrics", {}), name: ckpt.read_meta(run).get("metrics", {})}
    return write_bundle(out, config, tensors, metrics)


def write_bundle(out: str, config: dict, tensors: dict, metrics: dict) -> Path:
    if config["default_predictor"] not in config["predictors"]:
        raise ValueError(f"default_predictor {config['default_predictor']!r} is not one of {list(config['predictors'])}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    ckpt.write_tensors(out / ckpt.MODEL, state)
    ckpt.write_yaml(out / ckpt.CONFIG, config)
    ckpt.write_json(out / ckpt.META, ckpt.make_meta(0, ARCHITECTURE, state, metrics=_plain(metrics)))
    return out


def _plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda v: float(v) if isinstance(v, np.generic) else str(v)))


def read_bundle(path: str) -> tuple[dict, dict, dict]:
    """(config, tensors, meta) of a world-model folder; ValueError naming what is wrong."""
    folder = Path(path)
    if not (folder / ckpt.MODEL).is_file():
        raise ValueError(f"{folder} is not a world-model folder: {ckpt.MODEL} missing "
                         f"(make one with posttrain.action.default_model or posttrain.common.bundle.export_world_model)")
    meta = ckpt.read_json(folder / ckpt.META)
    if meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{folder} holds a {meta.get('architecture')!r} checkpoint, not a world model "
                         f"({ARCHITECTURE!r}); pass the folder export_world_model wrote")
    config = ckpt.read_config(folder)
    return config, ckpt.read_tensors(folder / ckpt.MODEL), meta


def prefixed(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

