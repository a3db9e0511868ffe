"""What ``worldsim augment`` generates a look with: the transfer DiT's control branches or the look renderer.

    gen = Generator("assets/world_models/look_tabletop", config_yaml=None, overrides=["looks=4"])
    frames = gen(inputs, look_seed(gen.cfg, episode=3, look=1))   # ControlInputs -> uint8 (T, H, W, 3)

``gen.cfg`` is the run's ``AugmentConfig`` (control settings starting from the model's own),
``gen.camera`` and ``gen.image_hw`` what the model was trained on.
"""

from __future__ import annotations

import numpy as np

from posttrain.augment.config import AugmentConfig, resolve_config
from worldsim.conditioning.controls import ControlsConfig, compute_controls, control_weights


def look_seed(cfg: AugmentConfig, episode: int, look: int) -> int:
    """The seed of look ``look`` of source episode ``episode``: ``seed + look`` when looks are shared
    across episodes, else a draw of its own from (seed, episode, look)."""
    if cfg.shared_looks:
        return cfg.seed + look
    return int(np.random.SeedSequence([cfg.seed, episode, look]).generate_state(1)[0])


class Generator:
    """The transfer DiT's control branches or the look renderer, behind one call per episode look."""

    def __init__(self, model: str, config_yaml, overrides):
        from posttrain.transfer.look_config import ARCHITECTURE as LOOK

        self.look = _architecture(model) == LOOK
        (self._load_look if self.look else self._load_dit)(model, config_yaml, overrides)

    def _load_look(self, model: str, config_yaml, overrides) -> None:
        from posttrain.transfer.look_model import LookModel

        self.model = LookModel.load(model)
        self.cfg = resolve_config(ControlsConfig(names=list(LookModel.names)), config_yaml, overrides)
        self.cfg.check(LookModel.names)
        check_look_controls(self.cfg.controls, LookModel.names)
        self.model.check_colours(self.cfg.colours)
        self.camera, self.image_hw = self.model.camera, self.model.image_hw

    def _load_dit(self, model: str, config_yaml, overrides) -> None:
        from posttrain.transfer.checkpoint import load_transfer_model

        self.net, self.mcfg, self.codec = load_transfer_model(model)
        self.cfg = resolve_config(self.mcfg.controls, config_yaml, overrides)
        self.cfg.check(list(self.net.branches))
        if self.cfg.colours:
            raise ValueError("colours= asks a look renderer for material colours; this transfer DiT takes none")
        self.camera, self.image_hw = self.mcfg.camera, self.mcfg.image_hw

    def __call__(self, inputs, seed: int) -> np.ndarray:
        if self.look:
            return self.model.render(inputs, seed, colours=dict(self.cfg.colours))
        return _generate(self.net, self.codec, self.mcfg, self.cfg, inputs, seed)


def _architecture(model: str):
    """The ``architecture`` a model folder's config.yaml names (None where it names none)."""
    from pathlib import Path

    from omegaconf import OmegaConf

    file = Path(model) / "config.yaml"
    return OmegaConf.load(file).get("architecture") if file.is_file() else None


def check_look_controls(controls: ControlsConfig, names) -> None:
    """The look renderer always takes all its inputs, unweighted: other control settings are an error."""
    if sorted(controls.names) != sorted(names):
        raise ValueError(f"the look renderer always takes {' and '.join(names)} (with the source RGB); "
                         f"controls.names={list(controls.names)} cannot change that")
    default = ControlsConfig()
    for name in names:
        mine, plain = getattr(controls, name), getattr(default, name)
        if (mine.weight, list(mine.where), mine.elsewhere) != (plain.weight, list(plain.where), plain.elsewhere):
            raise ValueError(f"the look renderer takes no control weights; controls.{name}.weight/where/elsewhere "
                             "apply to the transfer DiT only")


def _generate(net, codec, mcfg, cfg: AugmentConfig, inputs, seed: int) -> np.ndarray:
    from posttrain.common.latents import encode_frames
    from posttrain.transfer.config import sample_config
    from posttrain.transfer.sample import control_tensors, generate_episode, weight_tensors

    maps = control_tensors(compute_controls(inputs, cfg.controls))
    weights = weight_tensors(control_weights(inputs, cfg.controls))
    scfg = sample_config(mcfg)
    scfg.steps = cfg.steps or scfg.steps
    latent_shape = tuple(encode_frames(codec, inputs.rgb[:1] if inputs.rgb is not None else
                                       np.zeros((1, *inputs.shape()[1:], 3), np.uint8)).shape[1:])
    return generate_episode(net, codec, maps, weights, seed, scfg, latent_shape)
