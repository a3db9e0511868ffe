"""``worldsim posttrain multiview``: a six-camera driving world model (joint multi-view DiT + state head).

    worldsim posttrain multiview --base "" --data runs/drive_train --out runs/mv \\
        predictor=deterministic steps=1300 batch_size=8 lr=4e-4 latent_cache=runs/mv_latents.safetensors

Every step of the world model predicts the next frame of all V views at once from the last
``context_frames`` frames of every view (the conditioning frames, clean) and the ego action:
views are folded into one token sequence with a learned view embedding (posttrain/multiview/model.py),
so self-attention runs jointly over all views. ``predictor="diffusion"`` trains the EDM denoising
loss and samples with a few Euler/Heun steps; ``"deterministic"`` regresses the next frame with
the same network (the deterministic baseline of docs/design.md). The ``StateDeltaHead`` learns the change of
``agent_pos ++ environment_state`` over a step from the frames before and after it.

``base=""`` trains from scratch with the small default ``model`` below (4 layers, hidden 128,
4 heads, patch 1x2x2: 1.09 M parameters for six 32 px views on ``pixels:4``, plus 0.84 M in the
state head). A ``base`` (a ``worldsim train base`` checkpoint whose latents have the same channel
count) gives its DiT sizes and weights, the input embedding widened with zero columns for the
view channels. Frames go through ``tokenizer`` (default: the base's; without a base ``pixels:4``,
exact 4x4 pixel patches). The dataset must have every camera of ``cameras`` (default: all its
cameras, in its order); its camera parameters (``camera_params=true`` in ``worldsim generate``)
give the rig that ``evaluate`` scores cross-view consistency with. A checkpoint serves exactly
its number of views: ``worldsim/DrivingWorldModel-v0`` refuses other camera sets.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import torch
from torch import nn

from posttrain.multiview.metrics import DRIVING_PAIRS, cross_view_sampson, per_view_psnr, summarize_sampson
from posttrain.common.base import base_task_config
from posttrain.common.bundle import sim_spec
from posttrain.common.codec import load_codec
from posttrain.common.frames import to_uint8
from posttrain.common.latents import LatentDataset, decode_views, load_or_build_latents
from posttrain.common.windows import LatentWindows, WindowLoader
from posttrain.multiview.config import ARCHITECTURE, DEFAULT_CODEC, MultiViewTaskConfig, predict_config, resolve_base
from posttrain.multiview.model import MultiViewDiT, MultiViewDiTConfig, MultiViewNetwork, StateDeltaHead
from posttrain.multiview.model import multiview_inputs, widen_base_into
from posttrain.multiview.predict import predict_next_views, regress_next_views
from worldsim.conditioning.view_embed import ViewEmbedConfig
from worldsim.config import to_dict
from worldsim.data.clips import held_out_split
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.diffusion.edm import training_loss


def build_multiview_model(cfg: MultiViewTaskConfig) -> MultiViewNetwork:
    """The untrained network of a resolved config (sizes filled from the data)."""
    net_cfg = MultiViewDiTConfig(dit=cfg.model, latent_channels=cfg.model.in_channels - cfg.view_channels,
                                 views=ViewEmbedConfig(num_views=len(cfg.cameras), channels=cfg.view_channels),
                                 action_dim=cfg.action_dim)
    return MultiViewNetwork(MultiViewDiT(net_cfg), StateDeltaHead(cfg.state_head))


def read_rig(data: str, cameras: list[str]) -> dict:
    """{camera: {"K", "pose"}} of the dataset's first frame, or {} without camera parameters."""
    reader = LeRobotDatasetReader(data)
    keys = [f"observation.camera.{c}.{p}" for c in cameras for p in ("intrinsics", "extrinsics")]
    if any(k not in reader.features for k in keys):
        return {}
    episode = reader.read_episode(0)
    return {c: {"K": np.asarray(episode[f"observation.camera.{c}.intrinsics"][0], float).tolist(),
                "pose": np.asarray(episode[f"observation.camera.{c}.extrinsics"][0], float).tolist()}
            for c in cameras}


def transition_normalization(cache: LatentDataset, episodes: list[int]) -> tuple[torch.Tensor, ...]:
    """(state mean, std, delta mean, std) of agent_pos ++ environment_state over the training episodes."""
    state = torch.cat([cache.state, cache.env_state], dim=-1).float()
    rows = torch.cat([torch.arange(int(cache.starts[e]), int(cache.starts[e + 1])) for e in episodes])
    steps = torch.cat([torch.arange(int(cache.starts[e]), int(cache.starts[e + 1]) - 1) for e in episodes])
    delta = state[steps + 1] - state[steps]
    return state[rows].mean(0), state[rows].std(0).clamp_min(1e-3), delta.mean(0), delta.std(0).clamp_min(1e-3)


class MultiViewTask:
    name = ARCHITECTURE

    def __init__(self, cfg: MultiViewTaskConfig):
        cfg.check()
        cfg = dataclasses.replace(cfg, tokenizer=cfg.tokenizer or (base_task_config(cfg.base)["tokenizer"] if cfg.base
                                                                   else DEFAULT_CODEC))
        self.cache = load_or_build_latents(cfg.data, cfg.tokenizer, cfg.cameras, cfg.latent_cache)
        cameras = list(self.cache.key["cameras"])
        c, h, vw = self.cache.latents.shape[1:]
        cfg = resolve_base(dataclasses.replace(cfg, cameras=cameras), c)
        self.train_episodes, self.eval_episodes = held_out_split(self.cache.num_episodes, cfg.held_out, cfg.split_seed)
        action_dim = cfg.action_dim or self.cache.action.shape[1]
        if action_dim != self.cache.action.shape[1]:
            raise ValueError(f"action_dim={action_dim} but {cfg.data} has actions of size {self.cache.action.shape[1]}")
        head = dataclasses.replace(cfg.state_head, latent_channels=c, latent_hw=(h, vw), action_dim=action_dim,
                                   state_dim=self.cache.state.shape[1] + self.cache.env_state.shape[1])
        self.cfg = dataclasses.replace(cfg, action_dim=action_dim, state_head=head, rig=read_rig(cfg.data, cameras),
                                       sim=sim_spec(cfg.data, cameras))
        self.codec = load_codec(cfg.tokenizer)

    def config(self) -> dict:
        return json.loads(json.dumps(to_dict(self.cfg)))

    def build_model(self) -> nn.Module:
        model = build_multiview_model(self.cfg)
        if self.cfg.base:
            widen_base_into(model.dynamics, self.cfg.base, ema=self.cfg.base_ema)
        model.state_head.set_normalization(*transition_normalization(self.cache, self.train_episodes))
        return model

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> WindowLoader:
        windows = LatentWindows(self.cache, self.train_episodes, self.cfg.context_frames, "dynamics")
        fingerprint = f"{self.cache.key['data']}-{self.cache.key['tokenizer']}"
        return WindowLoader(windows, batch_size, data_rank, data_world, seed, fingerprint=fingerprint)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        context, target = batch["context"] / self.cfg.latent_scale, batch["target"] / self.cfg.latent_scale
        if self.cfg.context_noise > 0:
            context = context + self.cfg.context_noise * torch.randn_like(context)
        net = model.dynamics
        if self.cfg.predictor == "diffusion":
            x0, cond_mask, actions = multiview_inputs(context, batch["action"], target, net.num_views)
            dynamics = training_loss(net, x0, cond_mask, self.cfg.edm, actions=actions)
        else:
            dynamics = torch.nn.functional.mse_loss(regress_next_views(net, context, batch["action"]), target)
        state = model.state_head.loss(context[:, :, -1], target, batch["state"], batch["action"], batch["next_state"])
        loss = dynamics + self.cfg.state_weight * state
        return loss, {"dynamics_loss": float(dynamics.detach()), "state_loss": float(state.detach())}

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Held-out one-step PSNR (and the "nothing moves" floor), state error, and Sampson distance of
        generated next frames beside that of the true ones."""
        if not self.eval_episodes or self.cfg.eval_windows < 1:
            return {}
        windows = LatentWindows(self.cache, self.eval_episodes, self.cfg.context_frames, "dynamics")
        pick = np.random.default_rng(0).permutation(len(windows))[: self.cfg.eval_windows]
        batch = windows.gather(pick)
        context = batch["context"] / self.cfg.latent_scale
        gens = [torch.Generator().manual_seed(i) for i in range(len(pick))]
        pred = predict_next_views(model.dynamics, context, batch["action"], predict_config(self.cfg), gens)
        state = model.state_head(context[:, :, -1], pred, batch["state"], batch["action"])
        agent_dim = self.cache.state.shape[1]
        out = {"state_mae": float((state - batch["next_state"]).abs()[:, :agent_dim].mean())}
        frames = {k: self.frames(v) for k, v in (("pred", pred), ("true", batch["target"] / self.cfg.latent_scale),
                                                 ("last", context[:, :, -1]))}
        out["psnr"] = float(np.mean(list(per_view_psnr(frames["pred"], frames["true"]).values())))
        out["psnr_nothing_moves"] = float(np.mean(list(per_view_psnr(frames["last"], frames["true"]).values())))
        out.update(self.sampson(frames["pred"], "sampson_pred"))
        out.update(self.sampson(frames["true"], "sampson_true"))
        return out

    def frames(self, latents: torch.Tensor) -> dict[str, np.ndarray]:
        """(B, C, h, V*w) -> {camera: uint8 (B, H, W, 3)}."""
        views = len(self.cfg.cameras)
        pixels = decode_views(self.codec, latents * self.cfg.latent_scale, views)  # (B, 3, H, V*W)
        return dict(zip(self.cfg.cameras, (to_uint8(f) for f in pixels.chunk(views, dim=-1))))

    def sampson(self, frames: dict[str, np.ndarray], prefix: str) -> dict[str, float]:
        rig = self.cfg.rig
        pairs = [p for p in DRIVING_PAIRS if all(c in rig for c in p)]
        if not pairs:
            return {}
        K = {c: np.asarray(v["K"]) for c, v in rig.items()}
        pose = {c: np.asarray(v["pose"]) for c, v in rig.items()}
        n = len(next(iter(frames.values())))
        scores = [cross_view_sampson({c: f[i] for c, f in frames.items()}, K, pose, pairs) for i in range(n)]
        summary = summarize_sampson(scores)
        return {f"{prefix}_median_px": summary["sampson_median_px"],
                f"{prefix}_matches": summary["matches_per_frame_set"]}
