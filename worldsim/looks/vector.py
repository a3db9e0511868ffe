"""A randomised look (``randomize.Look``) as one vector: what a look-conditioned renderer is told.

    space = LookSpace.of(env.model)                # an MjModel or its SceneLooks: materials, textures, lights
    space.colour_index("table")                    # where the table's RGB sits in the vector
    vec = space.vector(sample_look(env.model, rng, RandomizeConfig()))   # float32 (space.dim,)
    vec, look = sample_vector(env.model, seed=7)   # a fresh look for a seed, and its vector

Per material: its RGB, which texture it wears (one-hot over none and the scene's textures) and the
texture's repeat (log10); per geom without a material: its RGB; per light: the xy of its direction,
its diffuse and ambient colours; then the exposure gain per channel. The camera offset is left out
(the renderer is given controls seen from the camera it draws for), and so is the sensor noise,
which is added after rendering (``randomize.add_sensor_noise``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldsim.looks.randomize import Look, RandomizeConfig, sample_look, scene_looks


@dataclass
class LookSpace:
    materials: list[str]              # the scene's material names, in model order
    textures: list[int]               # the scene's texture ids a material may wear (-1 = none comes first)
    plain_geoms: list[int]            # geoms without a material (their rgba is the colour)
    nlight: int

    @classmethod
    def of(cls, scene) -> "LookSpace":
        scene = scene_looks(scene)
        textures = sorted({int(t) for t in scene.mat_texid.reshape(-1) if t >= 0})
        plain = [int(g) for g in np.flatnonzero(scene.geom_matid < 0)]
        return cls(list(scene.materials), textures, plain, scene.nlight)

    @property
    def nmat(self) -> int:
        return len(self.materials)

    def colour_index(self, material: str) -> int:
        """Where ``material``'s RGB starts in the vector (-1: the scene has no such material)."""
        return self.materials.index(material) * self.per_material if material in self.materials else -1

    @property
    def per_material(self) -> int:
        return 3 + 1 + len(self.textures) + 1

    @property
    def dim(self) -> int:
        return self.nmat * self.per_material + 3 * len(self.plain_geoms) + 8 * self.nlight + 3

    def _texture_one_hot(self, texid: np.ndarray) -> np.ndarray:
        out = np.zeros((self.nmat, 1 + len(self.textures)), np.float32)
        for m, row in enumerate(np.asarray(texid).reshape(self.nmat, -1)):
            worn = int(row.max())
            out[m, 0 if worn < 0 else 1 + self.textures.index(worn)] = 1.0
        return out

    def vector(self, look: Look) -> np.ndarray:
        """float32 (dim,) of ``look`` (materials, plain geoms, lights, gain)."""
        repeat = np.log10(np.clip(np.asarray(look.mat_texrepeat, np.float32)[:, :1], 1e-3, None))
        mats = np.concatenate([np.asarray(look.mat_rgba, np.float32)[:, :3], self._texture_one_hot(look.mat_texid),
                               repeat], axis=1)
        geoms = np.asarray(look.geom_rgba, np.float32)[self.plain_geoms, :3]
        lights = np.concatenate([np.asarray(look.light_dir, np.float32)[:, :2], look.light_diffuse,
                                 look.light_ambient], axis=1)
        out = np.concatenate([mats.reshape(-1), geoms.reshape(-1), lights.reshape(-1).astype(np.float32),
                              np.asarray(look.gain, np.float32)])
        assert out.shape == (self.dim,), (out.shape, self.dim)
        return out.astype(np.float32)


def sample_vector(scene, seed: int, randomize: RandomizeConfig | None = None) -> tuple[np.ndarray, Look]:
    """A fresh look of ``scene`` (MjModel or SceneLooks) for ``seed`` (``sample_look`` with that seed)
    and its vector."""
    scene = scene_looks(scene)
    look = sample_look(scene, np.random.default_rng(seed), randomize or RandomizeConfig())
    return LookSpace.of(scene).vector(look), look
