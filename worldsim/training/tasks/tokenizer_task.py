"""``worldsim train tokenizer``: the causal video tokenizer on clips of a LeRobotDataset.

    task = TokenizerTask(TokenizerTaskConfig(data="runs/push_train", camera="top", clip_len=17))
    Trainer(TrainerConfig(out="runs/tokenizer", steps=2000), task).fit()

Held-out episodes (``held_out`` fraction) are never trained on; ``evaluate`` reports PSNR and
SSIM of their reconstructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from worldsim.data.clips import ClipConfig, ClipLoader, held_out_split
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.tokenizer.metrics import psnr, ssim
from worldsim.tokenizer.model import TokenizerConfig, VideoTokenizer
from worldsim.training.tasks.evaluation_clips import held_out_clips


@dataclass
class TokenizerTaskConfig:
    data: str = ""
    camera: str = "top"
    clip_len: int = 17             # 1 + k * temporal_compression
    held_out: float = 0.1
    split_seed: int = 0
    eval_clips: int = 16
    model: TokenizerConfig = field(default_factory=TokenizerConfig)


class TokenizerTask:
    name = "video_tokenizer"

    def __init__(self, cfg: TokenizerTaskConfig):
        self.cfg = cfg
        reader = LeRobotDatasetReader(cfg.data)
        self.train_episodes, self.eval_episodes = held_out_split(reader.num_episodes, cfg.held_out, cfg.split_seed)
        self._eval_video: torch.Tensor | None = None

    def config(self) -> TokenizerTaskConfig:
        return self.cfg

    def build_model(self) -> nn.Module:
        return VideoTokenizer(self.cfg.model)

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> ClipLoader:
        clips = ClipConfig(root=self.cfg.data, cameras=[self.cfg.camera], clip_len=self.cfg.clip_len,
                           episodes=self.train_episodes)
        return ClipLoader(clips, batch_size=batch_size, rank=data_rank, world=data_world, seed=seed)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        return model.loss(batch["video"][self.cfg.camera])

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        if self._eval_video is None:
            self._eval_video = held_out_clips(self.cfg.data, self.eval_episodes, self.cfg.camera,
                                              self.cfg.clip_len, self.cfg.eval_clips)
        device = next(model.parameters()).device
        video = self._eval_video.to(device)
        recon = torch.cat([model(v[None])[0] for v in video]).clamp(-1, 1)   # (N, 3, T, H, W)
        return {"psnr": float(psnr(recon, video).mean()), "ssim": float(ssim(recon, video).mean())}
