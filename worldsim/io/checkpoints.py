"""Reading a checkpoint for inference: find the folder, load its weights, read its config and meta;
``make_meta`` builds the ``meta.json`` of any checkpoint folder (a training run's or an exported bundle's).

    from worldsim.io import load_model_weights, read_config, read_meta
    load_model_weights(model, "runs/base")             # run folder, checkpoint folder or .safetensors
    load_model_weights(model, "runs/base", ema=True)   # the EMA weights instead
    read_meta("runs/base"), read_config("runs/base")

Layout of a checkpoint folder (``worldsim.training.checkpoint`` writes it)::

    <out>/checkpoints/step_0000100/
        model.safetensors   config.yaml   meta.json            <- the checkpoint proper
        ema.safetensors     optimizer.safetensors  optimizer.json
        rng_rank<r>.safetensors  rng_rank<r>.json  loader_rank<r>.json   <- per rank, for exact resume
    <out>/checkpoints/latest     "step_0000100", written last

Every loading problem (missing file, truncated or corrupt safetensors, a pickle, another
architecture) is a ValueError naming the path, raised before anything is modified.
"""

from __future__ import annotations

import platform
import time
from importlib import metadata as importlib_metadata
from pathlib import Path

import torch
from omegaconf import OmegaConf

from worldsim.io.files import read_json, require
from worldsim.io.state import check_matches, load_tensor_state, param_shapes_hash, tensor_state
from worldsim.io.tensors import read_tensors

MODEL, EMA, CONFIG, META = "model.safetensors", "ema.safetensors", "config.yaml", "meta.json"
LATEST = "latest"
FORMAT_VERSION = 1


def latest_checkpoint(root: Path) -> Path | None:
    """The folder ``root/latest`` names, or None when there is no ``latest``."""
    pointer = Path(root) / LATEST
    if not pointer.is_file():
        return None
    target = Path(root) / pointer.read_text().strip()
    if not (target / MODEL).is_file():
        raise ValueError(f"{pointer} names {target.name}, which is missing or incomplete")
    return target


def complete_checkpoints(root: Path) -> list[Path]:
    """Committed checkpoint folders under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_") and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]))


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder from a checkpoint folder, a run folder or a checkpoints folder."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if path.is_file() or (path / MODEL).is_file():
        return path
    for root in (path / "checkpoints", path):
        found = latest_checkpoint(root)
        if found is not None:
            return found
    raise ValueError(f"{path} holds no checkpoint: expected {MODEL}, or a run folder with checkpoints/{LATEST}")


def check_architecture(ckpt_dir: Path, architecture: str | None) -> None:
    meta = read_json(ckpt_dir / META)
    if architecture is not None and meta.get("architecture") != architecture:
        raise ValueError(
            f"{ckpt_dir} holds a {meta.get('architecture')!r} checkpoint, expected architecture {architecture!r}"
        )


def load_model_weights(
    model: torch.nn.Module, path: str | Path, ema: bool = False, architecture: str | None = None
) -> Path:
    """Load weights (or the EMA weights) into ``model`` in place; returns the file read."""
    found = resolve_checkpoint(path)
    file = found if found.is_file() else found / (EMA if ema else MODEL)
    if found.is_dir():
        check_architecture(found, architecture)
    tensors = read_tensors(file)
    check_matches(file, tensors, tensor_state(model))
    load_tensor_state(model, tensors)
    return file


def read_meta(path: str | Path) -> dict:
    return read_json(resolve_checkpoint(path) / META)


def read_config(path: str | Path) -> dict:
    file = resolve_checkpoint(path) / CONFIG
    require(file)
    return OmegaConf.to_container(OmegaConf.load(file), resolve=True)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("torch", "numpy", "safetensors", "megatron-core", "worldsim"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def make_meta(step: int, architecture: str, model_state: dict, **extra) -> dict:
    """The ``meta.json`` of a checkpoint folder: step, architecture, shapes hash, versions, time, ``extra``."""
    return {
        "format": FORMAT_VERSION, "step": step, "architecture": architecture,
        "param_shapes_hash": param_shapes_hash(model_state), "versions": versions(),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **extra,
    }
