"""The simulator renders only what is read, and that changes no result: the same records, seeds and
outcomes as the rendering path, episode for episode."""

import json

import numpy as np
import pytest

from evaluation.columns import Column
from evaluation.config import EvalConfig
from evaluation.pipeline import plan, run_evaluation
from evaluation.runner import Job, run_jobs
from evaluation.vector import make_vector_env
from policies import make_policy
from worldsim.config import load_config

from eval_helpers import ENV_ID, SMALL_OVERRIDES

LONGER = {"cameras": ("top",), "image_size": 16, "max_episode_steps": 100}
SPECS = ("expert", "expert+eps:0.5", "expert+stuck:0.5", "random")


class Watch:
    """The real policy, noting whether each frame it is shown holds anything but zeros."""

    def __init__(self, policy, seen: list):
        self.policy, self.seen, self.action_space = policy, seen, policy.action_space

    def reset(self, num_envs, seed=None):
        self.policy.reset(num_envs, seed)

    def act(self, obs):
        self.seen.append(bool(obs["pixels"]["top"].any()))
        return self.policy.act(obs)


def rollout(render_of, num_envs: int = 3):
    """{(policy, episode): record}, and the blank/drawn flags of every frame the policies saw."""
    env = make_vector_env(ENV_ID, num_envs, LONGER)
    jobs = [Job(spec, k, 40 + k, render=render_of(spec, k)) for spec in SPECS for k in range(3)]
    got, seen = {}, []
    try:
        run_jobs(env, jobs, lambda job: Watch(make_policy(job.policy, ENV_ID, env.single_action_space), seen),
                 lambda record, _: got.__setitem__((record["policy"], record["episode"]), record))
    finally:
        env.close()
    return got, seen


@pytest.fixture(scope="module")
def drawn():
    return rollout(lambda spec, k: True)


def test_episodes_without_rendering_give_the_rendering_paths_records(drawn):
    records, seen = drawn
    blind, blind_seen = rollout(lambda spec, k: False)
    assert blind == records and len(records) == 12
    assert all(seen) and not any(blind_seen)            # the frames really were (not) drawn
    assert {r["seed"] for r in blind.values()} == {40, 41, 42}
    assert 0 < sum(r["success_any"] for r in records.values()) < 12   # outcomes that can differ, and agree


def test_mixed_render_settings_in_one_batch_change_nothing(drawn):
    # slots reset in one call per render setting; which slot renders must not matter
    mixed, seen = rollout(lambda spec, k: (SPECS.index(spec) + k) % 2 == 0, num_envs=4)
    assert mixed == drawn[0]
    assert any(seen) and not all(seen)


def test_the_plan_renders_recorded_episodes_and_pixel_readers_only():
    cfg = EvalConfig(episodes=3, video_episodes=1)
    sim = Column("simulator", "simulator", ENV_ID, {}, render_switch=True)
    wm = Column("world_model", "world model", "worldsim/WorldModel-v0", {})
    reads = {"expert": False, "bc:run": True}
    jobs = {(j.policy, j.episode): j for j in plan(cfg, list(reads), sim, reads, done=set())}
    assert [(k, j.render, j.record_frames) for k, j in jobs.items() if k[0] == "expert"] == [
        (("expert", 0), True, True), (("expert", 1), False, False), (("expert", 2), False, False)]
    assert all(j.render for k, j in jobs.items() if k[0] == "bc:run")
    assert all(j.render is None for j in plan(cfg, list(reads), wm, reads, done=set()))   # no switch: env default
    always = plan(EvalConfig(episodes=3, video_episodes=1, render_all=True), ["expert"], sim, reads, set())
    assert all(j.render for j in always)


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_an_evaluation_that_renders_only_what_is_read_equals_one_that_renders_everything(tmp_path):
    common = [*SMALL_OVERRIDES, "max_steps=20", "policies=[expert,expert+eps:0.5,random]", "episodes=3",
              "video_episodes=1", "num_envs=2", "parallel=false"]
    runs = {}
    for name, extra in (("auto", []), ("all", ["render_all=true"])):
        out = tmp_path / name
        run_evaluation(load_config(EvalConfig, overrides=[*common, f"out={out}", *extra]))
        runs[name] = (out, {(r["policy"], r["episode"]): {k: v for k, v in r.items() if k != "finished_at"}
                            for r in lines(out / "records" / "simulator.jsonl")})
    (out_a, auto), (out_b, every) = runs["auto"], runs["all"]
    assert auto == every and len(auto) == 9
    for record in auto.values():
        if record.get("frames"):
            a, b = np.load(out_a / "records" / record["frames"]), np.load(out_b / "records" / record["frames"])
            assert a.files == b.files and all(np.array_equal(a[f], b[f]) for f in a.files)
    assert sum("frames" in r for r in auto.values()) == 3          # episode 0 of each policy kept its frames
