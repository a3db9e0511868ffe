"""Stepping a camera-conditioned DiT: generate the view after a camera motion, latents carried.

    wm = CameraWorldModel.load("assets/world_models/camera_tabletop")   # a `worldsim posttrain camera` run
    state = wm.start({"camera": frames}, poses, seeds=[0])   # frames uint8 (N, T, H, W, 3), poses (N, 4, 4)
    state, frames, extras = wm.step(state, actions)  # actions (N, 6) camera motions -> {"camera": uint8 (N, H, W, 3)}
    extras["agent_pos"]                              # (N, 6) the camera's pose (posttrain.camera.motion.camera_state)

The common world-model interface (posttrain/common/interface.py) with the camera poses
(world-from-camera at the current frame) as ``context_actions``; only the last context frame is
used. There is no task: reward 0, never success.

A step builds a window of the last ``context_frames`` latents (clean, conditioning) and one noisy
slot, the Plücker rays of the window's cameras relative to its first, and integrates the EDM
ODE for ``sample_steps`` Euler/Heun steps (``generate_next``); a ``residual`` model generates the
difference from the last context latent, which is added back. The new latent joins the context;
the pose is the old one composed with the commanded motion, so the camera pose is known exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from posttrain.camera.checkpoint import load_camera_run
from posttrain.camera.config import SamplingConfig
from posttrain.camera.model import CameraDiT, clip_rays
from posttrain.camera.motion import CameraMotionConfig, apply_action, camera_state
from posttrain.common.frames import to_uint8, to_video
from posttrain.common.interface import no_task
from worldsim.diffusion.edm import make_denoiser
from worldsim.diffusion.samplers import karras_sigmas, sample


@torch.no_grad()
def generate_next(model: CameraDiT, context: torch.Tensor, rays: torch.Tensor, cfg: SamplingConfig,
                  generators: Optional[list] = None) -> torch.Tensor:
    """context (B, C, K, h, w) scaled latents, rays (B, 6, K+1, H, W) -> the next latent (B, C, h, w)."""
    b, c, k, h, w = context.shape
    x_cond = torch.cat([context, context.new_zeros(b, c, 1, h, w)], dim=2)  # (B, C, K+1, h, w)
    mask = torch.zeros(b, k + 1, dtype=torch.bool, device=context.device)
    mask[:, :k] = True
    if generators is None:
        noise = torch.randn_like(x_cond)
    else:
        noise = torch.stack([torch.randn(x_cond.shape[1:], generator=g) for g in generators]).to(context)
    sigmas = karras_sigmas(cfg.steps, sigma_max=cfg.sigma_max, device=context.device)
    denoiser = make_denoiser(model, cond_mask=mask, x_cond=x_cond, sigma_data=cfg.sigma_data, rays=rays)
    out = sample(denoiser, noise, sigmas, method=cfg.sampler, cond_mask=mask, x_cond=x_cond)
    return out[:, :, -1]


CAMERA = "camera"


@dataclass
class CameraState:
    """latents (N, C, K, h, w) scaled context; poses (N, K, 4, 4) float64 world-from-camera."""

    latents: torch.Tensor
    poses: np.ndarray
    generators: list = field(default_factory=list)

    @property
    def num_envs(self) -> int:
        return self.latents.shape[0]

    def replace(self, indices: Sequence[int], other: "CameraState") -> "CameraState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        idx = list(indices)
        if len(idx) != other.num_envs:
            raise ValueError(f"replacing {len(idx)} envs with a state of {other.num_envs}")
        latents, poses, gens = self.latents.clone(), self.poses.copy(), list(self.generators)
        latents[torch.as_tensor(idx, dtype=torch.long)] = other.latents
        poses[idx] = other.poses
        for j, i in enumerate(idx):
            gens[i] = other.generators[j]
        return CameraState(latents, poses, gens)


class CameraWorldModel:
    """A codec, a ``CameraDiT`` and the data's camera: see the module docstring."""

    def __init__(self, model: CameraDiT, codec, intrinsics: np.ndarray, height: int, width: int,
                 motion: CameraMotionConfig, latent_scale: float = 1.0, sampling: SamplingConfig | None = None,
                 residual: bool = False):
        self.model, self.codec, self.residual = model.eval(), codec, residual
        self.intrinsics = np.asarray(intrinsics, np.float64)
        self.height, self.width = int(height), int(width)
        self.motion, self.scale = motion, float(latent_scale)
        self.sampling = sampling or SamplingConfig()
        self.cameras = [CAMERA]

    @classmethod
    def load(cls, path: str, sample_steps: int | None = None, sampler: str | None = None) -> "CameraWorldModel":
        model, codec, cfg = load_camera_run(path)
        sampling = dataclasses.replace(cfg.sampling, **{k: v for k, v in
                                                        (("steps", sample_steps), ("sampler", sampler)) if v})
        return cls(model, codec, np.reshape(cfg.intrinsics, (3, 3)), cfg.image_size, cfg.image_size, cfg.motion,
                   cfg.latent_scale, sampling, cfg.residual)

    @torch.no_grad()
    def encode(self, frames: dict) -> torch.Tensor:
        """{CAMERA: uint8 (N, H, W, 3)} -> scaled latents (N, C, h, w)."""
        views = self._view(frames, 4, "(N, {h}, {w}, 3)")
        return self.codec.encode(to_video(views[:, None]))[:, :, 0] / self.scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> dict:
        """Scaled latents (N, C, h, w) -> {CAMERA: uint8 (N, H, W, 3)}."""
        return {CAMERA: to_uint8(self.codec.decode(latents[:, :, None] * self.scale)[:, :, 0])}

    def start(self, context_frames: dict, context_actions=None, context_state=None, seeds=None) -> CameraState:
        """A state from ``{CAMERA: uint8 (N, T, H, W, 3)}`` (the last frame is used) and the camera poses
        at that frame, float (N, 4, 4) world-from-camera, as ``context_actions``."""
        from worldsim.conditioning.plucker import check_poses

        if context_actions is None:
            raise ValueError("context_actions must be the camera poses (N, 4, 4) world-from-camera")
        frames = self._view(context_frames, 5, "(N, T>=1, {h}, {w}, 3)")[:, -1]
        poses = np.asarray(context_actions, np.float64)
        check_poses(torch.as_tensor(poses))
        seeds = list(range(len(frames))) if seeds is None else list(seeds)
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        return CameraState(self.encode({CAMERA: frames})[:, :, None], poses[:, None].copy(), gens)

    def judge_step(self, state: CameraState, actions=None, next_state=None) -> tuple[np.ndarray, np.ndarray]:
        """No task: reward 0, never success."""
        return no_task(state.num_envs)

    def _view(self, frames: dict, ndim: int, shape: str) -> np.ndarray:
        want = shape.format(h=self.height, w=self.width)
        if not isinstance(frames, dict) or set(frames) != {CAMERA}:
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"frames must be {{{CAMERA!r}: uint8 {want}}}, got {got}")
        v = np.asarray(frames[CAMERA])
        if v.ndim != ndim or tuple(v.shape[-3:]) != (self.height, self.width, 3) or (ndim == 5 and v.shape[1] < 1):
            raise ValueError(f"frames must be uint8 {want} for this model, got {tuple(v.shape)}")
        return v

    def rays(self, poses: np.ndarray) -> torch.Tensor:
        """poses (N, K+1, 4, 4) -> rays (N, 6, K+1, H, W) relative to the first."""
        k = torch.as_tensor(self.intrinsics).expand(*poses.shape[:2], 3, 3)
        return clip_rays(k, torch.as_tensor(poses), self.height, self.width, self.model.cfg.translation_scale)

    @torch.no_grad()
    def step(self, state: CameraState, actions: np.ndarray) -> tuple[CameraState, dict, dict]:
        """Every env's view after its camera motion: (state, {CAMERA: uint8 (N, H, W, 3)}, extras)."""
        new_poses = np.stack([apply_action(p, a, self.motion) for p, a in zip(state.poses[:, -1], actions)])
        window = np.concatenate([state.poses, new_poses[:, None]], axis=1)  # (N, K+1, 4, 4)
        z = generate_next(self.model, state.latents, self.rays(window), self.sampling, state.generators)
        if self.residual:
            z = z + state.latents[:, :, -1]
        k = self.sampling.context_frames
        latents = torch.cat([state.latents, z[:, :, None]], dim=2)[:, :, -k:]
        new = CameraState(latents, window[:, -k:], state.generators)
        reward, success = self.judge_step(state, actions, new)
        extras = {"agent_pos": np.stack([camera_state(p) for p in new_poses]),
                  "environment_state": np.zeros((len(new_poses), 0), np.float32), "reward": reward, "success": success}
        return new, self.decode(z), extras
