"""worldsim/WorldModel-v0 and PerceivedSim-v0 on an untrained pixel world model (posttrain.pixel_unet).

The same contract as the latent family: the simulator's spaces, seeded stepping, the native
vector env equal to N single envs through autoresets, the batched perceived simulator equal to
single ones, and clear errors for a folder made for other cameras or sizes.
"""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401

WM_ID, PERCEIVED_ID = "worldsim/WorldModel-v0", "worldsim/PerceivedSim-v0"
KWARGS = {"cameras": ["top"], "image_size": 32}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module", params=[False, True], ids=["frames_only", "grounded"])
def pixel_model(tmp_path_factory, request):
    from envs.sim_spec import sim_spec_of
    from posttrain.pixel_unet.config import UNetConfig
    from posttrain.pixel_unet.untrained import untrained_pixel_world_model

    net = UNetConfig(channels=[16, 32], cond_dim=32, groups=4)
    return str(untrained_pixel_world_model(str(tmp_path_factory.mktemp("pix") / "wm"),
                                           sim_spec_of("worldsim/TabletopPush-v0", KWARGS), net, perturb=0.02,
                                           grounded=request.param))


def test_spaces_match_the_simulator_and_check_env_passes(pixel_model):
    env = gym.make(WM_ID, checkpoint=pixel_model)
    sim = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=32)
    assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
    obs, _ = env.reset(seed=4)
    sim_obs, _ = sim.reset(seed=4)
    np.testing.assert_array_equal(obs["pixels"]["top"], sim_obs["pixels"]["top"])
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("predictor", ["deterministic", "diffusion"])
def test_seeded_rollouts_repeat_and_frames_move(pixel_model, predictor):
    def rollout(seed):
        env = gym.make(WM_ID, checkpoint=pixel_model, predictor=predictor)
        obs, _ = env.reset(seed=seed)
        frames = [obs["pixels"]["top"]]
        for a in np.linspace(-1, 1, 10, dtype=np.float32):
            frames.append(env.step(np.array([a, -a], np.float32))[0]["pixels"]["top"])
        return np.stack(frames)

    first, again = rollout(3), rollout(3)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first[-1].astype(int) - first[0]).max() > 0   # the perturbed model changes the frame


@pytest.mark.parametrize("predictor", ["deterministic", "diffusion"])
def test_native_vector_env_equals_single_envs_through_autoresets(pixel_model, predictor):
    """Equal up to float rounding: a batch of 3 runs other conv kernels than a batch of 1, and a
    pixel that rounds the other way is carried into the next step's context."""
    n, steps = 3, 7
    native = gym.make_vec(WM_ID, num_envs=n, vectorization_mode="vector_entry_point", checkpoint=pixel_model,
                          predictor=predictor, max_episode_steps=4)
    singles = gym.make_vec(WM_ID, num_envs=n, vectorization_mode="sync", checkpoint=pixel_model,
                           predictor=predictor, max_episode_steps=4,
                           vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    a, b = native.reset(seed=10)[0], singles.reset(seed=10)[0]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        np.testing.assert_allclose(a["pixels"]["top"], b["pixels"]["top"], atol=3)
        assert np.mean(a["pixels"]["top"] != b["pixels"]["top"]) < 0.01
        np.testing.assert_allclose(a["agent_pos"], b["agent_pos"], atol=2e-3)  # batched convs round differently
        act = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        a, ra, ta, tra, _ = native.step(act)
        b, rb, tb, trb, _ = singles.step(act)
        np.testing.assert_array_equal(tra, trb)
        np.testing.assert_allclose(ra, rb, atol=2e-3)


def test_batched_perceived_simulator_equals_single_ones(pixel_model):
    n = 3
    vec = gym.make_vec(PERCEIVED_ID, num_envs=n, vectorization_mode="vector_entry_point", checkpoint=pixel_model)
    singles = [gym.make(PERCEIVED_ID, checkpoint=pixel_model).unwrapped for _ in range(n)]
    obs, _ = vec.reset(seed=[5, 6, 7])
    single = [s.reset(seed=5 + i)[0] for i, s in enumerate(singles)]
    rng = np.random.default_rng(1)
    for _ in range(5):
        act = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        obs, reward, *_ = vec.step(act)
        single = [s.step(act[i]) for i, s in enumerate(singles)]
        for i in range(n):
            np.testing.assert_array_equal(obs["pixels"]["top"][i], single[i][0]["pixels"]["top"])
            np.testing.assert_allclose(obs["agent_pos"][i], single[i][0]["agent_pos"], atol=1e-5)
            np.testing.assert_allclose(reward[i], single[i][1], atol=1e-5)


def test_bad_input_gets_clear_errors(pixel_model):
    from posttrain.pixel_unet.world_model import PixelWorldModel

    with pytest.raises(ValueError, match=r"pass rule=envs.rules.state_rule"):
        PixelWorldModel.load(pixel_model)   # the envs pass the task's rule; alone it has none
    with pytest.raises(ValueError, match="cameras"):
        gym.make(WM_ID, checkpoint=pixel_model, cameras=["top", "front"])
    with pytest.raises(ValueError, match="image_size"):
        gym.make(WM_ID, checkpoint=pixel_model, image_size=64)
    with pytest.raises(ValueError, match="sample_steps"):
        gym.make(WM_ID, checkpoint=pixel_model, predictor="diffusion", sample_steps=0)
    with pytest.raises(ValueError, match="sampler"):
        gym.make(WM_ID, checkpoint=pixel_model, predictor="diffusion", sampler="nope")
    with pytest.raises(ValueError, match="judge"):
        gym.make(WM_ID, checkpoint=pixel_model, judge="learned")
    env = gym.make(WM_ID, checkpoint=pixel_model).unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(np.array([2.0, 0.0], np.float32))
