"""worldsim/CameraWorld-v0 with both shipped camera models (the default reprojection model and the
camera DiT): check_env, the contract, the start view is the simulator's, agent_pos follows the
commanded motions, seeded determinism, bad input."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401
from envs.registry import ENVS, WORLD_MODELS
from posttrain.camera.motion import apply_action, camera_state

ENV_ID = "worldsim/CameraWorld-v0"


MODELS = {"reprojection": {}, "dit": {"checkpoint": "assets/world_models/camera_tabletop", "sample_steps": 2}}


@pytest.fixture(scope="module", params=sorted(MODELS))
def env(request):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    e = gym.make(ENV_ID, **MODELS[request.param])   # the contract, not the image quality, is tested here
    yield e
    e.close()
    torch.set_num_threads(before)


def test_registered_as_a_world_model():
    assert ENV_ID in WORLD_MODELS and ENV_ID not in ENVS


def test_check_env(env):
    check_env(env.unwrapped, skip_render_check=False)


def test_start_view_is_the_simulator_render_and_pose_follows_the_actions(env):
    from envs.camera_scene import CameraScene

    obs, info = env.reset(seed=3)
    assert set(obs) == {"pixels", "agent_pos", "environment_state"} and info == {"is_success": False}
    img = obs["pixels"]["camera"]
    assert img.dtype == np.uint8 and img.shape == env.observation_space["pixels"]["camera"].shape
    assert obs["environment_state"].shape == (0,)
    poses = env.unwrapped.state.poses
    pose = (poses[0, -1] if poses.ndim == 4 else poses[0]).copy()
    scene = CameraScene(img.shape[0], env.unwrapped._scene.model.cam_fovy[env.unwrapped._scene.cam])
    scene.reset(3)
    assert np.array_equal(scene.render(pose), img)        # an independent render of the same layout and pose
    scene.close()
    assert np.allclose(obs["agent_pos"], camera_state(pose), atol=1e-6)
    a = np.array([0.5, -0.2, 0.3, 0.1, -0.4, 0.2], np.float32)
    obs, reward, terminated, truncated, info = env.step(a)
    expect = apply_action(pose, a, env.unwrapped.model.motion)   # the scales of the model's training data
    assert np.allclose(obs["agent_pos"], camera_state(expect), atol=1e-5)
    assert reward == 0.0 and not terminated and not truncated and info["is_success"] is False
    assert obs["pixels"]["camera"].std() > 5, "the generated view is flat"


def test_same_seed_same_episode(env):
    actions = [np.full(6, 0.3, np.float32), np.array([0, 0, 1, 0, 0.5, 0], np.float32)]

    def rollout():
        obs, _ = env.reset(seed=11)
        frames = [obs["pixels"]["camera"]]
        for a in actions:
            frames.append(env.step(a)[0]["pixels"]["camera"])
        return np.stack(frames)

    assert np.array_equal(rollout(), rollout())


def test_bad_input_is_refused(env, tmp_path):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="expected"):
        env.step(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="out of bounds"):
        env.step(np.full(6, 2.0, np.float32))
    with pytest.raises(ValueError, match="image_size"):
        gym.make(ENV_ID, image_size=16)
    with pytest.raises(ValueError, match="samples nothing"):
        gym.make(ENV_ID, sample_steps=2)
    with pytest.raises(ValueError, match="expected 'camera_dit'"):
        gym.make(ENV_ID, checkpoint="assets/checkpoints/base_dit_tabletop")
    with pytest.raises(ValueError, match="does not exist"):
        gym.make(ENV_ID, checkpoint=str(tmp_path / "missing"))
