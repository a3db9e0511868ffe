"""Learning-rate schedule at hand-computed points, AdamW's decoupled decay groups, clipping.

    .venv/bin/python -m pytest tests/training/test_optim_schedule.py -q
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from worldsim.training.optim import build_adamw, clip_gradients, lr_at, param_groups

SCHEDULE = {"base_lr": 2.0, "warmup_steps": 10, "total_steps": 110, "min_lr_ratio": 0.1}


@pytest.mark.parametrize(("step", "expected"), [
    (1, 0.2),                 # warmup: 2.0 * 1 / 10
    (5, 1.0),                 # half of warmup
    (10, 2.0),                # warmup end: the base lr
    (35, 2.0 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))),  # a quarter into the cosine: 1.736396...
    (60, 2.0 * 0.55),         # half of the cosine: (1 + 0.1) / 2 of base
    (110, 0.2),               # end: base * min_lr_ratio
    (500, 0.2),               # beyond the end it stays at the floor
])
def test_schedule_at_hand_computed_points(step, expected):
    assert lr_at(step, **SCHEDULE) == pytest.approx(expected, rel=1e-12)


def test_schedule_without_warmup_starts_at_base():
    assert lr_at(0, 1.0, 0, 100, 0.0) == 1.0
    assert lr_at(50, 1.0, 0, 100, 0.0) == pytest.approx(0.5)
    assert lr_at(100, 1.0, 0, 100, 0.0) == pytest.approx(0.0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.proj = nn.Linear(3, 3)
        self.norm = nn.LayerNorm(3)
        self.pos_embed = nn.Parameter(torch.ones(4, 3))
        self.head = nn.Linear(3, 3, bias=False)
        self.tied = self.head  # the same module twice: its weight must land in one group once


def test_decay_only_on_weight_matrices():
    net = Net()
    decay, no_decay = param_groups(net, 0.1)
    names = {id(p): n for n, p in net.named_parameters()}
    assert sorted(names[id(p)] for p in decay["params"]) == ["head.weight", "proj.weight"]
    assert sorted(names[id(p)] for p in no_decay["params"]) == [
        "embed.weight", "norm.bias", "norm.weight", "pos_embed", "proj.bias"]
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0


def test_weight_decay_is_decoupled():
    """With zero gradients Adam's step is 0, so only the decoupled decay w *= 1 - lr * wd acts."""
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(2.0)
    opt = build_adamw(net, lr=0.1, weight_decay=0.5)
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    assert torch.allclose(net.proj.weight, torch.full((3, 3), 2.0 * (1 - 0.1 * 0.5)))
    assert torch.equal(net.proj.bias, torch.full((3,), 2.0)) and torch.equal(net.norm.weight, torch.full((3,), 2.0))


def test_clip_gradients_to_max_norm():
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(1))
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])  # global norm 5
    assert clip_gradients([a, b], 1.0) == pytest.approx(5.0)
    assert torch.allclose(a.grad, torch.tensor([0.6, 0.0])) and torch.allclose(b.grad, torch.tensor([0.8]))
    assert clip_gradients([a, b], 0.0) == pytest.approx(1.0)  # disabled: only measures
    assert torch.allclose(b.grad, torch.tensor([0.8]))
