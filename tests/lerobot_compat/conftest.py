"""Run the lerobot compatibility tests offline, with hf caches in a throwaway folder.

These tests need the real lerobot package (the .venv-lerobot environment):
    .venv-lerobot/bin/python -m pytest tests/lerobot_compat
The environment variables are set here, before any test module imports lerobot or
huggingface_hub, because both read them at import time.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_HF_HOME = tempfile.mkdtemp(prefix="worldsim-hf-home-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_LEROBOT_HOME"] = os.path.join(_HF_HOME, "lerobot")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HF_HOME, ignore_errors=True)
