"""Fixtures for the training tests: one tiny synthetic dataset per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tiny_task, also run as a script by the subprocess tests

from tiny_task import write_tiny_dataset  # noqa: E402


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("tiny") / "ds"
    write_tiny_dataset(root)
    return str(root)
