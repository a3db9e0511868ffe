"""worldsim/WorldModel-v0 and its native vector env, on untrained-but-valid world models.

Nothing here depends on training: spaces and keys equal the simulator's, the first observation
is the simulator's, stepping is seeded, the native vector env equals N single envs, SAME_STEP
autoreset reports final observations with masks, and bad input gets clear errors.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import RecordEpisodeStatistics

import envs  # noqa: F401
from worldsim.optional import is_available

WM_ID = "worldsim/WorldModel-v0"
SIMS = [("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 32}),
        ("worldsim/TabletopPush-v0", {"cameras": ["top", "front"], "image_size": 32})]
if is_available("metaworld"):
    SIMS.append(("worldsim/MetaWorld-v0", {"cameras": ["corner2"], "image_size": 32, "task": "push-v3"}))


@pytest.fixture(scope="module", autouse=True)
def world():
    """One thread, the id registered (envs/registry.py may not list it yet), a megatron world for DiTs."""
    from worldsim.diffusion.testing import megatron_world

    if WM_ID not in gym.registry:
        gym.register(WM_ID, entry_point="envs.world_model.env:WorldModelEnv",
                     vector_entry_point="envs.world_model.vector_env:WorldModelVectorEnv", max_episode_steps=100)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with megatron_world(seed=0):
        yield
    torch.set_num_threads(before)


def untrained(path, env_id, kwargs, with_dit=False):
    from envs.sim_spec import sim_spec_of
    from posttrain.action.deterministic import ConvPredictorConfig
    from posttrain.action.untrained import untrained_world_model
    from worldsim.diffusion.dit import DiTConfig
    from worldsim.tokenizer.model import TokenizerConfig

    dit = DiTConfig(hidden_size=32, num_layers=1, num_heads=2, adaln_lora_dim=8, spec="cpu") if with_dit else None
    return str(untrained_world_model(str(path), sim_spec_of(env_id, kwargs), tokenizer=TokenizerConfig(channels=8, attention=False),
                                     dit=dit, conv=ConvPredictorConfig(channels=8, blocks=1), perturb=0.05))


@pytest.fixture(scope="module")
def push_model(tmp_path_factory):
    return untrained(tmp_path_factory.mktemp("wm") / "push", *SIMS[0], with_dit=True)


def sim_env(env_id, kwargs):
    return gym.make(env_id, **{**kwargs, "cameras": tuple(kwargs["cameras"])})


@pytest.mark.parametrize("env_id,kwargs", SIMS, ids=[f"{e.split('/')[1]}-{'+'.join(k['cameras'])}" for e, k in SIMS])
def test_spaces_first_observation_and_check_env_match_the_simulator(env_id, kwargs, tmp_path):
    from envs.world_model.session import simulator_of

    path = untrained(tmp_path / "wm", env_id, kwargs)
    env = gym.make(WM_ID, checkpoint=path)
    sim_id, sim_kwargs = simulator_of(path)
    assert sim_id == env_id
    sim = gym.make(sim_id, **sim_kwargs)
    assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
    obs, info = env.reset(seed=5)
    sim_obs, _ = sim.reset(seed=5)
    for cam in kwargs["cameras"]:
        assert np.array_equal(obs["pixels"][cam], sim_obs["pixels"][cam])
    np.testing.assert_array_equal(obs["environment_state"], sim_obs["environment_state"])
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert sim.observation_space.contains(obs) and "is_success" in info and isinstance(reward, float)
    check_env(env.unwrapped, skip_render_check=False)
    env.close()
    sim.close()


@pytest.mark.parametrize("predictor", ["deterministic", "diffusion"])
def test_seeded_rollouts_repeat_exactly(push_model, predictor):
    def rollout():
        env = gym.make(WM_ID, checkpoint=push_model, predictor=predictor)
        obs, _ = env.reset(seed=11)
        env.action_space.seed(3)
        out = []
        for _ in range(4):
            obs, reward, *_ = env.step(env.action_space.sample())
            out.append((obs["pixels"]["top"].copy(), obs["agent_pos"].copy(), reward))
        return out

    for (f1, a1, r1), (f2, a2, r2) in zip(rollout(), rollout()):
        assert np.array_equal(f1, f2) and np.array_equal(a1, a2) and r1 == r2


@pytest.mark.parametrize("predictor", ["deterministic", "diffusion"])
def test_native_vector_env_equals_single_envs_through_autoresets(push_model, predictor):
    n, steps, horizon = 3, 7, 3
    native = gym.make_vec(WM_ID, num_envs=n, vectorization_mode="vector_entry_point", checkpoint=push_model,
                          predictor=predictor, max_episode_steps=horizon)
    singles = gym.make_vec(WM_ID, num_envs=n, vectorization_mode="sync", checkpoint=push_model,
                           predictor=predictor, max_episode_steps=horizon,
                           vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    assert native.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    assert native.single_observation_space == singles.single_observation_space
    a, b = native.reset(seed=20), singles.reset(seed=20)
    assert_same_obs(a[0], b[0], exact=True)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        a, b = native.step(actions), singles.step(actions)
        assert_same_obs(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], atol=1e-5)
        assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
        assert sorted(a[4]) == sorted(b[4])
        if "final_obs" in b[4]:
            assert np.array_equal(a[4]["_final_obs"], b[4]["_final_obs"])
            for fa, fb in zip(a[4]["final_obs"][a[4]["_final_obs"]], b[4]["final_obs"][b[4]["_final_obs"]]):
                assert_same_obs(fa, fb)


def assert_same_obs(a, b, exact=False):
    """Batched math may round differently from single envs: frames within 1 level, states 1e-5."""
    for cam in a["pixels"]:
        diff = np.abs(a["pixels"][cam].astype(int) - b["pixels"][cam].astype(int)).max()
        assert diff == 0 if exact else diff <= 1, cam
    for key in ("agent_pos", "environment_state"):
        np.testing.assert_allclose(a[key], b[key], atol=0 if exact else 1e-5)


def test_same_step_autoreset_restarts_from_the_simulator(push_model):
    vec = gym.make_vec(WM_ID, num_envs=2, vectorization_mode="vector_entry_point", checkpoint=push_model,
                       max_episode_steps=2)
    vec.unwrapped.model.judges.cfg.threshold = 1.0  # untrained judges: never succeed, so only truncation ends
    vec.reset(seed=0)
    sims = [sim_env(*SIMS[0]) for _ in range(2)]
    for i, sim in enumerate(sims):
        sim.reset(seed=i)
    zeros = np.zeros((2, 2), np.float32)
    _, _, _, truncated, info = vec.step(zeros)
    assert not truncated.any() and "final_obs" not in info
    obs, _, terminated, truncated, info = vec.step(zeros)
    assert truncated.all() and not terminated.any() and info["_final_obs"].all() and info["_final_info"].all()
    assert set(info["final_info"]) >= {"is_success", "_is_success"} and info["_is_success"].all()
    for i, sim in enumerate(sims):
        second, _ = sim.reset()  # the simulator's own next episode for that env
        assert np.array_equal(obs["pixels"]["top"][i], second["pixels"]["top"])
        assert not np.array_equal(info["final_obs"][i]["pixels"]["top"], obs["pixels"]["top"][i])


def test_record_episode_statistics_and_render(push_model):
    env = RecordEpisodeStatistics(gym.make(WM_ID, checkpoint=push_model, max_episode_steps=3))
    obs, _ = env.reset(seed=1)
    assert np.array_equal(env.render(), obs["pixels"]["top"])
    done, info = False, {}
    while not done:
        obs, _, terminated, truncated, info = env.step(np.zeros(2, np.float32))
        done = terminated or truncated
    assert info["episode"]["l"] <= 3 and np.array_equal(env.render(), obs["pixels"]["top"])


def test_bad_input_gets_clear_errors(push_model, tmp_path):
    env = gym.make(WM_ID, checkpoint=push_model).unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    for bad, match in [([np.nan, 0.0], "NaN"), ([2.0, 0.0], "out of bounds"), ([0.0, 0.0, 0.0], "shape"),
                       ("left", "not numeric")]:
        with pytest.raises(ValueError, match=match):
            env.step(bad)
    vec = gym.make_vec(WM_ID, num_envs=2, vectorization_mode="vector_entry_point", checkpoint=push_model)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="env 1: action .* out of bounds"):
        vec.step(np.array([[0, 0], [0, 3]], np.float32))
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        vec.step(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="trained for worldsim/TabletopPush-v0"):
        gym.make(WM_ID, checkpoint=push_model, env_id="worldsim/MetaWorld-v0")
    with pytest.raises(ValueError, match="at 32x32; image_size=64"):
        gym.make(WM_ID, checkpoint=push_model, image_size=64)
    with pytest.raises(ValueError, match="no predictor 'magic'"):
        gym.make(WM_ID, checkpoint=push_model, predictor="magic")
    with pytest.raises(ValueError, match="not a world-model folder"):
        gym.make(WM_ID, checkpoint=str(tmp_path))
    with pytest.raises(ValueError, match="reset_source="):
        gym.make(WM_ID, checkpoint=push_model, reset_source="camera")


@pytest.mark.parametrize("judge", ["state", "learned"])
def test_step_is_judged_by_the_chosen_judge(push_model, judge):
    """judge="state": reward and success are TabletopPush's own rule on the observation's
    (predicted) state; judge="learned": the learned judges' sigmoid reward, in (0, 1)."""
    from envs.tabletop_push import state_outcome

    env = gym.make(WM_ID, checkpoint=push_model, judge=judge).unwrapped
    assert env.model.judge == judge
    env.reset(seed=2)
    obs, reward, _, _, info = env.step(np.array([0.5, -0.5], np.float32))
    rule_reward, rule_success = state_outcome(obs["agent_pos"], obs["environment_state"])
    if judge == "state":
        assert reward == pytest.approx(float(rule_reward[0]), abs=1e-6) and info["is_success"] == bool(rule_success[0])
    else:
        assert 0.0 < reward < 1.0


def test_unknown_judges_are_refused(push_model):
    from envs.rules import resolve_judge

    assert resolve_judge(None, "worldsim/TabletopPush-v0") == "state"
    assert resolve_judge(None, "worldsim/DrivingMultiView-v0") == "learned"
    with pytest.raises(ValueError, match="judge='magic'; allowed: state, learned"):
        gym.make(WM_ID, checkpoint=push_model, judge="magic")
    with pytest.raises(ValueError, match="needs a success rule for worldsim/DrivingMultiView-v0"):
        resolve_judge("state", "worldsim/DrivingMultiView-v0")


def test_the_model_takes_its_rule_from_the_caller(push_model):
    """WorldModel looks no rule up: without one it judges "learned", and "state" needs one."""
    from envs.rules import state_rule
    from posttrain.action.world_model import WorldModel

    assert WorldModel.load(push_model).judge == "learned"
    rule = state_rule("worldsim/TabletopPush-v0")
    wm = WorldModel.load(push_model, rule=rule)
    assert wm.judge == "state" and wm.rule is rule
    with pytest.raises(ValueError, match=r"rule=envs.rules.state_rule\('worldsim/TabletopPush-v0'\)"):
        WorldModel.load(push_model, judge="state")
    assert gym.make(WM_ID, checkpoint=push_model).unwrapped.model.judge == "state"   # the env passes the rule


def test_perceived_simulator_shows_the_simulators_frames_with_the_models_state(push_model):
    """PerceivedSim-v0: pixels are the simulator's own under the same actions; the low-dim keys are
    the state head's reading of them (not the true state), scored by the state rule."""
    from envs.tabletop_push import state_outcome

    register_perceived()
    env = gym.make("worldsim/PerceivedSim-v0", checkpoint=push_model)
    sim = sim_env(*SIMS[0])
    obs, _ = env.reset(seed=4)
    sim_obs, _ = sim.reset(seed=4)
    assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
    np.testing.assert_array_equal(obs["agent_pos"], sim_obs["agent_pos"])   # the start is the simulator's
    action = np.array([0.7, 0.2], np.float32)
    obs, reward, _, _, info = env.step(action)
    sim_obs, *_ = sim.step(action)
    np.testing.assert_array_equal(obs["pixels"]["top"], sim_obs["pixels"]["top"])
    assert not np.allclose(obs["environment_state"], sim_obs["environment_state"], atol=1e-3)
    rule_reward, rule_success = state_outcome(obs["agent_pos"], obs["environment_state"])
    assert reward == pytest.approx(float(rule_reward[0])) and info["is_success"] == bool(rule_success[0])
    check_env(gym.make("worldsim/PerceivedSim-v0", checkpoint=push_model).unwrapped, skip_render_check=True)


def register_perceived():
    if "worldsim/PerceivedSim-v0" not in gym.registry:
        gym.register("worldsim/PerceivedSim-v0", entry_point="envs.world_model.perceived:PerceivedSimEnv",
                     max_episode_steps=100)
