"""Train the Sawyer state dynamics on a dataset's recorded ``observation.sim_state``, on rollouts
of its own predictions.

    python -m posttrain.sawyer.dynamics_train data=runs/mw_push out=runs/mw_push_dyn steps=6000

The dataset comes from ``worldsim generate --env worldsim/MetaWorld-v0 ... sim_state=true
render=false``. The recipe is TabletopPush's (``posttrain.pixel_unet.dynamics_train``, whose window
sampler it reuses): after ``rollout_start`` of the steps on one-step targets, every sample is unrolled
``rollout_k`` steps from a true context (with a little noise), each prediction feeding the next, the
loss summed over the steps with gradients through the whole rollout, in units of ``loss_scale`` per
state variable. With ``contact_fraction`` > 0 that share of every batch starts where the arm is held
back (the mocap target more than ``contact_lead`` from a hand slower than ``contact_speed``: it rests
or pushes on something), states that are rare in the data and decide knife-edge outcomes; with
``held_weight`` > 1 the hand's errors at held-back target states count in units that much finer
(``rollout_loss``; ``held_speed`` its own speed bound, ``held_axes`` the hand's axes, ``held_away``
only where the hand rests away from the object, on the fixed scene). The network's
normalisation (the data's state mean and spread, and each variable's typical one-step change) is
measured on the training episodes and saved with the weights. Checkpoints (safetensors) as in
``pixel_unet.train``; rerunning resumes.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import numpy as np
import torch

from posttrain.common.transitions import Transitions
from posttrain.common.transitions import load_transitions as common_load_transitions
from posttrain.pixel_unet.dynamics_train import lr_at, sample, windows
from posttrain.sawyer.config import HAND, HAND_VEL, MOCAP, OBJ, STATE_DIM, STATE_NAMES, SawyerTrainConfig
from posttrain.sawyer.dynamics import SawyerDynamics


def load_transitions(data: str) -> Transitions:
    """The Meta-World states (``STATE_NAMES``) and actions of one dataset or several."""
    return common_load_transitions(data, STATE_DIM, STATE_NAMES, what="Sawyer dynamics")


def split(data: Transitions, holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """(training episodes, held-out episodes): the last ``holdout`` episodes are held out."""
    episodes = np.arange(len(data.lengths))
    holdout = min(holdout, len(episodes) - 1)
    train_eps, held = episodes[:len(episodes) - holdout], episodes[len(episodes) - holdout:]
    return train_eps[data.lengths[train_eps] > 1], held


def data_stats(data: Transitions, episodes: np.ndarray) -> dict[str, torch.Tensor]:
    """The state's mean and spread and each variable's one-step change spread over ``episodes``."""
    rows = np.concatenate([np.arange(data.starts[e], data.starts[e] + data.lengths[e]) for e in episodes])
    pairs = np.concatenate([np.arange(data.starts[e], data.starts[e] + data.lengths[e] - 1) for e in episodes])
    states = data.states[rows].astype(np.float64)
    deltas = data.states[pairs + 1].astype(np.float64) - data.states[pairs]
    std = np.maximum(states.std(0), 1e-3)
    delta_std = np.maximum(deltas.std(0), 1e-4)
    return {"state_mean": torch.tensor(states.mean(0), dtype=torch.float32),
            "state_std": torch.tensor(std, dtype=torch.float32),
            "delta_std": torch.tensor(delta_std, dtype=torch.float32)}


def is_held(states: torch.Tensor, lead: float, speed: float) -> torch.Tensor:
    """(..., 44) -> (...) bool: the mocap target more than ``lead`` metres from a hand slower than
    ``speed`` m/s, i.e. the arm pushes on something that holds it back (contact), not just lagging a
    fast target."""
    gap = (states[..., MOCAP] - states[..., HAND]).norm(dim=-1)
    return (gap > lead) & (states[..., HAND_VEL].norm(dim=-1) < speed)


def held_back(data: Transitions, episodes: np.ndarray, lead: float, speed: float) -> tuple[np.ndarray, np.ndarray]:
    """(episode, step) of every held-back state (``is_held``) of ``episodes``, an episode's last excepted."""
    eps, steps = [], []
    for e in episodes:
        s = torch.from_numpy(data.states[np.arange(data.starts[e], data.starts[e] + data.lengths[e] - 1)])
        hit = np.nonzero(is_held(s, lead, speed).numpy())[0]
        eps.append(np.full(len(hit), e))
        steps.append(hit)
    return np.concatenate(eps), np.concatenate(steps)


def contact_sampler(data: Transitions, train_eps: np.ndarray, cfg: SawyerTrainConfig):
    """``sample``, with ``cfg.contact_fraction`` of each batch's windows ending their context at a
    held-back state (rare in the data, and where contact decides what happens next)."""
    if cfg.contact_fraction <= 0:
        return sample
    pool_ep, pool_step = held_back(data, train_eps, cfg.contact_lead, cfg.contact_speed)
    if len(pool_ep) == 0:
        raise ValueError(f"no state of the training episodes is held back (mocap > contact_lead={cfg.contact_lead} m "
                         f"from a hand slower than contact_speed={cfg.contact_speed} m/s); lower contact_lead or set "
                         "contact_fraction=0")

    def draw(data_, episodes, n, k, horizon, rng):
        m = int(rng.binomial(n, cfg.contact_fraction))
        pick = rng.integers(0, len(pool_ep), m)
        free = rng.choice(episodes, n - m)
        ep = np.concatenate([pool_ep[pick], free])
        last = np.concatenate([pool_step[pick], rng.integers(0, data_.lengths[free] - 1)])
        return windows(data_, ep, last, k, horizon)

    return draw


def rollout_loss(model: SawyerDynamics, states, actions, valid, noise: float, gen: torch.Generator,
                 loss_scale, held_weight: float = 1.0, lead: float = 0.02, speed: float = 0.05,
                 axes: tuple[int, ...] = (0, 1, 2), away: float = 0.0) -> torch.Tensor:
    """``unrolled_loss`` with context noise of ``noise`` error units per variable. Where a target state
    is held back (``is_held``), its hand position and velocity errors count in units ``held_weight``
    times finer: a hand resting on an edge creeps a fraction of a millimetre per step, and that creep
    decides when it slides off. ``axes``: the hand's axes (0 x, 1 y, 2 z) so refined. ``away`` > 0
    refines only where the hand is also farther than that from the object: held by the fixed scene
    (a wall's edge), not pressing on the object it acts on (a handle bar it slides down)."""
    from posttrain.common.rollout_fit import unrolled_loss

    scale = torch.tensor(loss_scale, dtype=torch.float32)
    unit = scale
    if held_weight != 1.0:
        target = states[:, model.cfg.context:]
        held = is_held(target, lead, speed)
        if away > 0:
            held = held & ((target[..., HAND] - target[..., OBJ]).norm(dim=-1) > away)
        finer = torch.ones(*target.shape[:-1], STATE_DIM)
        for part in (HAND, HAND_VEL):
            finer[..., part.start + torch.tensor(axes)] = torch.where(held, held_weight, 1.0)[..., None]
        unit = scale / finer
    return unrolled_loss(model, states, actions, valid, noise * scale, gen, unit)


def train(cfg: SawyerTrainConfig) -> Path:
    from posttrain.common.rollout_fit import fit_rollouts
    from posttrain.pixel_unet.train import start_run

    start_run(cfg)
    data = load_transitions(cfg.data)
    train_eps, _ = split(data, cfg.holdout_episodes)
    torch.manual_seed(cfg.seed)
    model = SawyerDynamics(cfg.net, data_stats(data, train_eps))
    held_speed = cfg.contact_speed if cfg.held_speed is None else cfg.held_speed
    loss = partial(rollout_loss, held_weight=cfg.held_weight, lead=cfg.contact_lead, speed=held_speed,
                   axes=tuple(cfg.held_axes), away=cfg.held_away)
    return fit_rollouts(model, data, train_eps, cfg, loss, contact_sampler(data, train_eps, cfg), lr_at,
                        "train sawyer dynamics")


def load_dynamics(run: str) -> tuple[SawyerDynamics, SawyerTrainConfig]:
    """A trained run folder's dynamics (eval mode, no gradients) and its config."""
    from posttrain.common.fit_loop import load_trained

    return load_trained(run, SawyerTrainConfig, lambda cfg: SawyerDynamics(cfg.net))


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config

    cfg = load_config(SawyerTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    from worldsim.io.lock import hold_folder

    with hold_folder(cfg.out, "python -m posttrain.sawyer.dynamics_train"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
