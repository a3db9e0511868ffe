"""Megatron ``parallel_state`` for one process (tests, notebooks, CPU runs without torchrun).

Megatron modules look up their tensor/pipeline/context-parallel groups at construction, so they
need ``torch.distributed`` and ``parallel_state.initialize_model_parallel`` even at world size 1:

    with megatron_world(seed=0):
        model = DiT(DiTConfig(spec="cpu"))

The groups come from ``worldsim.training.parallel.session`` (gloo on CPU, NCCL with CUDA);
anything already initialised (e.g. by torchrun) is reused and left alone on exit.

Seeding on CPU: ``model_parallel_cuda_manual_seed`` calls ``torch.cuda.manual_seed`` and the RNG
tracker's ``add``/``fork`` read and write CUDA generator state, so on a CPU-only machine it is not
called and the tracker stays uninitialised. Nothing of ours needs it: weights are made with
``use_cpu_initialization=True`` (megatron's ``_initialize_affine_weight_cpu`` draws from torch's
CPU generator, seeded here), SDPA attention draws dropout from the default generator, and layer
recomputation uses ``torch.utils.checkpoint``. With CUDA the tracker is seeded the usual way.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


def seed_megatron(seed: int) -> None:
    """Seed torch (CPU) and, where CUDA exists, megatron's tensor-parallel RNG tracker."""
    from megatron.core import tensor_parallel

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        tensor_parallel.model_parallel_cuda_manual_seed(seed)


@contextlib.contextmanager
def megatron_world(seed: int = 0, tensor_parallel: int = 1,
                   pipeline_parallel: int = 1) -> Iterator[None]:
    """torch.distributed (world size 1) + megatron model-parallel groups for the ``with`` body."""
    from worldsim.training import parallel

    with parallel.session(tensor_parallel, pipeline_parallel):
        seed_megatron(seed)
        yield
