"""Shared test settings: headless rendering, and which suite runs in which environment.

The LeRobot compatibility tests need the real ``lerobot`` package, which pins an older torch
and so lives in its own environment (``.venv-lerobot``); ``bash .ci/test`` runs them there.
"""

import os

from worldsim.optional import is_available

os.environ.setdefault("MUJOCO_GL", "egl")

collect_ignore_glob = [] if is_available("lerobot") else ["lerobot_compat/*"]
