"""Random generators: seeded together, and their states (torch CPU/CUDA, numpy, python) captured and
restored for an exact resume."""

from __future__ import annotations

import random

import numpy as np
import torch


def capture_rng() -> tuple[dict[str, torch.Tensor], dict]:
    """(uint8 tensors of the torch CPU/CUDA generators, JSON of numpy's and python's states)."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"torch_cuda_{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    states = {
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "python": [version, list(internal), gauss],
    }
    return tensors, states


def restore_rng(tensors: dict[str, torch.Tensor], states: dict) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("torch_cuda_")), key=lambda k: int(k[11:]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def rank_seed(seed: int, rank: int) -> int:
    """A per-rank seed for training-time randomness (noise draws, dropout) that differs by rank."""
    return int(np.random.SeedSequence([seed, rank, 1]).generate_state(1)[0])
