"""Writing training checkpoints: begin, write, commit, prune; weights in safetensors, the rest in JSON.

    tmp = begin(root, step)                              # main rank
    write_rank_state(tmp, rank, loader_state)            # every rank: RNG states, loader position
    write_main_state(tmp, model, ema, optim, config, meta)   # main rank, meta last
    commit(root, step, keep_last)                        # main rank: rename, point ``latest``, prune

The folder layout and reading a checkpoint for inference are in ``worldsim.io.checkpoints``;
reading one back for an exact resume is ``worldsim.training.resume``.

A checkpoint is written into ``step_XXXXXXX.tmp`` and renamed when complete, then ``latest`` is
replaced, then old ones beyond ``keep_last`` are removed: a run killed at any moment leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from worldsim.io.checkpoints import CONFIG, EMA, LATEST, META, MODEL, complete_checkpoints
from worldsim.io.files import fsync_dir, write_json, write_text, write_yaml
from worldsim.io.tensors import write_tensors
from worldsim.training.flat_state import flatten_state
from worldsim.training.rng import capture_rng

OPTIM_TENSORS, OPTIM_JSON = "optimizer.safetensors", "optimizer.json"


def step_name(step: int) -> str:
    return f"step_{step:07d}"


def rng_files(rank: int) -> tuple[str, str]:
    return f"rng_rank{rank}.safetensors", f"rng_rank{rank}.json"


def loader_file(rank: int) -> str:
    return f"loader_rank{rank}.json"


def begin(root: Path, step: int) -> Path:
    """A fresh ``step_XXXXXXX.tmp`` folder under ``root`` (main rank only)."""
    tmp = Path(root) / f"{step_name(step)}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def write_rank_state(tmp: Path, rank: int, loader_state: dict) -> None:
    """This rank's RNG states and loader position (every rank)."""
    rng_tensors, rng_states = capture_rng()
    tensor_file, json_file = rng_files(rank)
    write_tensors(tmp / tensor_file, rng_tensors)
    write_json(tmp / json_file, rng_states)
    write_json(tmp / loader_file(rank), loader_state)


def write_main_state(
    tmp: Path, model_state: dict, ema_state: dict, optimizer_state: dict, config: dict, meta: dict
) -> None:
    """Weights, EMA, optimizer, config and meta (main rank only; meta last)."""
    write_tensors(tmp / MODEL, model_state)
    write_tensors(tmp / EMA, ema_state)
    optim_tensors: dict[str, torch.Tensor] = {}
    structure = flatten_state(optimizer_state, optim_tensors)
    write_tensors(tmp / OPTIM_TENSORS, optim_tensors)
    write_json(tmp / OPTIM_JSON, structure)
    write_yaml(tmp / CONFIG, config)
    write_json(tmp / META, meta)


def commit(root: Path, step: int, keep_last: int) -> Path:
    """Rename the tmp folder into place, point ``latest`` at it, prune old ones (main rank only)."""
    root = Path(root)
    tmp, final = root / f"{step_name(step)}.tmp", root / step_name(step)
    fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    write_text(root / LATEST, f"{final.name}\n")
    fsync_dir(root)
    prune(root, keep_last)
    return final


def prune(root: Path, keep_last: int) -> None:
    if keep_last <= 0:
        return
    for old in complete_checkpoints(root)[:-keep_last]:
        shutil.rmtree(old)


def remove_partial(root: Path) -> list[Path]:
    """Delete ``*.tmp`` leftovers of a run that died while saving; returns what was removed."""
    root = Path(root)
    leftovers = [p for p in root.glob("*.tmp")] if root.is_dir() else []
    for p in leftovers:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return leftovers
