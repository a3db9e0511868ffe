"""``worldsim generate``: the dataset it writes, resuming after a kill, and bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from worldsim.cli import main
from worldsim.data.lerobot_reader import LeRobotDatasetReader

ARGS = ["--env", "worldsim/TabletopPush-v0", "--policy", "expert,random", "image_size=32", "cameras=[top]"]


def generate(out, episodes=3, *extra):
    return main(["generate", *ARGS, "--episodes", str(episodes), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "ds"
    assert generate(out, 3, "workers=2") == 0
    return out


def test_dataset_holds_every_episode_with_its_features(dataset):
    r = LeRobotDatasetReader(dataset)
    assert r.num_episodes == 3
    info = json.loads((dataset / "meta" / "info.json").read_text())
    assert info["worldsim"]["episode_policy"] == ["expert", "random", "expert"]
    for i in range(3):
        ep = r.read_episode(i)
        T = len(ep["action"])
        assert T == r.episode_lengths[i] and 1 <= T <= 100
        assert ep["observation.images.top"].shape == (T, 32, 32, 3)
        assert ep["observation.depth.top"].shape == (T, 32, 32, 1)
        assert ep["observation.camera.top.intrinsics"].shape == (T, 3, 3)
        assert np.asarray(ep["next.done"]).reshape(T)[-1] and not np.asarray(ep["next.done"]).reshape(T)[:-1].any()
        assert np.all(np.abs(ep["action"]) <= 1.0)


def test_dataset_records_the_simulator_the_recipes_read(dataset):
    """``worldsim.sim`` in info.json is what making the simulator says (recipes read it, not the env)."""
    from envs.sim_spec import sim_spec_of
    from posttrain.common.bundle import sim_spec

    made = sim_spec_of("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 32})
    assert sim_spec(str(dataset), ["top"]) == made
    with pytest.raises(ValueError, match="no camera 'front'"):
        sim_spec(str(dataset), ["front"])


def test_rerunning_an_older_complete_run_adds_the_simulator_record(tmp_path, dataset):
    from posttrain.common.bundle import sim_spec

    old = tmp_path / "old"
    assert generate(old, 1) == 0
    info_path = old / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    del info["worldsim"]["sim"]
    info_path.write_text(json.dumps(info, indent=4))
    with pytest.raises(ValueError, match="older `worldsim generate`"):
        sim_spec(str(old), ["top"])
    assert generate(old, 1) == 0
    assert sim_spec(str(old), ["top"]) == sim_spec(str(dataset), ["top"])


def test_expert_episodes_succeed_and_end_on_success(dataset):
    r = LeRobotDatasetReader(dataset)
    for i in (0, 2):  # expert episodes
        success = np.asarray(r.read_episode(i)["next.success"]).reshape(-1)
        assert success[-1] and not success[:-1].any()


def test_state_follows_the_simulator(dataset):
    # each axis of the pusher moves at most max speed (0.5 m/s) * dt (0.1 s) per step
    ep = LeRobotDatasetReader(dataset).read_episode(0)
    steps = np.abs(np.diff(ep["observation.state"], axis=0))
    assert steps.max() <= 0.5 * 0.1 + 1e-3 and steps.max() > 0.01


def test_rerun_of_a_complete_run_changes_nothing(dataset, capsys):
    before = sorted((p, p.stat().st_mtime_ns) for p in dataset.rglob("*") if p.is_file())
    assert generate(dataset, 3, "workers=2") == 0
    after = sorted((p, p.stat().st_mtime_ns) for p in dataset.rglob("*") if p.is_file())
    assert before == after


def test_a_killed_run_resumes_and_matches_an_uninterrupted_one(tmp_path, dataset):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "worldsim.cli", "generate", *ARGS, "--episodes", "3", "--out", str(out), "workers=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    staged = out / ".worldsim" / "episodes"
    deadline = time.time() + 120
    while time.time() < deadline and not list(staged.glob("episode_*.npz")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = sorted(p.name for p in staged.glob("episode_*.npz"))
    assert kept and len(kept) < 3, "the kill should land after the first episode and before the end"
    assert not (out / "meta").exists()
    assert generate(out, 3, "workers=1") == 0
    resumed, reference = LeRobotDatasetReader(out), LeRobotDatasetReader(dataset)
    for i in range(3):
        a, b = resumed.read_episode(i), reference.read_episode(i)
        for key in ("action", "observation.state", "observation.environment_state", "observation.depth.top"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_output_folder_with_other_files_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert generate(tmp_path, 1) == 2
    assert "not a worldsim generate run" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_different_run_in_the_same_folder_is_refused(dataset, capsys):
    assert generate(dataset, 5) == 2
    err = capsys.readouterr().err
    assert "different generate run" in err and "episodes: 3 there, 5 now" in err


@pytest.mark.parametrize("argv, message", [
    (["--env", "worldsim/Nope-v0"], "unknown env id 'worldsim/Nope-v0'"),
    (["--policy", "expret"], "unknown policy 'expret'"),
    (["--episodes", "0"], "episodes=0"),
    (["colour=red"], "unknown config key 'colour'.*valid keys: env, policy"),
    (["cameras=[ceiling]"], "unknown camera 'ceiling'"),
])
def test_bad_input_gets_a_one_line_error(tmp_path, capsys, argv, message):
    assert main(["generate", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    import re
    assert re.search(message, err), err


def test_sim_state_records_the_whole_physical_state(tmp_path):
    """Positions in observation.sim_state are the observation's; velocities are the positions'
    change over the step; the free pusher moves at the commanded velocity (0.5 m/s at 1) less what its
    joint damping takes (velocity servo kv 60 against damping 5 in the MJCF: 60/65 of it)."""
    out = tmp_path / "sim"
    assert main(["generate", "--env", "worldsim/TabletopPush-v0", "--policy", "expert", "--episodes", "1",
                 "--out", str(out), "image_size=32", "cameras=[top]", "sim_state=true", "depth=false",
                 "segmentation=false", "camera_params=false"]) == 0
    r = LeRobotDatasetReader(out)
    assert r.features["observation.sim_state"]["names"][:5] == ["pusher_x", "pusher_y", "block_x", "block_y",
                                                                 "block_yaw"]
    ep = r.read_episode(0)
    sim = ep["observation.sim_state"]
    assert np.allclose(sim[:, :2], ep["observation.state"], atol=1e-6)
    assert np.allclose(sim[:, 2:4], ep["observation.environment_state"][:, :2], atol=1e-6)
    assert np.all(sim[0, 5:] == 0)                      # a reset starts at rest
    finite_diff = (sim[2:, :2] - sim[1:-1, :2]) / 0.1   # pusher moved over the step before each state
    assert np.abs(sim[2:, 5:7] - finite_diff).mean() < 0.05
    assert np.median(np.abs(sim[1:, 5:7] - 60 / 65 * 0.5 * ep["action"][:-1])) < 0.01


def test_sim_state_for_an_env_without_one_is_refused(tmp_path, capsys):
    assert main(["generate", "--env", "worldsim/DrivingMultiView-v0", "--episodes", "1", "--out",
                 str(tmp_path / "x"), "sim_state=true"]) == 2
    assert "has no sim_state()" in capsys.readouterr().err


def test_a_stale_staged_temporary_is_removed_when_the_run_resumes(tmp_path):
    from worldsim.generation.staging import RunFolder

    run = RunFolder(tmp_path / "run")
    manifest = {"config": {"episodes": 9}}
    run.open(manifest)
    stale = run.episodes_dir / "episode_000007.tmp.npz"
    stale.write_bytes(b"cut short")
    run.save_episode(1, {"action": np.zeros((2, 2), np.float32)})
    run.open(manifest)                  # the rerun
    assert not stale.exists() and run.finished() == {1}


def test_a_resumed_run_with_a_stale_temporary_completes(tmp_path):
    """A kill inside save_episode (``episode_000007.tmp.npz`` left behind) does not stop the rerun."""
    out = tmp_path / "ds"
    from worldsim.config import load_config, to_dict
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import episode_specs
    from worldsim.generation.staging import RunFolder

    argv = [*ARGS, "--episodes", "1", "--out", str(out), "workers=1", "depth=false", "segmentation=false"]
    cfg = load_config(GenerateConfig, overrides=["image_size=32", "cameras=[top]", "workers=1", "depth=false",
                                                 "segmentation=false"], env=ARGS[1], policy=ARGS[3], episodes=1,
                      out=str(out))
    run = RunFolder(out)
    run.open({"config": to_dict(cfg), "episode_policy": episode_specs(cfg), "episode_seed": [0]})
    (run.episodes_dir / "episode_000007.tmp.npz").write_bytes(b"cut short")
    assert main(["generate", *argv]) == 0
    assert LeRobotDatasetReader(out).num_episodes == 1 and not run.episodes_dir.exists()


def test_workers_of_a_killed_run_end_without_a_traceback(tmp_path):
    """The parent killed alone: its workers die with it, silently (no BrokenPipeError sending a result)."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "worldsim.cli", "generate", *ARGS, "--episodes", "8", "--out", str(out), "workers=2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    staged = out / ".worldsim" / "episodes"
    deadline = time.time() + 120
    try:
        while time.time() < deadline and not list(staged.glob("episode_*.npz")):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)      # the parent only
        _, err = proc.communicate(timeout=60)  # stderr closes when every worker has gone
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    err = err.decode(errors="replace")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_an_episode_cut_short_while_being_staged_is_not_counted_as_finished(tmp_path):
    """A kill inside save_episode leaves a partial temporary file; resuming reruns that episode."""
    from worldsim.generation.staging import RunFolder

    run = RunFolder(tmp_path / "run")
    run.episodes_dir.mkdir(parents=True, exist_ok=True)
    (run.episodes_dir / "episode_000000.tmp.npz").write_bytes(b"cut short")
    run.save_episode(1, {"action": np.zeros((2, 2), np.float32)})
    assert run.finished() == {1}
