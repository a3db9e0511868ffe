"""``worldsim eval``: roll out a set of policies in the simulator (and world model), then write the report.

    from evaluation.config import EvalConfig
    from evaluation.pipeline import run_evaluation
    index = run_evaluation(EvalConfig(policies=["expert", "random"], episodes=20, out="runs/eval"))

Columns (``evaluation.columns``): the simulator, the world model, the simulator read through
the world model's perception, optionally the simulator on other seeds. Episode k of every
policy is reset with ``seed + k`` in the simulator and the world model alike.

Two lanes run at once, each in its own worker process (``evaluation.workers``): the
simulator-side columns, and the world model, which then replays the simulator's recorded
episodes open loop (for fidelity) once they are stored; both then share the perceived column
in chunks (``evaluation.lanes.Shared``). The simulator renders only what is
read: an episode whose policy reads no pixels and whose frames are not kept steps physics alone.
The report (``evaluation.assemble``) is built from the stored records only.

Resumable: each finished episode is appended to ``<out>/records/<column>.jsonl`` at once; a
rerun (after Ctrl-C, a kill, or with more episodes or policies) skips recorded episodes, and a
rerun of a finished evaluation only rebuilds the report. A folder holding another evaluation
(other env, env arguments, seed or world model, or a changed BC checkpoint) is refused with the
differing settings named.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from evaluation.assemble import WALL, build_report
from evaluation.columns import Column, make_columns
from evaluation.config import RESUMABLE, EvalConfig
from evaluation.lanes import Lane, Replays, Rollouts, Shared
from evaluation.policy_specs import build_policy, check_spec, fingerprint
from evaluation.records import RecordStore
from evaluation.replay import recorded_keys, replay_name
from evaluation.runner import Job
from evaluation.workers import run_lanes
from worldsim.io.lock import check_folder_path, hold_folder


def identity(cfg: EvalConfig) -> dict:
    from worldsim.config import to_dict

    return {k: v for k, v in to_dict(cfg).items() if k not in RESUMABLE}


def resolve_policies(cfg: EvalConfig) -> list[str]:
    from evaluation.zoo import zoo_policies

    specs = [str(s).strip() for s in cfg.policies] or zoo_policies(cfg.zoo, cfg.env, cfg.bc, cfg.bc_per_run, cfg.task)
    specs = list(dict.fromkeys(s for s in specs if s))
    if not specs:
        raise ValueError("no policies to evaluate: set policies=[spec,...] or a zoo")
    for spec in specs:
        check_spec(spec)
    return specs


def describe_env(cfg: EvalConfig, specs: list[str]) -> dict:
    """Build the simulator once (clear errors for bad env arguments) and every policy once:
    {"task", "fps", "reads_pixels": {spec: bool}} (plain data, sent to the workers)."""
    import envs
    from policies.base import reads_pixels

    env = envs.make(cfg.env, **cfg.env_kwargs_resolved())
    try:
        env.reset(seed=cfg.seed)
        task = str(getattr(env.unwrapped, "task", cfg.env))
        pixels = {spec: reads_pixels(build_policy(spec, cfg.env, env.action_space, cfg.env_kwargs_resolved(), task))
                  for spec in specs}
        return {"task": task, "fps": int(env.metadata.get("render_fps", 10)), "reads_pixels": pixels}
    finally:
        env.close()


def plan(cfg: EvalConfig, specs: list[str], column: Column, reads_pixels: dict, done: set) -> list[Job]:
    """The column's episodes not yet recorded, those that keep their frames first. A simulator
    column renders an episode only if its frames are kept or its policy reads pixels."""
    keep = column.paired and column.own_frames   # frames for videos and fidelity
    jobs = []
    for spec in specs:
        for k in range(cfg.episodes):
            if (spec, k) in done:
                continue
            record = keep and k < cfg.video_episodes
            render = (record or reads_pixels[spec] or cfg.render_all) if column.render_switch else None
            jobs.append(Job(spec, k, cfg.seed + column.seed_offset + k, record_frames=record, render=render))
    return sorted(jobs, key=lambda job: not job.record_frames)


def plan_lanes(cfg: EvalConfig, columns: list[Column], specs: list[str], described: dict,
               store: RecordStore) -> list[Lane]:
    """Each lane's tasks: its columns' episodes, then (world model) replays of the simulator's recordings."""
    tasks: dict[str, list] = {}
    shared = []
    for c in columns:
        jobs = plan(cfg, specs, c, described["reads_pixels"], store.done(c.name))
        if c.shared:
            shared.append(Shared(c, tuple(tuple(jobs[i:i + cfg.num_envs]) for i in range(0, len(jobs), cfg.num_envs))))
        tasks.setdefault(c.lane, []).append(Rollouts(c, tuple(jobs)) if not c.shared else None)
    sim = {(r["policy"], int(r["episode"])): r for r in store.records(columns[0].name)}
    # recorded episodes still to come, or stored with frames (one a policy ended by failing has none)
    keys = [k for k in recorded_keys(specs, cfg.episodes, cfg.video_episodes) if k not in sim or sim[k].get("frames")]
    for c in columns[1:]:
        if c.paired and c.own_frames and keys:
            done = store.done(replay_name(c.name))
            tasks[c.lane].append(Replays(c, columns[0].name, tuple(k for k in keys if k not in done)))
    for lane in tasks.values():
        lane.extend(s for s in shared if s.size)   # each lane helps with the shared columns at its end
    store.clear_claims()
    return [Lane(name, tuple(t for t in lane if t is not None and t.size)) for name, lane in tasks.items()]


class Progress:
    """Worker events onto the progress bar: one tick per stored episode, wins per policy."""

    def __init__(self, bar, store: RecordStore | None = None):
        self.bar, self.wins, self.episodes, self.store = bar, Counter(), 0, store
        self.last = time.perf_counter()

    def add_time(self, episodes: int) -> None:
        """A wall-time row (per stored episode, so a killed run keeps the time it spent)."""
        now = time.perf_counter()
        if self.store is not None:
            self.store.add_time(WALL, episodes, now - self.last)
        self.last = now

    def __call__(self, event: dict) -> None:
        if event["kind"] == "notice":
            self.bar.write(event["message"], file=sys.stderr)
            return
        if event["kind"] == "skipped":
            self.bar.total -= event["count"]
            self.bar.refresh()
            return
        key = (event["column"], event["policy"])
        self.wins[key] += event["success"]
        self.bar.set_postfix_str(f"{key[0]}: {key[1][:32]} {self.wins[key]} wins", refresh=False)
        self.bar.update(1)
        self.episodes += 1
        self.add_time(1)


def run_evaluation(cfg: EvalConfig) -> Path:
    """Run (or resume) the evaluation ``cfg`` describes; returns ``<out>/index.html``."""
    cfg.validate()
    if cfg.tasks:   # a suite of tasks: one evaluation each, and a report over all (evaluation.multitask)
        from evaluation.multitask import run_multitask

        return run_multitask(cfg, run_evaluation)
    check_folder_path(cfg.out)
    cfg = dataclasses.replace(cfg, cameras=cfg.cameras_resolved())   # the identity names them (resume)
    with hold_folder(cfg.out, "worldsim eval"):
        return _run_evaluation(cfg)


def _run_evaluation(cfg: EvalConfig) -> Path:
    columns = make_columns(cfg)
    specs = resolve_policies(cfg)
    described = describe_env(cfg, specs)
    store = RecordStore(cfg.out, identity(cfg), {s: fingerprint(s) for s in specs})
    lanes = [lane for lane in plan_lanes(cfg, columns, specs, described, store) if lane.size]
    shared = {t.name: t.size for lane in lanes for t in lane.tasks if isinstance(t, Shared)}
    total = sum(lane.size for lane in lanes) - sum(shared.values()) * (len(lanes) - 1)  # shared: counted once
    if total:
        run_all(cfg, lanes, described, store, total)
    return build_report(cfg, columns, specs, store, described)


def run_all(cfg: EvalConfig, lanes: list[Lane], described: dict, store: RecordStore, total: int) -> None:
    with tqdm(total=total, desc="episodes", unit="ep", dynamic_ncols=True, disable=not cfg.progress) as bar:
        progress = Progress(bar, store)
        try:
            run_lanes(lanes, cfg, described, progress, parallel=cfg.parallel)
        except KeyboardInterrupt:
            print(f"worldsim eval: interrupted; finished episodes are kept in {Path(cfg.out) / 'records'}: "
                  "rerun the same command to resume", file=sys.stderr, flush=True)
            raise
        finally:
            progress.add_time(0)
