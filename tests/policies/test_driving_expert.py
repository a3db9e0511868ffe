"""The scripted driver: control-law signs on hand-made observations, and closed-loop success."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from policies.base import stack_obs
from policies.driving_expert import DrivingExpert

SPACE = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
FAR = [300.0, 1.75, -9.0]       # an oncoming car far away: no influence


def _obs(yaw=0.0, speed=8.0, offset=0.0, cars=()):
    cars = list(cars) + [FAR] * (6 - len(cars))
    state = np.concatenate([np.ravel(cars), [offset, 50.0]]).astype(np.float32)
    return {"agent_pos": np.array([[0.0, -1.75 + offset, yaw, speed]], np.float32), "environment_state": state[None]}


def test_steers_back_towards_the_lane_centre_and_heading():
    expert = DrivingExpert(SPACE)
    assert expert.act(_obs(offset=0.5))[0, 0] < 0          # left of the centre: steer right
    assert expert.act(_obs(offset=-0.5))[0, 0] > 0
    assert expert.act(_obs(yaw=0.1))[0, 0] < 0             # heading left: steer right
    assert expert.act(_obs())[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_speeds_up_on_a_free_road_and_brakes_behind_a_slow_car():
    expert = DrivingExpert(SPACE)
    assert expert.act(_obs(speed=5.0))[0, 1] > 0
    assert expert.act(_obs(speed=10.0, cars=[[10.0, 0.0, 3.0]]))[0, 1] == -1.0    # 5.6 m gap at 10 m/s
    # the same car in the oncoming lane, or behind, does not slow the ego down
    assert expert.act(_obs(speed=5.0, cars=[[10.0, 3.5, -3.0]]))[0, 1] > 0
    assert expert.act(_obs(speed=5.0, cars=[[-10.0, 0.0, 3.0]]))[0, 1] > 0


def test_acts_on_a_batch():
    obs = stack_obs([{k: v[0] for k, v in _obs(offset=o).items()} for o in (-0.3, 0.0, 0.3)])
    actions = DrivingExpert(SPACE).act(obs)
    assert actions.shape == (3, 2) and actions.dtype == np.float32
    assert actions[0, 0] > 0 > actions[2, 0]


def test_expert_succeeds_and_random_fails(success_rate):
    drive = {"cameras": ("front",), "image_size": 8}
    assert success_rate("worldsim/DrivingMultiView-v0", "expert", range(100, 106), **drive) >= 5 / 6
    assert success_rate("worldsim/DrivingMultiView-v0", "random", range(100, 106), **drive) <= 1 / 6
