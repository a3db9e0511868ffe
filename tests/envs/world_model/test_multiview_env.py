"""worldsim/DrivingWorldModel-v0: the six-camera driving world model as the simulator it imitates.

A tiny multi-view model is trained for two steps on a few 16 px driving episodes (no quality is
claimed here): its env has exactly the simulator's spaces, passes ``check_env``, starts from the
simulator's own observation, never touches the simulator after ``reset``, is seeded, and refuses
view counts, image sizes and actions it was not made for. The shipped default model gets the
same space check at its own 32 px.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401

WM_ID, SIM_ID = "worldsim/DrivingWorldModel-v0", "worldsim/DrivingMultiView-v0"
CAMERAS = ("front", "front_left", "front_right", "back_left", "back", "back_right")


pytestmark = pytest.mark.usefixtures("megatron_one_thread")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    from worldsim.cli import main
    from worldsim.training.stages import posttrain_stage

    root = tmp_path_factory.mktemp("mvwm")
    argv = ["generate", "--env", SIM_ID, "--episodes", "2", "--out", str(root / "data"), "--policy", "expert",
            "image_size=16", f"cameras=[{','.join(CAMERAS)}]", "depth=false", "segmentation=false",
            "workers=1", "max_steps=4"]
    assert main(argv) == 0
    overrides = ["steps=2", "batch_size=2", "ckpt_every=2", "progress=false", "warmup_steps=1", "held_out=0",
                 "sample_steps=2", "model.hidden_size=32", "model.num_layers=1", "model.num_heads=2",
                 "model.adaln_lora_dim=8", "model.spec=cpu"]
    posttrain_stage("multiview", "", str(root / "data"), str(root / "run"), overrides=overrides)
    return str(root / "run")


@pytest.fixture(scope="module")
def env(checkpoint):
    env = gym.make(WM_ID, checkpoint=checkpoint)
    yield env
    env.close()


@pytest.fixture(scope="module")
def sim():
    sim = gym.make(SIM_ID, cameras=CAMERAS, image_size=16)
    yield sim
    sim.close()


def test_spaces_are_the_simulators(env, sim):
    assert env.observation_space == sim.observation_space
    assert env.action_space == sim.action_space
    assert env.spec.max_episode_steps == sim.spec.max_episode_steps


def test_check_env_passes(env):
    check_env(env.unwrapped, skip_render_check=False)


def rollout(env, seed, steps=3):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for t in range(steps):
        out.append(env.step(np.array([0.2 * t - 0.2, 0.5], np.float32))[0])
    return out


def test_seeded_rollouts_repeat_and_seeds_differ(env):
    a, c, b = rollout(env, 1), rollout(env, 2), rollout(env, 1)
    for x, y in zip(a, b):
        assert all(np.array_equal(x["pixels"][cam], y["pixels"][cam]) for cam in CAMERAS)
        assert np.array_equal(x["agent_pos"], y["agent_pos"])
    assert not np.array_equal(a[-1]["pixels"]["front"], c[-1]["pixels"]["front"])


def test_first_observation_is_the_simulators_and_the_simulator_is_left_alone(checkpoint, sim):
    env = gym.make(WM_ID, checkpoint=checkpoint).unwrapped
    obs, info = env.reset(seed=3)
    sim_obs, sim_info = sim.reset(seed=3)
    for cam in CAMERAS:
        assert np.array_equal(obs["pixels"][cam], sim_obs["pixels"][cam])
    assert np.array_equal(obs["agent_pos"], sim_obs["agent_pos"])
    assert np.array_equal(obs["environment_state"], sim_obs["environment_state"])
    assert info == sim_info

    def forbidden(*args, **kwargs):
        raise AssertionError("the world-model env touched the simulator after reset")

    inner = env.source.env
    inner.step = inner.reset = inner.render = inner.capture = forbidden
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(np.array([0.1, 0.3], np.float32))
        assert env.observation_space.contains(obs) and isinstance(info["is_success"], bool)
        assert np.isfinite(reward)
    env.close()


def test_agent_pos_is_integrated_from_the_start_state(checkpoint):
    """The state head predicts changes: with its output layer zeroed, every step adds exactly the
    mean training change to the state the simulator gave at reset."""
    env = gym.make(WM_ID, checkpoint=checkpoint).unwrapped
    head = env.model.network.state_head
    torch.nn.init.zeros_(head.mlp_2.weight), torch.nn.init.zeros_(head.mlp_2.bias)
    obs, _ = env.reset(seed=0)
    start = np.concatenate([obs["agent_pos"], obs["environment_state"]])
    for _ in range(2):
        obs = env.step(np.zeros(2, np.float32))[0]
    now = np.concatenate([obs["agent_pos"], obs["environment_state"]])
    assert np.allclose(now, start + 2 * head.delta_mean.numpy(), atol=1e-4)
    env.close()


def test_other_view_counts_sizes_and_bad_actions_are_clear_errors(checkpoint):
    with pytest.raises(ValueError, match="6 views"):
        gym.make(WM_ID, checkpoint=checkpoint, cameras=["front", "back"])
    with pytest.raises(ValueError, match="image_size=32"):
        gym.make(WM_ID, checkpoint=checkpoint, image_size=32)
    env = gym.make(WM_ID, checkpoint=checkpoint, cameras=list(CAMERAS), image_size=16).unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="out of bounds"):
        env.step(np.array([2.0, 0.0], np.float32))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(3, np.float32))
    env.close()


def test_default_model_has_the_simulators_spaces():
    env = gym.make(WM_ID)                      # the driving reprojection model, 64x64
    sim = gym.make(SIM_ID, cameras=CAMERAS, image_size=64)
    assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
    obs, _ = env.reset(seed=0)
    obs = env.step(np.zeros(2, np.float32))[0]
    assert env.observation_space.contains(obs)
    env.close(), sim.close()
