"""Every simulator record (``envs.simulators``) resolves: entry point, expert, zoos, rule, cameras,
world model; and it is the only place that names a simulator (registration and the README read it)."""

import inspect
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs.rules import resolve_judge, state_rule
from envs.simulators import (
    SIMULATORS,
    WORLD_MODEL_ENVS,
    find_simulator,
    resolve,
    simulator,
)
from evaluation.policy_specs import check_spec
from evaluation.zoo import zoo_names, zoo_policies
from policies.factory import make_expert

ROOT = Path(__file__).resolve().parents[2]
IDS = [spec.env_id for spec in SIMULATORS]


def test_registration_reads_the_records():
    assert set(envs.ENVS) == set(IDS) and len(IDS) == len(set(IDS))
    for spec in (*SIMULATORS, *WORLD_MODEL_ENVS):
        registered = gym.spec(spec.env_id)
        assert (registered.entry_point, registered.max_episode_steps) == (spec.entry_point, spec.max_episode_steps)
    assert not set(IDS) & {spec.env_id for spec in WORLD_MODEL_ENVS}


@pytest.mark.parametrize("env_id", IDS)
def test_record_cameras_and_image_size_are_the_env_defaults(env_id):
    spec = simulator(env_id)
    defaults = inspect.signature(resolve(spec.entry_point).__init__).parameters
    assert tuple(defaults["cameras"].default) == spec.cameras
    assert defaults["image_size"].default == spec.image_size


@pytest.mark.parametrize("env_id", IDS)
def test_record_resolves_expert_zoos_and_rule(env_id):
    spec = simulator(env_id)
    env = gym.make(env_id, cameras=spec.cameras[:1], image_size=16)
    try:
        expert = make_expert(env_id, env.action_space)
        assert type(expert) is resolve(spec.expert)
        assert zoo_names(env_id) == list(spec.zoos) and "default" in spec.zoos
        for name in spec.zoos:
            for policy in zoo_policies(name, env_id):
                check_spec(policy)
        if spec.play is not None:
            assert callable(resolve(spec.play))
        obs, _ = env.reset(seed=0)
        rule = state_rule(env_id)
        assert resolve_judge(None, env_id) == ("state" if spec.rule else "learned")
        if spec.rule is not None:
            reward, success = rule(obs["agent_pos"][None], obs["environment_state"][None])
            assert np.shape(reward) == (1,) and np.shape(success) == (1,)
        else:
            assert rule is None
    finally:
        env.close()


@pytest.mark.parametrize("env_id", [spec.env_id for spec in SIMULATORS if spec.world_model])
def test_record_world_model_is_shipped_for_that_simulator(env_id):
    from evaluation.world_model_folder import world_model_config

    spec = simulator(env_id)
    folder = ROOT / "assets" / spec.world_model
    assert folder.is_dir()
    sim = world_model_config(str(folder)).get("sim")
    assert sim is None or sim["env_id"] == env_id


def test_world_model_env_defaults_are_shipped():
    for spec in WORLD_MODEL_ENVS:
        assert spec.default_model is None or (ROOT / "assets" / spec.default_model).is_dir(), spec.env_id


def test_unknown_simulator_errors_name_the_known_ones():
    assert find_simulator("worldsim/WorldModel-v0") is None
    with pytest.raises(ValueError, match="TabletopPush"):
        simulator("worldsim/NoSuchSim-v0")


def test_no_other_table_is_keyed_by_simulator_id():
    """Outside the record (tests and benchmarks aside), no module keys a dict by a simulator id."""
    key = re.compile("(" + "|".join(re.escape(f'"{env_id}"') for env_id in IDS) + r")\s*:")
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.glob("*/**/*.py")
                 if path.relative_to(ROOT).parts[0] not in ("tests", "benchmarks", ".venv")
                 and path.relative_to(ROOT) != Path("envs/simulators.py") and key.search(path.read_text())]
    assert offenders == []


def test_readme_adding_a_simulator_names_only_the_record():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"### Adding a simulator\n(.*?)\n#", readme, re.DOTALL).group(1)
    assert "envs/simulators.py" in section and "SimulatorSpec" in section
    for table in ("policies/factory.py", "evaluation/zoo.py", "envs/rules.py",
                  "evaluation/columns.py", "envs/registry.py"):
        assert table not in section


def test_the_meta_world_record_lists_the_envs_tasks():
    from envs.metaworld_env import TASKS

    spec = simulator("worldsim/MetaWorld-v0")
    assert spec.tasks == tuple(TASKS) and spec.default_task() in spec.tasks
    assert set(spec.task_world_models) <= set(spec.tasks)
    assert spec.world_model_for("push-v3") == spec.task_world_models.get("push-v3")
