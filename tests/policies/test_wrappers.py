"""Degradation wrappers: each does what its name says, is seeded, and strength 0 is a no-op."""

import numpy as np
import pytest
from gymnasium import spaces

from policies.wrappers import ActionDelay, ConstantBias, EpsilonRandom, GaussianNoise, StuckActuator

SPACE = spaces.Box(-4.0, 4.0, (3,), np.float32)     # wide, so clipping rarely interferes
N = 4000


class Counter:
    """A deterministic inner policy: action = step counter in every dimension."""

    action_space = SPACE

    def reset(self, num_envs, seed=None):
        self.t = 0

    def act(self, obs):
        self.t += 1
        return np.full((len(obs["agent_pos"]), 3), 0.001 * self.t, np.float32)


def obs(n=N):
    return {"agent_pos": np.zeros((n, 2), np.float32)}


def run(wrapper, steps=1, seed=0, n=N):
    wrapper.reset(n, seed)
    return [wrapper.act(obs(n)) for _ in range(steps)]


def test_strength_zero_changes_nothing():
    for cls in (GaussianNoise, EpsilonRandom, ActionDelay, StuckActuator, ConstantBias):
        out = run(cls(Counter(), 0.0), steps=3)
        assert np.allclose(out[2], 0.003), cls.__name__


def test_gaussian_noise_std_is_scale_times_half_range():
    a = run(GaussianNoise(Counter(), 0.1))[0] - 0.001
    assert a.std() == pytest.approx(0.1 * 4.0, rel=0.05)
    assert abs(a.mean()) < 0.03


def test_epsilon_random_replaces_that_fraction():
    a = run(EpsilonRandom(Counter(), 0.3))[0]
    replaced = ~np.isclose(a, 0.001).all(axis=1)
    assert replaced.mean() == pytest.approx(0.3, abs=0.03)


def test_delay_returns_the_action_from_k_steps_ago():
    out = run(ActionDelay(Counter(), 2), steps=5, n=2)
    assert np.all(out[0] == 0) and np.all(out[1] == 0)
    assert np.allclose(out[2], 0.001) and np.allclose(out[4], 0.003)


def test_delay_clears_only_the_envs_that_restart():
    w = ActionDelay(Counter(), 1)
    w.reset(2, 0)
    w.act(obs(2))
    w.reset_envs(np.array([True, False]))
    a = w.act(obs(2))
    assert np.all(a[0] == 0) and np.allclose(a[1], 0.001)


def test_stuck_actuator_zeroes_the_last_dimension_per_episode():
    a = run(StuckActuator(Counter(), 0.5))[0]
    stuck = a[:, -1] == 0
    assert stuck.mean() == pytest.approx(0.5, abs=0.03)
    assert np.allclose(a[:, :2], 0.001)


def test_bias_adds_a_constant_and_is_clipped():
    a = run(ConstantBias(Counter(), 0.5))[0]
    assert np.allclose(a, 0.001 + 2.0)
    a = run(ConstantBias(Counter(), 2.0))[0]
    assert np.allclose(a, 4.0)


def test_wrappers_are_seeded():
    for cls in (GaussianNoise, EpsilonRandom, StuckActuator):
        a, b, c = run(cls(Counter(), 0.4), seed=1), run(cls(Counter(), 0.4), seed=1), run(cls(Counter(), 0.4), seed=2)
        assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0]), cls.__name__
