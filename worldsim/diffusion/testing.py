"""Megatron ``parallel_state`` for one process (tests, notebooks, CPU runs without torchrun).

Megatron modules look up their tensor/pipeline/context-parallel groups at construction, so they
need ``torch.distributed`` and ``parallel_state.initialize_model_parallel`` even at world size 1:

    with megatron_world(seed=0):
        model = DiT(DiTConfig(spec="cpu"))

Backend gloo (NCCL where CUDA is available), store a FileStore in a temporary folder, so no port
is opened. Anything already initialised (e.g. by torchrun) is reused and left alone on exit.

Seeding on CPU: ``model_parallel_cuda_manual_seed`` calls ``torch.cuda.manual_seed`` and the RNG
tracker's ``add``/``fork`` read and write CUDA generator state, so on a CPU-only machine it is not
called and the tracker stays uninitialised. Nothing of ours needs it: weights are made with
``use_cpu_initialization=True`` (megatron's ``_initialize_affine_weight_cpu`` draws from torch's
CPU generator, seeded here), SDPA attention draws dropout from the default generator, and layer
recomputation uses ``torch.utils.checkpoint``. With CUDA the tracker is seeded the usual way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

import torch
import torch.distributed as dist


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
    from megatron.core import parallel_state

    own_dist = not dist.is_initialized()
    store_dir = tempfile.mkdtemp(prefix="worldsim-dist-") if own_dist else None
    if own_dist:
        store = dist.FileStore(os.path.join(store_dir, "store"), 1)
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(0)
        dist.init_process_group(backend, store=store, rank=0, world_size=1)
    own_mp = not parallel_state.model_parallel_is_initialized()
    if own_mp:
        parallel_state.initialize_model_parallel(tensor_parallel, pipeline_parallel)
    seed_megatron(seed)
    try:
        yield
    finally:
        if own_mp:
            parallel_state.destroy_model_parallel()
        if own_dist:
            dist.destroy_process_group()
            shutil.rmtree(store_dir, ignore_errors=True)
