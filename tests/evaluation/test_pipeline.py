"""``worldsim eval`` end to end: bad input, refusing another evaluation's folder, resuming after a kill,
and the lerobot-eval ``eval_info.json`` schema."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evaluation.config import EvalConfig
from evaluation.pipeline import run_evaluation
from worldsim.config import load_config

from eval_helpers import SMALL_OVERRIDES, forbid_rollouts

ROOT = Path(__file__).resolve().parents[2]


def config(out, *overrides) -> EvalConfig:
    return load_config(EvalConfig, overrides=[*SMALL_OVERRIDES, "video_episodes=0", f"out={out}", *overrides])


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []


@pytest.mark.parametrize("overrides, message", [
    (["policies=[expret]"], "unknown policy 'expret'"),
    (["policies=[expert+noise]"], "needs a number"),
    (["policies=[bc:/no/such/run]"], "does not exist"),
    (["env=worldsim/Nope-v0"], "unknown env 'worldsim/Nope-v0'"),
    (["episodes=0"], "episodes=0"),
    (["num_envs=0"], "num_envs=0"),
    (["zoo=huge"], "unknown zoo 'huge'"),
    (["success=sometimes"], "success='sometimes'"),
    (["world_model=/", "world_model_env=worldsim/NotBuilt-v0"], "'worldsim/NotBuilt-v0' is not registered"),
    (["world_model=/no/such/checkpoint"], "does not exist"),
    (["cameras=[nadir]"], "unknown camera 'nadir'"),
])
def test_bad_input_is_a_clear_error(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_evaluation(config(tmp_path / "out", *overrides))
    assert not (tmp_path / "out").exists()      # nothing written before the input was checked


def test_a_folder_with_another_evaluation_is_refused(tmp_path):
    out = tmp_path / "ev"
    run_evaluation(config(out, "policies=[random]", "episodes=1"))
    with pytest.raises(ValueError, match=r"image_size: 16 in the folder, 24 now; seed: 0 in the folder, 3 now"):
        run_evaluation(config(out, "policies=[random]", "episodes=1", "seed=3", "image_size=24"))
    run_evaluation(config(out, "policies=[random,expert]", "episodes=2"))   # more policies/episodes: resumes
    assert len(lines(out / "records" / "simulator.jsonl")) == 4
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no evaluation"):
        run_evaluation(config(tmp_path / "other", "policies=[random]", "episodes=1"))


ARGS = ["policies=[random,expert+noise:0.5]", "episodes=10", "num_envs=1"]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """An evaluation killed after a few episodes (plus a half-written line), then rerun to the end."""
    out = tmp_path_factory.mktemp("resume") / "ev"
    cmd = [sys.executable, "-m", "evaluation.cli_entry", "--out", str(out), *SMALL_OVERRIDES, "video_episodes=0", *ARGS]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    jsonl = out / "records" / "simulator.jsonl"
    deadline = time.time() + 60
    while len(lines(jsonl)) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    before = lines(jsonl)
    with open(jsonl, "ab") as f:
        f.write(b'{"column": "simulator", "policy": "ran')       # a line cut short by the kill
    killed_at = time.time()
    index = run_evaluation(config(out, *ARGS))
    return out, index, before, lines(jsonl), killed_at


def test_resume_keeps_finished_episodes_and_runs_only_the_rest(resumed):
    out, index, before, after, killed_at = resumed
    assert 3 <= len(before) < 20, "the kill should land mid-way"
    keys = [(r["policy"], r["episode"]) for r in after]
    assert len(keys) == len(set(keys)) == 20                      # every episode exactly once
    assert after[:len(before)] == before                          # untouched, same finish times
    assert all(r["finished_at"] > killed_at for r in after[len(before):])
    assert index.name == "index.html" and index.is_file()


def test_timing_counts_the_episodes_of_every_run(resumed):
    """The killed run's episodes count too (its worker wrote a timing row per stored episode), so the
    time per episode is over all 20; at most the one episode the kill cut between its record and its
    timing row is missing."""
    out, _, before, _, _ = resumed
    results = json.loads((out / "results.json").read_text())
    assert 19 <= results["timing"]["episodes_run"] <= 20 and 19 <= results["timing_per_column"]["simulator"][
        "episodes_run"] <= 20
    rows = [json.loads(x) for x in (out / "records" / "timing.jsonl").read_text().splitlines()]
    assert sum(r["episodes"] for r in rows if r["column"] == "simulator") == results["timing"]["episodes_run"]
    assert results["timing"]["eval_s"] > 0 and results["wall_s"] > 0


def test_stale_frames_of_a_killed_run_are_removed_on_reopening(tmp_path):
    from evaluation.records import RecordStore

    store = RecordStore(tmp_path / "ev", {"env": "x"})
    stale = store.root / "frames" / "simulator" / "expert-0123" / "ep00000.tmp.npz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"cut short")
    RecordStore(tmp_path / "ev", {"env": "x"})
    assert not stale.exists()


def test_resumed_results_equal_an_uninterrupted_run(resumed, tmp_path):
    _, _, _, after, _ = resumed
    run_evaluation(config(tmp_path / "ev", *ARGS, "num_envs=3"))
    fresh = lines(tmp_path / "ev" / "records" / "simulator.jsonl")

    def outcome(records):
        return {(r["policy"], r["episode"]): (r["seed"], r["return"], r["length"], r["success_any"]) for r in records}

    assert outcome(fresh) == outcome(after)


def test_eval_info_has_lerobot_evals_schema(resumed):
    out, _, _, records, _ = resumed
    info = json.loads((out / "eval_info.json").read_text())
    assert set(info) == {"per_task", "per_group", "overall"}
    assert [t["task_group"] for t in info["per_task"]] == ["random", "expert+noise:0.5"]
    group_keys = {"avg_sum_reward", "avg_max_reward", "pc_success", "n_episodes", "video_paths"}
    for task in info["per_task"]:
        assert set(task) == {"task_group", "task_id", "metrics"} and task["task_id"] == 0
        m = task["metrics"]
        assert set(m) == {"sum_rewards", "max_rewards", "successes", "video_paths"}
        assert len(m["sum_rewards"]) == len(m["max_rewards"]) == len(m["successes"]) == 10
        mine = sorted((r for r in records if r["policy"] == task["task_group"]), key=lambda r: r["episode"])
        assert m["sum_rewards"] == pytest.approx([r["return"] for r in mine])
        group = info["per_group"][task["task_group"]]
        assert set(group) == group_keys and group["n_episodes"] == 10
        assert group["pc_success"] == pytest.approx(100 * sum(m["successes"]) / 10)
        assert group["avg_max_reward"] == pytest.approx(sum(m["max_rewards"]) / 10)
    assert set(info["overall"]) == group_keys | {"eval_s", "eval_ep_s"}
    assert info["overall"]["n_episodes"] == 20 and info["overall"]["eval_s"] > 0


def test_results_json_is_strict_json(resumed):
    out = resumed[0]
    text = (out / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert results["per_policy"]["simulator"]["random"]["n"] == 10


def test_cli_entry_registers_worldsim_eval(tmp_path, capsys):
    import argparse

    from evaluation.cli_entry import add_eval_parser

    parser = argparse.ArgumentParser(prog="worldsim")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", "--out", str(tmp_path / "ev"), *SMALL_OVERRIDES, "policies=[random]",
                              "episodes=1", "video_episodes=0"])
    index = Path(args.func(args))
    assert index == tmp_path / "ev" / "index.html" and index.is_file()
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "--help"])
    assert "eval_info.json" in capsys.readouterr().out



def test_a_rerun_of_a_finished_evaluation_only_rebuilds_the_report(tmp_path, monkeypatch):
    out = tmp_path / "ev"
    args = ["policies=[random,expert]", "episodes=2", "video_episodes=1", "resampled_sim=true"]
    run_evaluation(config(out, *args))
    records = {p.name: p.read_bytes() for p in (out / "records").glob("*.jsonl") if p.name != "timing.jsonl"}
    first = json.loads((out / "results.json").read_text())
    forbid_rollouts(monkeypatch)
    start = time.perf_counter()
    run_evaluation(config(out, *args))
    assert time.perf_counter() - start < 30
    assert {p.name: p.read_bytes() for p in (out / "records").glob("*.jsonl") if p.name != "timing.jsonl"} == records
    again = json.loads((out / "results.json").read_text())
    assert again["per_policy"] == first["per_policy"] and again["agreement"] == first["agreement"]


def test_num_envs_beyond_the_episodes_is_clamped(tmp_path, monkeypatch):
    import evaluation.vector

    made, real = [], evaluation.vector.make_vector_env
    monkeypatch.setattr(evaluation.vector, "make_vector_env",
                        lambda env_id, n, kwargs=None: made.append(n) or real(env_id, n, kwargs))
    out = tmp_path / "ev"
    run_evaluation(config(out, "policies=[random]", "episodes=2", "num_envs=16", "parallel=false"))
    assert made == [2] and len(lines(out / "records" / "simulator.jsonl")) == 2


def test_the_default_evaluation_is_the_full_zoo_at_100_episodes_on_the_top_camera():
    from envs.simulators import simulator
    from evaluation.columns import make_columns
    from evaluation.pipeline import resolve_policies

    cfg = EvalConfig()
    zoos = simulator(cfg.env).zoos
    assert (cfg.episodes, cfg.cameras_resolved(), cfg.image_size, cfg.zoo, cfg.num_envs) == (100, ["top"], 64,
                                                                                              "default", 16)
    assert cfg.world_model == "default" and cfg.perception and cfg.parallel and not cfg.render_all
    assert resolve_policies(cfg) == list(zoos["default"]) and len(zoos["default"]) == 15
    assert sum(spec.startswith("bc:") for spec in zoos["default"]) == 4   # issue 10: four BC policies
    assert zoos["quick"]                                           # zoo=quick stays
    columns = make_columns(EvalConfig())
    assert [(c.name, c.lane) for c in columns] == [("simulator", "simulator"), ("world_model", "world_model"),
                                                   ("simulator_perceived", "simulator")]


def test_replays_are_planned_for_recorded_episodes_that_kept_their_frames(tmp_path):
    import numpy as np

    from evaluation.columns import Column
    from evaluation.lanes import Replays
    from evaluation.pipeline import plan_lanes
    from evaluation.records import RecordStore

    cfg = EvalConfig(episodes=2, video_episodes=1, out=str(tmp_path))
    store = RecordStore(tmp_path, {"test": True}, {})
    base = {"episode": 0, "seed": 0, "success_any": False, "success_end": False, "length": 1}
    recording = {"frames": {"top": np.zeros((2, 8, 8, 3), np.uint8)}, "actions": np.zeros((1, 2), np.float32)}
    store.append("simulator", {**base, "policy": "broken", "failure": "act raised"})      # ended failing: no frames
    store.append("simulator", {**base, "policy": "expert"}, recording)
    store.append("world_model_replay", {**base, "policy": "expert"}, recording)          # already replayed
    columns = [Column("simulator", "simulator", "env", {}, render_switch=True),
               Column("world_model", "world model", "wm", {}, lane="world_model")]
    lanes = {lane.name: lane for lane in plan_lanes(cfg, columns, ["broken", "expert", "random"], {
        "reads_pixels": {"broken": False, "expert": False, "random": False}}, store)}
    replays = [t for t in lanes["world_model"].tasks if isinstance(t, Replays)]
    assert [t.keys for t in replays] == [(("random", 0),)]      # broken: nothing to replay; expert: done


def test_world_model_columns_end_episodes_where_the_simulator_does():
    """Meta-World episodes last 150 steps, TabletopPush's 100: the world-model env's registration holds one
    length for every model, so the columns pass the simulator's own (or ``max_steps``)."""
    import gymnasium as gym

    from evaluation.columns import make_columns

    for cfg in (EvalConfig(env="worldsim/MetaWorld-v0", task="push-v3"), EvalConfig()):
        sim_steps = gym.spec(cfg.env).max_episode_steps
        lengths = {c.name: c.env_kwargs.get("max_episode_steps") for c in make_columns(cfg)}
        assert lengths == {"simulator": None, "world_model": sim_steps, "simulator_perceived": sim_steps}, cfg.env
    short = make_columns(EvalConfig(env="worldsim/MetaWorld-v0", task="push-v3", max_steps=20))
    assert all(c.env_kwargs["max_episode_steps"] == 20 for c in short)
    assert gym.spec("worldsim/MetaWorld-v0").max_episode_steps == 150
