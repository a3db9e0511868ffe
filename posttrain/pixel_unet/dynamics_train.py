"""Train the state dynamics on a dataset's recorded simulator states, on rollouts of its own predictions.

    python -m posttrain.pixel_unet.dynamics_train data=runs/push_wm out=runs/dyn steps=12000
    python -m posttrain.pixel_unet.dynamics_train data=runs/push_wm,runs/push_phys out=runs/dyn   # several

The dataset needs ``observation.sim_state`` (``worldsim generate ... sim_state=true``). After
``rollout_start`` of the steps on one-step targets, every sample is unrolled ``rollout_k`` steps
from a true state (with a little noise), each prediction feeding the next, the loss summed over
the steps with gradients through the whole rollout; errors are measured in units of
``loss_scale`` per state variable. Checkpoints as in ``pixel_unet.train`` (resumable).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from posttrain.common.transitions import Transitions
from posttrain.common.transitions import load_transitions as common_load_transitions
from posttrain.pixel_unet.dynamics import STATE_DIM, DynamicsConfig, StateDynamics

# error units per state variable: 1 cm, 0.1 rad, 0.1 m/s, 1 rad/s
LOSS_SCALE = (0.01, 0.01, 0.01, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 1.0)


@dataclass
class DynamicsTrainConfig:
    data: str = ""
    out: str = ""
    net: DynamicsConfig = field(default_factory=DynamicsConfig)
    steps: int = 12000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    rollout_start: float = 0.2
    rollout_k: int = 8
    state_noise: float = 0.002        # metres on positions (scaled up for yaw and velocities)
    loss_scale: list[float] = field(default_factory=lambda: list(LOSS_SCALE))   # error unit per state variable
    holdout_episodes: int = 16
    ckpt_every: int = 1000
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if len(self.loss_scale) != STATE_DIM or min(self.loss_scale) <= 0:
            raise ValueError(f"loss_scale={self.loss_scale}; need {STATE_DIM} positive error units")
        if self.rollout_k < 1 or self.net.context < 1:
            raise ValueError(f"rollout_k={self.rollout_k}, net.context={self.net.context}; both must be >= 1")


def load_transitions(data: str) -> Transitions:
    """The TabletopPush states (``envs.tabletop_push.SIM_STATE``) and actions of one dataset or several."""
    return common_load_transitions(data, STATE_DIM, what="pushing dynamics")


def sample(data: Transitions, episodes: np.ndarray, n: int, k: int, horizon: int, rng: np.random.Generator):
    """(states (B, k + h, 10), actions (B, k + h - 1, A), valid (B, h)): windows whose context starts
    before an episode's first state repeat it with zero actions; targets past its end are invalid."""
    ep = rng.choice(episodes, n)
    return windows(data, ep, rng.integers(0, data.lengths[ep] - 1), k, horizon)   # at least one true next state


def windows(data: Transitions, ep: np.ndarray, last_ctx: np.ndarray, k: int, horizon: int):
    """``sample``'s windows of episodes ``ep`` whose context ends at step ``last_ctx`` of each."""
    length = data.lengths[ep]
    offs = last_ctx[:, None] + np.arange(-k + 1, horizon + 1)[None]
    idx = data.starts[ep][:, None] + np.clip(offs, 0, length[:, None] - 1)
    states = torch.from_numpy(data.states[idx])
    acts = data.actions[idx[:, :-1]] * ((offs[:, :-1] >= 0) & (offs[:, :-1] < length[:, None] - 1))[..., None]
    return states, torch.from_numpy(acts.astype(np.float32)), torch.from_numpy(offs[:, k:] < length[:, None])


def rollout_loss(model: StateDynamics, states, actions, valid, noise: float, gen: torch.Generator,
                 loss_scale=LOSS_SCALE) -> torch.Tensor:
    """``unrolled_loss`` with context noise of ``noise`` cm-equivalents of the default error units."""
    from posttrain.common.rollout_fit import unrolled_loss

    return unrolled_loss(model, states, actions, valid, torch.tensor(LOSS_SCALE) / 0.01 * noise, gen, loss_scale)


def lr_at(step: int, cfg: DynamicsTrainConfig) -> float:
    warm = min(1.0, (step + 1) / 200)
    return cfg.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / cfg.steps)))


def train(cfg: DynamicsTrainConfig) -> Path:
    from posttrain.common.rollout_fit import fit_rollouts
    from posttrain.pixel_unet.train import start_run

    start_run(cfg)
    data = load_transitions(cfg.data)
    train_eps = np.arange(len(data.lengths) - cfg.holdout_episodes)
    train_eps = train_eps[data.lengths[train_eps] > 1]
    torch.manual_seed(cfg.seed)
    model = StateDynamics(cfg.net)
    return fit_rollouts(model, data, train_eps, cfg, rollout_loss, sample, lr_at, "train dynamics")


def load_dynamics(run: str) -> tuple[StateDynamics, DynamicsTrainConfig]:
    from worldsim.config import load_config
    from worldsim.io import load_tensor_state, read_tensors

    cfg = load_config(DynamicsTrainConfig, Path(run) / "config.yaml")
    model = StateDynamics(cfg.net)
    load_tensor_state(model, read_tensors(Path(run) / "checkpoint" / "model.safetensors"))
    return model.eval().requires_grad_(False), cfg


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config

    cfg = load_config(DynamicsTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    from worldsim.io.lock import hold_folder

    with hold_folder(cfg.out, "python -m posttrain.pixel_unet.dynamics_train"):   # a second run on the folder is refused at once
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
