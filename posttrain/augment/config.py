"""Typed config of ``worldsim augment``: which looks, sampler steps, episodes and controls.

    cfg = resolve_config(model_cfg.controls, "augment.yaml", ["looks=3", "controls.names=[edge,depth]"])

The control settings start from the transfer model's own, then the YAML, then ``key=value`` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import OmegaConf

from worldsim.conditioning.controls import ControlsConfig, check_names
from worldsim.config import load_config, to_dict


@dataclass
class AugmentConfig:
    camera: str = ""              # "" = the model's camera
    looks: int = 1                # generated looks per source episode (seeds seed .. seed+looks-1)
    seed: int = 0
    shared_looks: bool = True     # look k is seed + k in every episode; false: each episode draws its own
    include_source: bool = False  # also write each source episode as it is, before its looks
    colours: dict[str, list[float]] = field(default_factory=dict)   # look renderer: {material: [r, g, b]}
                                  # set in every look (e.g. colours.table=[0.8,0.1,0.1])
    steps: int = 0                # sampler steps; 0 = the model's sample_steps
    episodes: list[int] = field(default_factory=list)    # [] = every episode
    controls: ControlsConfig = field(default_factory=ControlsConfig)

    def check(self, branches) -> None:
        if self.looks < 1:
            raise ValueError(f"looks={self.looks}; need at least 1")
        self.controls.check()
        missing = [n for n in check_names(self.controls.names) if n not in branches]
        if missing:
            raise ValueError(f"control {missing[0]!r} has no branch in this model; it has: {', '.join(branches)}")


def resolve_config(model_controls: ControlsConfig, config_yaml, overrides) -> AugmentConfig:
    """Defaults, then the model's control settings, then the YAML, then ``key=value`` overrides."""
    values = {"controls": to_dict(model_controls)}
    if config_yaml:
        values = OmegaConf.to_container(OmegaConf.merge(OmegaConf.create(values), OmegaConf.load(config_yaml)))
    return load_config(AugmentConfig, None, list(overrides or []), **values)
