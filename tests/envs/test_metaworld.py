"""MetaWorld-v0: upright cameras, seeding, the scripted experts, bad input.

``check_env`` and the seeded-rollout determinism check for all four tasks live in
``test_registry.py`` (parametrized over every registered env); this file holds what is
specific to the Meta-World adapter.

    .venv/bin/python -m pytest tests/envs/test_metaworld.py -q
"""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from envs.metaworld_env import ROLL_180, TASKS, MetaWorldEnv
from envs.render.gl import mujoco
from envs.render.mujoco_source import MujocoRenderSource
from policies.base import stack_obs
from policies.metaworld_expert import MetaWorldExpert, metaworld_vector

CORNERS = ("corner", "corner2", "corner3", "corner4")


@pytest.fixture
def make():
    made = []

    def _make(**kwargs):
        env = MetaWorldEnv(**kwargs)
        made.append(env)
        return env

    yield _make
    for env in made:
        env.close()


def _project(frame, point):
    """Pixel (row, col) of a world point through the frame's pinhole camera."""
    cam_from_world = np.linalg.inv(frame.extrinsics.astype(np.float64))
    uvw = frame.intrinsics @ (cam_from_world @ np.append(point, 1.0))[:3]
    return int(uvw[1] / uvw[2]), int(uvw[0] / uvw[2])


def test_corner_cameras_render_upright(make):
    env = make(task="push-v3", cameras=CORNERS, image_size=48)
    env.reset(seed=0)
    for cam, frame in env.capture(("rgb", "depth")).items():
        far = np.minimum(frame.depth, 10.0)
        # looking down at a table: the top of an upright image is farther away than the bottom
        assert far[:12].mean() > far[-12:].mean(), cam
        # image 'down' (OpenCV +y) points down in the world
        assert frame.extrinsics[:3, 1] @ np.array([0.0, 0.0, 1.0]) < -0.5, cam


def test_rolled_cameras_show_metaworld_frames_turned_half_a_turn(make):
    """Our image is Meta-World's raw camera image rotated by 180 degrees (LeRobot's
    ``np.flip(image, (0, 1))``), not a mirror image."""
    env = make(task="push-v3", cameras=("corner2",), image_size=48)
    obs, _ = env.reset(seed=1)
    cam = env.model.cam("corner2").id
    mujoco.mju_mulQuat(env.model.cam_quat[cam], env.model.cam_quat[cam].copy(), ROLL_180)  # undo
    mujoco.mj_forward(env.model, env.data)
    raw = MujocoRenderSource(env.model, env.data, ("corner2",), 48, 48)
    try:
        raw_rgb = raw.render_rgb()["corner2"]
    finally:
        raw.close()
    ours = obs["pixels"]["corner2"].astype(int)
    assert np.abs(ours - np.flip(raw_rgb, (0, 1))).mean() < 0.5
    assert np.abs(ours - np.flip(raw_rgb, 0)).mean() > 10.0


def test_camera_parameters_agree_with_the_pixels(make):
    env = make(task="push-v3", cameras=CORNERS, image_size=96)
    obs, _ = env.reset(seed=2)
    puck = obs["environment_state"][:3].astype(np.float64)
    for cam, frame in env.capture(("rgb", "segmentation")).items():
        row, col = _project(frame, puck)
        assert frame.labels[int(frame.segmentation[row, col])] == "obj", cam
        assert np.array_equal(frame.rgb, obs["pixels"][cam])


def test_reset_depends_only_on_the_seed(make):
    fresh = make(task="push-v3", image_size=32).reset(seed=11)[0]
    used = make(task="push-v3", image_size=32)
    used.reset(seed=3)
    for _ in range(5):
        used.step(np.array([1.0, -1.0, 0.5, 1.0], np.float32))
    again = used.reset(seed=11)[0]
    assert np.array_equal(fresh["agent_pos"], again["agent_pos"])
    assert np.array_equal(fresh["environment_state"], again["environment_state"])
    for cam in fresh["pixels"]:
        assert np.array_equal(fresh["pixels"][cam], again["pixels"][cam]), cam


@pytest.mark.parametrize("task", TASKS)
def test_layouts_vary_with_the_seed_within_metaworld_ranges(make, task):
    env = make(task=task, cameras=("topview",), image_size=16)
    space = env._mw._random_reset_space
    states = []
    for seed in range(4):
        states.append(env.reset(seed=seed)[0]["environment_state"])
        assert np.all(env._mw._last_rand_vec >= space.low) and np.all(env._mw._last_rand_vec <= space.high)
    assert len({s.tobytes() for s in states}) == 4


@pytest.mark.parametrize("task", TASKS)
def test_reset_observation_matches_the_simulated_layout(make, task):
    """The first observation shows where the objects really are: a no-op step moves nothing.
    (Meta-World moves some bodies in the model without a forward pass; a layout drawn twice
    per reset would show the first draw here.)"""
    env = make(task=task, cameras=("topview",), image_size=16)
    for seed in range(3):
        first = env.reset(seed=seed)[0]["environment_state"]
        after = env.step(np.zeros(4, np.float32))[0]["environment_state"]
        np.testing.assert_allclose(after[:3], first[:3], atol=2e-3)
        np.testing.assert_allclose(after[14:], first[14:], atol=1e-6)


def test_actions_move_the_hand(make):
    env = make(task="reach-v3", cameras=("topview",), image_size=16)
    start = env.reset(seed=0)[0]["agent_pos"]
    for _ in range(10):
        obs, *_ = env.step(np.array([1.0, 0.0, 0.0, 0.0], np.float32))
    dx = obs["agent_pos"][0] - start[0]
    assert 0.03 < dx < 0.11  # at most 1 cm per step; the mocap weld lags a little
    assert abs(obs["agent_pos"][1] - start[1]) < 0.01


@pytest.mark.parametrize("task", TASKS)
def test_expert_observation_rebuilds_metaworlds_vector(make, task):
    env = make(task=task, cameras=("topview",), image_size=16)
    obs, _ = env.reset(seed=4)
    raw = env._mw._get_obs()  # at reset Meta-World's previous-frame half equals the current one
    rebuilt = metaworld_vector(obs["agent_pos"][None], obs["environment_state"][None])[0]
    np.testing.assert_allclose(rebuilt, raw, atol=1e-6)


@pytest.mark.parametrize("task", TASKS)
def test_expert_succeeds_on_most_seeds(task):
    """Meta-World's scripted experts are written to solve their task nearly always; allow one
    miss in five within the registered episode length."""
    env = gym.make("worldsim/MetaWorld-v0", task=task, cameras=("topview",), image_size=16)
    policy = MetaWorldExpert(task, env.action_space)
    successes = 0
    try:
        for seed in range(5):
            obs, _ = env.reset(seed=seed)
            policy.reset(num_envs=1, seed=seed)
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(policy.act(stack_obs([obs]))[0])
                done = terminated or truncated
            successes += info["is_success"]
    finally:
        env.close()
    assert successes >= 4, f"{task}: expert succeeded on {successes}/5 seeds"


def test_expert_is_batched_and_clipped(make):
    env = make(task="push-v3", cameras=("topview",), image_size=16)
    singles = [env.reset(seed=s)[0] for s in range(3)]
    policy = MetaWorldExpert("push-v3", env.action_space)
    policy.reset(num_envs=3, seed=0)
    actions = policy.act(stack_obs(singles))
    assert actions.dtype == np.float32 and actions.shape == (3, 4)
    assert np.all(actions >= -1.0) and np.all(actions <= 1.0)
    for i, single in enumerate(singles):
        np.testing.assert_array_equal(actions[i], policy.act(stack_obs([single]))[0])


def test_expert_rejects_unbatched_observations(make):
    env = make(task="push-v3", cameras=("topview",), image_size=16)
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match=r"batched agent_pos \(N, 4\)"):
        MetaWorldExpert("push-v3", env.action_space).act(obs)


def test_unknown_task_names_it_and_the_allowed():
    with pytest.raises(ValueError, match="unknown Meta-World task 'pick-place-v3'; allowed: push-v3, reach-v3"):
        MetaWorldEnv(task="pick-place-v3")
    with pytest.raises(ValueError, match="unknown Meta-World task 'push-v3 '"):
        MetaWorldExpert("push-v3 ", gym.spaces.Box(-1, 1, (4,), np.float32))


@pytest.mark.parametrize("kwargs, message", [
    ({"cameras": ("corner2", "front")}, "unknown camera 'front'; allowed: corner, corner2"),
    ({"cameras": ()}, "at least one"),
    ({"image_size": 4}, "image_size=4"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MetaWorldEnv(task="reach-v3", **kwargs)


@pytest.mark.parametrize("action, message", [
    (np.zeros(3, np.float32), r"shape \(3,\); expected \(4,\)"),
    (np.array([0.0, np.nan, 0.0, 0.0]), "NaN"),
    (np.array([0.0, 0.0, 1.5, 0.0]), "out of bounds"),
    ("left", "not numeric"),
])
def test_bad_actions_are_named(make, action, message):
    env = make(task="reach-v3", cameras=("topview",), image_size=16)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_render_returns_the_first_camera(make):
    env = make(task="drawer-open-v3", cameras=("corner4", "topview"), image_size=24)
    with pytest.raises(RuntimeError, match="reset"):
        env.render()
    obs, _ = env.reset(seed=0)
    assert np.array_equal(env.render(), obs["pixels"]["corner4"])
    assert env.task == "open the drawer"
