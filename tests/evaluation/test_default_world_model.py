"""``worldsim eval`` with its defaults compares the simulator with the shipped world model."""

import json

from worldsim.cli import main


def test_default_evaluation_has_a_paired_world_model_column(tmp_path):
    out = tmp_path / "eval"
    argv = ["eval", "--out", str(out), "policies=[expert,random]", "episodes=2", "max_steps=6",
            "num_envs=2", "progress=false"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert [c["name"] for c in results["columns"]] == ["simulator", "world_model"]
    assert results["columns"][1]["env"] == "worldsim/WorldModel-v0"
    sim = [json.loads(line) for line in (out / "records" / "simulator.jsonl").read_text().splitlines()]
    wm = [json.loads(line) for line in (out / "records" / "world_model.jsonl").read_text().splitlines()]
    assert sorted((r["policy"], r["seed"]) for r in sim) == sorted((r["policy"], r["seed"]) for r in wm)


def test_a_world_model_for_another_image_size_is_refused(tmp_path, capsys):
    assert main(["eval", "--out", str(tmp_path / "e"), "image_size=32", "episodes=1"]) == 2
    assert "image_size=32 was asked for" in capsys.readouterr().err
