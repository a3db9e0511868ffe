"""``worldsim train base``: the base video model (no actions), a DiT over tokenizer latents.

Clips are encoded by a frozen tokenizer; the first latent frame (the first video frame, which
the causal tokenizer encodes alone) stays clean and conditions the rest (video-to-world, as in
Cosmos). With ``max_clip_len`` set, clips of several lengths are packed into one sequence.

    task = BaseTask(BaseTaskConfig(data="runs/push_train", tokenizer="runs/tokenizer"))
    Trainer(TrainerConfig(out="runs/base", steps=3000), task).fit()

``evaluate`` samples held-out clips from their first frame and reports next-frame PSNR
(frame 1) and the PSNR of the first predicted latent chunk, beside two references: the
tokenizer's own reconstruction (the ceiling) and repeating the first frame (the floor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from worldsim.data.clips import ClipConfig, ClipLoader, held_out_split
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.diffusion.edm import EDMConfig, make_denoiser, training_loss, training_loss_packed
from worldsim.diffusion.samplers import sample
from worldsim.tokenizer.metrics import psnr
from worldsim.training.tasks.evaluation_clips import held_out_clips
from worldsim.training.tasks.loading import load_tokenizer


@dataclass
class BaseTaskConfig:
    data: str = ""
    tokenizer: str = ""            # a `worldsim train tokenizer` run or checkpoint folder
    camera: str = "top"
    clip_len: int = 17             # 1 + k * the tokenizer's temporal compression
    max_clip_len: int | None = None  # set: variable-length clips, packed
    held_out: float = 0.1
    split_seed: int = 0
    eval_clips: int = 8
    sample_steps: int = 12
    sampler: str = "heun"
    latent_scale: float = 1.0      # latents are divided by this before diffusion
    model: DiTConfig = field(default_factory=DiTConfig)
    edm: EDMConfig = field(default_factory=EDMConfig)


class BaseTask:
    name = "base_video_dit"

    def __init__(self, cfg: BaseTaskConfig):
        self.cfg = cfg
        self.tokenizer = load_tokenizer(cfg.tokenizer)
        self.stride = self.tokenizer.cfg.temporal_compression
        reader = LeRobotDatasetReader(cfg.data)
        self.train_episodes, self.eval_episodes = held_out_split(reader.num_episodes, cfg.held_out, cfg.split_seed)
        self._eval_video: torch.Tensor | None = None
        if cfg.model.in_channels != self.tokenizer.cfg.latent_dim:
            raise ValueError(f"model.in_channels={cfg.model.in_channels} but the tokenizer has "
                             f"{self.tokenizer.cfg.latent_dim} latent channels")

    def config(self) -> BaseTaskConfig:
        return self.cfg

    def build_model(self) -> nn.Module:
        return DiT(self.cfg.model)

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> ClipLoader:
        clips = ClipConfig(root=self.cfg.data, cameras=[self.cfg.camera], clip_len=self.cfg.clip_len,
                           max_clip_len=self.cfg.max_clip_len, episodes=self.train_episodes)
        return ClipLoader(clips, batch_size=batch_size, rank=data_rank, world=data_world, seed=seed)

    @torch.no_grad()
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> scaled latents (B, D, T', h, w)."""
        self.tokenizer.to(video.device)
        return self.tokenizer.encode(video) / self.cfg.latent_scale

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        video = batch["video"][self.cfg.camera]
        if self.cfg.max_clip_len is None:
            x0 = self.encode(video)                                            # (B, D, T', h, w)
            mask = model.default_cond_mask(x0.shape[0], x0.shape[2], x0.device)
            loss = training_loss(model, x0, mask, self.cfg.edm)
            return loss, {"loss": float(loss.detach()), "padding_fraction": 0.0}
        clips = self._split(video, batch["lengths"])
        latents = [self.encode(c[None])[0] for c in clips]                      # (D, T_i', h, w) each
        masks = [torch.arange(z.shape[1], device=z.device) < model.cfg.num_cond_frames for z in latents]
        loss = training_loss_packed(model, latents, masks, self.cfg.edm)
        return loss, {"loss": float(loss.detach()), "padding_fraction": self._padding(latents)}

    def _split(self, packed: torch.Tensor, lengths) -> list[torch.Tensor]:
        """A time-packed (1, 3, sum T_i, H, W) batch -> clips trimmed to 1 + k * stride frames."""
        clips, start = [], 0
        for n in (int(n) for n in lengths):
            usable = 1 + (n - 1) // self.stride * self.stride
            clips.append(packed[0, :, start:start + usable])
            start += n
        return clips

    @staticmethod
    def _padding(latents: list[torch.Tensor]) -> float:
        """The share of a padded batch of these clips that would be padding (0 when packed)."""
        frames = [z.shape[1] for z in latents]
        return 1.0 - sum(frames) / (len(frames) * max(frames))

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        video = self._held_out().to(next(model.parameters()).device)           # (N, 3, T, H, W)
        predicted = self.predict(model, video[:, :, :1], video.shape[2])
        recon = self.tokenizer.decode(self.encode(video) * self.cfg.latent_scale).clamp(-1, 1)
        frozen = video[:, :, :1].expand_as(video)
        chunk = slice(1, 1 + self.stride)
        return {
            "next_frame_psnr": float(psnr(predicted[:, :, 1:2], video[:, :, 1:2]).mean()),
            "chunk_psnr": float(psnr(predicted[:, :, chunk], video[:, :, chunk]).mean()),
            "clip_psnr": float(psnr(predicted[:, :, 1:], video[:, :, 1:]).mean()),
            "tokenizer_chunk_psnr": float(psnr(recon[:, :, chunk], video[:, :, chunk]).mean()),
            "copy_first_frame_chunk_psnr": float(psnr(frozen[:, :, chunk], video[:, :, chunk]).mean()),
        }

    def _held_out(self) -> torch.Tensor:
        if self._eval_video is None:
            self._eval_video = held_out_clips(self.cfg.data, self.eval_episodes, self.cfg.camera,
                                              self.cfg.clip_len, self.cfg.eval_clips)
        return self._eval_video

    @torch.no_grad()
    def predict(self, model: nn.Module, first_frame: torch.Tensor, frames: int, seed: int = 0) -> torch.Tensor:
        """Video (N, 3, frames, H, W) sampled from its first frame (N, 3, 1, H, W)."""
        z_first = self.encode(first_frame)                                      # (N, D, 1, h, w)
        n, d, _, h, w = z_first.shape
        t_latent = 1 + (frames - 1) // self.stride
        x_cond = torch.zeros(n, d, t_latent, h, w, device=z_first.device)
        x_cond[:, :, :1] = z_first
        mask = model.default_cond_mask(n, t_latent, z_first.device)
        gen = torch.Generator(device=z_first.device).manual_seed(seed)
        noise = torch.randn(x_cond.shape, generator=gen, device=z_first.device)
        denoiser = make_denoiser(model, cond_mask=mask, x_cond=x_cond)
        z = sample(denoiser, noise, steps=self.cfg.sample_steps, method=self.cfg.sampler,
                   cond_mask=mask, x_cond=x_cond)
        return self.tokenizer.decode(z * self.cfg.latent_scale).clamp(-1, 1)
