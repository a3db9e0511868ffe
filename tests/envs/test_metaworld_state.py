"""MetaWorld-v0's physical state, its per-task success rule and its play policy.

    .venv/bin/python -m pytest tests/envs/test_metaworld_state.py -q
"""

import numpy as np
import pytest

from envs.metaworld_env import MetaWorldEnv
from envs.metaworld_state import SIM_STATE, STATE_DIM, observation_from_state, restore_state, task_rule
from envs.simulators import METAWORLD, TABLETOP_PUSH
from envs.rules import state_rule
from policies.base import stack_obs
from policies.factory import make_policy
from policies.metaworld_play import MetaWorldPlay

TASKS = ("push-v3", "drawer-open-v3")


@pytest.fixture(scope="module", params=TASKS)
def env(request):
    env = MetaWorldEnv(task=request.param, render_mode=None, image_size=16, terminate_on_success=False)
    yield env
    env.close()


def _rollout(env, policy, seed: int, steps: int):
    """(states (T+1, 44), actions (T, 4), observations (T+1), successes (T,)) of one episode."""
    obs, _ = env.reset(seed=seed, options={"render": False})
    policy.reset(1, seed)
    states, actions, observations, successes = [env.sim_state()], [], [obs], []
    for _ in range(steps):
        action = policy.act(stack_obs([obs]))[0]
        obs, _, _, _, info = env.step(action)
        states.append(env.sim_state())
        actions.append(action)
        observations.append(obs)
        successes.append(info["is_success"])
    return np.array(states), np.array(actions), observations, np.array(successes)


def test_sim_state_holds_the_observation(env):
    states, _, observations, _ = _rollout(env, MetaWorldPlay(env.action_space), 0, 30)
    assert states.shape == (31, STATE_DIM) and len(SIM_STATE) == STATE_DIM == len(env.sim_state_names)
    agent, env_state = observation_from_state(states)
    np.testing.assert_allclose(agent, [o["agent_pos"] for o in observations], atol=1e-6)
    np.testing.assert_allclose(env_state, [o["environment_state"] for o in observations], atol=1e-6)


def test_sim_state_is_markov_restoring_it_reproduces_the_next_step(env):
    """Record an episode, scramble the sim with other actions, then restore recorded states one at a
    time: the recorded action from a restored state gives the recorded next observation and state."""
    states, actions, observations, _ = _rollout(env, MetaWorldPlay(env.action_space), 3, 60)
    env.reset(seed=3, options={"render": False})
    rng = np.random.default_rng(0)
    for _ in range(20):
        env.step(rng.uniform(-1, 1, 4).astype(np.float32))
    for t in range(0, 60, 6):
        restore_state(env._mw, env.metaworld_task, states[t])
        obs, *_ = env.step(actions[t])
        np.testing.assert_allclose(obs["agent_pos"], observations[t + 1]["agent_pos"], atol=1e-4)
        np.testing.assert_allclose(obs["environment_state"], observations[t + 1]["environment_state"], atol=1e-4)
        np.testing.assert_allclose(env.sim_state()[:30], states[t + 1][:30], atol=1e-3)


@pytest.mark.parametrize("spec", ["expert", "expert+noise:0.5", "expert+eps:0.5", "play"])
def test_rule_success_equals_metaworlds_on_every_step(env, spec):
    """The rule on the state is Meta-World's own ``info["is_success"]``, step by step: an
    independent check against Meta-World's code, over expert and noisy episodes."""
    kwargs = {"task": env.metaworld_task}
    rule = state_rule(METAWORLD.env_id, kwargs)
    policy = make_policy(spec, METAWORLD.env_id, env.action_space, kwargs)
    seen = 0
    for seed in range(2):
        states, _, observations, successes = _rollout(env, policy, seed, 100)
        reward, success = rule(*observation_from_state(states[1:]))
        np.testing.assert_array_equal(success, successes)
        assert np.all((reward >= 0) & (reward <= 1))
        seen += successes.sum()
    if spec == "expert":
        assert seen > 0   # the expert succeeds, so both outcomes were compared


def test_rule_depends_on_the_task_and_tabletop_keeps_its_own():
    from envs.tabletop_push import state_outcome

    assert state_rule(TABLETOP_PUSH.env_id) is state_outcome
    agent = np.zeros((1, 4))
    env_state = np.zeros((1, 17))
    env_state[0, 14:17] = [0.04, 0, 0]          # 4 cm from the goal: push succeeds, drawer does not
    assert state_rule(METAWORLD.env_id)(agent, env_state)[1][0]          # default task: push-v3
    assert not state_rule(METAWORLD.env_id, {"task": "drawer-open-v3"})(agent, env_state)[1][0]
    with pytest.raises(ValueError, match="no state rule"):
        task_rule("reach-v3")


def test_play_covers_the_action_box_and_varies_by_seed(env):
    play = MetaWorldPlay(env.action_space)
    runs = [_rollout(env, play, seed, 150) for seed in range(4)]
    actions = np.concatenate([r[1] for r in runs])
    assert np.all(actions.std(axis=0) > 0.2), actions.std(axis=0)
    assert np.all(actions.min(axis=0) < -0.8) and np.all(actions.max(axis=0) > 0.8), (actions.min(0), actions.max(0))
    assert not np.allclose(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(_rollout(env, play, 0, 20)[1], runs[0][1][:20])   # seeded
    moved = max(np.linalg.norm(r[0][-1, 14:17] - r[0][0, 14:17]) for r in runs)
    assert moved > 0.01    # it moves the object
