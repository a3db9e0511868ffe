"""Fixtures for the post-training tests: one thread, a megatron world per module, tiny artifacts.

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q tests/posttrain
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import helpers  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def megatron_state(megatron_one_thread):
    """Every post-training test module runs in a megatron world of one, on one thread."""
    yield


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> dict:
    """A 4-episode 32 px TabletopPush dataset, an untrained tokenizer (T=1) and a randomized base DiT."""
    root = tmp_path_factory.mktemp("posttrain")
    data = helpers.tiny_dataset(root / "data")
    tokenizer = helpers.tiny_tokenizer(root / "tokenizer")
    return {"root": root, "data": str(data), "tokenizer": str(tokenizer)}


@pytest.fixture
def base_run(artifacts, tmp_path) -> str:
    return str(helpers.tiny_base(tmp_path / "base", Path(artifacts["tokenizer"])))
