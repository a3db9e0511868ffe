"""Tiny checkpoints and a tiny dataset for the post-training tests (no training needed to make them).

``write_run`` writes a folder in the trainer's checkpoint layout (config.yaml, meta.json,
model/ema safetensors, checkpoints/latest), so loaders see exactly what ``worldsim train`` makes.
"""

from __future__ import annotations

from pathlib import Path

import torch

from worldsim import io as wio
from worldsim.config import to_dict
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.tokenizer.model import TokenizerConfig, VideoTokenizer
from worldsim.training.checkpoint import step_name

TINY_TOKENIZER = dict(channels=8, temporal_compression=1, attention=False)
TINY_DIT = dict(in_channels=16, hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8, spec="cpu")


def write_run(out: Path, architecture: str, task: dict, model: torch.nn.Module) -> Path:
    step_dir = out / "checkpoints" / step_name(1)
    step_dir.mkdir(parents=True)
    state = wio.model_state_for_saving(model)
    wio.write_tensors(step_dir / wio.MODEL, state)
    wio.write_tensors(step_dir / wio.EMA, state)
    config = {"architecture": architecture, "trainer": {}, "task": task}
    wio.write_yaml(step_dir / wio.CONFIG, config)
    wio.write_json(step_dir / wio.META, wio.make_meta(1, architecture, state, metrics={}))
    (out / "checkpoints" / wio.LATEST).write_text(step_dir.name + "\n")
    return out


def tiny_tokenizer(out: Path) -> Path:
    torch.manual_seed(0)
    cfg = TokenizerConfig(**TINY_TOKENIZER)
    return write_run(out, "video_tokenizer", {"model": to_dict(cfg)}, VideoTokenizer(cfg))


@torch.no_grad()
def randomized(module: torch.nn.Module, seed: int = 1, scale: float = 0.1) -> torch.nn.Module:
    """Shift every parameter by seeded noise, so zero-initialised gates and heads are not zero."""
    gen = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        p.add_(scale * torch.randn(p.shape, generator=gen))
    return module


def tiny_base(out: Path, tokenizer: Path, camera: str = "top") -> Path:
    """A base DiT checkpoint with non-zero gates (needs a megatron world)."""
    torch.manual_seed(0)
    cfg = DiTConfig(**TINY_DIT)
    model = randomized(DiT(cfg))
    task = {"tokenizer": str(tokenizer), "camera": camera, "latent_scale": 1.0, "model": to_dict(cfg)}
    return write_run(out, "base_video_dit", task, model)


def tiny_dataset(out: Path) -> Path:
    from worldsim.cli import main

    argv = ["generate", "--episodes", "4", "--out", str(out), "--policy", "expert,random", "image_size=32",
            "cameras=[top]", "depth=false", "segmentation=false", "camera_params=false", "workers=1", "max_steps=12"]
    assert main(argv) == 0
    return out
