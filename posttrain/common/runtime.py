"""A megatron ``parallel_state`` that lives as long as the process, for inference.

Megatron layers keep references to their process groups and look them up at forward time, so a
model built inside ``worldsim.diffusion.testing.megatron_world`` stops working once that context
exits. A world model stepped inside a Gymnasium env needs the groups for as long as the env
lives:

    from posttrain.common.runtime import ensure_megatron
    ensure_megatron()            # no-op when torchrun, the trainer or a test already set it up
    model = DiT(cfg)             # usable until the process ends

The world comes from ``worldsim.training.parallel.setup`` (a world of one unless launched by
torchrun); anything already initialised is reused and never torn down here.
"""

from __future__ import annotations


def ensure_megatron() -> None:
    """Start a world-of-one process group and megatron's model-parallel groups if missing."""
    from worldsim.training import parallel

    parallel.setup()
