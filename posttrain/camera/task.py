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
``pixels:4``, lossless). Data: a camera dataset from ``posttrain/camera/data.py``; every frame is
encoded once. Each batch draws clips of 2..``clip_frames`` frames, every s-th frame with s in 1..``max_stride``
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
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from posttrain.camera.model import CameraDiT, CameraDiTConfig, clip_rays, default_dit, load_base_weights
from posttrain.camera.motion import CameraMotionConfig
from posttrain.camera.world_model import ARCHITECTURE, CameraWorldModel, SamplingConfig, to_video
from posttrain.common.codec import load_codec
from worldsim.config import to_dict
from worldsim.data.clips import held_out_split
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig, training_loss

DEFAULT_CODEC = "pixels:4"


@dataclass
class CameraTaskConfig:
    data: str = ""
    base: str = ""                  # `worldsim train base` run/checkpoint; "" = the default DiT from scratch
    base_ema: bool = False
    tokenizer: str = ""             # "" = the base's tokenizer (pixels:4 without base)
    camera: str = "camera"
    clip_frames: int = 4            # at most this many latent frames per clip (1 conditioning)
    max_stride: int = 1             # clips take every s-th frame, s drawn from 1..max_stride per batch
    reverse: bool = True
    held_out: float = 0.1
    split_seed: int = 0
    latent_scale: float = 0.0       # 0 = the base's (1.0 without base)
    translation_scale: float = 0.25
    residual: bool = False          # diffuse generated frames as differences from the last conditioning frame
    eval_episodes: int = 8
    eval_horizon: int = 6
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    image_size: int = 0             # filled from the data
    intrinsics: list[float] = field(default_factory=list)   # filled from the data: K row-major (9,)
    motion: CameraMotionConfig = field(default_factory=CameraMotionConfig)   # filled from the data
    model: DiTConfig = field(default_factory=lambda: default_dit(48))
    edm: EDMConfig = field(default_factory=EDMConfig)

    def check(self) -> None:
        if self.max_stride < 1:
            raise ValueError(f"max_stride={self.max_stride} must be >= 1")
        if self.clip_frames < 2:
            raise ValueError(f"clip_frames={self.clip_frames} must be >= 2 (one conditioning, one generated)")
        if self.translation_scale <= 0:
            raise ValueError(f"translation_scale={self.translation_scale} must be > 0")
        if self.sampling.context_frames != self.model.num_cond_frames:
            raise ValueError(f"sampling.context_frames={self.sampling.context_frames} must equal "
                             f"model.num_cond_frames={self.model.num_cond_frames}")


def resolve_config(cfg: CameraTaskConfig) -> CameraTaskConfig:
    """Fill what the base checkpoint decides (tokenizer, latent scale, DiT) or the from-scratch defaults."""
    cfg.check()
    cfg = dataclasses.replace(cfg, sampling=dataclasses.replace(cfg.sampling, sigma_data=cfg.edm.sigma_data))
    if not cfg.base:
        return dataclasses.replace(cfg, tokenizer=cfg.tokenizer or DEFAULT_CODEC, latent_scale=cfg.latent_scale or 1.0)
    from posttrain.common.base import base_dit_config, base_task_config

    base = base_task_config(cfg.base)
    if cfg.tokenizer and cfg.tokenizer != base["tokenizer"]:
        raise ValueError(f"tokenizer={cfg.tokenizer} differs from {base['tokenizer']}, the one {cfg.base} was "
                         "trained on; leave tokenizer empty")
    return dataclasses.replace(cfg, tokenizer=base["tokenizer"], model=base_dit_config(cfg.base),
                               latent_scale=cfg.latent_scale or float(base.get("latent_scale", 1.0)))


def model_config(cfg: CameraTaskConfig, codec) -> CameraDiTConfig:
    return CameraDiTConfig(dit=cfg.model, spatial_compression=codec.cfg.spatial_compression,
                           temporal_compression=codec.cfg.temporal_compression,
                           translation_scale=cfg.translation_scale)


def check_codec(codec, spec: str) -> None:
    if codec.cfg.temporal_compression != 1:
        raise ValueError(f"codec {spec} has temporal_compression={codec.cfg.temporal_compression}; camera "
                         "post-training encodes frames one by one and needs 1")


class CameraEpisodes:
    """Every frame of a camera dataset encoded once: latents (N, C, h, w), poses (N, 4, 4), episode starts."""

    def __init__(self, root: str, camera: str, codec, scale: float):
        from worldsim.data.lerobot_reader import LeRobotDatasetReader

        reader = LeRobotDatasetReader(root)
        wsim = reader.info.get("worldsim", {})
        if wsim.get("kind") != "camera_orbits":
            raise ValueError(f"{root} is not a camera dataset: make one with `python -m posttrain.camera.data`")
        self.motion = CameraMotionConfig(**wsim["config"]["motion"])
        frames, poses, self.starts = [], [], [0]
        for e in range(reader.num_episodes):
            ep = reader.read_episode(e)
            frames.append(ep[f"observation.images.{camera}"])
            poses.append(ep[f"observation.camera.{camera}.extrinsics"].astype(np.float64))
            self.starts.append(self.starts[-1] + len(frames[-1]))
            self.intrinsics = ep[f"observation.camera.{camera}.intrinsics"][0].astype(np.float64)
        self.frames = np.concatenate(frames)                   # (N, H, W, 3) uint8
        self.poses = np.concatenate(poses)                     # (N, 4, 4)
        with torch.no_grad():
            self.latents = torch.cat([codec.encode(to_video(f[:, None]))[:, :, 0] / scale
                                      for f in np.array_split(self.frames, max(1, len(self.frames) // 256))])
        self.num_episodes = reader.num_episodes
        self.fingerprint = f"{root}:{reader.info['total_frames']}"

    def episode(self, e: int) -> slice:
        return slice(self.starts[e], self.starts[e + 1])


class CameraClipLoader:
    """Deterministic endless clips: batch k depends only on (seed, rank, k), so resuming is exact."""

    def __init__(self, data: CameraEpisodes, episodes: list[int], clip_frames: int, batch_size: int,
                 seed: int, rank: int, reverse: bool, max_stride: int = 1):
        shortest = min(data.starts[e + 1] - data.starts[e] for e in episodes)
        if shortest < 1 + (clip_frames - 1) * max_stride:
            raise ValueError(f"clips of {clip_frames} frames at stride {max_stride} need episodes of at least "
                             f"{1 + (clip_frames - 1) * max_stride} frames; the shortest has {shortest}")
        self.data, self.episodes, self.batch_size = data, episodes, batch_size
        self.clip_frames, self.seed, self.rank, self.reverse = clip_frames, seed, rank, reverse
        self.max_stride = max_stride
        self.fingerprint = data.fingerprint
        self.step = 0

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        rng = np.random.default_rng([self.seed, self.rank, self.step])
        self.step += 1
        t = int(rng.integers(2, self.clip_frames + 1))
        stride = int(rng.integers(1, self.max_stride + 1))
        rows = [self._clip(rng, t, stride) for _ in range(self.batch_size)]
        k = torch.as_tensor(self.data.intrinsics).expand(self.batch_size, t, 3, 3)
        return {"latents": torch.stack([self.data.latents[r].transpose(0, 1) for r in rows]),  # (B, C, T, h, w)
                "poses": torch.as_tensor(np.stack([self.data.poses[r] for r in rows])),   # (B, T, 4, 4)
                "intrinsics": k.clone()}

    def _clip(self, rng, t: int, stride: int) -> np.ndarray:
        span = self.data.episode(int(rng.choice(self.episodes)))
        reach = (t - 1) * stride + 1
        start = span.start + int(rng.integers(0, span.stop - span.start - reach + 1))
        rows = np.arange(start, start + reach, stride)
        return rows[::-1].copy() if self.reverse and rng.random() < 0.5 else rows

    def state_dict(self) -> dict:
        return {"step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])


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


def held_out_rollouts(wm: CameraWorldModel, data: CameraEpisodes, episodes: list[int], horizon: int,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Roll each episode out from its first frame with its own camera motions.

    Returns generated frames and ground truth, uint8 (N, horizon + 1, H, W, 3) each (frame 0 is the
    given one), and the true poses (N, horizon + 1, 4, 4)."""
    from posttrain.camera.motion import action_between

    spans = [data.episode(e) for e in episodes]
    if min(s.stop - s.start for s in spans) < horizon + 1:
        raise ValueError(f"eval_horizon={horizon} needs episodes of at least {horizon + 1} frames")
    truth = np.stack([data.frames[s.start:s.start + horizon + 1] for s in spans])
    poses = np.stack([data.poses[s.start:s.start + horizon + 1] for s in spans])
    state = wm.start(truth[:, 0], poses[:, 0], seeds=[seed + e for e in episodes])
    generated = [truth[:, 0]]
    for t in range(horizon):
        actions = np.stack([action_between(p[t], p[t + 1], wm.motion) for p in poses])
        state, frames = wm.step(state, actions)
        generated.append(frames)
    return np.stack(generated, axis=1), truth, poses


def frame_psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 3) x2 -> PSNR in dB per frame (...)."""
    err = ((a.astype(np.float64) - b.astype(np.float64)) / 255.0) ** 2
    return -10.0 * np.log10(np.maximum(err.mean(axis=(-3, -2, -1)), 1e-10))


def rollout_psnr(wm: CameraWorldModel, data: CameraEpisodes, episodes: list[int], horizon: int) -> dict:
    """Per-step mean PSNR (horizon,) of the model's rollout and of repeating the first frame."""
    generated, truth, _ = held_out_rollouts(wm, data, episodes, horizon)
    copy = np.repeat(truth[:, :1], horizon + 1, axis=1)
    return {"model": frame_psnr(generated, truth)[:, 1:].mean(0), "copy_first": frame_psnr(copy, truth)[:, 1:].mean(0)}


def load_camera_run(path: str, ema: bool = False) -> tuple[CameraDiT, object, CameraTaskConfig]:
    """(model in eval mode, codec, resolved config) from a camera run, checkpoint or shipped folder."""
    from worldsim.config import structured
    from worldsim.training.checkpoint import load_model_weights, read_config

    config = read_config(path)
    if config.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path} holds a {config.get('architecture')!r} checkpoint, expected {ARCHITECTURE!r} "
                         "(a `worldsim posttrain camera` run)")
    cfg = structured(CameraTaskConfig, config["task"])
    codec = load_codec(cfg.tokenizer)
    model = CameraDiT(model_config(cfg, codec))
    load_model_weights(model, path, ema=ema, architecture=ARCHITECTURE)
    return model.eval(), codec, cfg
