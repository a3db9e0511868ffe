"""TrainerConfig through worldsim.config: unknown keys list the valid ones; bad values are named.

    .venv/bin/python -m pytest tests/training/test_trainer_config.py -q
"""

from __future__ import annotations

import pytest

from worldsim.config import load_config
from worldsim.training.trainer import Trainer, TrainerConfig


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ValueError) as err:
        load_config(TrainerConfig, overrides=["stepz=10"])
    message = str(err.value)
    assert "'stepz'" in message
    for key in ("steps", "batch_size", "lr", "warmup_steps", "min_lr_ratio", "ema_decay", "precision", "tp", "cp"):
        assert key in message


def test_overrides_are_typed():
    cfg = load_config(TrainerConfig, overrides=["steps=7", "lr=0.5", "precision=bf16"], out="runs/x")
    assert (cfg.steps, cfg.lr, cfg.precision, cfg.out) == (7, 0.5, "bf16", "runs/x")
    with pytest.raises(ValueError, match="steps"):
        load_config(TrainerConfig, overrides=["steps=many"])


@pytest.mark.parametrize(("change", "field"), [
    ({"out": ""}, "out"), ({"steps": 0}, "steps"), ({"precision": "fp16"}, "precision"),
    ({"min_lr_ratio": 2.0}, "min_lr_ratio"),
])
def test_bad_values_name_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        Trainer(TrainerConfig(**{"out": "runs/x", **change}), task=None)
