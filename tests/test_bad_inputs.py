"""Bad input gets a one-line error naming the value and what is allowed, before anything runs (issue 16).

One row per case: the command line (or ``gym.make`` call) and a regular expression the message
must match. ``{FILE}`` is an existing file, ``{CAMERA_WM}`` a camera model's folder (another
model's ``config.yaml``), ``{NO_DEFAULT_WM}`` a pixel world-model folder whose config lacks
``default_predictor``, ``{OUT}`` a fresh output folder.
"""

import re
import shutil
from pathlib import Path

import pytest

from worldsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORLD_MODELS = ROOT / "assets" / "world_models"
GEN = ["generate", "--env", "worldsim/TabletopPush-v0", "--episodes", "1", "image_size=32", "cameras=[top]",
       "workers=1"]
EVAL = ["eval", "episodes=1", "policies=[expert]", "num_envs=1", "image_size=16", "max_steps=4", "progress=false",
        "world_model=none"]

CLI_CASES = {
    "generate video_crf out of range": ([*GEN, "video_crf=-5"], r"video_crf=-5; allowed: 0\.\.51"),
    "generate video_crf too high": ([*GEN, "video_crf=60"], r"video_crf=60; allowed: 0\.\.51"),
    "generate negative seed": ([*GEN, "seed=-1"], r"seed=-1; need 0 or more"),
    "generate --out is a file": (["generate", "--episodes", "1", "--out", "{FILE}"], r"\{FILE\} is a file, not a folder"),
    "generate bc: policy": ([*GEN, "--policy", "bc:tabletop_push/image_50"],
                            r"'bc:tabletop_push/image_50'.*worldsim eval policies=\[bc:tabletop_push/image_50\].*"
                            r"allowed: a base \(expert, random, play\)"),
    "generate unknown env": ([*GEN, "--env", "worldsim/Nope-v0"],
                             r"unknown env id 'worldsim/Nope-v0'; allowed: .*worldsim/TabletopPush-v0"),
    "generate unknown key": ([*GEN, "colour=red"], r"unknown config key 'colour'.*valid keys: env, policy"),
    "eval --out is a file": (["eval", "--out", "{FILE}", "world_model=none"], r"\{FILE\} is a file, not a folder"),
    "eval negative seed": ([*EVAL, "seed=-1"], r"seed=-1: need 0 or more"),
    "eval list without brackets": ([*EVAL, "policies=expert"],
                                   r"policies=expert is not a list; .*write policies=\[expert\]"),
    "eval another model's folder": ([*EVAL, "world_model={CAMERA_WM}"],
                                    r"\{CAMERA_WM\} holds a camera world model.*CameraWorld-v0.*not a world model for "
                                    r"worldsim/WorldModel-v0"),
    "eval folder without default_predictor": ([*EVAL, "world_model={NO_DEFAULT_WM}"],
                                              r"\{NO_DEFAULT_WM\}/config.yaml is not a world model's.*missing "
                                              r"default_predictor"),
    "eval missing world model": ([*EVAL, "world_model=/no/such/folder"], r"world_model='/no/such/folder' does not exist"),
    "eval bad sample_steps": ([*EVAL, "world_model=default", "world_model_kwargs.sample_steps=0"],
                              r"sample_steps=0; need a positive int"),
    "eval bad sampler": ([*EVAL, "world_model=default", "world_model_kwargs.sampler=nope"],
                         r"sampler='nope'; allowed: euler"),
    "eval unknown predictor": ([*EVAL, "world_model=default", "world_model_kwargs.predictor=nope"],
                               r"predictor='nope'.*has no predictor 'nope'; it has \['deterministic'\]"),
    "eval unknown world-model argument": ([*EVAL, "world_model=default", "image_size=64",
                                           "world_model_kwargs.colour=red"],
                                          r"worldsim/WorldModel-v0 takes no argument 'colour'; its arguments: .*"
                                          r"checkpoint"),
    "eval unknown env": ([*EVAL, "env=worldsim/Nope-v0"],
                         r"unknown env 'worldsim/Nope-v0'; registered worldsim envs: .*worldsim/TabletopPush-v0"),
    "eval unknown world-model env": ([*EVAL, "world_model=default", "world_model_env=worldsim/Nope-v0"],
                                     r"'worldsim/Nope-v0' is not registered \(world-model envs: worldsim/WorldModel-v0"),
    "eval unknown env argument": ([*EVAL, "env_kwargs.colour=red"],
                                  r"worldsim/TabletopPush-v0 takes no argument 'colour'; its arguments: cameras, "
                                  r"image_size"),
    "train unknown key": (["train", "tokenizer", "--data", "/no/such/data", "colour=red"],
                          r"unknown config key 'colour'; trainer keys: out, steps.*; task keys "
                          r"\(TokenizerTaskConfig\): data, camera"),
    "train --data is a file": (["train", "tokenizer", "--data", "{FILE}"],
                               r"\{FILE\} is not a LeRobotDataset v3.0 folder: it is a file"),
    "train --data missing": (["train", "tokenizer", "--data", "/no/such/data"],
                             r"/no/such/data is not a LeRobotDataset v3.0 folder: the folder does not exist"),
}


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bad")
    (root / "a_file.txt").write_text("not a folder")
    camera = root / "camera_wm"
    camera.mkdir()
    shutil.copy(WORLD_MODELS / "camera_tabletop" / "config.yaml", camera / "config.yaml")
    no_default = root / "no_default_wm"
    no_default.mkdir()
    text = (WORLD_MODELS / "tabletop_push" / "config.yaml").read_text()
    (no_default / "config.yaml").write_text(re.sub(r"(?m)^default_predictor:.*\n", "", text))
    for name in ("model.safetensors", "meta.json"):
        (no_default / name).symlink_to(WORLD_MODELS / "tabletop_push" / name)
    return {"FILE": str(root / "a_file.txt"), "CAMERA_WM": str(camera), "NO_DEFAULT_WM": str(no_default)}


def fill(text: str, places: dict, escape: bool = False) -> str:
    for key, value in places.items():
        text = text.replace(("\\{" + key + "\\}") if escape else ("{" + key + "}"), re.escape(value) if escape else value)
    return text


@pytest.mark.parametrize("argv, message", list(CLI_CASES.values()), ids=list(CLI_CASES))
def test_a_bad_command_line_is_a_one_line_error(tmp_path, capsys, places, argv, message):
    out = tmp_path / "out"
    argv = [fill(a, places) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert re.search(fill(message, places, escape=True), err), err
    assert not out.exists(), "nothing is written before the input is checked"


MAKE_CASES = {
    "sample_steps=0": ({"sample_steps": 0}, r"sample_steps=0; need a positive int"),
    "sample_steps=-3": ({"sample_steps": -3}, r"sample_steps=-3; need a positive int"),
    "sampler=nope": ({"sampler": "nope"}, r"sampler='nope'; allowed: euler"),
    "latent sampler=nope": ({"checkpoint": str(WORLD_MODELS / "tabletop_push_latent"), "sampler": "nope"},
                            r"sampler='nope'; allowed: euler, heun"),
    "latent sample_steps=0": ({"checkpoint": str(WORLD_MODELS / "tabletop_push_latent"), "sample_steps": 0},
                              r"sample_steps=0; need a positive int"),
    "missing folder": ({"checkpoint": "/no/such/folder"}, r"world model /no/such/folder does not exist"),
    "another model's config": ({"checkpoint": "{CAMERA_WM}"}, r"holds a camera world model.*CameraWorld-v0"),
    "no default_predictor": ({"checkpoint": "{NO_DEFAULT_WM}"}, r"missing default_predictor"),
}


@pytest.mark.parametrize("kwargs, message", list(MAKE_CASES.values()), ids=list(MAKE_CASES))
def test_gym_make_of_the_world_model_checks_its_arguments(places, kwargs, message):
    import gymnasium as gym

    import envs  # noqa: F401

    kwargs = {k: fill(v, places) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        gym.make("worldsim/WorldModel-v0", **kwargs)


def test_envs_make_names_the_arguments_an_env_takes():
    import envs

    with pytest.raises(ValueError, match=r"worldsim/TabletopPush-v0 takes no argument 'colour'; its arguments: "
                                         r"cameras, image_size, looks, render_mode, terminate_on_success"):
        envs.make("worldsim/TabletopPush-v0", colour=1)


def test_eval_cameras_default_to_the_world_models_else_the_simulators():
    """MetaWorld has no `top` camera: an evaluation that names no cameras uses its world model's (push-v3's
    sees corner4 only), and without a world model the env's own."""
    from evaluation.columns import make_columns
    from evaluation.config import EvalConfig

    metaworld = EvalConfig(env="worldsim/MetaWorld-v0", task="push-v3")
    assert metaworld.cameras_resolved() == ["corner4"]
    assert make_columns(metaworld)[0].env_kwargs["cameras"] == ("corner4",)
    alone = EvalConfig(env="worldsim/MetaWorld-v0", task="push-v3", world_model="none")
    assert alone.cameras_resolved() == ["corner2", "corner4"]
    assert make_columns(alone)[0].env_kwargs["cameras"] == ("corner2", "corner4")
    assert EvalConfig().cameras_resolved() == ["top"]                       # the shipped world model's
    assert EvalConfig(world_model="none").cameras_resolved() == ["top", "front"]   # TabletopPush's own
    assert EvalConfig(cameras=["front"]).cameras_resolved() == ["front"]


def test_eval_of_metaworld_without_cameras_runs(tmp_path, capsys):
    out = tmp_path / "mw"
    assert main(["eval", "--out", str(out), "env=worldsim/MetaWorld-v0", "task=push-v3", "world_model=none",
                 "policies=[expert]", "episodes=1", "num_envs=1", "max_steps=3", "image_size=16", "progress=false",
                 "bootstrap=0", "video_episodes=0", "parallel=false"]) == 0
    import json

    assert json.loads((out / "results.json").read_text())["config"]["cameras"] == ["corner2", "corner4"]


GYM_MAKE_UNKNOWN = {
    "worldsim/TabletopPush-v0": r"TabletopPushEnv takes no argument 'colour'; its arguments: cameras, image_size, "
                                r"terminate_on_success, render_mode",
    "worldsim/MetaWorld-v0": r"MetaWorldEnv takes no argument 'colour'; its arguments: task, cameras, image_size",
    "worldsim/WorldModel-v0": r"WorldModelEnv takes no argument 'colour'; its arguments: checkpoint, .*sample_steps",
}


@pytest.mark.parametrize("env_id, message", list(GYM_MAKE_UNKNOWN.items()), ids=list(GYM_MAKE_UNKNOWN))
def test_gym_make_names_the_arguments_an_env_takes(env_id, message):
    import gymnasium as gym

    import envs  # noqa: F401

    with pytest.raises(TypeError, match=message):
        gym.make(env_id, colour="red")
