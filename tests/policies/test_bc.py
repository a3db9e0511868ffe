"""Behaviour cloning: ``worldsim train policy`` on a generated dataset, checkpoints as ``bc:`` policies."""

import numpy as np
import pytest
import torch

import envs
from evaluation.zoo import bc_specs
from policies.base import stack_obs
from policies.bc import BCConfig, BCNet
from policies.bc_spec import load_bc_policy, make_bc_policy
from policies.wrappers import GaussianNoise
from worldsim.io import read_tensors
from worldsim.training.stages import train_stage

ENV_ID = "worldsim/TabletopPush-v0"
TRAIN = ["model.image_size=16", "model.channels=[8,8]", "model.hidden=32", "steps=4", "ckpt_every=2",
         "keep_last=0", "batch_size=8", "warmup_steps=1", "progress=false", "held_out=0.34"]


@pytest.fixture(scope="module")
def bc_run(tmp_path_factory):
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import generate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("bc")
    data = generate(GenerateConfig(policy="expert,random", episodes=3, out=str(root / "data"), workers=1,
                                   cameras=["top"], image_size=16, max_steps=12, depth=False, segmentation=False,
                                   camera_params=False))
    run = root / "run"
    train_stage("policy", str(data), str(run), overrides=TRAIN)
    yield run
    torch.set_num_threads(threads)


@pytest.fixture
def env():
    e = envs.make(ENV_ID, cameras=("top",), image_size=16)
    yield e
    e.close()


def batch(env, seeds=(0, 1, 2)):
    return stack_obs([env.reset(seed=s)[0] for s in seeds])


def test_training_keeps_every_checkpoint_with_its_config(bc_run):
    assert bc_specs(bc_run) == [f"bc:{bc_run}/checkpoints/step_0000002", f"bc:{bc_run}/checkpoints/step_0000004"]
    text = (bc_run / "config.yaml").read_text()
    assert "architecture: bc_policy" in text and "env_dim: 4" in text and "agent_dim: 2" in text


def test_checkpoint_loads_as_a_batched_policy(bc_run, env):
    policy = load_bc_policy(bc_run, env.action_space)             # the run's latest checkpoint
    saved = read_tensors(bc_run / "checkpoints" / "step_0000004" / "model.safetensors")
    for name, value in policy.net.state_dict().items():
        torch.testing.assert_close(value, saved[name], rtol=0, atol=0)
    obs = batch(env)
    actions = policy.act(obs)
    assert actions.shape == (3, 2) and actions.dtype == np.float32 and np.all(np.abs(actions) <= 1)
    np.testing.assert_array_equal(actions, policy.act(obs))       # deterministic
    assert not np.allclose(actions[0], actions[1])                 # reads the observation


def test_normalization_comes_from_the_dataset_stats(bc_run):
    policy = load_bc_policy(bc_run, envs.make(ENV_ID, cameras=("top",), image_size=16).action_space)
    assert torch.all(policy.net.state_std > 0) and not torch.allclose(policy.net.state_mean, torch.zeros(6))
    a = torch.tensor([[-0.5, 0.25]])
    torch.testing.assert_close(policy.net.unnormalize_action(policy.net.normalize_action(a)), a)


def test_bc_spec_with_degradation_and_bad_specs(bc_run, env):
    assert isinstance(make_bc_policy(f"bc:{bc_run}+noise:0.5", env.action_space), GaussianNoise)
    with pytest.raises(ValueError, match="names no checkpoint"):
        make_bc_policy("bc:", env.action_space)
    with pytest.raises(ValueError, match="does not exist"):
        make_bc_policy("bc:/no/such/run", env.action_space)
    with pytest.raises(ValueError, match="unknown degradation 'zap'"):
        make_bc_policy(f"bc:{bc_run}+zap:1", env.action_space)


def test_wrong_frame_size_is_a_clear_error(bc_run):
    big = envs.make(ENV_ID, cameras=("top",), image_size=32)
    policy = load_bc_policy(bc_run, big.action_space)
    with pytest.raises(ValueError, match="trained on 16x16 frames, got 32x32"):
        policy.act(batch(big, (0,)))
    big.close()


def test_dataset_without_the_camera_is_refused(bc_run):
    with pytest.raises(ValueError, match="model.camera='front' is not in"):
        train_stage("policy", str(bc_run.parent / "data"), str(bc_run.parent / "other"),
                    overrides=[*TRAIN, "model.camera=front"])


def test_state_only_network_shapes():
    net = BCNet(BCConfig(use_image=False, agent_dim=2, env_dim=4, action_dim=2))
    out = net(torch.zeros(5, 1, 1, 3, dtype=torch.uint8), torch.zeros(5, 6))   # (B, A)
    assert out.shape == (5, 2) and net.encoder is None
    with pytest.raises(ValueError, match="use_image or use_state"):
        BCNet(BCConfig(use_image=False, use_state=False))


def test_frame_loader_resumes_at_its_position():
    from policies.bc_task import FrameLoader

    frames = {"image": np.arange(40 * 4 * 4 * 3, dtype=np.uint8).reshape(40, 4, 4, 3) % 251,
              "state": np.arange(40 * 6, dtype=np.float32).reshape(40, 6), "action": np.zeros((40, 2), np.float32)}
    loader = FrameLoader(frames, batch_size=8, rank=0, world=1, seed=3, fingerprint="x")
    for _ in range(7):                       # into the second epoch (5 batches per epoch)
        next(loader)
    state = loader.state_dict()
    expected = [next(loader)["state"] for _ in range(4)]
    again = FrameLoader(frames, batch_size=8, rank=0, world=1, seed=3, fingerprint="x")
    again.load_state_dict(state)
    for want in expected:
        torch.testing.assert_close(next(again)["state"], want)
    with pytest.raises(ValueError, match="bad frame loader position"):
        again.load_state_dict({"epoch": 0, "index": 99})


def test_data_fraction_is_nested_and_refuses_bad_shares():
    from policies.bc_task import data_fraction

    episodes = list(range(3, 103))
    small, large, whole = (data_fraction(episodes, f, seed=0) for f in (0.05, 0.25, 1.0))
    assert (len(small), len(large), whole) == (5, 25, episodes)
    assert set(small) <= set(large) <= set(episodes)
    assert data_fraction(episodes[:4], 0.05, seed=0) and len(data_fraction(episodes[:4], 0.05, seed=0)) == 1
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="fraction"):
            data_fraction(episodes, bad, seed=0)


def test_colour_jitter_changes_each_frames_colours_and_keeps_its_pixels_in_place():
    import torch

    from policies.bc_task import colour_jitter

    torch.manual_seed(0)
    images = torch.zeros(4, 8, 8, 3, dtype=torch.uint8)
    images[:, 2:5, 2:5] = 200
    out = colour_jitter(images, 0.5)
    assert out.dtype == torch.uint8 and torch.equal(colour_jitter(images, 0.0), images)
    bright, dark = out[:, 3, 3].float(), out[:, 0, 0].float()
    assert (bright > dark).all()                                 # the square stays where it was, brighter
    assert len({tuple(c.tolist()) for c in out[:, 3, 3]}) == 4   # each frame its own colours
