"""What one evaluation worker runs: a lane of tasks, each a column's closed-loop episodes or its
open-loop replays of the simulator's recorded episodes.

    lane = Lane("world_model", (Rollouts(wm, jobs), Replays(wm, "simulator", keys), Shared(perceived, chunks)))
    run_lane(lane, cfg, described, notify=print)      # in a worker process or in this one

Every finished episode goes to the folder's ``RecordStore`` at once, and a task first drops the
jobs already recorded: a lane started again after its worker died, or after Ctrl-C, carries on
where it stopped, with no episode lost or run twice. ``Shared`` columns are split in chunks that
whichever lane gets there first claims (``RecordStore.claim``), so both workers stay busy to
the end whatever each column costs. ``Replays`` waits until the simulator's
recorded episodes are stored (another worker may still be writing them), then replays each one's
actions from its seed in the column's env (the same env its ``Rollouts`` used). ``notify`` gets
``{"kind": "episode", "column", "policy", "success"}`` per stored episode and ``{"kind":
"skipped", "column", "count"}`` for planned replays that have nothing to replay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Union

from evaluation.columns import Column
from evaluation.config import EvalConfig
from evaluation.records import RecordStore
from evaluation.replay import ReplayPolicy, replay_jobs, replay_name, wait_for
from evaluation.runner import Job, run_jobs


@dataclass(frozen=True)
class Rollouts:
    """Closed-loop episodes of one column."""

    column: Column
    jobs: tuple[Job, ...]

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def size(self) -> int:
        return len(self.jobs)


@dataclass(frozen=True)
class Replays:
    """The ``source`` column's recorded episodes ``keys`` replayed open loop in ``column``'s env."""

    column: Column
    source: str
    keys: tuple[tuple[str, int], ...]

    @property
    def name(self) -> str:
        return replay_name(self.column.name)

    @property
    def size(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class Shared:
    """Closed-loop episodes of a column every lane helps with: chunks of jobs, each run by the
    lane that claims it first, written to that lane's shard of the column."""

    column: Column
    chunks: tuple[tuple[Job, ...], ...]

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)


Task = Union[Rollouts, Replays, Shared]


@dataclass(frozen=True)
class Lane:
    name: str
    tasks: tuple[Task, ...]

    @property
    def size(self) -> int:
        return sum(t.size for t in self.tasks)


class LaneRun:
    """One run of a lane: its store handle, one vector env per column (reused by its replays)."""

    def __init__(self, cfg: EvalConfig, described: dict, notify: Callable[[dict], None], poll_s: float = 0.5):
        self.cfg, self.described, self.notify, self.poll_s = cfg, described, notify, poll_s
        self.store = RecordStore.attach(cfg.out)
        self.envs: dict[str, object] = {}

    def env(self, column: Column, jobs: int):
        from evaluation.vector import make_vector_env

        if column.name not in self.envs:
            self.envs[column.name] = make_vector_env(column.env_id, min(self.cfg.num_envs, jobs), column.env_kwargs)
        return self.envs[column.name]

    def close(self) -> None:
        for env in self.envs.values():
            env.close()

    def rollouts(self, task: Rollouts) -> None:
        from evaluation.policy_specs import build_policy

        done = self.store.done(task.name)
        jobs = [j for j in task.jobs if (j.policy, j.episode) not in done]
        if not jobs:
            return
        env, cfg = self.env(task.column, len(jobs)), self.cfg
        space, kwargs, name = env.single_action_space, cfg.env_kwargs_resolved(), self.described["task"]
        self.run(task.name, env, jobs, lambda job: build_policy(job.policy, cfg.env, space, kwargs, name), True)

    def shared(self, task: Shared, lane: str) -> None:
        from evaluation.policy_specs import build_policy

        cfg = self.cfg
        for i, chunk in enumerate(task.chunks):
            if not self.store.claim(task.name, i, lane):
                continue
            done = self.store.done(task.name, shard=lane)
            jobs = [j for j in chunk if (j.policy, j.episode) not in done]
            if not jobs:
                continue
            env = self.env(task.column, cfg.num_envs)
            space, kwargs, name = env.single_action_space, cfg.env_kwargs_resolved(), self.described["task"]
            self.run(task.name, env, jobs, lambda job: build_policy(job.policy, cfg.env, space, kwargs, name), True,
                     shard=lane)

    def replays(self, task: Replays) -> None:
        done = self.store.done(task.name)
        keys = [k for k in task.keys if k not in done]
        if not keys:
            return
        wait_for(self.store, task.source, keys, self.poll_s)
        jobs, actions = replay_jobs(self.store, task.source, keys)
        if len(jobs) < len(keys):
            self.notify({"kind": "skipped", "column": task.name, "count": len(keys) - len(jobs)})
        if jobs:
            env = self.env(task.column, len(jobs))
            self.run(task.name, env, jobs, lambda job: ReplayPolicy(actions[(job.policy, job.episode)]), False)

    def run(self, name: str, env, jobs: list[Job], policy_for, reuse: bool, shard: str | None = None) -> None:
        # one timing row per stored episode (and one for the time after the last): a run killed
        # mid-way keeps the time of the episodes it stored, so the report's totals cover every run
        last = [time.perf_counter()]

        def tick(episodes: int) -> None:
            now = time.perf_counter()
            self.store.add_time(name, episodes, now - last[0])
            last[0] = now

        def on_episode(record: dict, recording: dict | None) -> None:
            self.store.append(name, record, recording, shard)
            tick(1)
            self.notify({"kind": "episode", "column": name, "policy": record["policy"],
                         "success": bool(record[f"success_{self.cfg.success}"])})

        try:
            run_jobs(env, jobs, policy_for, on_episode, reuse_policies=reuse)
        finally:
            tick(0)


def run_lane(lane: Lane, cfg: EvalConfig, described: dict, notify: Callable[[dict], None],
             poll_s: float = 0.5) -> None:
    """Run every task of ``lane`` in order, skipping recorded episodes."""
    run = LaneRun(cfg, described, notify, poll_s)
    try:
        for task in lane.tasks:
            if isinstance(task, Rollouts):
                run.rollouts(task)
            elif isinstance(task, Shared):
                run.shared(task, lane.name)
            else:
                run.replays(task)
    finally:
        run.close()
