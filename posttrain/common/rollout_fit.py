"""The training loop shared by the state-dynamics recipes (TabletopPush's and the Sawyer tasks').

    fit_rollouts(model, data, train_eps, cfg, rollout_loss, sample, lr_at, desc="train dynamics")

Each step samples windows of ``cfg.net.context`` states and a horizon ``h`` (1 before
``cfg.rollout_start`` of the run, ``cfg.rollout_k`` after: training on the model's own rollouts),
takes ``rollout_loss`` of them, and steps AdamW with the ``lr_at`` schedule and gradients clipped
to norm 1. The run folder ``cfg.out`` gets ``loss.log`` and, every ``cfg.ckpt_every`` steps and at
the end, the checkpoint ``posttrain.pixel_unet.train.save`` writes (weights, optimizer, RNG), from
which a rerun resumes bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm


def fit_rollouts(model, data, train_eps, cfg, rollout_loss, sample, lr_at, desc: str) -> Path:
    """Train (or resume) ``model`` in the run folder ``cfg.out``; returns the checkpoint folder."""
    from posttrain.pixel_unet.train import CKPT, resume, save

    out = Path(cfg.out)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng, gen = np.random.default_rng(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    start = resume(out, model, opt, rng, gen)
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=desc, unit="step")
    with open(out / "loss.log", "a") as log:
        for step in bar:
            h = cfg.rollout_k if step >= cfg.rollout_start * cfg.steps else 1
            loss = rollout_loss(model, *sample(data, train_eps, cfg.batch_size, cfg.net.context, h, rng),
                                cfg.state_noise, gen, cfg.loss_scale)
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.4f}", h=h)
            log.write(f"{step} {h} {loss.item():.6f}\n")
            if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps:
                log.flush()
                save(out, model, opt, step + 1, rng, gen)
    return out / CKPT
