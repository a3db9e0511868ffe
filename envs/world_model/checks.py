"""Cheap checks of a world-model folder and the load arguments, before any weights are read.

    config = check_folder("assets/world_models/tabletop_push")      # ValueError naming what is wrong
    check_load_args(config, path, predictor=None, sample_steps=2, sampler="euler")

``worldsim/WorldModel-v0`` (``envs.world_model.session.load_for_env``) and ``worldsim eval``
(``evaluation.columns``, before the first episode) call them, so a folder of another kind (a
camera, multi-view or transfer model, a training run), a missing folder, or a bad
``sample_steps``/``sampler``/``predictor`` is a one-line ValueError up front instead of a
``KeyError`` deep in a load. Reads ``config.yaml`` only (no torch).
"""

from __future__ import annotations

import numbers
from pathlib import Path

FAMILIES = ("pixel_unet", "sawyer", None)   # config.yaml "family"; None: the latent family
SAMPLERS = {"pixel_unet": ("euler",), "sawyer": (), None: ("euler", "heun")}
REQUIRED = {"pixel_unet": ("sim", "predictors", "default_predictor", "reader"),
            "sawyer": ("sim", "predictors", "default_predictor", "dynamics", "painter", "reset_state"),
            None: ("sim", "predictors", "default_predictor", "tokenizer", "judges")}
# folders of other models, by the architecture their config.yaml names: what loads them instead
OTHER_MODELS = {
    "camera_dit": "a camera world model: load it with gym.make('worldsim/CameraWorld-v0', checkpoint=...)",
    "camera_reprojection": "a camera world model: load it with gym.make('worldsim/CameraWorld-v0', checkpoint=...)",
    "multiview_world_model": "a multi-view driving model: load it with gym.make('worldsim/DrivingWorldModel-v0', "
                             "checkpoint=...)",
    "transfer_dit": "a transfer model: use it with `worldsim augment --model`",
}
WHAT = ("a world-model folder (config.yaml, model.safetensors, meta.json, as posttrain/pixel_unet/export.py, "
        "posttrain/sawyer/export.py or posttrain/action/export.py write it)")


def check_folder(path) -> dict:
    """``config.yaml`` of a world-model folder for ``worldsim/WorldModel-v0`` as plain data; ValueError
    when the path does not exist, is not such a folder, or holds another kind of model."""
    folder = Path(path)
    if not folder.exists():
        raise ValueError(f"world model {folder} does not exist; give {WHAT}")
    if not folder.is_dir():
        raise ValueError(f"world model {folder} is a file; give {WHAT}")
    if not (folder / "config.yaml").is_file():
        raise ValueError(f"{folder} is not a world-model folder: config.yaml is missing; give {WHAT}")
    from omegaconf import OmegaConf

    try:
        config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    except Exception as e:   # noqa: BLE001  (any YAML or interpolation error)
        raise ValueError(f"{folder}/config.yaml cannot be read: {e}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{folder}/config.yaml is not a mapping; give {WHAT}")
    architecture = config.get("architecture")
    if architecture in OTHER_MODELS:
        raise ValueError(f"{folder} holds {OTHER_MODELS[architecture]} (architecture {architecture!r}), "
                         f"not a world model for worldsim/WorldModel-v0")
    family = config.get("family")
    if family not in FAMILIES:
        raise ValueError(f"{folder}: unknown world-model family {family!r}; known: pixel_unet, sawyer, or none (latent)")
    missing = [k for k in REQUIRED[family] if k not in config]
    if missing:
        kind = f"architecture {architecture!r}" if architecture else "no world-model sections"
        raise ValueError(f"{folder}/config.yaml is not a world model's ({kind}; missing {', '.join(missing)}); "
                         f"give {WHAT}")
    if config["default_predictor"] not in (config["predictors"] or {}):
        raise ValueError(f"{folder}/config.yaml: default_predictor {config['default_predictor']!r} is not one of "
                         f"its predictors {sorted(config['predictors'] or {})}")
    for name in ("model.safetensors", "meta.json"):
        if not (folder / name).is_file():
            raise ValueError(f"{folder} is an incomplete world-model folder: {name} is missing")
    return config


def check_load_args(config: dict, path, predictor=None, sample_steps=None, sampler=None) -> None:
    """ValueError for a predictor the folder lacks, or sampling settings its family cannot take."""
    family = config.get("family")
    if predictor is not None and predictor not in config["predictors"]:
        raise ValueError(f"predictor={predictor!r}: {path} has no predictor {predictor!r}; it has "
                         f"{sorted(config['predictors'])}")
    if sample_steps is not None and (isinstance(sample_steps, bool) or not isinstance(sample_steps, numbers.Integral)
                                     or sample_steps < 1):
        raise ValueError(f"sample_steps={sample_steps!r}; need a positive int (diffusion steps per frame, "
                         f"1-3 are typical) or None for the folder's own")
    allowed = SAMPLERS[family]
    if sampler is not None and sampler not in allowed:
        raise ValueError(f"sampler={sampler!r}; allowed: {', '.join(allowed)} (or None for the folder's own)")
