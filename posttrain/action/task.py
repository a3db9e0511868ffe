"""``worldsim posttrain action``: an action-conditioned next-frame world model and its state head.

Starts from a base video DiT (``worldsim train base``), adds a per-latent-frame action embedding
(posttrain/action/model.py; zero-initialised, so step 0 is the base model) and trains it on tokenizer
latents of a generated dataset to predict latent frame t+1 from frames <= t and action t. The
``deterministic`` predictor regresses the next latent instead (the baseline of docs/design.md; a small
conv net or the same DiT trunk). Either way a state head learns ``agent_pos`` and
``environment_state`` from latents.

    task = ActionTask(ActionTaskConfig(data="runs/push_train", base="runs/base"))   # config.py
    Trainer(TrainerConfig(out="runs/action", steps=2000), task).fit()

Latents are encoded once per frame (posttrain/common/latents.py, cached at ``latent_cache``);
``evaluate`` reports held-out one-step latent error and PSNR against the real frames (with the
tokenizer's own reconstruction as the ceiling and "nothing moves" as the floor), an open-loop
rollout PSNR over ``eval_horizon`` steps, and the state head's errors on predicted frames.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import nn

from posttrain.action.config import ActionTaskConfig, plain_config, predict_config, resolve_config
from posttrain.action.deterministic import ConvPredictor
from posttrain.action.evaluate import EvalFrames
from posttrain.action.losses import diffusion_loss, regression_loss, rollout_loss
from posttrain.action.model import ActionDiT, ActionDiTConfig, ActionWorldModel
from posttrain.action.predict import predict_next
from posttrain.action.state_head import StateHead
from posttrain.common.base import load_base_weights
from posttrain.common.codec import load_codec
from posttrain.common.latents import LatentDataset, load_or_build_latents
from posttrain.common.lora import apply_lora
from posttrain.common.windows import LatentWindows, WindowLoader
from worldsim.data.clips import held_out_split


def build_action_model(cfg: ActionTaskConfig) -> ActionWorldModel:
    """The (untrained, LoRA-free) network of a resolved config: dynamics + state head."""
    if cfg.network == "conv":
        dynamics = ConvPredictor(cfg.conv)
    else:
        dynamics = ActionDiT(ActionDiTConfig(dit=cfg.model, action_dim=cfg.action_dim))
    return ActionWorldModel(dynamics, StateHead(cfg.state_head))


def load_predictor_weights(model: ActionWorldModel, init: str) -> None:
    """Copy a world-model folder's predictor (``FOLDER`` = its default, ``FOLDER#NAME``) into ``model``."""
    from posttrain.common.bundle import prefixed, read_bundle
    from worldsim.io import check_matches, load_tensor_state, tensor_state

    folder, _, name = init.partition("#")
    config, tensors, _ = read_bundle(folder)
    name = name or config["default_predictor"]
    if name not in config["predictors"]:
        raise ValueError(f"init={init!r}: {folder} has no predictor {name!r}; it has {sorted(config['predictors'])}")
    weights = prefixed(tensors, f"predictors.{name}.")
    check_matches(f"init={init}", weights, tensor_state(model))
    load_tensor_state(model, weights)


def state_normalization(cache: LatentDataset, episodes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.cat([torch.arange(int(cache.starts[e]), int(cache.starts[e + 1])) for e in episodes])
    state = torch.cat([cache.state, cache.env_state], dim=-1)[rows]  # (N, D + E)
    return state.mean(0), state.std(0).clamp_min(1e-3)


class ActionTask:
    name = "action_world_model"

    def __init__(self, cfg: ActionTaskConfig):
        self.cfg = cfg = resolve_config(cfg)
        if not cfg.tokenizer:
            raise ValueError("no tokenizer: pass tokenizer= (or base= whose config names one)")
        self.cache = load_or_build_latents(cfg.data, cfg.tokenizer, cfg.cameras, cfg.latent_cache)
        self.train_episodes, self.eval_episodes = held_out_split(self.cache.num_episodes, cfg.held_out,
                                                                 cfg.split_seed)
        self.scale = float(cfg.latent_scale)
        self._fill_sizes()
        self._eval: Optional[EvalFrames] = None

    def _fill_sizes(self) -> None:
        """Write the sizes the data decides into the config, so the checkpoint alone rebuilds the model."""
        cfg, cache = self.cfg, self.cache
        c, h, w = cache.latents.shape[1:]
        cfg.cameras = list(cache.key["cameras"])
        cfg.action_dim = cfg.action_dim or cache.action.shape[1]
        if cfg.action_dim != cache.action.shape[1]:
            raise ValueError(f"action_dim={cfg.action_dim} but {cfg.data} has actions of size {cache.action.shape[1]}")
        cfg.conv = dataclasses.replace(cfg.conv, latent_channels=c, context_frames=cfg.context_frames,
                                       action_dim=cfg.action_dim)
        cfg.state_head = dataclasses.replace(cfg.state_head, latent_channels=c, latent_hw=(h, w),
                                             agent_dim=cache.state.shape[1], env_dim=cache.env_state.shape[1])
        if cfg.network == "dit" and cfg.model.in_channels != c:
            raise ValueError(f"model.in_channels={cfg.model.in_channels} but the tokenizer has {c} latent channels")

    def config(self) -> dict:
        """The resolved config as plain data (tuples as lists, as config.yaml stores them, so resuming
        compares like with like)."""
        return plain_config(self.cfg)

    # -------------------------------------------------------- model

    def build_model(self) -> nn.Module:
        model = build_action_model(self.cfg)
        if self.cfg.base:
            load_base_weights(model.dynamics, self.cfg.base, ema=self.cfg.base_ema)
        if self.cfg.init:
            load_predictor_weights(model, self.cfg.init)
        if self.cfg.network == "dit":
            apply_lora(model.dynamics.dit, self.cfg.lora)
        model.state_head.set_normalization(*state_normalization(self.cache, self.train_episodes))
        return model

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> WindowLoader:
        windows = LatentWindows(self.cache, self.train_episodes, self.cfg.context_frames, "dynamics",
                                self.cfg.rollout_horizon)
        fingerprint = f"{self.cache.key['data']}-{self.cache.key['tokenizer']}"
        return WindowLoader(windows, batch_size, data_rank, data_world, seed, fingerprint=fingerprint)

    # -------------------------------------------------------- loss

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        context, target = batch["context"] / self.scale, batch["target"] / self.scale
        if self.cfg.context_noise > 0:
            context = context + self.cfg.context_noise * torch.randn_like(context)
        if self.cfg.rollout_horizon > 1:
            dynamics, rolled = rollout_loss(model.dynamics, model.state_head, context, batch["actions"],
                                            batch["targets"] / self.scale, batch["next_states"], self.cfg.network,
                                            self.cfg.changed_weight)
            state = 0.5 * (model.state_head.loss(target, batch["next_state"]) + rolled)
            loss = dynamics + self.cfg.state_weight * state
            return loss, {"dynamics_loss": float(dynamics.detach()), "state_loss": float(state.detach())}
        if self.cfg.predictor == "diffusion":
            dynamics = diffusion_loss(model.dynamics, context, batch["action"], target, self.cfg.edm)
        else:
            dynamics = regression_loss(model.dynamics, context, batch["action"], target, self.cfg.network,
                                       self.cfg.changed_weight)
        state = model.state_head.loss(target, batch["next_state"])
        loss = dynamics + self.cfg.state_weight * state
        return loss, {"dynamics_loss": float(dynamics.detach()), "state_loss": float(state.detach())}

    # -------------------------------------------------------- evaluation

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_episodes:
            return {}
        if self._eval is None:
            self._eval = EvalFrames(self.cfg.data, self.cache, self.eval_episodes, self.cfg.cameras,
                                    load_codec(self.cfg.tokenizer), self.cfg.context_frames,
                                    self.cfg.eval_windows, self.cfg.eval_horizon, self.cfg.eval_episodes)
        step = lambda ctx, act, gens: predict_next(model.dynamics, ctx, act, predict_config(self.cfg), gens)  # noqa: E731
        return self._eval.metrics(step, model.state_head, self.scale)
