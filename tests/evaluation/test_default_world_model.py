"""``worldsim eval`` with its defaults compares the simulator with the shipped world model (which sees
the top and front cameras, so the tests name them)."""

import json

from worldsim.cli import main


def test_default_evaluation_has_a_paired_world_model_column(tmp_path):
    out = tmp_path / "eval"
    argv = ["eval", "--out", str(out), "policies=[expert,random]", "episodes=2", "max_steps=6",
            "num_envs=2", "progress=false", "cameras=[top,front]"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert [c["name"] for c in results["columns"]] == ["simulator", "world_model", "simulator_perceived"]
    assert results["columns"][1]["env"] == "worldsim/WorldModel-v0"
    assert results["columns"][2]["env"] == "worldsim/PerceivedSim-v0"
    records = {name: [json.loads(line) for line in (out / "records" / f"{name}.jsonl").read_text().splitlines()]
               for name in ("simulator", "world_model", "simulator_perceived")}
    episodes = {name: sorted((r["policy"], r["seed"]) for r in recs) for name, recs in records.items()}
    assert episodes["simulator"] == episodes["world_model"] == episodes["simulator_perceived"]
    # fidelity is measured for the world model only: the perceived column shows the simulator's own frames
    assert list(results["fidelity"]) == ["world_model"]


def test_a_world_model_for_another_image_size_is_refused(tmp_path, capsys):
    assert main(["eval", "--out", str(tmp_path / "e"), "image_size=32", "episodes=1", "cameras=[top,front]"]) == 2
    assert "image_size=32 was asked for" in capsys.readouterr().err
