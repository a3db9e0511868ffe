"""A shipped look renderer, loaded: looks from seeds (or asked for by colour), episodes redrawn in them.

    model = LookModel.load("assets/world_models/look_tabletop")
    vector, look = model.look(seed=7)                       # a look, repeatable from its seed
    frames = model.render(inputs, seed=7)                   # ControlInputs (rgb, depth, segmentation) -> uint8
    frames = model.render(inputs, seed=7, colours={"table": [0.8, 0.1, 0.1]})   # that look with a red table

The folder (``look_export.py`` writes it) holds ``config.yaml`` (architecture ``look_renderer``, the
network with the snapshot of the scene whose looks it draws, the camera) and ``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from posttrain.transfer.look_config import ARCHITECTURE, LookRendererConfig
from posttrain.transfer.look_renderer import LookRenderer, class_indices
from worldsim.looks.randomize import RandomizeConfig

NEEDS = ("rgb", "depth", "segmentation")


class LookModel:
    """A look renderer with its scene: looks from seeds, whole episodes rendered in them."""

    names = ("depth", "segmentation")   # the controls it takes (with the canonical RGB), all of them always

    def __init__(self, renderer: LookRenderer, camera: str):
        from worldsim.looks.randomize import SceneLooks

        self.renderer, self.camera = renderer, camera
        self.scene = SceneLooks.from_dict(renderer.cfg.scene_looks)
        self.image_hw = (renderer.cfg.image_size, renderer.cfg.image_size)

    @classmethod
    def load(cls, path: str) -> "LookModel":
        from omegaconf import OmegaConf

        from worldsim.config import structured
        from worldsim.io import load_tensor_state, read_tensors

        file = Path(path) / "config.yaml"
        config = OmegaConf.to_container(OmegaConf.load(file)) if file.is_file() else {}
        if config.get("architecture") != ARCHITECTURE:
            raise ValueError(f"{path} is not a look renderer (architecture {config.get('architecture')!r}); "
                             "export a run with `python -m posttrain.transfer.look_export`")
        renderer = LookRenderer(structured(LookRendererConfig, config["net"]))
        load_tensor_state(renderer, read_tensors(Path(path) / "model.safetensors"))
        return cls(renderer.eval().requires_grad_(False), config["camera"])

    def look(self, seed: int, colours: dict | None = None):
        """(vector, Look) of the look ``seed`` draws, with ``colours`` ({material: [r, g, b] in 0-1})
        set in it: a look asked for by its parameters."""
        from worldsim.looks.randomize import sample_look
        from worldsim.looks.vector import LookSpace

        look = sample_look(self.scene, np.random.default_rng(seed), RandomizeConfig())
        for name, rgb in (colours or {}).items():
            look.mat_rgba[self.scene.materials.index(name), :3] = rgb
        return LookSpace.of(self.scene).vector(look), look

    def check_colours(self, colours: dict) -> None:
        for name, rgb in colours.items():
            if name not in self.scene.materials:
                raise ValueError(f"colours.{name}: the scene has no material {name!r}; it has: "
                                 f"{', '.join(self.scene.materials)}")
            if len(rgb) != 3 or not all(0.0 <= float(c) <= 1.0 for c in rgb):
                raise ValueError(f"colours.{name}={list(rgb)}; give [r, g, b], each in [0, 1]")

    @torch.no_grad()
    def render(self, inputs, seed: int, sensor_noise: bool = True, colours: dict | None = None,
               batch: int = 64) -> np.ndarray:
        """Every frame of ``inputs`` (ControlInputs with rgb, depth, segmentation) in the look of ``seed``
        (with ``colours`` set, see ``look``), with that look's sensor noise (unless ``sensor_noise`` is
        False): uint8 (T, H, W, 3)."""
        from worldsim.looks.randomize import add_sensor_noise

        missing = [n for n in NEEDS if getattr(inputs, n) is None]
        if missing:
            raise ValueError(f"the look renderer needs {', '.join(NEEDS)} for every frame; the source lacks "
                             f"{', '.join(missing)}")
        if tuple(inputs.rgb.shape[1:3]) != self.image_hw:
            raise ValueError(f"the look renderer draws {self.image_hw[0]}x{self.image_hw[1]} frames; the source's are "
                             f"{inputs.rgb.shape[1]}x{inputs.rgb.shape[2]}")
        vector, look = self.look(seed, colours)
        classes = torch.from_numpy(class_indices(inputs.segmentation, inputs.labels, self.renderer.cfg.classes))
        out = []
        for i in range(0, len(inputs.rgb), batch):
            rgb = torch.from_numpy(np.ascontiguousarray(inputs.rgb[i:i + batch])).permute(0, 3, 1, 2).float()
            frames = self.renderer(rgb / 127.5 - 1, torch.from_numpy(np.array(inputs.depth[i:i + batch], np.float32)),
                                   classes[i:i + batch], torch.from_numpy(vector).expand(len(rgb), -1))
            out.append(((frames.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy())
        frames = np.concatenate(out)
        if not sensor_noise:
            return frames
        rng = np.random.default_rng([seed, 1])
        return np.stack([add_sensor_noise(f, look, rng) for f in frames])
