"""What every simulator env with MuJoCo cameras shares: ``render()`` and ``capture()``.

The env sets ``cameras``, ``render_mode``, ``render_source`` (a ``MujocoRenderSource``) and
refreshes ``_last_rgb`` (``{camera: uint8 (H, W, 3)}``) whenever it makes an observation.
"""

from __future__ import annotations


class CameraRendering:
    cameras: tuple[str, ...]
    render_mode: str | None
    _last_rgb: dict | None = None

    def render(self):
        """The first camera's current frame (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            return None
        if self._last_rgb is None:
            raise RuntimeError("call reset() before render()")
        return self._last_rgb[self.cameras[0]]

    def capture(self, modalities=("rgb", "depth", "segmentation")):
        """Every modality of the current state for every camera: ``{camera: CameraFrame}``."""
        return self.render_source.render(modalities, rgb=self._last_rgb)
