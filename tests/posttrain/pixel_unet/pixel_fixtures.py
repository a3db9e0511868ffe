"""Tiny TabletopPush episodes and tiny pixel world models for the pixel_unet tests."""

from __future__ import annotations

import numpy as np
import torch

from posttrain.pixel_unet.config import EDMSettings, UNetConfig
from posttrain.pixel_unet.data import Episodes

TINY_NET = UNetConfig(context=4, channels=[16, 32], cond_dim=32, groups=4)


def rollout_episodes(count: int = 2, steps: int = 30, seed: int = 0, policy: str = "play") -> Episodes:
    """``count`` simulator episodes (top camera, 64 px) of the play policy, as training data."""
    import gymnasium as gym

    import envs  # noqa: F401
    from policies import make_policy

    env = gym.make("worldsim/TabletopPush-v0", cameras=("top",), terminate_on_success=False)
    pol = make_policy(policy, "worldsim/TabletopPush-v0", env.action_space)
    frames, actions, states, lengths, sims = [], [], [], [], []
    for e in range(count):
        obs, _ = env.reset(seed=seed + e)
        pol.reset(1, seed + e)
        for _ in range(steps):
            a = pol.act({k: (v[None] if k != "pixels" else v) for k, v in obs.items()})[0]
            frames.append(obs["pixels"]["top"])
            states.append(np.concatenate([obs["agent_pos"], obs["environment_state"]]))
            sims.append(env.unwrapped.sim_state())
            actions.append(a)
            obs, *_ = env.step(a)
        lengths.append(steps)
    env.close()
    lengths = np.asarray(lengths)
    return Episodes(torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous(),
                    torch.from_numpy(np.stack(actions)).float(), torch.from_numpy(np.stack(states)).float(),
                    np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths, [policy] * count,
                    torch.from_numpy(np.stack(sims)))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.clamp(-1, 1) - b) ** 2).mean()) / 4.0
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def edm() -> EDMSettings:
    return EDMSettings()
