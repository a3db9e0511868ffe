"""The world-model folder the envs load: one checkpoint holding every trained piece.

    bundle = read_bundle("runs/wm")      # (config dict, tensors, meta), validated
    prefixed(tensors, "tokenizer.")      # one piece's tensors, prefix stripped
    write_bundle("runs/wm", config, tensors, metrics)
    sim_spec("runs/push_train", ["top"]) # the simulator a dataset came from, with its spaces (as recorded)

Layout (docs/design.md, "The world-model folder"): ``model.safetensors`` with keys ``tokenizer.*``,
``predictors.<name>.dynamics.*``, ``predictors.<name>.state_head.*``, ``judges.*``;
``config.yaml`` with each piece's config, the simulator it imitates (env id, kwargs, spaces)
and where every piece came from; ``meta.json`` with the pieces' held-out metrics. Reading never
unpickles. The latent action world model's folders are assembled by posttrain/action/export.py,
the pixel world model's by posttrain/pixel_unet/export.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from worldsim import io as wio
from worldsim.data.lerobot_reader import LeRobotDatasetReader

ARCHITECTURE = "worldsim_world_model"


def sim_spec(data: str, cameras: list[str]) -> dict:
    """The simulator a dataset came from, restricted to ``cameras``, with its spaces: the ``sim`` record
    ``worldsim generate`` writes into meta/info.json (``envs.sim_spec.sim_spec_of`` of its env)."""
    reader = LeRobotDatasetReader(data)
    made = reader.info.get("worldsim", {})
    if not made.get("config"):
        raise ValueError(f"{data} has no worldsim generation config in meta/info.json: not made by `worldsim generate`")
    sim = made.get("sim")
    if not sim:
        raise ValueError(f"{data} records no simulator spaces (meta/info.json worldsim.sim): it was made by an older "
                         f"`worldsim generate`; run the command that made it again (on a complete dataset it only "
                         f"adds the record)")
    missing = [c for c in cameras if c not in sim["cameras"]]
    if missing:
        raise ValueError(f"{data} has no camera {', '.join(map(repr, missing))}; it has {sim['cameras']}")
    return {**sim, "env_kwargs": {**sim["env_kwargs"], "cameras": list(cameras)}, "cameras": list(cameras)}


def write_bundle(out: str, config: dict, tensors: dict, metrics: dict) -> Path:
    if config["default_predictor"] not in config["predictors"]:
        raise ValueError(f"default_predictor {config['default_predictor']!r} is not one of {list(config['predictors'])}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    wio.write_tensors(out / wio.MODEL, state)
    wio.write_yaml(out / wio.CONFIG, config)
    wio.write_json(out / wio.META, wio.make_meta(0, ARCHITECTURE, state, metrics=_plain(metrics)))
    return out


def _plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda v: float(v) if isinstance(v, np.generic) else str(v)))


def read_bundle(path: str) -> tuple[dict, dict, dict]:
    """(config, tensors, meta) of a world-model folder; ValueError naming what is wrong."""
    folder = Path(path)
    if not folder.exists():
        raise ValueError(f"world-model folder {folder} does not exist")
    if not (folder / wio.MODEL).is_file():
        raise ValueError(f"{folder} is not a world-model folder: {wio.MODEL} missing "
                         f"(make one with posttrain.action.default_model or posttrain.action.export.export_world_model)")
    meta = wio.read_json(folder / wio.META)
    if meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{folder} holds a {meta.get('architecture')!r} checkpoint, not a world model "
                         f"({ARCHITECTURE!r}); pass the folder export_world_model wrote")
    config = wio.read_config(folder)
    return config, wio.read_tensors(folder / wio.MODEL), meta


def prefixed(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

