"""Load a trained camera model back: from a ``worldsim posttrain camera`` run, checkpoint or shipped folder.

    model, codec, cfg = load_camera_run("assets/world_models/camera_tabletop")
"""

from __future__ import annotations

from posttrain.camera.config import ARCHITECTURE, CameraTaskConfig, model_config
from posttrain.camera.model import CameraDiT
from posttrain.common.codec import load_codec
from worldsim.config import structured
from worldsim.io import load_model_weights, read_config


def load_camera_run(path: str, ema: bool = False) -> tuple[CameraDiT, object, CameraTaskConfig]:
    """(model in eval mode, codec, resolved config) from a camera run, checkpoint or shipped folder."""
    config = read_config(path)
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path} holds a {config.get('architecture')!r} checkpoint, expected {ARCHITECTURE!r} "
                         "(a `worldsim posttrain camera` run)")
    cfg = structured(CameraTaskConfig, config["task"])
    codec = load_codec(cfg.tokenizer)
    model = CameraDiT(model_config(cfg, codec))
    load_model_weights(model, path, ema=ema, architecture=ARCHITECTURE)
    return model.eval(), codec, cfg
