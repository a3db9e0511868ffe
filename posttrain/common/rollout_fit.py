"""The training loop shared by the state-dynamics recipes (TabletopPush's and the Sawyer tasks').

    fit_rollouts(model, data, train_eps, cfg, rollout_loss, sample, lr_at, desc="train dynamics")

Each step samples windows of ``cfg.net.context`` states and a horizon ``h`` (1 before
``cfg.rollout_start`` of the run, ``cfg.rollout_k`` after: training on the model's own rollouts),
takes ``rollout_loss`` of them, and steps the shared loop (``posttrain.common.fit_loop``: AdamW with
the ``lr_at`` schedule, ``loss.log``, resumable checkpoints).
"""

from __future__ import annotations

from pathlib import Path

import torch



def fit_rollouts(model, data, train_eps, cfg, rollout_loss, sample, lr_at, desc: str) -> Path:
    """Train (or resume) ``model`` in the run folder ``cfg.out``; returns the checkpoint folder."""
    from posttrain.common.fit_loop import fit

    def batch_loss(step: int, rng, gen):
        h = cfg.rollout_k if step >= cfg.rollout_start * cfg.steps else 1
        loss = rollout_loss(model, *sample(data, train_eps, cfg.batch_size, cfg.net.context, h, rng),
                            cfg.state_noise, gen, cfg.loss_scale)
        return loss, f"h={h}"

    return fit(model, cfg, batch_loss, lr_at, desc)


def unrolled_loss(model, states, actions, valid, jitter, gen: torch.Generator, scale) -> torch.Tensor:
    """Mean over ``valid`` targets of the squared error in units of ``scale`` (per state variable, or
    (B, h, D): per sample, step and variable), averaged over the ``valid.shape[1]`` steps the model
    unrolls from a context of ``model.cfg.context`` true states plus ``jitter`` (per variable) times
    Gaussian noise, each prediction feeding the next step."""
    k, h = model.cfg.context, valid.shape[1]
    ctx = states[:, :k] + jitter * torch.randn(states[:, :k].shape, generator=gen)
    scale, total = torch.as_tensor(scale, dtype=torch.float32), 0.0
    for j in range(h):
        pred = model(ctx, actions[:, j:j + k])
        unit = scale[:, j] if scale.dim() == 3 else scale
        err = (((pred - states[:, k + j]) / unit) ** 2).mean(dim=1)
        w = valid[:, j].float()
        total = total + (err * w).sum() / w.sum().clamp_min(1) / h
        ctx = torch.cat([ctx[:, 1:], pred[:, None]], dim=1)
    return total
