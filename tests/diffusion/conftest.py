"""Fixtures for the diffusion tests: a megatron parallel state (world size 1, gloo) per test
module, torn down after it so no other suite inherits it, and tiny DiT configs.

    .venv/bin/python -m pytest tests/diffusion -q
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def megatron_state():
    from worldsim.diffusion.testing import megatron_world

    with megatron_world(seed=0):
        yield


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors run faster on one thread, and do not crawl when other jobs load the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_cfg():
    """A DiT small enough to train for 100 steps in a second or two on 2 CPU cores."""
    from worldsim.diffusion.dit import DiTConfig

    def make(**overrides):
        fields = dict(in_channels=4, hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8,
                      context_dim=12, num_cond_frames=1, spec="cpu")
        return DiTConfig(**{**fields, **overrides})

    return make


@pytest.fixture
def randomize():
    """Shift every parameter by small noise, so zero-initialised gates and heads are not zero."""

    @torch.no_grad()
    def apply(module: torch.nn.Module, seed: int = 1, scale: float = 0.1) -> torch.nn.Module:
        gen = torch.Generator().manual_seed(seed)
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen).to(p))
        return module

    return apply
