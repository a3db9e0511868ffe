"""Shared test settings: headless rendering, and which suite runs in which environment.

The LeRobot compatibility tests need the real ``lerobot`` package, which pins an older torch
and so lives in its own environment (``.venv-lerobot``); ``bash .ci/test`` runs them there.
"""

import os

import pytest

from worldsim.optional import is_available

os.environ.setdefault("MUJOCO_GL", "egl")

collect_ignore_glob = [] if is_available("lerobot") else ["lerobot_compat/*"]


@pytest.fixture(scope="module")
def torch_one_thread():
    """One torch thread for one test module (``pytestmark = pytest.mark.usefixtures("torch_one_thread")``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def megatron_one_thread():
    """A megatron parallel state of world size 1 (gloo) and one torch thread, for one test module:
    tiny models run faster on one thread and do not crawl when other jobs load the cores.
    Use it with ``pytestmark = pytest.mark.usefixtures("megatron_one_thread")``."""
    import torch

    from worldsim.diffusion.testing import megatron_world

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with megatron_world(seed=0):
        yield
    torch.set_num_threads(before)
