"""The Sawyer world-model recipe end to end on a tiny Meta-World dataset: dynamics, painter and
reader train (a few steps), export makes a folder, and ``worldsim/WorldModel-v0`` and
``worldsim/PerceivedSim-v0`` step it as the push-v3 simulator. The start state built from the
first observation is checked against the simulator's own physical state, success against the
task's rule, ``render=False`` against rendering, and bad starts against their errors."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401

SIZE = 32


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from posttrain.sawyer import dynamics_train, export, painter_train, reader_fit
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import generate

    root = tmp_path_factory.mktemp("sawyer")
    data = generate(GenerateConfig(env="worldsim/MetaWorld-v0", task="push-v3", policy="expert,play,random", episodes=3,
                                   out=str(root / "data"), seed=500, workers=1, cameras=["corner4"], image_size=SIZE,
                                   max_steps=6, depth=False, segmentation=False, camera_params=True, sim_state=True))
    for seed in (0, 1):
        dynamics_train.main([f"data={data}", f"out={root / f'dyn{seed}'}", "steps=2", "batch_size=8", "net.width=16",
                             "holdout_episodes=1", "ckpt_every=1", f"seed={seed}"])
    small = [f"net.height={SIZE}", f"net.width={SIZE}", "holdout_episodes=1", "batch_size=4", "steps=2"]
    painter_train.main([f"data={data}", f"out={root / 'painter'}", "net.channels=[8,16]", "net.groups=4",
                        "net.cond_dim=16", *small])
    reader_fit.main([f"data={data}", f"out={root / 'reader'}", "net.channels=8", *small])
    return str(export.export(str(data), str(root / "dyn0"), str(root / "painter"), str(root / "wm"),
                             reader=str(root / "reader")))


def test_the_world_model_starts_from_the_simulators_physical_state(folder):
    from envs.metaworld_state import STATE_DIM
    from envs.world_model.session import load_for_env
    from posttrain.sawyer.observation import state_of

    wm = load_for_env(folder)
    sim = gym.make("worldsim/MetaWorld-v0", task="push-v3", cameras=("corner4",), image_size=SIZE).unwrapped
    for seed in (7, 8):
        obs, _ = sim.reset(seed=seed)
        start = state_of(wm.reset_state, obs["agent_pos"][None], obs["environment_state"][None])[0].numpy()
        truth = sim.sim_state()
        assert start.shape == (STATE_DIM,)
        # positions and joint angles as the simulator holds them (the reset leaves the arm in one pose)
        assert np.abs(start - truth).max() < 2e-3, np.abs(start - truth).argmax()
    sim.close()


def test_world_model_env_steps_the_push_task_with_its_rule(folder):
    from envs.metaworld_state import task_rule

    env = gym.make("worldsim/WorldModel-v0", checkpoint=folder)
    sim = gym.make("worldsim/MetaWorld-v0", task="push-v3", cameras=("corner4",), image_size=SIZE)
    obs, _ = env.reset(seed=3)
    sim_obs, _ = sim.reset(seed=3)
    assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
    np.testing.assert_array_equal(obs["pixels"]["corner4"], sim_obs["pixels"]["corner4"])   # the first frame is the simulator's
    rule = task_rule("push-v3")
    for action in ([1, 0, 0, -1], [0, 1, 0, 1], [0, 0, -1, 0]):
        obs, reward, terminated, _, info = env.step(np.float32(action))
        assert obs["pixels"]["corner4"].shape == (SIZE, SIZE, 3) and obs["pixels"]["corner4"].dtype == np.uint8
        r, s = rule(obs["agent_pos"][None], obs["environment_state"][None])
        assert reward == pytest.approx(float(r[0]), abs=1e-6) and info["is_success"] == bool(s[0])
        np.testing.assert_array_equal(obs["environment_state"][14:17], sim_obs["environment_state"][14:17])  # goal
    env.close()
    sim.close()


def test_render_off_steps_the_same_state_without_painting(folder):
    env = gym.make("worldsim/WorldModel-v0", checkpoint=folder)
    runs = []
    for render in (True, False):
        env.reset(seed=4, options={"render": render})
        obs = [env.step(np.float32([0.5, -0.5, 0.2, 1]))[0] for _ in range(3)]
        runs.append(obs)
    for drawn, blank in zip(*runs):
        np.testing.assert_array_equal(drawn["agent_pos"], blank["agent_pos"])
        assert not blank["pixels"]["corner4"].any() and drawn["pixels"]["corner4"].any()
    env.close()


def test_perceived_simulator_reads_state_from_the_simulators_frames(folder):
    env = gym.make("worldsim/PerceivedSim-v0", checkpoint=folder)
    obs, _ = env.reset(seed=5)
    obs, reward, _, _, info = env.step(np.float32([0, 0, 0, 0]))
    assert obs["agent_pos"].shape == (4,) and obs["environment_state"].shape == (17,)
    assert np.isfinite(obs["agent_pos"]).all() and isinstance(info["is_success"], bool)
    env.close()


def test_the_folder_names_the_policies_it_was_trained_on(folder):
    from evaluation.unseen import train_policies

    assert train_policies(folder) == ["expert", "play", "random"]   # the generated mix


def test_a_start_from_more_than_the_first_frame_is_refused(folder):
    from envs.world_model.session import load_for_env

    wm = load_for_env(folder)
    frames = {"corner4": np.zeros((1, 2, SIZE, SIZE, 3), np.uint8)}
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32, 3\)"):
        wm.start(frames, None, {"agent_pos": np.zeros((1, 4)), "environment_state": np.zeros((1, 17))})
    with pytest.raises(ValueError, match="sample_steps"):
        gym.make("worldsim/WorldModel-v0", checkpoint=folder, sample_steps=2)


def test_episodes_last_as_long_as_the_simulators(folder):
    """Meta-World episodes last 150 steps (TabletopPush's 100): the single envs end there unless
    gym.make is given another length."""
    for env_id in ("worldsim/WorldModel-v0", "worldsim/PerceivedSim-v0"):
        env = gym.make(env_id, checkpoint=folder)
        env.reset(seed=1)
        steps, truncated = 0, False
        while not truncated:
            _, _, terminated, truncated, _ = env.step(np.float32([0, 0, 0.2, 0]))   # up: never a success
            steps += 1
            assert not terminated
        assert steps == gym.spec("worldsim/MetaWorld-v0").max_episode_steps == 150, env_id
        env.close()
    short = gym.make("worldsim/WorldModel-v0", checkpoint=folder, max_episode_steps=5)
    short.reset(seed=1)
    assert [short.step(np.float32([0, 0, 0.2, 0]))[3] for _ in range(5)] == [False] * 4 + [True]


def test_a_folder_takes_other_dynamics_and_keeps_its_painter_and_reader(folder, tmp_path):
    """``export --from``: the copy steps with the other run's dynamics, paints and reads as the folder."""
    import torch

    from posttrain.common.bundle import read_bundle
    from posttrain.sawyer.dynamics_train import load_dynamics
    from posttrain.sawyer.export import main as export_main
    from worldsim.io import tensor_state

    other = folder.replace("/wm", "/dyn1")
    export_main(["--from", folder, "--dynamics", other, "--out", str(tmp_path / "wm")])
    config, tensors, _ = read_bundle(str(tmp_path / "wm"))
    _, before, _ = read_bundle(folder)
    for k, v in tensor_state(load_dynamics(other)[0]).items():
        assert torch.equal(tensors[f"dynamics.{k}"], v)
    kept = [k for k in before if not k.startswith("dynamics.")]
    assert kept and all(torch.equal(tensors[k], before[k]) for k in kept)
    assert config["provenance"]["dynamics"] == other and config["provenance"]["dynamics_from"] == folder
    metrics = read_bundle(str(tmp_path / "wm"))[2]["metrics"]
    assert metrics == read_bundle(folder)[2]["metrics"]   # the painter's and reader's held-out metrics, as they were
    with pytest.raises(SystemExit):
        export_main(["--from", folder, "--dynamics", other, "--out", str(tmp_path / "x"), "--painter", "p"])


def test_a_folder_takes_another_reader_and_keeps_its_dynamics_and_painter(folder, tmp_path):
    """``export --from F --reader R``: the copy reads frames with R (here a full-resolution one), and
    its dynamics and painter are F's; --from with nothing to replace is refused."""
    import torch

    from posttrain.common.bundle import read_bundle
    from posttrain.sawyer import reader_fit
    from posttrain.sawyer.export import main as export_main
    from worldsim.io import read_json, tensor_state

    run = str(tmp_path / "reader_full")
    reader_fit.main([f"data={folder.replace('/wm', '/data')}", f"out={run}", "net.channels=8", "net.full_res=true",
                     f"net.height={SIZE}", f"net.width={SIZE}", "holdout_episodes=1", "batch_size=4", "steps=2"])
    export_main(["--from", folder, "--reader", run, "--out", str(tmp_path / "wm")])
    config, tensors, meta = read_bundle(str(tmp_path / "wm"))
    _, before, _ = read_bundle(folder)
    for k, v in tensor_state(reader_fit.load_reader_run(run)[0]).items():
        assert torch.equal(tensors[f"reader.{k}"], v)
    kept = [k for k in before if not k.startswith("reader.")]
    assert kept and all(torch.equal(tensors[k], before[k]) for k in kept)
    assert config["reader"]["full_res"] and config["provenance"]["reader"] == run
    assert meta["metrics"]["reader"] == read_json(f"{run}/metrics.json")          # the new reader's held-out errors
    assert meta["metrics"]["painter"] == read_bundle(folder)[2]["metrics"]["painter"]   # the kept painter's
    env = gym.make("worldsim/PerceivedSim-v0", checkpoint=str(tmp_path / "wm"))
    env.reset(seed=5)
    obs = env.step(np.float32([0, 0, 0, 0]))[0]
    assert np.isfinite(obs["agent_pos"]).all()
    env.close()
    with pytest.raises(SystemExit):
        export_main(["--from", folder, "--out", str(tmp_path / "nothing")])


def test_an_ensemble_folder_steps_each_episode_with_the_member_its_seed_draws(folder, tmp_path):
    """``export --dynamics A,B``: both runs' weights go in; an episode follows one member, the one its
    generator draws, and a reset with the same seed draws the same member."""
    import torch

    from posttrain.sawyer.dynamics_train import load_dynamics
    from posttrain.sawyer.export import main as export_main
    from posttrain.sawyer.world_model import SawyerWorldModel
    from envs.metaworld_state import task_rule

    runs = [folder.replace("/wm", "/dyn0"), folder.replace("/wm", "/dyn1")]
    export_main(["--from", folder, "--dynamics", ",".join(runs), "--out", str(tmp_path / "ens")])
    wm = SawyerWorldModel.load(str(tmp_path / "ens"), rule=task_rule("push-v3"))
    assert len(wm.dynamics) == 2
    sim = gym.make("worldsim/MetaWorld-v0", task="push-v3", cameras=("corner4",), image_size=SIZE).unwrapped
    obs, _ = sim.reset(seed=4)
    n = 16
    context = {"agent_pos": np.repeat(obs["agent_pos"][None], n, 0),
               "environment_state": np.repeat(obs["environment_state"][None], n, 0)}
    frames = {"corner4": np.zeros((n, 1, SIZE, SIZE, 3), np.uint8)}
    state = wm.start(frames, None, context, seeds=list(range(n)))
    assert set(state.member.tolist()) == {0, 1}          # seeds 0-15 draw both members
    assert torch.equal(wm.start(frames, None, context, seeds=list(range(n))).member, state.member)
    action = np.tile(np.float32([0.3, -0.2, 0.1, 0.5]), (n, 1))
    after, _, _ = wm.step(state, action, render=False)
    acts = torch.cat([state.sim_actions, torch.as_tensor(action)[:, None]], dim=1)
    for i, run in enumerate(runs):
        alone = load_dynamics(run)[0](state.sim_states, acts)
        rows = state.member == i
        assert torch.allclose(after.sim_states[rows, -1], alone[rows], atol=1e-6)
    sim.close()
    with pytest.raises(ValueError, match="names no run"):
        export_main(["--from", folder, "--dynamics", " , ", "--out", str(tmp_path / "none")])
