"""Load a trained transfer model, and export one with its branches only (the base stays a reference).

    net, cfg, codec = load_transfer_model("runs/transfer/model")      # a run or checkpoint folder
    export_branches("runs/transfer/model", "assets/world_models/transfer_tabletop")

A checkpoint trained with a frozen base holds the base's weights unchanged, so ``export_branches``
writes only ``branches.*`` (plus config.yaml and meta.json); loading such a folder takes the base
weights from the checkpoint its config names (``task.base``). Another architecture, or a base that
no longer matches, is a ValueError naming the path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from posttrain.common.base import load_base_weights
from posttrain.common.codec import load_codec
from posttrain.transfer.config import ARCHITECTURE, TransferTaskConfig, network_config, spatial_compression
from posttrain.transfer.model import TransferDiT
from worldsim import io as wio
from worldsim.config import structured


def transfer_config(path: str) -> TransferTaskConfig:
    config = wio.read_config(path)
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path} is not a transfer model (architecture {config.get('architecture')!r}, "
                         f"expected {ARCHITECTURE!r}); train one with `worldsim posttrain transfer`")
    cfg = structured(TransferTaskConfig, config["task"])
    cfg.base, cfg.tokenizer = _in_repo(cfg.base), _in_repo(cfg.tokenizer)
    return cfg


def _in_repo(path: str) -> str:
    """``assets/...`` paths (as a shipped model's config names them) work from any directory."""
    from assets import ROOT

    if path.startswith("assets/") and not Path(path).exists() and (ROOT / path[len("assets/"):]).exists():
        return str(ROOT / path[len("assets/"):])
    return path


def load_transfer_model(path: str, ema: bool = False):
    """(TransferDiT in eval mode, its TransferTaskConfig, its codec) from a run, checkpoint or export."""
    from posttrain.common.runtime import ensure_megatron

    cfg = transfer_config(path)
    ensure_megatron()
    codec = load_codec(cfg.tokenizer)
    net = TransferDiT(network_config(cfg, spatial_compression(codec)))
    found = wio.resolve_checkpoint(path)
    file = found / (wio.EMA if ema and (found / wio.EMA).is_file() else wio.MODEL)
    tensors = wio.read_tensors(file)
    if not any(k.startswith("dit.") for k in tensors):
        load_base_weights(net, cfg.base, ema=cfg.base_ema)
        expected = {k: v for k, v in wio.tensor_state(net).items() if k.startswith("branches.")}
        wio.check_matches(file, tensors, expected)
        tensors = {**wio.tensor_state(net), **tensors}
    else:
        wio.check_matches(file, tensors, wio.tensor_state(net))
    wio.load_tensor_state(net, tensors)
    net.eval().requires_grad_(False)
    return net, cfg, codec


def export_branches(path: str, out: str, ema: bool = False) -> Path:
    """Write the branches of a frozen-base transfer checkpoint to ``out`` (config.yaml, meta.json)."""
    cfg = transfer_config(path)
    if cfg.train_base:
        raise ValueError(f"{path} was trained with train_base=true; its base changed, export the whole checkpoint")
    found = wio.resolve_checkpoint(path)
    tensors = wio.read_tensors(found / (wio.EMA if ema else wio.MODEL))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wio.write_tensors(out / wio.MODEL, {k: v for k, v in tensors.items() if k.startswith("branches.")})
    for name in (wio.CONFIG, wio.META):
        shutil.copyfile(found / name, out / name)
    return out
