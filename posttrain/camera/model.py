"""Camera-conditioned DiT: a base video DiT plus per-block Plücker-ray projections (Cosmos style).

    net = CameraDiT(CameraDiTConfig(dit=base_cfg, spatial_compression=8))
    load_base_weights(net, "assets/checkpoints/base_dit_tabletop")   # posttrain.common.base
    rays = clip_rays(intrinsics, poses, height, width)                # (B, 6, T, H, W), relative to frame 0
    out = net(x, c_noise, rays, cond_mask)                            # x (B, C, T, h, w) -> like x

The rays of every frame are expressed in the first frame's camera (``relative_poses``), with
translations divided by ``translation_scale`` so that typical motions give moments of order 1.
The embedder's projections start at zero, so right after ``load_base_weights`` the network
computes exactly the base model's function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor, nn

from worldsim.conditioning.camera_embed import CameraEmbedConfig, CameraEmbedder
from worldsim.conditioning.plucker import plucker_rays, relative_poses
from worldsim.diffusion.dit import DiT, DiTConfig


@dataclass
class CameraDiTConfig:
    dit: DiTConfig = field(default_factory=DiTConfig)
    spatial_compression: int = 8      # the codec's
    temporal_compression: int = 1
    translation_scale: float = 0.25   # metres that count as 1 in the ray moments


class CameraDiT(nn.Module):
    """``dit`` (the base network, keys unchanged under ``dit.``) + ``camera_embedder``."""

    def __init__(self, cfg: CameraDiTConfig):
        super().__init__()
        self.cfg = cfg
        self.dit = DiT(cfg.dit)
        self.camera_embedder = CameraEmbedder(CameraEmbedConfig(
            hidden_size=cfg.dit.hidden_size, num_layers=cfg.dit.num_layers, patch_size=cfg.dit.patch_size,
            spatial_compression=cfg.spatial_compression, temporal_compression=cfg.temporal_compression))

    def forward(self, x: Tensor, c_noise: Tensor, rays: Tensor, cond_mask: Tensor) -> Tensor:
        """x (B, C, T, h, w), c_noise (B,), rays (B, 6, T_video, H, W), cond_mask (B, T) -> like x."""
        if rays.shape[0] != x.shape[0]:
            raise ValueError(f"rays {tuple(rays.shape)} and latents {tuple(x.shape)} have different batch sizes")
        adds = self.camera_embedder(rays)  # num_layers x (S, B, hidden)
        tokens = x.shape[2] // self.cfg.dit.patch_size[0] * (x.shape[3] // self.cfg.dit.patch_size[1]) \
            * (x.shape[4] // self.cfg.dit.patch_size[2])
        if adds[0].shape[0] != tokens:
            raise ValueError(f"rays {tuple(rays.shape)} give {adds[0].shape[0]} tokens but latents "
                             f"{tuple(x.shape)} have {tokens}: image size or frame count does not match the codec")
        return self.dit(x, c_noise, cond_mask=cond_mask, attn_input_adds=adds)


def clip_rays(intrinsics: Tensor, poses: Tensor, height: int, width: int, translation_scale: float) -> Tensor:
    """K (B, T, 3, 3), world-from-camera poses (B, T, 4, 4) -> rays (B, 6, T, H, W) in frame 0's camera."""
    rel = relative_poses(poses.double())
    rel[..., :3, 3] /= translation_scale
    rays = plucker_rays(intrinsics.double(), rel, height, width)  # (B, T, 6, H, W)
    return rays.transpose(1, 2).float()



def default_dit(in_channels: int) -> DiTConfig:
    """The DiT trained from scratch when no base is given (the shipped default model's): 4 layers,
    hidden 128, one token per latent cell (a 4x4-pixel patch with ``pixels:4``), ~1.0 M parameters."""
    return DiTConfig(in_channels=in_channels, patch_size=(1, 1, 1), hidden_size=128, num_layers=4, num_heads=4,
                     adaln_lora_dim=32, num_cond_frames=1)
