"""Training losses of the next-latent-frame predictors (network modules live elsewhere).

    loss = diffusion_loss(action_dit, context, action, target, EDMConfig())     # EDM, Cosmos style
    loss = regression_loss(net, context, action, target, network="conv")       # deterministic
    dyn, state = rollout_loss(net, head, context, actions, targets, next_states, "conv")   # H steps

Shapes: context (B, C, K, h, w) clean latents of frames t-K+1..t, action (B, A) of step t,
target (B, C, h, w) the latent of frame t+1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from posttrain.action.frames import dit_inputs
from worldsim.diffusion.edm import EDMConfig, training_loss

DETERMINISTIC_SIGMA = 1.0  # the fixed noise level the DiT trunk sees when used as a regressor


def diffusion_loss(net, context: Tensor, action: Tensor, target: Tensor, cfg: EDMConfig) -> Tensor:
    """EDM denoising loss on the target frame, the context frames given clean."""
    x0, cond_mask, actions = dit_inputs(context, action, target)
    return training_loss(net, x0, cond_mask, cfg, actions=actions)


def regress_next(net, context: Tensor, action: Tensor, network: str) -> Tensor:
    """The deterministic prediction of the next latent (B, C, h, w)."""
    if network == "conv":
        return net(context, action)
    if network != "dit":
        raise ValueError(f"network={network!r}; allowed: 'conv', 'dit'")
    last = context[:, :, -1]
    x, cond_mask, actions = dit_inputs(context, action, last)
    c_noise = torch.full((x.shape[0],), 0.25 * torch.log(torch.tensor(DETERMINISTIC_SIGMA)).item(),
                         device=x.device)
    return last + net(x, c_noise, actions, cond_mask)[:, :, -1]


def regression_loss(net, context: Tensor, action: Tensor, target: Tensor, network: str,
                    changed_weight: float = 0.0) -> Tensor:
    return weighted_mse(regress_next(net, context, action, network), target, context[:, :, -1], changed_weight)


CHANGED = 0.05  # a latent element "changed" when it moved by more than this between frames


def weighted_mse(pred: Tensor, target: Tensor, last: Tensor, changed_weight: float) -> Tensor:
    """MSE whose elements that change between the last frame and the target weigh 1 + ``changed_weight``.

    Moving objects are a few percent of a frame: plain MSE is dominated by the static background,
    and a predictor that copies the last frame scores well on it while failing to move anything."""
    if changed_weight <= 0:
        return F.mse_loss(pred, target)
    weight = 1.0 + changed_weight * ((target - last).abs() > CHANGED).to(pred.dtype)
    return (weight * (pred - target) ** 2).sum() / weight.sum()


def rollout_loss(net, state_head, context: Tensor, actions: Tensor, targets: Tensor, next_states: Tensor,
                 network: str, changed_weight: float = 0.0) -> tuple[Tensor, Tensor]:
    """An H-step open-loop rollout that feeds its own predictions back, as the env does.

    actions (B, H, A), targets (B, H, C, h, w), next_states (B, H, D + E). Returns the mean
    next-latent MSE over the steps and the state head's mean loss on the *predicted* latents, so
    both learn what they meet in a rollout: their own drifted frames, not only the real ones."""
    horizon = actions.shape[1]
    dynamics, state = context.new_zeros(()), context.new_zeros(())
    for h in range(horizon):
        pred = regress_next(net, context, actions[:, h], network)
        last = targets[:, h - 1] if h else context[:, :, -1]   # the real previous frame
        dynamics = dynamics + weighted_mse(pred, targets[:, h], last, changed_weight)
        state = state + state_head.loss(pred, next_states[:, h])
        context = torch.cat([context[:, :, 1:], pred[:, :, None]], dim=2)
    return dynamics / horizon, state / horizon
