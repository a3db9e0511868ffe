"""Reading a training checkpoint back for an exact resume, every part validated before any is applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from worldsim.io.checkpoints import EMA, META, MODEL, check_architecture
from worldsim.io.files import read_json
from worldsim.io.state import check_matches
from worldsim.io.tensors import read_tensors
from worldsim.training.checkpoint import (
    OPTIM_JSON,
    OPTIM_TENSORS,
    loader_file,
    rng_files,
)
from worldsim.training.flat_state import read_flat_state


@dataclass
class TrainingState:
    """Everything read back for an exact resume, validated before any of it is applied."""

    path: Path
    step: int
    meta: dict
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict
    rng_tensors: dict[str, torch.Tensor]
    rng_states: dict
    loader: dict


def read_training_state(
    ckpt_dir: Path, rank: int, world_size: int, expected_model: dict, architecture: str
) -> TrainingState:
    ckpt_dir = Path(ckpt_dir)
    check_architecture(ckpt_dir, architecture)
    meta = read_json(ckpt_dir / META)
    if meta.get("world_size", world_size) != world_size:
        raise ValueError(
            f"{ckpt_dir} was written by {meta['world_size']} processes, this run has {world_size}; "
            f"exact resume needs the same number (per-rank RNG and loader states)"
        )
    model = read_tensors(ckpt_dir / MODEL)
    check_matches(ckpt_dir / MODEL, model, expected_model)
    ema = read_tensors(ckpt_dir / EMA)
    check_matches(ckpt_dir / EMA, ema, expected_model)
    optimizer = read_flat_state(ckpt_dir / OPTIM_TENSORS, ckpt_dir / OPTIM_JSON)
    tensor_file, json_file = rng_files(rank)
    rng_tensors, rng_states = read_tensors(ckpt_dir / tensor_file), read_json(ckpt_dir / json_file)
    loader = read_json(ckpt_dir / loader_file(rank))
    return TrainingState(ckpt_dir, int(meta["step"]), meta, model, ema, optimizer, rng_tensors, rng_states, loader)
