"""The ``worldsim train STAGE`` entry: a run config (trainer + task) from YAML and overrides, then fit.

    train_stage("tokenizer", data="runs/push_train", out="runs/tokenizer", overrides=["steps=2000"])
    torchrun --nproc_per_node=2 -m worldsim.cli train base --data D --out O --tokenizer T

Overrides are ``key=value``; a key naming a ``TrainerConfig`` field goes to the trainer
(``steps=2000``), any other to the task (``model.hidden_size=256``, ``clip_len=9``); the full
forms ``trainer.KEY`` and ``task.KEY`` work too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from pathlib import Path

from worldsim.config import load_config
from worldsim.entry_points import load_entry_point
from worldsim.training.trainer_config import TrainerConfig

# stage -> "module:TaskClass", imported by name when the stage runs (so this layer never imports a
# posttrain recipe); the config class is the task class's name + "Config", found in the same module
TASKS = {
    "tokenizer": "worldsim.training.tasks.tokenizer_task:TokenizerTask",
    "base": "worldsim.training.tasks.base_task:BaseTask",
    "policy": "policies.bc_task:PolicyTask",
    "judge": "posttrain.action.judge_task:JudgeTask",
    "action": "posttrain.action.task:ActionTask",
}
# post-training recipes (`worldsim posttrain RECIPE --base CKPT`), same convention
RECIPES = {
    "action": "posttrain.action.task:ActionTask",
    "camera": "posttrain.camera.task:CameraTask",
    "multiview": "posttrain.multiview.task:MultiViewTask",
    "transfer": "posttrain.transfer.task:TransferTask",
}
STAGES = tuple(TASKS)
TOKENIZER_STAGES = ("base", "judge", "action")  # stages that take --tokenizer


def _task_classes(stage: str, table: dict[str, str] = TASKS):
    if stage not in table:
        raise ValueError(f"unknown stage {stage!r}; allowed: {', '.join(table)}")
    cls = load_entry_point(table[stage])
    return cls, load_entry_point(table[stage] + "Config")


def route_overrides(overrides, task_cfg_cls=None) -> list[str]:
    """``key=value`` to ``trainer.key`` or ``task.key``; with ``task_cfg_cls``, a key that is neither is
    a ValueError listing both sets of keys."""
    trainer_keys = [f.name for f in dataclasses.fields(TrainerConfig)]
    routed = []
    for item in overrides:
        key = item.split("=", 1)[0]
        if key.startswith(("trainer.", "task.")):
            routed.append(item)
            continue
        top = key.split(".")[0]
        if task_cfg_cls is not None and top not in trainer_keys and \
                top not in {f.name for f in dataclasses.fields(task_cfg_cls)}:
            task_keys = ", ".join(f.name for f in dataclasses.fields(task_cfg_cls))
            raise ValueError(f"unknown config key {top!r}; trainer keys: {', '.join(trainer_keys)}; "
                             f"task keys ({task_cfg_cls.__name__}): {task_keys}")
        routed.append(("trainer." if top in trainer_keys else "task.") + item)
    return routed


def run_config(stage: str, yaml_path=None, overrides=(), table: dict[str, str] = TASKS, **task_values):
    task_cls, task_cfg_cls = _task_classes(stage, table)

    RunConfig = dataclasses.make_dataclass(f"{stage.capitalize()}RunConfig", [
        ("trainer", TrainerConfig, field(default_factory=TrainerConfig)),
        ("task", task_cfg_cls, field(default_factory=task_cfg_cls)),
    ])

    given = {"task": {k: v for k, v in task_values.items() if v is not None and k != "out"}}
    if task_values.get("out"):
        given["trainer"] = {"out": task_values["out"]}
    cfg = load_config(RunConfig, yaml_path, route_overrides(overrides, task_cfg_cls), **given)
    return task_cls, cfg


def train_stage(stage: str, data: str, out: str, yaml_path=None, overrides=(), tokenizer: str | None = None) -> Path:
    from worldsim.training.trainer import Trainer

    extra = {"tokenizer": tokenizer} if stage in TOKENIZER_STAGES else {}
    if stage not in TOKENIZER_STAGES and tokenizer:
        raise ValueError(f"--tokenizer is only for `worldsim train` {'|'.join(TOKENIZER_STAGES)}")
    task_cls, cfg = run_config(stage, yaml_path, overrides, data=data, out=out, **extra)
    return Trainer(cfg.trainer, task_cls(cfg.task)).fit()


def posttrain_stage(recipe: str, base: str, data: str, out: str, yaml_path=None, overrides=(),
                    tokenizer: str | None = None) -> Path:
    """``worldsim posttrain RECIPE --base CKPT --data D --out O``: a recipe's task from a base checkpoint."""
    from worldsim.training.trainer import Trainer

    if recipe not in RECIPES:
        raise ValueError(f"unknown post-training recipe {recipe!r}; allowed: {', '.join(RECIPES)}")
    extra = {"tokenizer": tokenizer} if tokenizer else {}
    task_cls, cfg = run_config(recipe, yaml_path, overrides, table=RECIPES, data=data, out=out, base=base, **extra)
    return Trainer(cfg.trainer, task_cls(cfg.task)).fit()
