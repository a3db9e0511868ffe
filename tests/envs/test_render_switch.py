"""The per-episode render switch (``reset(options={"render": False})``) of every registered simulator:
the same episode without frames, the observation space kept, the default untouched."""

import gymnasium as gym
import numpy as np
import pytest

import envs

CASES = [("worldsim/TabletopPush-v0", {}), ("worldsim/DrivingMultiView-v0", {"cameras": ("front", "back")}),
         ("worldsim/MetaWorld-v0", {"task": "push-v3"})]
SMALL = {"image_size": 24}


def test_cases_cover_the_registry():
    assert {env_id for env_id, _ in CASES} == set(envs.ENVS)


@pytest.fixture(params=CASES, ids=lambda c: c[0].split("/")[1])
def env(request):
    env_id, kwargs = request.param
    e = gym.make(env_id, **kwargs, **SMALL)
    yield e
    e.close()


def rollout(env, seed: int, options=None, steps: int = 12) -> list:
    obs, info = env.reset(seed=seed, options=options)
    rng = np.random.default_rng(seed)
    trace = [(obs, 0.0, False, False, info)]
    for _ in range(steps):
        trace.append(env.step(rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)))
        if trace[-1][2] or trace[-1][3]:
            break
    return trace


def test_an_episode_without_rendering_is_the_same_episode_with_zero_pixels(env):
    drawn = rollout(env, seed=4)
    blind = rollout(env, seed=4, options={"render": False})
    assert len(blind) == len(drawn)
    for (obs_d, *rest_d), (obs_b, *rest_b) in zip(drawn, blind):
        assert rest_b == rest_d                                    # reward, terminated, truncated, info
        for key in ("agent_pos", "environment_state"):
            np.testing.assert_array_equal(obs_b[key], obs_d[key])
        assert env.observation_space.contains(obs_b)
        assert all(not img.any() for img in obs_b["pixels"].values())
    assert any(img.any() for img in drawn[-1][0]["pixels"].values())


def test_the_switch_lasts_one_episode_and_render_still_works(env):
    rollout(env, seed=2, options={"render": False}, steps=3)
    frame = env.render()                                          # rendered on demand
    assert frame.shape == (24, 24, 3) and frame.any()
    obs, _ = env.reset(seed=2)                                     # no option: frames again
    assert all(img.any() for img in obs["pixels"].values())
    np.testing.assert_array_equal(env.render(), obs["pixels"][env.unwrapped.cameras[0]])


def test_a_bad_render_option_is_a_clear_error(env):
    with pytest.raises(ValueError, match="reset option render='no'; allowed: True"):
        env.reset(seed=0, options={"render": "no"})
