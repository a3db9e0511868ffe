"""Shared test settings: headless rendering and the project root on the path."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
