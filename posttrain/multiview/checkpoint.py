"""Load a trained multi-view world model back from a ``worldsim posttrain multiview`` run or checkpoint.

    model, cfg = load_multiview("assets/world_models/driving_multiview")   # eval mode, no grad
"""

from __future__ import annotations

from posttrain.common.runtime import ensure_megatron
from posttrain.multiview.config import ARCHITECTURE, MultiViewTaskConfig
from posttrain.multiview.model import MultiViewNetwork
from posttrain.multiview.task import build_multiview_model
from worldsim import io as wio
from worldsim.config import structured


def load_multiview(path: str, ema: bool = False) -> tuple[MultiViewNetwork, MultiViewTaskConfig]:
    """(model in eval mode, resolved config) of a ``worldsim posttrain multiview`` run or checkpoint."""
    config = wio.read_config(path)
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path} is a {config.get('architecture')!r} checkpoint, expected {ARCHITECTURE!r} "
                         f"(a `worldsim posttrain multiview` run)")
    cfg = structured(MultiViewTaskConfig, config["task"])
    ensure_megatron()
    model = build_multiview_model(cfg)
    wio.load_model_weights(model, path, ema=ema, architecture=ARCHITECTURE)
    return model.eval().requires_grad_(False), cfg
