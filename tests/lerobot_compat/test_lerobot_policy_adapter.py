"""A real lerobot 0.4.4 policy (random weights, small dims) runs through ``policies.lerobot_adapter``.

    .venv-lerobot/bin/python -m pytest tests/lerobot_compat/test_lerobot_policy_adapter.py

This environment has lerobot but no mujoco, so the observations are built here, shaped exactly
like TabletopPush-v0's (64x64 ``top`` and ``front`` frames, ``agent_pos`` (2,),
``environment_state`` (4,)); the policies are built from their lerobot configs, with the
normalization statistics of such a dataset, and run with their own pre/post processors.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lerobot")
torch = pytest.importorskip("torch")

from gymnasium import spaces  # noqa: E402
from lerobot.configs.types import FeatureType, PolicyFeature  # noqa: E402
from lerobot.envs.utils import preprocess_observation  # noqa: E402
from lerobot.policies.act.configuration_act import ACTConfig  # noqa: E402
from lerobot.policies.act.modeling_act import ACTPolicy  # noqa: E402
from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig  # noqa: E402
from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy  # noqa: E402
from lerobot.policies.factory import make_pre_post_processors  # noqa: E402

from policies.lerobot_adapter import LeRobotPolicy, lerobot_batch, load_lerobot_policy  # noqa: E402

pytestmark = pytest.mark.lerobot

N, CAMS, TASK = 3, ("top", "front"), "push the red block into the green goal region"
ACTION_SPACE = spaces.Box(-1.0, 1.0, (2,), np.float32)
FEATURES = {
    "input_features": {**{f"observation.images.{c}": PolicyFeature(FeatureType.VISUAL, (3, 64, 64)) for c in CAMS},
                       "observation.state": PolicyFeature(FeatureType.STATE, (2,)),
                       "observation.environment_state": PolicyFeature(FeatureType.ENV, (4,))},
    "output_features": {"action": PolicyFeature(FeatureType.ACTION, (2,))},
}


def stats() -> dict:
    def low_dim(d, half):
        return {"mean": np.zeros(d), "std": np.full(d, half / 2), "min": np.full(d, -half), "max": np.full(d, half)}

    image = {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25),
             "min": np.zeros((3, 1, 1)), "max": np.ones((3, 1, 1))}
    return {"observation.state": low_dim(2, 0.25), "observation.environment_state": low_dim(4, 0.2),
            "action": low_dim(2, 1.0), **{f"observation.images.{c}": image for c in CAMS}}


def build(kind: str):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if kind == "diffusion":
        cfg = DiffusionConfig(**FEATURES, n_obs_steps=2, horizon=8, n_action_steps=4, down_dims=(32, 64),
                              crop_shape=None, diffusion_step_embed_dim=32, spatial_softmax_num_keypoints=8,
                              num_inference_steps=3, device="cpu")
        policy = DiffusionPolicy(cfg)
    else:
        cfg = ACTConfig(**FEATURES, chunk_size=4, n_action_steps=4, dim_model=32, n_heads=2, dim_feedforward=64,
                        n_encoder_layers=1, n_decoder_layers=1, use_vae=False, pretrained_backbone_weights=None,
                        device="cpu")
        policy = ACTPolicy(cfg)
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats())
    return policy, pre, post


def observation(seed: int, n: int = N) -> dict:
    rng = np.random.default_rng(seed)
    return {"pixels": {c: rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8) for c in CAMS},
            "agent_pos": rng.uniform(-0.25, 0.25, (n, 2)).astype(np.float32),
            "environment_state": rng.uniform(-0.2, 0.2, (n, 4)).astype(np.float32)}


def test_batch_mapping_is_lerobots_preprocess_observation():
    obs = observation(0)
    ours, theirs = lerobot_batch(obs, TASK), preprocess_observation(obs)
    assert set(ours) == set(theirs) | {"task"} and ours["task"] == [TASK] * N
    for key, value in theirs.items():
        assert ours[key].dtype == value.dtype and ours[key].shape == value.shape
        torch.testing.assert_close(ours[key], value, rtol=0, atol=0)
    assert ours["observation.images.top"].shape == (N, 3, 64, 64)


def lerobot_eval_step(policy, pre, post, obs) -> np.ndarray:
    """What lerobot-eval's rollout does for one step (env pre/post processors are identities here)."""
    batch = preprocess_observation(obs)
    batch["task"] = [TASK] * N
    with torch.inference_mode():
        action = policy.select_action(pre(batch))
    return post(action).to("cpu").numpy()


@pytest.mark.parametrize("kind", ["diffusion", "act"])
def test_adapter_acts_like_lerobot_eval_in_bounds(kind):
    policy, pre, post = build(kind)
    adapter = LeRobotPolicy(policy, pre, post, ACTION_SPACE, task=TASK)
    adapter.reset(N, seed=11)
    ours = [adapter.act(observation(t)) for t in range(6)]        # crosses a 4-step action chunk
    policy.reset()
    torch.manual_seed(11)
    theirs = [lerobot_eval_step(policy, pre, post, observation(t)) for t in range(6)]
    for a, b in zip(ours, theirs):
        assert a.shape == (N, 2) and a.dtype == np.float32
        assert np.all(a >= -1) and np.all(a <= 1)
        np.testing.assert_allclose(a, np.clip(b, -1, 1), rtol=1e-5, atol=1e-6)
    if kind == "diffusion":   # min-max normalised and clipped samples: in bounds before our clipping too
        assert all(np.all(np.abs(b) <= 1 + 1e-6) for b in theirs)


def test_reset_is_called_per_episode_and_makes_episodes_reproducible():
    policy, pre, post = build("diffusion")
    calls = []
    original = policy.reset
    policy.reset = lambda: (calls.append(1), original())[1]
    adapter = LeRobotPolicy(policy, pre, post, ACTION_SPACE, task=TASK)
    episodes = []
    for episode in range(3):
        adapter.reset(1, seed=5)
        episodes.append([adapter.act(observation(t, n=1)) for t in range(3)])
    assert len(calls) == 3                                         # one reset per episode
    np.testing.assert_array_equal(np.stack(episodes[0]), np.stack(episodes[2]))   # queue cleared, same seed
    adapter.reset_envs(np.array([False]))
    assert len(calls) == 3
    adapter.reset_envs(np.array([True]))
    assert len(calls) == 4


def test_saved_policy_loads_by_path_and_spec(tmp_path):
    from evaluation.policy_specs import build_policy

    policy, pre, post = build("diffusion")
    for part in (policy, pre, post):
        part.save_pretrained(tmp_path)
    loaded = load_lerobot_policy(str(tmp_path), ACTION_SPACE, task=TASK)
    original = LeRobotPolicy(policy, pre, post, ACTION_SPACE, task=TASK)
    from_spec = build_policy(f"lerobot:{tmp_path}", "worldsim/TabletopPush-v0", ACTION_SPACE, task=TASK)
    obs = observation(3)
    actions = []
    for p in (original, loaded, from_spec):
        p.reset(N, seed=2)
        actions.append(p.act(obs))
    np.testing.assert_allclose(actions[0], actions[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(actions[0], actions[2], rtol=1e-5, atol=1e-6)
