"""What the trainer needs from a model: the ``Task`` protocol (and the loader it hands out).

    class MyTask:                                   # satisfies Task structurally
        name = "tokenizer_cv8x8x8"                  # architecture name, stored in meta.json
        def config(self): return self.cfg           # dataclass or dict: written to config.yaml
        def build_model(self): return Tokenizer(self.cfg.model)
        def make_loader(self, batch_size, data_rank, data_world, seed):
            return ClipLoader(ClipConfig(...), batch_size=batch_size, rank=data_rank, world=data_world, seed=seed)
        def loss(self, model, batch): ...; return loss, {"recon": recon.item()}
        def evaluate(self, model): return {"psnr": ...}      # optional

The trainer seeds torch, numpy and python's ``random`` before ``build_model`` (the same seed on
every rank) and again per rank before training; ``loss`` may draw noise from torch's global RNG
and use dropout: the trainer saves and restores those states, so a resumed run is exact.
"""

from __future__ import annotations

from typing import Any, Iterator, Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class ResumableLoader(Protocol):
    """An endless iterator of batches whose position can be saved and restored.

    ``state_dict()`` returns plain JSON-able data; after ``load_state_dict(s)`` the loader yields
    exactly the batches it yielded after ``s`` was taken. An optional ``fingerprint`` attribute
    (str) identifying the data goes into the checkpoint's meta.json.
    """

    def __iter__(self) -> Iterator[Any]: ...

    def __next__(self) -> Any: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


@runtime_checkable
class Task(Protocol):
    """A model plus its loss and data; the trainer is generic over it."""

    name: str

    def config(self) -> Any:
        """The task's resolved config (dataclass or JSON-able dict), saved beside every checkpoint."""

    def build_model(self) -> nn.Module:
        """A fresh model on CPU; the trainer moves it to the device."""

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> ResumableLoader:
        """This data-parallel rank's loader; ``batch_size`` is per rank (global size / data_world)."""

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """(scalar loss to backpropagate, metrics to log) for one batch already on the device."""


def has_evaluate(task: Any) -> bool:
    """Tasks may add ``evaluate(model) -> dict[str, float]``, run on every rank at checkpoints."""
    return callable(getattr(task, "evaluate", None))
