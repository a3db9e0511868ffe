"""Typed configs of the pixel world model: network, predictor, training.

    cfg = load_config(PixelTrainConfig, overrides=["steps=3000", "predictor=diffusion"])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from posttrain.pixel_unet.layout import LayoutConfig
from worldsim.tokenizer.model import TokenizerConfig

PREDICTORS = ("deterministic", "diffusion", "latent_deterministic", "latent_diffusion")


@dataclass
class UNetConfig:
    context: int = 4                  # frames of history given to the network (the last is the current one)
    action_dim: int = 2
    patch: int = 4                    # lossless pixel unshuffle factor before the first level
    channels: list[int] = field(default_factory=lambda: [48, 96, 128])   # per level, after the unshuffle
    blocks: int = 1                   # residual blocks per level and side
    cond_dim: int = 128               # width of the action / noise-level embedding
    groups: int = 8
    diffusion: bool = False           # also takes the noisy next frame (EDM denoiser)
    anchor: bool = False              # also takes the episode's first frame (where the static scene is)
    layout: int = 0                   # channels of layout maps of the next state it also takes (pixel_unet.layout)
    views: int = 1                    # > 1: the batch is rigs of this many views, attended jointly at the middle
    image_size: int = 64              # with views > 1: the square frame size (sets the positions attended)


@dataclass
class LatentDiTConfig:
    """The Cosmos-style predictors (``latent_dit.py``): tokenizer latents and a megatron-core DiT."""

    context: int = 4                  # these four as UNetConfig's (training copies them from ``net``)
    action_dim: int = 2
    anchor: bool = False
    layout: int = 0
    tokenizer: str = ""               # `worldsim train tokenizer` run (temporal_compression=1) it starts from
    tokenizer_model: TokenizerConfig = field(default_factory=TokenizerConfig)   # read from ``tokenizer``
    patch: int = 2                    # DiT patch on the latent grid (1 x patch x patch)
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    adaln_lora_dim: int = 32
    spec: str = "auto"                # megatron layer spec: cpu (torch SDPA) | gpu (transformer-engine) | auto


@dataclass
class EDMSettings:
    sigma_data: float = 0.5
    p_mean: float = -0.4              # training noise levels: lognormal (DIAMOND's)
    p_std: float = 1.2
    sigma_min: float = 2e-3
    sigma_max: float = 5.0
    sample_steps: int = 3             # Euler steps at inference
    rho: float = 7.0


@dataclass
class PixelTrainConfig:
    data: str = ""                    # LeRobotDataset from `worldsim generate`
    out: str = ""
    camera: str = "top"
    predictor: str = "deterministic"
    net: UNetConfig = field(default_factory=UNetConfig)
    latent: LatentDiTConfig = field(default_factory=LatentDiTConfig)   # predictor=latent_*
    edm: EDMSettings = field(default_factory=EDMSettings)
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    rollout_start: float = 0.5        # fraction of steps trained on one-step targets before rollouts start
    rollout_k: int = 4                # unrolled steps on the model's own predictions after that
    context_noise_max: float = 0.3    # context frames get sigma ~ U(0, max) * (a coin flip), given to the network
    changed_weight: float = 10.0      # extra loss weight on pixels that change between frames
    holdout_episodes: int = 16        # last episodes of the dataset, kept out of training
    readers: str = ""                 # folder from pixel_unet.reader_fit: needed when net.layout > 0
    layout_maps: LayoutConfig = field(default_factory=LayoutConfig)
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    @property
    def is_latent(self) -> bool:
        return self.predictor.startswith("latent_")

    def network(self):
        """The config of the network ``predictor`` builds: ``net``, or for latent predictors
        ``latent`` with ``net``'s context, action size, anchor and layout."""
        if not self.is_latent:
            return self.net
        n = self.net
        return dataclasses.replace(self.latent, context=n.context, action_dim=n.action_dim, anchor=n.anchor,
                                   layout=n.layout)

    def validate(self) -> None:
        if self.predictor not in PREDICTORS:
            raise ValueError(f"predictor={self.predictor!r}; allowed: {', '.join(PREDICTORS)}")
        if self.net.context < 1:
            raise ValueError(f"net.context={self.net.context}; need at least 1 frame")
        if self.rollout_k < 1:
            raise ValueError(f"rollout_k={self.rollout_k}; need at least 1")
        if not 0.0 <= self.rollout_start <= 1.0:
            raise ValueError(f"rollout_start={self.rollout_start}; must be a fraction in [0, 1]")
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if self.net.layout not in (0, 2):
            raise ValueError(f"net.layout={self.net.layout}; allowed: 0 (frames only) or 2 (pusher and block maps)")
        if self.net.layout and not self.readers:
            raise ValueError("net.layout=2 needs readers=FOLDER (python -m posttrain.pixel_unet.reader_fit)")
        if self.is_latent and not self.latent.tokenizer:
            raise ValueError(f"predictor={self.predictor} needs latent.tokenizer=RUN (worldsim train tokenizer ... "
                             f"model.temporal_compression=1)")
