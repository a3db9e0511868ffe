"""torch.distributed and megatron ``parallel_state`` from the launch environment.

    from worldsim.training import parallel
    with parallel.session(tp=1, pp=1, cp=1):       # torchrun env, or a local world of one
        parallel.dp_rank(), parallel.dp_size(), parallel.device()

Under ``torchrun`` the process group comes from RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/
MASTER_PORT; under plain ``python`` it is a gloo group of one on 127.0.0.1 (a store on a free
port). The backend is NCCL when CUDA is present, gloo otherwise. Megatron's data, tensor,
context and pipeline groups follow from the sizes. Only CUDA-free megatron calls are used.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from datetime import timedelta

import torch
import torch.distributed as dist

_TIMEOUT = timedelta(minutes=30)


def launched_by_torchrun() -> bool:
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))


def default_backend() -> str:
    """NCCL when every local process can have its own GPU, gloo (training on CPU) otherwise."""
    if not torch.cuda.is_available():
        return "gloo"
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    if torch.cuda.device_count() < local_world:
        warnings.warn(f"{local_world} processes on this node but {torch.cuda.device_count()} GPU(s): using gloo on CPU",
                      stacklevel=2)
        return "gloo"
    return "nccl"


def setup(tp: int = 1, pp: int = 1, cp: int = 1, backend: str | None = None) -> None:
    """Start the process group (if not started) and megatron's parallel groups (if not set)."""
    backend = backend or default_backend()
    if not dist.is_initialized():
        _init_process_group(backend)
    _check_sizes(tp, pp, cp, dist.get_world_size())
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    parallel_state = megatron_parallel_state()
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(
            tensor_model_parallel_size=tp, pipeline_model_parallel_size=pp, context_parallel_size=cp
        )


def _init_process_group(backend: str) -> None:
    if launched_by_torchrun():
        dist.init_process_group(backend, init_method="env://", timeout=_TIMEOUT)
        return
    store = dist.TCPStore("127.0.0.1", 0, world_size=1, is_master=True, timeout=_TIMEOUT)  # port 0: a free one
    dist.init_process_group(backend, store=store, rank=0, world_size=1, timeout=_TIMEOUT)


def _check_sizes(tp: int, pp: int, cp: int, world: int) -> None:
    for name, size in (("tp", tp), ("pp", pp), ("cp", cp)):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"{name} size must be a positive int, got {size!r}")
    if world % (tp * pp * cp):
        raise ValueError(
            f"world size {world} is not divisible by tp*pp*cp = {tp}*{pp}*{cp}; "
            f"launch a multiple of {tp * pp * cp} processes or change the sizes"
        )


@functools.cache
def megatron_parallel_state():
    """``megatron.core.parallel_state``, imported without its CPU-only notices (no TE/Apex here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Transformer Engine and Apex are not installed.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from megatron.core import parallel_state
    return parallel_state


def teardown() -> None:
    """Destroy megatron's groups and the process group (safe to call when none exist)."""
    megatron_parallel_state().destroy_model_parallel()
    if dist.is_initialized():
        dist.destroy_process_group()


@contextlib.contextmanager
def session(tp: int = 1, pp: int = 1, cp: int = 1, backend: str | None = None):
    """``setup`` on entry; ``teardown`` on exit unless the caller had already set things up."""
    owned = not dist.is_initialized()
    setup(tp, pp, cp, backend)
    try:
        yield
    finally:
        if owned:
            teardown()


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", 0))


def is_main() -> bool:
    return rank() == 0


def dp_rank() -> int:
    """This process's data-parallel rank (ranks of one tp/pp/cp group share data)."""
    return megatron_parallel_state().get_data_parallel_rank()


def dp_size() -> int:
    return megatron_parallel_state().get_data_parallel_world_size()


def grad_group():
    """The group over which gradients are averaged: data parallel including context parallel."""
    return megatron_parallel_state().get_data_parallel_group(with_context_parallel=True)


def model_parallel_size() -> int:
    parallel_state = megatron_parallel_state()
    return (
        parallel_state.get_tensor_model_parallel_world_size()
        * parallel_state.get_pipeline_model_parallel_world_size()
        * parallel_state.get_context_parallel_world_size()
    )


def device() -> torch.device:
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def barrier() -> None:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
