"""Post-training end to end on a tiny dataset: the action and judge tasks train, evaluate and
resume; the default-model script assembles a world model the env loads with the simulator's spaces."""

import json

import gymnasium as gym
import numpy as np
import torch
import pytest

import envs  # noqa: F401
from worldsim.config import load_config
from worldsim.training.trainer import Trainer, TrainerConfig
from posttrain.action.task import ActionTask, ActionTaskConfig
from posttrain.action.judge_task import JudgeTask, JudgeTaskConfig

TINY = {"eval_windows": 4, "eval_horizon": 2, "eval_episodes": 1, "held_out": 0.25, "sample_steps": 2}


def fit(task, out, steps=2):
    return Trainer(TrainerConfig(out=str(out), steps=steps, batch_size=4, progress=False, warmup_steps=1), task).fit()


def test_action_task_from_a_base_checkpoint_trains_evaluates_and_resumes(artifacts, base_run, tmp_path):
    cfg = load_config(ActionTaskConfig, data=artifacts["data"], base=base_run,
                      latent_cache=str(tmp_path / "latents.safetensors"), **TINY)
    task = ActionTask(cfg)
    assert task.cfg.tokenizer == artifacts["tokenizer"] and task.cfg.cameras == ["top"]  # from the base
    final = fit(task, tmp_path / "run")
    meta = json.loads((final / "meta.json").read_text())
    for key in ("next_frame_psnr", "tokenizer_psnr", "copy_last_frame_psnr", "environment_state_mae",
                "rollout_psnr_h2"):
        assert np.isfinite(meta["metrics"][f"eval/{key}"]), key
    again = fit(ActionTask(load_config(ActionTaskConfig, data=artifacts["data"], base=base_run,
                                       latent_cache=str(tmp_path / "latents.safetensors"), **TINY)), tmp_path / "run")
    assert again == final


def test_action_task_refuses_inconsistent_settings(artifacts, base_run, tmp_path):
    with pytest.raises(ValueError, match="needs network=dit"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], tokenizer=artifacts["tokenizer"], network="conv"))
    with pytest.raises(ValueError, match="leave base empty"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], base=base_run, predictor="deterministic", network="conv"))
    with pytest.raises(ValueError, match="not a base video model"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], base=artifacts["tokenizer"]))


def test_judge_task_reports_held_out_classification_metrics(artifacts, tmp_path):
    task = JudgeTask(JudgeTaskConfig(data=artifacts["data"], tokenizer=artifacts["tokenizer"], held_out=0.25))
    final = fit(task, tmp_path / "judge")
    metrics = json.loads((final / "meta.json").read_text())["metrics"]
    for key in ("success_accuracy", "success_precision", "success_recall", "reward_mae", "always_failure_accuracy"):
        assert 0.0 <= metrics[f"eval/{key}"] <= 1.0, key


def test_default_model_script_makes_a_world_model_the_env_runs(artifacts, base_run, tmp_path):
    from posttrain.action.default_model import main

    out = tmp_path / "wm"
    argv = ["--data", artifacts["data"], "--tokenizer", artifacts["tokenizer"], "--base", base_run, "--out", str(out),
            "--work", str(tmp_path / "work"), "--scale", "0.002", "--batch-scale", "0.1", "--sample-steps", "2"]
    assert main(argv) == 0
    assert "python -m posttrain.action.default_model" in (out / "README.md").read_text()
    config_text = (out / "config.yaml").read_text()
    assert "deterministic" in config_text and "diffusion" in config_text
    sim = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=32)
    from envs.world_model_env import WorldModelEnv

    for predictor in ("deterministic", "diffusion"):
        env = WorldModelEnv(out, predictor=predictor, reset_source="dataset")
        assert env.observation_space == sim.observation_space and env.action_space == sim.action_space
        obs, _ = env.reset(seed=1)  # the dataset's episode 1 was generated with seed 1
        sim_obs, _ = sim.reset(seed=1)
        np.testing.assert_allclose(obs["agent_pos"], sim_obs["agent_pos"], atol=1e-6)
        obs, reward, terminated, truncated, info = env.step(np.zeros(2, np.float32))
        assert obs["pixels"]["top"].shape == (32, 32, 3) and isinstance(info["is_success"], bool)


def test_train_and_posttrain_stages_route_to_these_tasks(artifacts, tmp_path):
    from worldsim.training.stages import posttrain_stage, train_stage

    common = ["steps=1", "batch_size=4", "held_out=0.25", "progress=false"]
    judge = train_stage("judge", artifacts["data"], str(tmp_path / "judge"), overrides=common,
                        tokenizer=artifacts["tokenizer"])
    assert "world_model_judges" in (judge / "meta.json").read_text()
    action = posttrain_stage("action", "", artifacts["data"], str(tmp_path / "action"), tokenizer=artifacts["tokenizer"],
                             overrides=[*common, "predictor=deterministic", "network=conv", "conv.channels=8",
                                        "eval_windows=2", "eval_horizon=1"])
    assert "action_world_model" in (action / "meta.json").read_text()


def test_add_predictor_extends_a_world_model_and_refuses_mismatches(artifacts, tmp_path):
    from envs.world_model_env import WorldModelEnv
    from posttrain.action.export import add_predictor, export_world_model
    from worldsim.training.stages import posttrain_stage, train_stage

    common = ["steps=1", "batch_size=4", "held_out=0.25", "progress=false"]
    conv = [*common, "predictor=deterministic", "network=conv", "conv.channels=8", "eval_windows=2", "eval_horizon=1"]
    runs = {name: str(posttrain_stage("action", "", artifacts["data"], str(tmp_path / name), tokenizer=tok,
                                      overrides=[*conv, f"seed={i}"]))
            for i, (name, tok) in enumerate([("a", artifacts["tokenizer"]), ("b", artifacts["tokenizer"]),
                                             ("pixels", "pixels:8")])}
    judge = train_stage("judge", artifacts["data"], str(tmp_path / "judge"), overrides=common,
                        tokenizer=artifacts["tokenizer"])
    wm = export_world_model(str(tmp_path / "wm"), artifacts["tokenizer"], {"a": runs["a"]}, str(judge), artifacts["data"])
    both = add_predictor(str(wm), "b", runs["b"], out=str(tmp_path / "wm2"), default=True)
    env = WorldModelEnv(both, reset_source="dataset")
    assert env.model.predict_cfg.kind == "deterministic" and sorted(env.model.config["predictors"]) == ["a", "b"]
    assert env.model.config["default_predictor"] == "b"
    with pytest.raises(ValueError, match="already has a predictor 'a'"):
        add_predictor(str(wm), "a", runs["b"], out=str(tmp_path / "wm3"))
    with pytest.raises(ValueError, match="trained on codec pixels:8"):
        add_predictor(str(wm), "p", runs["pixels"], out=str(tmp_path / "wm4"))


def test_rollout_windows_hold_the_next_h_steps(artifacts, tmp_path):
    from posttrain.common.latents import load_or_build_latents
    from posttrain.common.windows import LatentWindows

    cache = load_or_build_latents(artifacts["data"], "pixels:8", ["top"], str(tmp_path / "lat.safetensors"))
    one, three = (LatentWindows(cache, [0, 1], 1, "dynamics", horizon=h) for h in (1, 3))
    assert len(one) - len(three) == 2 * 2   # two fewer windows per episode
    batch = three.gather(np.arange(len(three)))
    t = torch.from_numpy(three.rows[:, 1])
    assert torch.equal(batch["targets"][:, 2], cache.latents[t + 3]) and torch.equal(batch["actions"][:, 1], cache.action[t + 1])
    assert torch.equal(batch["target"], batch["targets"][:, 0])
    with pytest.raises(ValueError, match="horizon=0"):
        LatentWindows(cache, [0], 1, "dynamics", horizon=0)


def test_rollout_training_starts_from_a_world_models_predictor(artifacts, tmp_path):
    """init= copies the folder's predictor exactly; rollout_horizon trains through fed-back predictions."""
    from posttrain.action.world_model import WorldModel
    from worldsim.io import tensor_state
    from worldsim.training.stages import posttrain_stage

    common = ["steps=1", "batch_size=4", "held_out=0.25", "progress=false", "predictor=deterministic", "network=conv",
              "conv.channels=8", "eval_windows=2", "eval_horizon=1"]
    first = posttrain_stage("action", "", artifacts["data"], str(tmp_path / "a"), tokenizer="pixels:8", overrides=common)
    judge = fit(JudgeTask(JudgeTaskConfig(data=artifacts["data"], tokenizer="pixels:8", held_out=0.25)), tmp_path / "j")
    from posttrain.action.export import export_world_model

    wm = export_world_model(str(tmp_path / "wm"), "pixels:8", {"det": str(first)}, str(judge), artifacts["data"])
    task = ActionTask(load_config(ActionTaskConfig, data=artifacts["data"], tokenizer="pixels:8", predictor="deterministic",
                                  network="conv", conv={"channels": 8}, init=str(wm), rollout_horizon=3, **TINY))
    model = task.build_model()
    loaded = WorldModel.load(str(wm)).dynamics
    for key, value in tensor_state(loaded).items():
        assert torch.equal(tensor_state(model)[key], value), key
    loss, logs = task.loss(model, next(iter(task.make_loader(4, 0, 1, 0))))
    loss.backward()
    assert torch.isfinite(loss) and model.dynamics.conv_out.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="rollout_horizon=2"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], tokenizer="pixels:8", rollout_horizon=2))
    with pytest.raises(ValueError, match="no predictor 'magic'"):
        ActionTask(load_config(ActionTaskConfig, data=artifacts["data"], tokenizer="pixels:8", predictor="deterministic",
                               network="conv", conv={"channels": 8}, init=f"{wm}#magic")).build_model()
