"""Policy zoos: every registered simulator has one of ten or more valid specs; BC runs add checkpoints."""

import pytest

import envs
from envs.simulators import simulator
from evaluation.policy_specs import build_policy, check_spec
from evaluation.zoo import bc_specs, spread, zoo_policies

TABLETOP_ZOOS = simulator("worldsim/TabletopPush-v0").zoos


@pytest.mark.parametrize("env_id", sorted(envs.ENVS))
def test_every_simulator_has_a_default_zoo_of_ten_distinct_valid_specs(env_id):
    specs = zoo_policies("default", env_id)
    assert len(specs) >= 10 and len(set(specs)) == len(specs)
    assert specs[0] == "expert" and "random" in specs
    for spec in specs:
        check_spec(spec)


def test_zoo_specs_build_policies():
    space = envs.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=16).action_space
    for spec in TABLETOP_ZOOS["default"]:
        assert build_policy(spec, "worldsim/TabletopPush-v0", space).action_space == space


def test_bc_runs_add_every_checkpoint(tmp_path):
    for step in (2, 4):
        ckpt = tmp_path / "run" / "checkpoints" / f"step_{step:07d}"
        ckpt.mkdir(parents=True)
        (ckpt / "model.safetensors").write_bytes(b"")
    specs = zoo_policies("quick", "worldsim/TabletopPush-v0", bc=[tmp_path / "run"])
    assert specs[-2:] == [f"bc:{tmp_path}/run/checkpoints/step_0000002", f"bc:{tmp_path}/run/checkpoints/step_0000004"]
    assert bc_specs(tmp_path / "run" / "checkpoints" / "step_0000004") == [f"bc:{tmp_path}/run/checkpoints/step_0000004"]
    assert spread(list(range(8)), 3) == [0, 4, 7] and spread([1, 2], 3) == [1, 2] and spread([1, 2, 3], 1) == [3]
    for step in (6, 8):
        ckpt = tmp_path / "run" / "checkpoints" / f"step_{step:07d}"
        ckpt.mkdir(parents=True)
    assert [s[-2:] for s in bc_specs(tmp_path / "run", per_run=3)] == ["02", "06", "08"]
    with pytest.raises(ValueError, match="holds no BC checkpoint"):
        bc_specs(tmp_path)


def test_unknown_zoo_or_env():
    with pytest.raises(ValueError, match="unknown zoo 'big'.*allowed: default, bc, quick"):
        zoo_policies("big", "worldsim/TabletopPush-v0")
    with pytest.raises(ValueError, match="no policy zoo for env 'worldsim/Other-v0'"):
        zoo_policies("default", "worldsim/Other-v0")


def test_shipped_bc_policies_load_by_their_short_name_and_act():
    """The default zoo's BC policies and the whole bc zoo are shipped under assets/policies: each
    loads from its short name wherever the evaluation runs, reads pixels, and acts in the space."""
    import numpy as np

    from policies.bc_spec import make_bc_policy

    env = envs.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=64)
    obs, _ = env.reset(seed=0)
    batch = {"pixels": {c: img[None] for c, img in obs["pixels"].items()},
             "agent_pos": obs["agent_pos"][None], "environment_state": obs["environment_state"][None]}
    specs = TABLETOP_ZOOS["bc"]
    assert len(specs) == 10 and set(s for s in TABLETOP_ZOOS["default"] if s.startswith("bc:")) <= set(specs)
    for spec in specs:
        policy = make_bc_policy(spec, env.action_space)
        policy.reset(1, seed=0)
        action = policy.act(batch)
        assert policy.reads_pixels and action.shape == (1, 2) and np.all(np.abs(action) <= 1)
    with pytest.raises(ValueError, match="tabletop_push/image_7.*does not exist"):
        make_bc_policy("bc:tabletop_push/image_7", env.action_space)


def test_meta_world_tasks_have_their_own_measured_zoos():
    from envs.metaworld_env import TASKS

    spec = simulator("worldsim/MetaWorld-v0")
    assert set(spec.task_zoos) <= set(TASKS)
    push = zoo_policies("default", "worldsim/MetaWorld-v0", task="push-v3")
    drawer = zoo_policies("default", "worldsim/MetaWorld-v0", task="drawer-open-v3")
    assert push == list(spec.task_zoos["push-v3"]["default"]) and drawer == list(spec.task_zoos["drawer-open-v3"]["default"])
    assert push != drawer
    assert zoo_policies("default", "worldsim/MetaWorld-v0") == push          # the env's default task is push-v3
    assert zoo_policies("default", "worldsim/MetaWorld-v0", task="reach-v3") == list(spec.zoos["default"])
    for task, named in spec.task_zoos.items():
        assert set(named) == set(spec.zoos), task                            # same zoo names for every task
        for specs in named.values():
            for s in specs:
                check_spec(s)
