"""The optimisation loop every small CPU trainer of the recipes shares, resumable.

    fit(model, cfg, batch_loss, lr_at, desc="train painter")   # -> the checkpoint folder

``batch_loss(step, rng, gen)`` returns ``(loss, note)`` for one batch drawn with the run's numpy
and torch generators (``note``: a word for ``loss.log``, e.g. the rollout horizon, or ""). Each
step sets the learning rate ``lr_at(step, cfg)``, steps AdamW (``cfg.lr``, ``cfg.weight_decay``)
with gradients clipped to norm 1, appends ``step [note] loss`` to ``<cfg.out>/loss.log`` and, every
``cfg.ckpt_every`` steps and at the end, writes the checkpoint ``posttrain.pixel_unet.train.save``
writes (weights, optimizer, generators), from which a rerun resumes bit for bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm


def fit(model: torch.nn.Module, cfg, batch_loss: Callable, lr_at: Callable, desc: str) -> Path:
    """Train (or resume) ``model`` in the run folder ``cfg.out``; returns the checkpoint folder."""
    from posttrain.pixel_unet.train import CKPT, resume, save

    out = Path(cfg.out)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng, gen = np.random.default_rng(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    start = resume(out, model, opt, rng, gen)
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=desc, unit="step")
    with open(out / "loss.log", "a") as log:
        for step in bar:
            loss, note = batch_loss(step, rng, gen)
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            bar.set_postfix_str(f"loss={loss.item():.4f} {note}".strip(), refresh=False)
            log.write(f"{step} {note + ' ' if note else ''}{loss.item():.6f}\n")
            if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps:
                log.flush()
                save(out, model, opt, step + 1, rng, gen)
    return out / CKPT


def load_trained(run: str, config_class, build: Callable) -> tuple[torch.nn.Module, object]:
    """(model in eval mode without gradients, its config) of a finished run folder: the config saved
    there (``config_class``), the model ``build(cfg)`` with the checkpoint's weights."""
    from posttrain.pixel_unet.train import CKPT
    from worldsim.config import load_config
    from worldsim.io import load_tensor_state, read_tensors

    cfg = load_config(config_class, Path(run) / "config.yaml")
    model = build(cfg)
    load_tensor_state(model, read_tensors(Path(run) / CKPT / "model.safetensors"))
    return model.eval().requires_grad_(False), cfg
