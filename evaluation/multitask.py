"""``worldsim eval env=worldsim/MetaWorld-v0 tasks=[push-v3,drawer-open-v3]``: one run over a suite of tasks.

    index = run_multitask(cfg, run_evaluation)   # cfg.tasks non-empty; ``run_evaluation`` sends it here

Each task is a whole evaluation of its own in ``<out>/<task>/``: its zoo (``envs.simulators``
``task_zoos``, unless ``policies`` lists them), its shipped world model (``world_model=default``;
a task without one runs the simulator alone), the same seeds, its own report, and it resumes
like any evaluation. The suite's report in ``<out>/`` (``evaluation.suite_report``) puts the
tasks side by side and adds the overall agreement over every (task, policy) pair.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from evaluation.config import EvalConfig

SUITE_MARK = "suite.json"   # the top folder of a multi-task evaluation (its tasks, in order)


def env_tasks(env_id: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """(the env's tasks, {task: shipped world model}) from its simulator record."""
    from envs.simulators import SIMULATORS, find_simulator

    spec = find_simulator(env_id)
    if spec is None or not spec.tasks:
        with_tasks = ", ".join(s.env_id for s in SIMULATORS if s.tasks)
        raise ValueError(f"env={env_id} has no tasks to list in tasks=[...]; envs with tasks: {with_tasks}")
    return spec.tasks, dict(spec.task_world_models)


def check_tasks(cfg: EvalConfig) -> list[str]:
    """``cfg.tasks`` checked: all tasks of ``cfg.env``, no repeats, without ``task`` or one world-model folder."""
    tasks = [str(t).strip() for t in cfg.tasks]
    known, models = env_tasks(cfg.env)
    if cfg.task is not None:
        raise ValueError(f"task={cfg.task!r} and tasks={tasks}: give one task or a list of them, not both")
    for task in tasks:
        if task not in known:
            other = " (an env id: tasks are one env's tasks; set env= for the env)" if "/" in task else ""
            with_model = ", ".join(t for t in known if t in models) or "none yet"
            without = ", ".join(t for t in known if t not in models) or "none"
            raise ValueError(f"unknown task {task!r} for {cfg.env}{other}; tasks with a world model: {with_model}; "
                             f"tasks without one (simulator only): {without}")
    repeated = sorted({t for t in tasks if tasks.count(t) > 1})
    if repeated:
        raise ValueError(f"tasks lists {repeated} more than once; list each task once")
    if cfg.world_model not in (None, "", "none", "default"):
        raise ValueError(f"world_model={cfg.world_model!r} with tasks={tasks}: a world model is made for one task; "
                         "use world_model=default (each task's shipped model) or none, or evaluate one task=")
    return tasks


def task_config(cfg: EvalConfig, task: str) -> EvalConfig:
    return dataclasses.replace(cfg, task=task, tasks=[], out=str(Path(cfg.out) / task))


def run_multitask(cfg: EvalConfig, run_evaluation: Callable[[EvalConfig], Path]) -> Path:
    """Run (or resume) every task's evaluation with ``run_evaluation`` (the single-task pipeline), then
    write the suite's report; returns ``<out>/index.html``."""
    from evaluation.suite_report import write_suite_report
    from worldsim.io.files import write_json
    from worldsim.io.lock import hold_folder

    tasks = check_tasks(cfg)
    configs = [task_config(cfg, t) for t in tasks]
    for sub in configs:
        sub.validate()
    with hold_folder(cfg.out, "worldsim eval"):
        check_suite_folder(Path(cfg.out))
        write_json(Path(cfg.out) / SUITE_MARK, {"env": cfg.env, "tasks": tasks}, indent=2)
        for task, sub in zip(tasks, configs):
            print(f"worldsim eval: task {task} -> {sub.out}", flush=True)
            run_evaluation(sub)
        return write_suite_report(cfg, tasks)


def check_suite_folder(out: Path) -> None:
    if (out / "records").is_dir():
        raise ValueError(f"{out} holds a single-task evaluation; choose another out for tasks=[...]")
