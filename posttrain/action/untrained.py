"""An untrained but valid world-model folder for any simulator: for tests and speed benchmarks.

    sim = envs.sim_spec.sim_spec_of("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 64})
    path = untrained_world_model("runs/wm_untrained", sim, perturb=0.02)
    env = gym.make("worldsim/WorldModel-v0", checkpoint=path)

Every piece has its real architecture and the simulator's spaces; weights are the initial ones
(``perturb`` adds seeded noise so zero-initialised outputs move). Nothing it predicts means
anything; use it where behaviour does not depend on training (spaces, seeding, batching, speed).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from posttrain.action.deterministic import ConvPredictorConfig
from posttrain.action.judges import JudgeConfig, Judges
from posttrain.action.model import ActionDiTConfig, ActionWorldModel
from posttrain.action.state_head import StateHeadConfig
from posttrain.action.world_model import build_dynamics
from posttrain.common.bundle import ARCHITECTURE, write_bundle
from posttrain.common.codec import PixelCodecConfig, codec_from_config
from posttrain.common.predict import PredictConfig
from worldsim.config import to_dict
from worldsim.diffusion.dit import DiTConfig
from worldsim.io import tensor_state
from worldsim.tokenizer.model import TokenizerConfig


def _perturb(module: torch.nn.Module, scale: float, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def untrained_world_model(out: str, sim: dict,
                          tokenizer: TokenizerConfig | PixelCodecConfig | None = None,
                          dit: DiTConfig | None = None, conv: ConvPredictorConfig | None = None,
                          context_frames: int = 1, sample_steps: int = 2, perturb: float = 0.0, seed: int = 0) -> Path:
    """Write the folder ``out`` for simulator ``sim`` (``envs.sim_spec.sim_spec_of``) with a conv
    "deterministic" predictor and (if ``dit``) a "diffusion" one."""
    torch.manual_seed(seed)
    tok_cfg = tokenizer if isinstance(tokenizer, PixelCodecConfig) else \
        dataclasses.replace(tokenizer or TokenizerConfig(), temporal_compression=1)
    c, s, views = tok_cfg.latent_dim, tok_cfg.spatial_compression, len(sim["cameras"])
    hw = (sim["height"] // s, views * sim["width"] // s)
    head = StateHeadConfig(latent_channels=c, latent_hw=hw, agent_dim=sim["agent_dim"], env_dim=sim["env_dim"])
    conv = dataclasses.replace(conv or ConvPredictorConfig(), latent_channels=c, context_frames=context_frames,
                               action_dim=len(sim["action_low"]))
    pieces = {"deterministic": {"network": "conv", "net": to_dict(conv), "state_head": to_dict(head),
                                "predict": to_dict(PredictConfig(kind="deterministic", network="conv"))}}
    if dit is not None:
        net = to_dict(ActionDiTConfig(dit=dataclasses.replace(dit, in_channels=c), action_dim=len(sim["action_low"])))
        pieces["diffusion"] = {"network": "dit", "net": net, "state_head": to_dict(head),
                               "predict": to_dict(PredictConfig(kind="diffusion", steps=sample_steps))}
    judges = JudgeConfig(latent_channels=c, latent_hw=hw, state_dim=sim["agent_dim"] + sim["env_dim"],
                         action_dim=len(sim["action_low"]))
    tensors = {f"tokenizer.{k}": v for k, v in tensor_state(codec_from_config(to_dict(tok_cfg))).items()}
    for i, (name, piece) in enumerate(pieces.items()):
        model: ActionWorldModel = build_dynamics(piece)
        _perturb(model, perturb, seed + i)
        tensors.update({f"predictors.{name}.{k}": v for k, v in tensor_state(model).items()})
    judge_model = Judges(judges)
    tensors.update({f"judges.{k}": v for k, v in tensor_state(judge_model).items()})
    config = {"architecture": ARCHITECTURE, "sim": sim, "latent_scale": 1.0, "context_frames": context_frames,
              "tokenizer": to_dict(tok_cfg), "predictors": pieces, "default_predictor": "deterministic",
              "judges": to_dict(judges), "provenance": {"untrained": True}}
    return write_bundle(out, config, tensors, {})
