"""``lerobot-eval``'s evaluation loop runs a real lerobot policy in a ``SyncVectorEnv`` of our
single world-model envs (the shipped default TabletopPush world model).

    .venv-lerobot/bin/python -m pytest tests/lerobot_compat/test_lerobot_eval_world_model.py

``eval_policy_all`` is the function the ``lerobot-eval`` command calls once it has made the
envs and the policy; the env pre/post processors are identity pipelines, which is what
``make_env_pre_post_processors`` returns for any env that is not LIBERO.
"""

from __future__ import annotations

import pytest

pytest.importorskip("lerobot")
pytest.importorskip("mujoco")
torch = pytest.importorskip("torch")

import gymnasium as gym  # noqa: E402
from lerobot.processor import PolicyProcessorPipeline  # noqa: E402
from lerobot.scripts.lerobot_eval import eval_policy_all  # noqa: E402

import envs  # noqa: E402,F401  (registers worldsim/WorldModel-v0)
from test_lerobot_policy_adapter import build  # noqa: E402

pytestmark = pytest.mark.lerobot

STEPS, N_ENVS, EPISODES = 3, 2, 4
LATENT = "world_models/tabletop_push_latent"


def world_model_env():
    from assets import asset_path

    # the latent-family model shipped beside the default sees top and front, as the policy built here does
    return gym.make("worldsim/WorldModel-v0", checkpoint=str(asset_path(LATENT)), max_episode_steps=STEPS)


def test_lerobot_eval_loop_runs_a_lerobot_policy_in_the_world_model(tmp_path):
    vec = gym.vector.SyncVectorEnv([world_model_env for _ in range(N_ENVS)])
    policy, pre, post = build("act")
    identity = PolicyProcessorPipeline(steps=[])
    try:
        with torch.no_grad():
            info = eval_policy_all(envs={"worldsim": {0: vec}}, policy=policy, env_preprocessor=identity,
                                   env_postprocessor=identity, preprocessor=pre, postprocessor=post,
                                   n_episodes=EPISODES, max_episodes_rendered=1, videos_dir=tmp_path / "videos",
                                   start_seed=0)
    finally:
        vec.close()
    overall = info["overall"]
    assert overall["n_episodes"] == EPISODES
    # rewards are the reward judge's estimates: in [0, 1] per step, at most STEPS per episode
    assert 0.0 <= overall["avg_sum_reward"] <= STEPS and 0.0 <= overall["avg_max_reward"] <= 1.0
    assert 0.0 <= overall["pc_success"] <= 100.0
    videos = list((tmp_path / "videos").rglob("*.mp4"))
    assert videos and all(v.stat().st_size > 0 for v in videos)
    assert info["per_task"][0]["task_group"] == "worldsim"
