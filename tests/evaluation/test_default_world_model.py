"""``worldsim eval`` with its defaults compares the simulator with the shipped world model (the pixel
world model on the top camera): three paired columns, the world model's
open-loop replays of the simulator's recorded episodes stored as records, and a rerun that
rebuilds the report from them without rolling anything out."""

import json

import numpy as np
import pytest

from worldsim.cli import main

from eval_helpers import forbid_rollouts

ARGS = ["policies=[expert,random]", "episodes=2", "max_steps=6", "num_envs=2", "progress=false"]
COLUMNS = ("simulator", "world_model", "simulator_perceived")


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "eval"
    assert main(["eval", "--out", str(out), *ARGS]) == 0
    return out


def test_default_evaluation_has_a_paired_world_model_column(evaluated):
    results = json.loads((evaluated / "results.json").read_text())
    assert [c["name"] for c in results["columns"]] == list(COLUMNS)
    assert results["columns"][1]["env"] == "worldsim/WorldModel-v0"
    assert results["columns"][2]["env"] == "worldsim/PerceivedSim-v0"
    from evaluation.records import RecordStore

    store = RecordStore.attach(evaluated)
    records = {name: store.records(name) for name in COLUMNS}
    episodes = {name: sorted((r["policy"], r["seed"]) for r in recs) for name, recs in records.items()}
    assert episodes["simulator"] == episodes["world_model"] == episodes["simulator_perceived"]
    # fidelity is measured for the world model only: the perceived column shows the simulator's own frames
    assert list(results["fidelity"]) == ["world_model"]
    assert set(results["fidelity"]["world_model"]) == {"top"}


def test_the_perceived_column_is_shared_by_both_workers_each_episode_once(evaluated):
    """Both lanes take chunks of the perceived column and write their own shard; together the
    shards hold every episode exactly once."""
    shards = sorted((evaluated / "records").glob("simulator_perceived@*.jsonl"))
    assert shards and not (evaluated / "records" / "simulator_perceived.jsonl").exists()
    keys = [(r["policy"], r["episode"]) for path in shards for r in lines(path)]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 4


def test_the_world_model_replays_the_simulators_recorded_actions(evaluated):
    root = evaluated / "records"
    sim = {(r["policy"], r["episode"]): r for r in lines(root / "simulator.jsonl") if r.get("frames")}
    replays = {(r["policy"], r["episode"]): r for r in lines(root / "world_model_replay.jsonl")}
    assert set(replays) == set(sim) == {("expert", 0), ("random", 0)}
    for key, replay in replays.items():
        assert replay["seed"] == sim[key]["seed"] and replay["length"] == sim[key]["length"]
        with np.load(root / sim[key]["frames"]) as a, np.load(root / replay["frames"]) as b:
            np.testing.assert_array_equal(a["actions"], b["actions"])          # open loop: the same actions
            assert a["frames_top"].shape == b["frames_top"].shape
            np.testing.assert_array_equal(a["frames_top"][0], b["frames_top"][0])   # from the same first frame


def test_a_rerun_rolls_nothing_out_and_rebuilds_the_same_report(evaluated, monkeypatch):
    first = json.loads((evaluated / "results.json").read_text())
    forbid_rollouts(monkeypatch)
    assert main(["eval", "--out", str(evaluated), *ARGS]) == 0
    again = json.loads((evaluated / "results.json").read_text())
    for key in ("per_policy", "agreement", "fidelity", "unseen"):
        assert again[key] == first[key], key


def test_a_world_model_for_another_image_size_is_refused(tmp_path, capsys):
    assert main(["eval", "--out", str(tmp_path / "e"), "image_size=32", "episodes=1"]) == 2
    assert "image_size=32 was asked for" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()                               # refused before anything is written
