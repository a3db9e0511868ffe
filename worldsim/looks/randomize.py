"""Domain randomisation at render time: one scene layout in many looks, physics untouched.

A ``Look`` holds randomised material colours and textures (table, floor, legs; objects only
slightly), light directions and colours, a small camera pose offset and sensor noise. Looks are
drawn from a ``SceneLooks``, a snapshot of what a scene's looks are made of (its materials,
textures, plain geoms and lights), so a look can be drawn where no MuJoCo model is loaded (a
trained renderer keeps the snapshot). ``applied`` writes a look into the model (and the camera
pose into ``data``) for the duration of a render and restores every value afterwards, so the
env's own behaviour and renders are unchanged:

    rng = np.random.default_rng(0)
    look = sample_look(env.model, rng, RandomizeConfig())      # a model or its SceneLooks.of(model)
    with applied(env.model, env.data, look, camera="top"):
        frames = env.render_source.render(("rgb", "depth", "segmentation"))
    rgb = add_sensor_noise(frames["top"].rgb, look, rng)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

import numpy as np


@dataclass
class RandomizeConfig:
    background_colours: bool = True     # table, floor, legs: any colour, texture swapped or dropped
    object_colour_jitter: float = 0.15  # pusher, block, goal: +- this per RGB channel
    light_jitter: bool = True
    camera_shift: float = 0.01          # metres, per look, each axis
    camera_tilt_deg: float = 1.0        # degrees, per look
    noise_std: float = 6.0              # max per-pixel Gaussian noise std (0-255 units)
    gain_jitter: float = 0.1            # exposure gain 1 +- this


@dataclass
class Look:
    mat_rgba: np.ndarray
    mat_texid: np.ndarray
    mat_texrepeat: np.ndarray
    geom_rgba: np.ndarray
    light_dir: np.ndarray
    light_diffuse: np.ndarray
    light_ambient: np.ndarray
    camera_shift: np.ndarray
    camera_rotation: np.ndarray
    noise_std: float
    gain: np.ndarray


OBJECTS = ("pusher", "block", "goal")


# MjModel's dtypes, so a snapshot read back from a config draws exactly the looks its model draws
DTYPES = {"mat_rgba": np.float32, "mat_texid": np.int32, "mat_texrepeat": np.float32, "geom_rgba": np.float32,
          "geom_matid": np.int32, "light_dir": np.float64, "light_diffuse": np.float32, "light_ambient": np.float32}


@dataclass
class SceneLooks:
    """What a scene's looks are made of, copied out of its MjModel (the canonical values)."""

    materials: list[str]
    mat_rgba: np.ndarray
    mat_texid: np.ndarray
    mat_texrepeat: np.ndarray
    geom_rgba: np.ndarray
    geom_matid: np.ndarray
    light_dir: np.ndarray
    light_diffuse: np.ndarray
    light_ambient: np.ndarray

    @classmethod
    def of(cls, model) -> "SceneLooks":
        arrays = {f.name: np.array(getattr(model, f.name)) for f in fields(cls) if f.name != "materials"}
        return cls(materials=[model.material(m).name for m in range(model.nmat)], **arrays)

    @property
    def nmat(self) -> int:
        return len(self.materials)

    @property
    def nlight(self) -> int:
        return len(self.light_dir)

    def to_dict(self) -> dict:
        return {f.name: (list(self.materials) if f.name == "materials" else getattr(self, f.name).tolist())
                for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> "SceneLooks":
        return cls(**{k: (list(v) if k == "materials" else np.asarray(v, DTYPES[k])) for k, v in values.items()})


def scene_looks(scene) -> SceneLooks:
    return scene if isinstance(scene, SceneLooks) else SceneLooks.of(scene)


def _rotation(rng, max_deg: float) -> np.ndarray:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _materials(scene: SceneLooks, rng, cfg: RandomizeConfig):
    rgba, texid, rep = scene.mat_rgba.copy(), scene.mat_texid.copy(), scene.mat_texrepeat.copy()
    textures = [t for t in set(texid.reshape(-1).tolist()) if t >= 0]
    for m, name in enumerate(scene.materials):
        if name in OBJECTS:
            rgba[m, :3] = np.clip(rgba[m, :3] + rng.uniform(-1, 1, 3) * cfg.object_colour_jitter, 0, 1)
        elif cfg.background_colours:
            rgba[m, :3] = rng.uniform(0.15, 1.0, 3)
            choice = rng.integers(-1, len(textures))
            texid[m] = -1 if choice < 0 or not textures else textures[choice]
            rep[m] = rng.uniform(1, 10, 1).repeat(2)
    return rgba, texid, rep


def sample_look(scene, rng: np.random.Generator, cfg: RandomizeConfig) -> Look:
    """A random look of ``scene`` (an MjModel or its ``SceneLooks``)."""
    scene = scene_looks(scene)
    rgba, texid, rep = _materials(scene, rng, cfg)
    geom_rgba = scene.geom_rgba.copy()
    plain = scene.geom_matid < 0
    if cfg.background_colours:
        geom_rgba[plain, :3] = rng.uniform(0.1, 1.0, (int(plain.sum()), 3))
    n = scene.nlight
    light_dir, diffuse, ambient = scene.light_dir.copy(), scene.light_diffuse.copy(), scene.light_ambient.copy()
    if cfg.light_jitter:
        light_dir = np.concatenate([rng.uniform(-0.8, 0.8, (n, 2)), -np.ones((n, 1))], 1)
        diffuse = rng.uniform(0.2, 0.9, (n, 1)) * rng.uniform(0.7, 1.0, (n, 3))
        ambient = rng.uniform(0.0, 0.3, (n, 3))
    return Look(rgba, texid, rep, geom_rgba, light_dir, diffuse, ambient,
                camera_shift=rng.uniform(-1, 1, 3) * cfg.camera_shift,
                camera_rotation=_rotation(rng, cfg.camera_tilt_deg),
                noise_std=float(rng.uniform(0, cfg.noise_std)),
                gain=1 + rng.uniform(-1, 1, 3) * cfg.gain_jitter)


@contextlib.contextmanager
def swapped(obj, **values):
    """Set attributes (numpy arrays, in place) for the ``with`` body, then restore them."""
    saved = {k: getattr(obj, k).copy() for k in values}
    try:
        for k, v in values.items():
            getattr(obj, k)[...] = v
        yield
    finally:
        for k, v in saved.items():
            getattr(obj, k)[...] = v


@contextlib.contextmanager
def jittered_camera(data, camera: str, look: Look):
    """The camera's world pose moved by the look's offset for the ``with`` body."""
    cam = data.cam(camera)
    pos, mat = cam.xpos.copy(), cam.xmat.copy()
    with swapped(cam, xpos=pos + look.camera_shift,
                 xmat=(mat.reshape(3, 3) @ look.camera_rotation).reshape(-1)):
        yield


@contextlib.contextmanager
def applied(model, data, look: Look, camera, appearance: bool = True):
    """The look's camera pose for ``camera`` (a name, or several) and, with ``appearance``, its
    materials and lights, for a render."""
    with contextlib.ExitStack() as stack:
        for cam in ((camera,) if isinstance(camera, str) else tuple(camera)):
            stack.enter_context(jittered_camera(data, cam, look))
        if appearance:
            stack.enter_context(swapped(model, mat_rgba=look.mat_rgba, mat_texid=look.mat_texid,
                                        mat_texrepeat=look.mat_texrepeat, geom_rgba=look.geom_rgba,
                                        light_dir=look.light_dir, light_diffuse=look.light_diffuse,
                                        light_ambient=look.light_ambient))
        yield


def add_sensor_noise(rgb: np.ndarray, look: Look, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8: exposure gain per channel, then Gaussian pixel noise."""
    noisy = rgb.astype(np.float32) * look.gain + rng.normal(0, look.noise_std, rgb.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
