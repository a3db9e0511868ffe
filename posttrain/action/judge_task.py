"""``worldsim train judge``: success and reward judges on tokenizer latents, from simulator labels.

Each dataset step t gives (latent of frame t, state at t, action t) -> (next.success, next.reward).
The state input is the true state plus noise (``state_noise``, in normalised units) so that the
judges tolerate the state head's estimates they read inside a world model. Success is a
class-weighted logistic loss (positives are rare: episodes end on success), reward a regression.

    task = JudgeTask(JudgeTaskConfig(data="runs/push_train", tokenizer="runs/tokenizer"))
    Trainer(TrainerConfig(out="runs/judge", steps=1000), task).fit()

``evaluate`` reports held-out accuracy, precision, recall and F1 of success and reward MAE,
with the always-"failure" accuracy beside them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from posttrain.action.config import JudgeTaskConfig, plain_config
from posttrain.action.judge_metrics import binary_metrics, reward_mae
from posttrain.action.judges import Judges
from posttrain.action.task import state_normalization
from posttrain.common.latents import load_or_build_latents
from posttrain.common.windows import LatentWindows, WindowLoader
from worldsim.data.clips import held_out_split


class JudgeTask:
    name = "world_model_judges"

    def __init__(self, cfg: JudgeTaskConfig):
        if not cfg.tokenizer:
            raise ValueError("no tokenizer: pass tokenizer= (a `worldsim train tokenizer` run)")
        self.cfg = cfg
        self.cache = load_or_build_latents(cfg.data, cfg.tokenizer, cfg.cameras, cfg.latent_cache)
        self.cfg.cameras = list(self.cache.key["cameras"])
        self.train_episodes, self.eval_episodes = held_out_split(self.cache.num_episodes, cfg.held_out,
                                                                 cfg.split_seed)
        c, h, w = self.cache.latents.shape[1:]
        self.cfg.model = dataclasses.replace(cfg.model, latent_channels=c, latent_hw=(h, w),
                                             state_dim=self.cache.state.shape[1] + self.cache.env_state.shape[1],
                                             action_dim=self.cache.action.shape[1])
        self.pos_weight = cfg.pos_weight or self._balance()

    def _balance(self) -> float:
        rows = LatentWindows(self.cache, self.train_episodes, 1, "judge").rows[:, 1]
        positives = float(self.cache.success[rows].sum())
        return float(min(100.0, (len(rows) - positives) / max(positives, 1.0)))

    def config(self) -> dict:
        """The resolved config as plain data (tuples as lists, as config.yaml stores them, so resuming
        compares like with like)."""
        return plain_config(self.cfg)

    def build_model(self) -> nn.Module:
        judges = Judges(self.cfg.model)
        judges.set_normalization(*state_normalization(self.cache, self.train_episodes))
        return judges

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> WindowLoader:
        windows = LatentWindows(self.cache, self.train_episodes, 1, "judge")
        fingerprint = f"{self.cache.key['data']}-{self.cache.key['tokenizer']}"
        return WindowLoader(windows, batch_size, data_rank, data_world, seed, fingerprint=fingerprint)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        latent = batch["context"][:, :, -1] / self.cfg.latent_scale
        state = model.normalize_state(batch["state"])
        state = state + self.cfg.state_noise * torch.randn_like(state)
        out = model.logits(latent, state, batch["action"])  # (B, 2)
        weight = torch.tensor(self.pos_weight, device=out.device)
        success = F.binary_cross_entropy_with_logits(out[:, 0], batch["success"], pos_weight=weight)
        reward = F.binary_cross_entropy_with_logits(out[:, 1], batch["reward"].clamp(0, 1))
        loss = success + self.cfg.reward_weight * reward
        return loss, {"success_loss": float(success.detach()), "reward_loss": float(reward.detach())}

    @torch.no_grad()
    def predict(self, model: nn.Module, episodes: list[int]) -> dict[str, np.ndarray]:
        windows = LatentWindows(self.cache, episodes, 1, "judge")
        batch = windows.gather(np.arange(len(windows)))
        logit, reward = model(batch["context"][:, :, -1] / self.cfg.latent_scale, batch["state"], batch["action"])
        return {"success": model.success(logit).numpy(), "reward": reward.numpy(),
                "true_success": batch["success"].numpy() > 0.5, "true_reward": batch["reward"].numpy()}

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        p = self.predict(model, self.eval_episodes)
        metrics = {f"success_{k}": v for k, v in binary_metrics(p["success"], p["true_success"]).items()}
        metrics["always_failure_accuracy"] = float(np.mean(~p["true_success"]))
        metrics["reward_mae"] = reward_mae(p["reward"], p["true_reward"])
        return metrics
