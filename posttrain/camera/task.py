"""``worldsim posttrain camera``: a camera-conditioned video model (video-to-world with Plücker rays).

Given the first latent frame (clean, ``cond_mask``) and the camera trajectory, the DiT generates
the following frames; the camera enters as per-pixel Plücker rays relative to the first camera
(``posttrain/camera/model.py``). Loss: EDM denoising on the generated frames, as in the base task.

    worldsim posttrain camera --base "" --data runs/camera_orbits --out runs/camera
    task = CameraTask(CameraTaskConfig(data="runs/camera_orbits", base="assets/checkpoints/base_dit_tabletop"))
    Trainer(TrainerConfig(out="runs/camera", steps=2000), task).fit()

``base`` is a ``worldsim train base`` run or checkpoint: its DiT, tokenizer and latent scale are
used and the ray projections start at zero (step 0 = the base). ``base=""`` trains the default DiT
(``posttrain.camera.model.default_dit``: 4 layers, hidden 128) from scratch on ``tokenizer`` (default
``pixels:4``, lossless). Data: a camera dataset from ``worldsim/generation/camera_data.py`` (``python -m posttrain.camera.data``); every frame is
encoded once (``clips.py``). Each batch draws clips of 2..``clip_frames`` frames, every s-th frame with s in 1..``max_stride``
(larger camera motions than one step, where ignoring the camera costs more; played backwards
with probability 1/2 when ``reverse``: the scene is static). With ``residual`` the generated frames are diffused as
differences from the last conditioning frame (so "nothing moves" is the zero prediction and the
model learns only what the camera motion changes). ``evaluate`` rolls held-out episodes
out the way the env steps (one generated frame per camera motion, latents carried) and reports
the PSNR against the rendered frames and that of repeating the first frame.
"""

from __future__ import annotations

import dataclasses
import json

import torch
from torch import nn

from posttrain.camera.clips import CameraClipLoader, CameraEpisodes
from posttrain.camera.config import ARCHITECTURE, CameraTaskConfig, model_config, resolve_config
from posttrain.camera.evaluate import rollout_psnr
from posttrain.camera.model import CameraDiT, clip_rays
from posttrain.camera.world_model import CameraWorldModel
from posttrain.common.base import load_base_weights
from posttrain.common.codec import load_codec
from worldsim.config import to_dict
from worldsim.data.clips import held_out_split
from worldsim.diffusion.edm import training_loss


def check_codec(codec, spec: str) -> None:
    if codec.cfg.temporal_compression != 1:
        raise ValueError(f"codec {spec} has temporal_compression={codec.cfg.temporal_compression}; camera "
                         "post-training encodes frames one by one and needs 1")


class CameraTask:
    name = ARCHITECTURE

    def __init__(self, cfg: CameraTaskConfig):
        self.cfg = cfg = resolve_config(cfg)
        self.codec = load_codec(cfg.tokenizer)
        check_codec(self.codec, cfg.tokenizer)
        self.data = CameraEpisodes(cfg.data, cfg.camera, self.codec, cfg.latent_scale)
        self.train_episodes, self.eval_episodes = held_out_split(self.data.num_episodes, cfg.held_out, cfg.split_seed)
        self._fill_from_data()

    def _fill_from_data(self) -> None:
        cfg, data = self.cfg, self.data
        cfg.image_size = int(data.frames.shape[1])
        if data.frames.shape[1] != data.frames.shape[2]:
            raise ValueError(f"camera frames must be square, got {data.frames.shape[1:3]}")
        cfg.intrinsics = [float(v) for v in data.intrinsics.ravel()]
        cfg.motion = data.motion
        if cfg.model.in_channels != data.latents.shape[1]:
            if cfg.base:
                raise ValueError(f"the base DiT takes {cfg.model.in_channels} latent channels but "
                                 f"{cfg.tokenizer} gives {data.latents.shape[1]}")
            cfg.model = dataclasses.replace(cfg.model, in_channels=int(data.latents.shape[1]))

    def config(self) -> dict:
        return json.loads(json.dumps(to_dict(self.cfg)))

    def build_model(self) -> nn.Module:
        model = CameraDiT(model_config(self.cfg, self.codec))
        if self.cfg.base:
            load_base_weights(model, self.cfg.base, ema=self.cfg.base_ema)
        return model

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> CameraClipLoader:
        return CameraClipLoader(self.data, self.train_episodes, self.cfg.clip_frames, batch_size, seed, data_rank,
                                self.cfg.reverse, self.cfg.max_stride)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        x0 = batch["latents"]
        rays = clip_rays(batch["intrinsics"], batch["poses"], self.cfg.image_size, self.cfg.image_size,
                         self.cfg.translation_scale).to(x0)
        k = self.cfg.model.num_cond_frames
        mask = torch.zeros(x0.shape[0], x0.shape[2], dtype=torch.bool, device=x0.device)
        mask[:, :k] = True
        if self.cfg.residual:
            x0 = torch.cat([x0[:, :, :k], x0[:, :, k:] - x0[:, :, k - 1:k]], dim=2)  # (B, C, T, h, w)
        loss = training_loss(model, x0, mask, self.cfg.edm, rays=rays)
        return loss, {"loss": float(loss.detach())}

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        wm = CameraWorldModel(model, self.codec, self.data.intrinsics, self.cfg.image_size, self.cfg.image_size,
                              self.cfg.motion, self.cfg.latent_scale, self.cfg.sampling, self.cfg.residual)
        episodes = self.eval_episodes[: self.cfg.eval_episodes]
        result = rollout_psnr(wm, self.data, episodes, self.cfg.eval_horizon)
        model.train()
        return {"rollout_psnr": float(result["model"].mean()), "copy_first_psnr": float(result["copy_first"].mean()),
                "step1_psnr": float(result["model"][0])}
