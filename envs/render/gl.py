"""Import point for MuJoCo that picks a headless OpenGL backend first.

``MUJOCO_GL`` is read when mujoco is imported, so every worldsim module imports mujoco from
here: ``from envs.render.gl import mujoco``. EGL is the default; set ``MUJOCO_GL=osmesa`` for
software rendering where no EGL driver is present.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
if os.environ["MUJOCO_GL"] in ("egl", "osmesa"):
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

import mujoco  # noqa: E402

__all__ = ["mujoco"]
