"""What every simulator env with MuJoCo cameras shares: ``render()``, ``capture()`` and the per-episode
render switch.

The env sets ``cameras``, ``height``, ``width``, ``render_mode`` and ``render_source`` (a
``MujocoRenderSource``), calls ``self._episode_rendering(options)`` in ``reset`` and takes the
observation's ``pixels`` from ``self._pixels()``.

    obs, _ = env.reset(seed=0, options={"render": False})   # this episode renders nothing
    obs["pixels"]["top"]                                     # all zeros, of the space's shape and dtype

The switch lasts one episode: the next ``reset`` without the option renders again. An episode
without rendering steps exactly as one with it (rendering reads the simulation state, never
writes it), so a policy that reads only ``agent_pos`` / ``environment_state`` gets the same
episode. Its observations keep the observation space: ``pixels`` holds all-zero frames (not the
last rendered ones, which would show a stale scene). ``render()`` and ``capture()`` still render
the current state on demand.
"""

from __future__ import annotations

import numpy as np

RENDER_OPTION = "render"


class CameraRendering:
    cameras: tuple[str, ...]
    height: int
    width: int
    render_mode: str | None
    _last_rgb: dict | None = None
    _rendering: bool = True

    def _episode_rendering(self, options: dict | None) -> None:
        """Read ``options["render"]`` (default True) at reset: whether this episode renders its cameras."""
        value = (options or {}).get(RENDER_OPTION, True)
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"reset option render={value!r}; allowed: True (frames, the default) or False "
                             f"(no rendering this episode: pixels are all zeros)")
        self._rendering = bool(value)

    def _pixels(self) -> dict:
        """The observation's ``pixels``: the cameras' frames, or zeros when this episode does not render."""
        if self._rendering:
            self._last_rgb = self.render_source.render_rgb()
            return dict(self._last_rgb)
        self._last_rgb = None
        return {cam: np.zeros((self.height, self.width, 3), np.uint8) for cam in self.cameras}

    def render(self):
        """The first camera's current frame (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            return None
        if self._last_rgb is None:
            if self._rendering:
                raise RuntimeError("call reset() before render()")
            self._last_rgb = self.render_source.render_rgb()
        return self._last_rgb[self.cameras[0]]

    def capture(self, modalities=("rgb", "depth", "segmentation")):
        """Every modality of the current state for every camera: ``{camera: CameraFrame}``."""
        return self.render_source.render(modalities, rgb=self._last_rgb)
