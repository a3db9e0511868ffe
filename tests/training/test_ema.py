"""EMA of weights: values after two steps computed by hand, buffers copied, state round trip.

    .venv/bin/python -m pytest tests/training/test_ema.py -q
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from worldsim.training.ema import EMA


def model_with(weight: float) -> nn.Module:
    m = nn.BatchNorm1d(1)  # weight, bias parameters; running_mean/var/num_batches_tracked buffers
    with torch.no_grad():
        m.weight.fill_(weight)
        m.bias.fill_(-weight)
    return m


def test_two_updates_by_hand():
    model = model_with(1.0)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.running_mean.fill_(7.0)
        model.num_batches_tracked.fill_(4)
    ema.update(model)  # 0.9 * 1 + 0.1 * 3 = 1.2
    assert ema.shadow["weight"].item() == pytest.approx(1.2, abs=1e-6)
    with torch.no_grad():
        model.weight.fill_(5.0)
        model.bias.fill_(0.0)
    ema.update(model)  # 0.9 * 1.2 + 0.1 * 5 = 1.58; bias: 0.9 * (0.9 * -1 + 0.1 * -1) + 0.1 * 0 = -0.9
    assert ema.shadow["weight"].item() == pytest.approx(1.58, abs=1e-6)
    assert ema.shadow["bias"].item() == pytest.approx(-0.9, abs=1e-6)
    assert ema.shadow["running_mean"].item() == 7.0 and ema.shadow["num_batches_tracked"].item() == 4  # copied


def test_copy_to_and_state_round_trip():
    ema = EMA(model_with(2.0), decay=0.5)
    ema.update(model_with(4.0))  # 3.0
    other = EMA(model_with(0.0), decay=0.5)
    other.load_state_dict({k: v.clone() for k, v in ema.state_dict().items()})
    target = model_with(0.0)
    other.copy_to(target)
    assert target.weight.item() == 3.0 and target.bias.item() == -3.0


def test_bad_decay_and_mismatched_state():
    with pytest.raises(ValueError, match="ema_decay"):
        EMA(model_with(1.0), decay=1.0)
    with pytest.raises(ValueError, match="missing"):
        EMA(model_with(1.0), decay=0.5).load_state_dict({"weight": torch.ones(1)})
