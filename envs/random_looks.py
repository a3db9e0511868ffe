"""Episodes rendered in random looks: what a policy trained on canonical renders has never seen.

    env = gym.make("worldsim/TabletopPush-v0", looks=1000)   # each episode in its own look
    obs, _ = env.reset(seed=3)      # the look is drawn from (1000, 3): the same seed, the same look

An env that mixes this in passes ``looks`` (a seed for the looks, or None: canonical renders) to
``_init_looks`` and calls ``_episode_look(seed)`` in ``reset``; its ``_pixels`` then renders every
camera with the episode's materials, lights and camera offset (``worldsim.looks.randomize``) and
adds its sensor noise, ``capture`` gives depth and segmentation from the same moved cameras, and
``canonical_rgb`` the scene's own look from them. The physics, the state and the success test are
untouched.
"""

from __future__ import annotations

import numpy as np

from worldsim.looks.randomize import RandomizeConfig, add_sensor_noise, applied, sample_look


class RandomLooks:
    _looks: int | None = None
    _look = None
    _noise_rng: np.random.Generator | None = None

    def _init_looks(self, looks) -> None:
        if looks is not None and (isinstance(looks, bool) or not isinstance(looks, (int, np.integer)) or looks < 0):
            raise ValueError(f"looks={looks!r}; allowed: None (canonical renders) or a seed >= 0 for random looks")
        self._looks = None if looks is None else int(looks)

    def _episode_look(self, seed) -> None:
        """Draw this episode's look from (looks, seed); without a seed, from the env's own generator."""
        if self._looks is None:
            return
        seed = int(self.np_random.integers(2 ** 31)) if seed is None else int(seed)
        rng = np.random.default_rng([self._looks, seed])
        self._look, self._noise_rng = sample_look(self.model, rng, RandomizeConfig()), rng

    def _pixels(self) -> dict:
        if self._look is None or not self._rendering:
            return super()._pixels()
        # the GL context is made now, from the canonical model: one made while a look is swapped in
        # keeps part of that look (the floor's texture) for every later render
        self.render_source.renderer
        with applied(self.model, self.data, self._look, self.cameras):
            frames = self.render_source.render_rgb()
        self._last_rgb = {cam: add_sensor_noise(rgb, self._look, self._noise_rng) for cam, rgb in frames.items()}
        return dict(self._last_rgb)

    def capture(self, modalities=("rgb", "depth", "segmentation")):
        """Every modality from the cameras this episode's look has moved (the RGB is the look's)."""
        if self._look is None:
            return super().capture(modalities)
        with applied(self.model, self.data, self._look, self.cameras, appearance=False):
            return super().capture(modalities)

    def canonical_rgb(self) -> dict:
        """The cameras' frames in the scene's own look, from this episode's (moved) cameras."""
        if self._look is None:
            return self.render_source.render_rgb()
        with applied(self.model, self.data, self._look, self.cameras, appearance=False):
            return self.render_source.render_rgb()
