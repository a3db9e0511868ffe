"""Held-out evaluation of a next-frame world model against the dataset's real frames.

    ev = EvalFrames(data, cache, eval_episodes, cameras, tokenizer, context_frames=1,
                    windows=64, horizon=8, episodes=4)
    ev.metrics(step, state_head, scale)   # step(context, action, generators) -> next latent

One-step: latent MSE and PSNR of the decoded prediction against the true next frame, beside the
tokenizer's reconstruction of that frame (the ceiling) and the last context frame ("nothing
moves", the floor), each also over only the pixels that change between the two true frames
(whole-frame PSNR is dominated by the static background), and the state head's error on
predicted latents. Rollout: from each held-out
episode's first frame with the dataset's actions, open loop for ``horizon`` steps; PSNR and
block-position error at the last step.
"""

from __future__ import annotations

import numpy as np
import torch

from posttrain.common.latents import LatentDataset, decode_views
from posttrain.common.windows import LatentWindows
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.tokenizer.metrics import psnr as video_psnr

CHANGED = 0.1  # a pixel "changes" when a channel moves by more than this (in [-1, 1] units)
MAX_PSNR = 100.0  # reported for identical frames (a lossless codec's reconstruction)


def true_frames(reader: LeRobotDatasetReader, cache: LatentDataset, rows: np.ndarray, cameras) -> torch.Tensor:
    """Real frames of dataset rows, cameras side by side: float (N, 3, H, V*W) in [-1, 1]."""
    episode_of = np.searchsorted(cache.starts.numpy(), rows, side="right") - 1
    episodes = {int(e): reader.read_episode(int(e)) for e in np.unique(episode_of)}
    out = []
    for row, ep in zip(rows, episode_of):
        data, t = episodes[int(ep)], int(row - cache.starts[ep])
        out.append(torch.from_numpy(np.concatenate([data[f"observation.images.{c}"][t] for c in cameras], 1)))
    return torch.stack(out).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # (N, 3, H, V*W)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR of (B, 3, H, W) frames in [-1, 1], capped at MAX_PSNR (exact frames): (B,)."""
    return video_psnr(pred[:, :, None], target[:, :, None]).clamp(max=MAX_PSNR)


def masked_psnr(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR over the pixels where ``mask`` (N, 1, H, W) is set, all frames pooled (values in [-1, 1])."""
    err = ((pred - target) ** 2 * mask).sum() / (mask.sum() * pred.shape[1])
    return min(float(10 * torch.log10(4.0 / err)), MAX_PSNR)


def _generators(n: int, seed: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + i) for i in range(n)]


class EvalFrames:
    def __init__(self, data: str, cache: LatentDataset, episodes: list[int], cameras, tokenizer,
                 context_frames: int, windows: int, horizon: int, episodes_for_rollout: int):
        self.cache, self.tokenizer, self.views = cache, tokenizer, len(cameras)
        reader = LeRobotDatasetReader(data)
        win = LatentWindows(cache, episodes, context_frames, "dynamics")
        pick = np.unique(np.linspace(0, len(win) - 1, min(windows, len(win))).round().astype(np.int64))
        self.batch = win.gather(pick)
        self.frames = true_frames(reader, cache, win.rows[pick, 1] + 1, cameras)
        previous = true_frames(reader, cache, win.rows[pick, 1], cameras)
        self.changed = (self.frames - previous).abs().amax(1, keepdim=True) > CHANGED  # (N, 1, H, W)
        long = [e for e in episodes if len(cache.episode_rows(e)) > horizon][:episodes_for_rollout]
        self.horizon, self.context_frames = horizon, context_frames
        self.rollout_starts = np.array([int(cache.starts[e]) for e in long], dtype=np.int64)
        self.rollout_frames = (true_frames(reader, cache, self.rollout_starts + horizon, cameras)
                               if len(long) else None)

    def decode(self, latents: torch.Tensor, scale: float) -> torch.Tensor:
        return decode_views(self.tokenizer, latents * scale, self.views)

    def metrics(self, step, state_head, scale: float) -> dict[str, float]:
        b = self.batch
        context, target = b["context"] / scale, b["target"] / scale
        pred = step(context, b["action"], _generators(len(context)))
        predicted, recon = self.decode(pred, scale), self.decode(target, scale)
        copied = self.decode(context[:, :, -1], scale)
        agent_dim = state_head.cfg.agent_dim
        agent, env = state_head(pred)
        clean_agent, clean_env = state_head(target)
        out = {
            "latent_mse": float((pred - target).square().mean()),
            "copy_latent_mse": float((context[:, :, -1] - target).square().mean()),
            "next_frame_psnr": float(psnr(predicted, self.frames).mean()),
            "tokenizer_psnr": float(psnr(recon, self.frames).mean()),
            "copy_last_frame_psnr": float(psnr(copied, self.frames).mean()),
            "agent_pos_mae": float((agent - b["next_state"][:, :agent_dim]).abs().mean()),
            "environment_state_mae": float((env - b["next_state"][:, agent_dim:]).abs().mean()),
            "agent_pos_mae_clean": float((clean_agent - b["next_state"][:, :agent_dim]).abs().mean()),
            "environment_state_mae_clean": float((clean_env - b["next_state"][:, agent_dim:]).abs().mean()),
        }
        if self.changed.any():  # where the frame changes: what "nothing moves" cannot get right
            for name, frames in (("", predicted), ("tokenizer_", recon), ("copy_last_frame_", copied)):
                out[f"{name}changed_pixels_psnr"] = masked_psnr(frames, self.frames, self.changed)
        out.update(self.rollout(step, state_head, scale))
        return out

    def rollout(self, step, state_head, scale: float) -> dict[str, float]:
        if self.rollout_frames is None:
            return {}
        c, k = self.cache, self.context_frames
        first = c.latents[self.rollout_starts] / scale  # (N, C, h, w)
        context = first[:, :, None].repeat(1, 1, k, 1, 1)  # (N, C, K, h, w)
        gens = _generators(len(first), seed=1000)
        for t in range(self.horizon):
            nxt = step(context, c.action[self.rollout_starts + t], gens)
            context = torch.cat([context[:, :, 1:], nxt[:, :, None]], dim=2)
        rows = self.rollout_starts + self.horizon
        _, env = state_head(context[:, :, -1])
        block_err = (env[:, :2] - c.env_state[rows, :2]).norm(dim=-1)
        h = self.horizon
        return {f"rollout_psnr_h{h}": float(psnr(self.decode(context[:, :, -1], scale), self.rollout_frames).mean()),
                f"rollout_block_error_h{h}": float(block_err.mean())}
