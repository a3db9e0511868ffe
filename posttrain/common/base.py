"""The base video DiT every recipe starts from: what a ``worldsim train base`` checkpoint says about itself.

    task = base_task_config("runs/base")      # its config's ``task`` section (tokenizer, camera, latent_scale)
    dit_cfg = base_dit_config("runs/base")    # the DiTConfig it was trained with
    load_base_weights(net, "runs/base")      # its weights into a recipe network's ``net.dit``

Anything else (a tokenizer, an action run) is refused with a message naming what it is.
"""

from __future__ import annotations

from torch import nn

from worldsim.config import structured
from worldsim.diffusion.dit import DiTConfig
from worldsim.io import load_model_weights, read_config

BASE_ARCHITECTURE = "base_video_dit"


def base_task_config(path: str) -> dict:
    """The ``task`` section of a ``worldsim train base`` checkpoint's config (refuses other kinds)."""
    config = read_config(path)
    if config.get("architecture") != BASE_ARCHITECTURE:
        raise ValueError(f"{path} is not a base video model checkpoint "
                         f"(architecture {config.get('architecture')!r}, expected {BASE_ARCHITECTURE!r})")
    return config["task"]


def base_dit_config(path: str) -> DiTConfig:
    """The ``DiTConfig`` a base checkpoint was trained with."""
    model = base_task_config(path)["model"]
    return structured(DiTConfig, model)


def load_base_weights(net: nn.Module, path: str, ema: bool = False) -> None:
    """Load a base DiT checkpoint (its trained weights, or its EMA) into ``net.dit``, refusing any other
    kind; the layers a recipe adds around ``net.dit`` keep their zero init."""
    load_model_weights(net.dit, path, ema=ema, architecture=BASE_ARCHITECTURE)
