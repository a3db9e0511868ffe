"""Exponential moving average of a model's weights, updated after every optimizer step.

    from worldsim.training.ema import EMA
    ema = EMA(model, decay=0.999)
    ema.update(model)            # after optimizer.step(): ema = decay * ema + (1 - decay) * weights
    ema.copy_to(other_model)     # evaluate or export with the averaged weights
    ema.state_dict() / ema.load_state_dict(tensors)   # saved as ema.safetensors by the trainer

Floating-point parameters are averaged in float32; buffers (e.g. norm statistics) and integer
entries are copied as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from worldsim.io import load_tensor_state, tensor_state


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {decay!r}")
        self.decay = decay
        self._averaged = {name for name, p in model.named_parameters(remove_duplicate=False) if p.is_floating_point()}
        self.shadow = {k: self._fresh(k, v) for k, v in tensor_state(model).items()}

    def _fresh(self, name: str, value: torch.Tensor) -> torch.Tensor:
        return value.detach().float().clone() if name in self._averaged else value.detach().clone()

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, value in tensor_state(model).items():
            shadow = self.shadow[name]
            if name in self._averaged:
                shadow.mul_(self.decay).add_(value.detach().float(), alpha=1.0 - self.decay)
            else:
                shadow.copy_(value)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        load_tensor_state(model, self.shadow)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    @torch.no_grad()
    def load_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        missing, unexpected = set(self.shadow) - set(tensors), set(tensors) - set(self.shadow)
        if missing or unexpected:
            raise ValueError(f"EMA state does not fit: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        for name, value in tensors.items():
            self.shadow[name].copy_(value)
