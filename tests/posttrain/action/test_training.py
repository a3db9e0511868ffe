"""Post-training end to end on a tiny dataset: the action and judge tasks train, evaluate and
resume; the default-model script assembles a world model the env loads with the simulator's spaces."""

import dataclasses
import json
import shutil

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from posttrain.action.judge_task import JudgeTask, JudgeTaskConfig
from posttrain.action.judges import Judges
from posttrain.action.task import ActionTask, ActionTaskConfig
from worldsim.config import load_config
from worldsim.io import load_model_weights, read_tensors
from worldsim.training.trainer import Trainer, TrainerConfig

TINY = {"eval_windows": 4, "eval_horizon": 2, "eval_episodes": 1, "held_out": 0.25, "sample_steps": 2}


def fit(task, out, steps=2, ckpt_every=500):
    cfg = TrainerConfig(out=str(out), steps=steps, ckpt_every=ckpt_every, batch_size=4, progress=False, warmup_steps=1)
    return Trainer(cfg, task).fit()


def test_action_task_from_a_base_checkpoint_trains_evaluates_and_resumes(artifacts, base_run, tmp_path):
    def task():
        return ActionTask(load_config(ActionTaskConfig, data=artifacts["data"], base=base_run,
                                      latent_cache=str(tmp_path / "latents.safetensors"), **TINY))

    first = task()
    assert first.cfg.tokenizer == artifacts["tokenizer"] and first.cfg.cameras == ["top"]  # from the base
    final = fit(first, tmp_path / "run", steps=4, ckpt_every=2)
    meta = json.loads((final / "meta.json").read_text())
    for key in ("next_frame_psnr", "tokenizer_psnr", "copy_last_frame_psnr", "environment_state_mae",
                "rollout_psnr_h2"):
        assert np.isfinite(meta["metrics"][f"eval/{key}"]), key

    # a run killed after its step-2 checkpoint, rerun: it trains steps 3 and 4 only, from the saved
    # weights, optimizer moments, RNG and loader position, and ends bit-identical to the run that never stopped
    shutil.copytree(tmp_path / "run", tmp_path / "killed")
    shutil.rmtree(tmp_path / "killed" / "checkpoints" / final.name)
    (tmp_path / "killed" / "checkpoints" / "latest").write_text("step_0000002\n")
    resumed, losses = task(), []
    loss = resumed.loss
    resumed.loss = lambda model, batch: losses.append(1) or loss(model, batch)
    again = fit(resumed, tmp_path / "killed", steps=4, ckpt_every=2)
    assert again.name == final.name and len(losses) == 2
    for name in ("model.safetensors", "ema.safetensors", "optimizer.safetensors"):
        want, got = read_tensors(final / name), read_tensors(again / name)
        assert want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want), name
    resumed_metrics = json.loads((again / "meta.json").read_text())["metrics"]
    assert {k: v for k, v in resumed_metrics.items() if k.startswith("eval/")} == {
        k: v for k, v in meta["metrics"].items() if k.startswith("eval/")}


def test_action_task_refuses_inconsistent_settings(artifacts, base_run, tmp_path):
    with pytest.raises(ValueError, match="needs network=dit"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], tokenizer=artifacts["tokenizer"], network="conv"))
    with pytest.raises(ValueError, match="leave base empty"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], base=base_run, predictor="deterministic", network="conv"))
    with pytest.raises(ValueError, match="not a base video model"):
        ActionTask(ActionTaskConfig(data=artifacts["data"], base=artifacts["tokenizer"]))


def held_out_metrics(task, judges) -> dict:
    """The judge task's metrics computed here, on every step of the held-out episodes only."""
    cache = task.cache
    rows = torch.cat([torch.arange(int(cache.starts[e]), int(cache.starts[e + 1])) for e in task.eval_episodes])
    state = torch.cat([cache.state, cache.env_state], dim=-1)[rows]
    with torch.no_grad():
        logit, reward = judges.eval()(cache.latents[rows] / task.cfg.latent_scale, state, cache.action[rows])
    predicted, actual = (torch.sigmoid(logit) > judges.cfg.threshold).numpy(), cache.success[rows].numpy()
    tp = int((predicted & actual).sum())
    return {"success_count": len(rows), "success_positives": actual.sum(),
            "success_predicted_positives": predicted.sum(), "success_accuracy": (predicted == actual).mean(),
            "success_precision": tp / predicted.sum() if predicted.any() else 0.0,
            "success_recall": tp / actual.sum() if actual.any() else 0.0,
            "always_failure_accuracy": 1.0 - actual.mean(),
            "reward_mae": float((reward - cache.reward[rows]).abs().mean())}


def test_judge_task_reports_held_out_classification_metrics(artifacts, tmp_path):
    task = JudgeTask(JudgeTaskConfig(data=artifacts["data"], tokenizer=artifacts["tokenizer"], held_out=0.25))
    assert task.eval_episodes and not set(task.eval_episodes) & set(task.train_episodes)
    final = fit(task, tmp_path / "judge")
    saved = {k[5:]: v for k, v in json.loads((final / "meta.json").read_text())["metrics"].items()
             if k.startswith("eval/")}
    judges = Judges(task.cfg.model)
    load_model_weights(judges, final)
    expected = held_out_metrics(task, judges)
    assert {k: saved[k] for k in expected} == pytest.approx(expected, abs=1e-6)

    # a threshold at the median probability predicts both classes, so every count and ratio is exercised
    with torch.no_grad():
        cache = task.cache
        state = torch.cat([cache.state, cache.env_state], dim=-1)
        logit, _ = judges(cache.latents / task.cfg.latent_scale, state, cache.action)
    judges.cfg = dataclasses.replace(judges.cfg, threshold=float(torch.sigmoid(logit).median()))
    expected = held_out_metrics(task, judges)
    assert 0 < expected["success_predicted_positives"] < expected["success_count"]
    reported = task.evaluate(judges)
    assert {k: reported[k] for k in expected} == pytest.approx(expected, abs=1e-6)


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
    from envs.world_model.env import WorldModelEnv

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
    from envs.world_model.env import WorldModelEnv
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
