"""``worldsim eval tasks=[...]``: one evaluation per task, a suite report over all, lerobot-eval's multi-task
eval_info.json, resuming, and clear errors for task lists that cannot work."""

import json

import pytest

from evaluation.config import EvalConfig
from evaluation.pipeline import run_evaluation
from worldsim.config import load_config

from eval_helpers import forbid_rollouts

MW = "worldsim/MetaWorld-v0"
TASKS = ["push-v3", "drawer-open-v3"]


def config(out, *overrides) -> EvalConfig:
    return load_config(EvalConfig, overrides=[f"env={MW}", "image_size=16", "progress=false", "video_episodes=0",
                                              "episodes=3", "max_steps=100", "bootstrap=0", "world_model=none",
                                              f"out={out}", *overrides])


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "ev"
    run_evaluation(config(out, f"tasks=[{','.join(TASKS)}]", "policies=[expert,random]", "resampled_sim=true",
                          "video_episodes=1"))
    return out


def test_each_task_is_an_evaluation_of_its_own(suite):
    for task in TASKS:
        results = json.loads((suite / task / "results.json").read_text())
        assert results["config"]["task"] == task and (suite / task / "index.html").is_file()
        sim = results["per_policy"]["simulator"]
        # the scripted expert solves both tasks well inside 100 steps (1.00 over 100 seeds), random never does
        assert sim["expert"]["rate"] == 1.0 and sim["random"]["rate"] == 0.0


def test_suite_results_hold_every_task_and_the_overall_agreement(suite):
    results = json.loads((suite / "results.json").read_text())
    assert results["tasks"] == TASKS
    for task in TASKS:
        own = json.loads((suite / task / "results.json").read_text())
        assert results["per_task"][task]["agreement"] == own["agreement"]
    overall = results["overall"]["agreement"]["simulator_resampled"]
    assert overall["n_policies"] == 4                   # every (task, policy) pair, kept apart
    assert overall["policies"] == [f"{t}/{p}" for t in TASKS for p in ("expert", "random")]
    assert "push-v3" in (suite / "index.html").read_text()


def test_eval_info_follows_lerobot_evals_multi_task_layout(suite):
    info = json.loads((suite / "eval_info.json").read_text())
    assert set(info) == {"per_task", "per_group", "overall"}
    assert [(t["task_group"], t["task_id"], t["policy"]) for t in info["per_task"]] == [
        (task, i, policy) for task in TASKS for i, policy in enumerate(("expert", "random"))]
    for task in TASKS:
        records = [json.loads(x) for x in (suite / task / "records" / "simulator.jsonl").read_text().splitlines()]
        wins = [r["success_any"] for r in records]
        assert info["per_group"][task]["pc_success"] == pytest.approx(100 * sum(wins) / len(wins))
        assert info["per_group"][task]["n_episodes"] == 6
    assert info["overall"]["n_episodes"] == 12 and info["overall"]["pc_success"] == pytest.approx(50.0)
    assert (suite / "eval_info_simulator_resampled.json").is_file()
    for entry in info["per_task"]:                       # each task's video of episode 0, from the suite's folder
        [video] = entry["metrics"]["video_paths"]
        assert video.startswith(entry["task_group"] + "/videos/") and (suite / video).is_file()


def test_a_rerun_of_a_finished_suite_only_rebuilds_the_report(suite, monkeypatch):
    forbid_rollouts(monkeypatch)
    before = json.loads((suite / "eval_info.json").read_text())
    run_evaluation(config(suite, f"tasks=[{','.join(TASKS)}]", "policies=[expert,random]", "resampled_sim=true",
                          "video_episodes=1"))
    assert json.loads((suite / "eval_info.json").read_text())["per_group"] == before["per_group"]


@pytest.mark.parametrize("overrides, message", [
    (["tasks=[push-v3,pick-v3]"], r"unknown task 'pick-v3' for worldsim/MetaWorld-v0; tasks with a world model: "
                                  r"push-v3, drawer-open-v3; tasks without one \(simulator only\): reach-v3, "
                                  r"button-press-v3"),
    (["tasks=[push-v3,worldsim/TabletopPush-v0]"], r"an env id: tasks are one env's tasks"),
    (["tasks=[push-v3,push-v3]"], r"lists \['push-v3'\] more than once"),
    (["tasks=[push-v3]", "task=push-v3"], r"give one task or a list of them, not both"),
    (["tasks=[push-v3]", "world_model=assets/world_models/tabletop_push"], r"a world model is made for one task"),
    (["tasks=[top]", "env=worldsim/TabletopPush-v0"], r"env=worldsim/TabletopPush-v0 has no tasks.*MetaWorld-v0"),
])
def test_task_lists_that_cannot_work_are_refused_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_evaluation(config(tmp_path / "ev", *overrides))
    assert not (tmp_path / "ev").exists()


def test_a_world_model_made_for_another_task_is_refused(tmp_path):
    """The shipped TabletopPush world model records no task; a Meta-World-like folder records one."""
    import shutil

    import yaml

    from assets import asset_path

    folder = tmp_path / "wm"
    shutil.copytree(asset_path("world_models/tabletop_push"), folder)
    config_yaml = yaml.safe_load((folder / "config.yaml").read_text())
    config_yaml["sim"]["env_kwargs"]["task"] = "push-v3"
    (folder / "config.yaml").write_text(yaml.safe_dump(config_yaml))
    with pytest.raises(ValueError, match=r"made for task 'push-v3', not task='drawer-open-v3'"):
        run_evaluation(config(tmp_path / "ev", "env=worldsim/TabletopPush-v0", "task=drawer-open-v3",
                              f"world_model={folder}", "cameras=[top]", "image_size=64", "policies=[random]"))
