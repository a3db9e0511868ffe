"""A megatron ``parallel_state`` that lives as long as the process, for inference.

Megatron layers keep references to their process groups and look them up at forward time, so a
model built inside ``worldsim.diffusion.testing.megatron_world`` stops working once that context
exits. A world model stepped inside a Gymnasium env needs the groups for as long as the env
lives:

    from posttrain.runtime import ensure_megatron
    ensure_megatron()            # no-op when torchrun, the trainer or a test already set it up
    model = DiT(cfg)             # usable until the process ends

The world is one gloo process with a ``FileStore`` in a temporary folder (no port opened);
anything already initialised is reused and never torn down here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings

import torch.distributed as dist


def ensure_megatron() -> None:
    """Start a world-of-one process group and megatron's model-parallel groups if missing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Transformer Engine and Apex are not installed.*")
        from megatron.core import parallel_state
    if not dist.is_initialized():
        store_dir = tempfile.mkdtemp(prefix="worldsim-dist-")
        atexit.register(shutil.rmtree, store_dir, True)
        store = dist.FileStore(os.path.join(store_dir, "store"), 1)
        dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(1, 1)
