"""Load a trained model back from its checkpoint folder: the config that built it, then weights."""

from __future__ import annotations

from worldsim.config import structured
from worldsim.io import load_model_weights, read_config


def load_tokenizer(path: str, ema: bool = False):
    """The ``VideoTokenizer`` of a ``worldsim train tokenizer`` run or checkpoint, frozen, in eval mode."""
    from worldsim.tokenizer.model import TokenizerConfig, VideoTokenizer

    config = read_config(path)
    model_cfg = config.get("task", {}).get("model")
    if config.get("architecture") != "video_tokenizer" or model_cfg is None:
        raise ValueError(f"{path} is not a tokenizer checkpoint (architecture {config.get('architecture')!r})")
    cfg = structured(TokenizerConfig, model_cfg)
    model = VideoTokenizer(cfg)
    load_model_weights(model, path, ema=ema, architecture="video_tokenizer")
    model.eval().requires_grad_(False)
    return model
