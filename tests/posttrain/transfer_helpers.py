"""Tiny artifacts for the transfer and augment tests: a randomised-look dataset and trained runs.

    data = tiny_transfer_data(tmp / "data")               # 2 layouts x 2 looks, 5 frames, 32 px
    run = tiny_transfer_run(tmp / "run", data, base="")   # a fresh pixels:4 DiT + branches, 2 steps
    model = tiny_look_model(tmp / "look", data)          # a look renderer, 2 steps, exported
"""

from __future__ import annotations

from pathlib import Path

TINY_MODEL = ["model.in_channels=48", "model.hidden_size=32", "model.num_layers=2", "model.num_heads=2",
              "model.adaln_lora_dim=8", "model.spec=cpu"]
TINY_TRAIN = ["clip_len=2", "steps=2", "batch_size=2", "ckpt_every=2", "eval_clips=1", "eval_seeds=2",
              "sample_steps=2", "held_out=0.25", "progress=false", "warmup_steps=1"]


def tiny_transfer_data(out: Path) -> Path:
    from worldsim.generation.transfer_data import RandomizedDataConfig, write_randomized_dataset

    return write_randomized_dataset(RandomizedDataConfig(out=str(out), episodes=2, looks=2, max_steps=5,
                                                         image_size=32, policy="expert,random"))


def tiny_transfer_run(out: Path, data: Path, base: str = "", extra=()) -> Path:
    """``worldsim posttrain transfer`` for 2 steps: from ``base`` (frozen) or a fresh pixels:4 DiT."""
    from worldsim.training.stages import posttrain_stage

    overrides = list(TINY_TRAIN) + ([] if base else ["tokenizer=pixels:4", *TINY_MODEL]) + list(extra)
    return posttrain_stage("transfer", base, str(data), str(out), overrides=overrides)


def tiny_look_model(root: Path, data: Path, steps: int = 2) -> Path:
    """A look renderer trained ``steps`` steps on ``data`` (32 px), exported to ``root / "model"``."""
    from posttrain.transfer.look_config import LookRendererConfig, LookTrainConfig
    from posttrain.transfer.look_export import export
    from posttrain.transfer.look_train import train

    net = LookRendererConfig(image_size=32, channels=[16, 32], cond_dim=16, groups=4)
    train(LookTrainConfig(data=str(data), out=str(root / "run"), net=net, steps=steps, batch_size=4,
                          holdout_layouts=1, ckpt_every=steps, warmup_steps=1, lr=3e-3))
    return export(str(root / "run"), str(root / "model"))
