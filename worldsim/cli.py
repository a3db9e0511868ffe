"""The ``worldsim`` command line: thin wrappers that parse a config and call library functions.

    worldsim generate --env worldsim/TabletopPush-v0 --policy expert,random --episodes 20 --out runs/push
    worldsim generate --source replicator:path/to/isaac_output --out runs/isaac
    worldsim generate --out runs/push image_size=128 workers=2 depth=false
    worldsim train tokenizer|base|policy|judge --data DIR --out DIR [key=value ...]
    worldsim posttrain action|camera|multiview|transfer --base CKPT --data DIR --out DIR
    worldsim augment --model CKPT (--data DIR | --source replicator:DIR) --out DIR
    worldsim eval [--config YAML] [--out DIR] [key=value ...]

Every command prints where its output went and resumes when rerun on the same ``--out``.
"""

from __future__ import annotations

import argparse
import sys


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="roll out policies in a simulator and write a LeRobotDataset v3.0",
                       description="Roll out a policy mix in a simulator (or read a Replicator folder) "
                                   "and write a LeRobotDataset v3.0. Extra settings as key=value: "
                                   "cameras=[top,front] image_size=64 workers=2 seed=0 task=push-v3 "
                                   "max_steps=100 depth=true segmentation=true camera_params=true.")
    p.add_argument("--env", help="env id, e.g. worldsim/TabletopPush-v0 or worldsim/MetaWorld-v0")
    p.add_argument("--policy", help="policy mix: comma-separated specs such as expert,expert+noise:0.3,random")
    p.add_argument("--episodes", type=int, help="number of episodes")
    p.add_argument("--out", required=True, help="output folder (the dataset root)")
    p.add_argument("--source", help="replicator:DIR to build the dataset from a Replicator render folder")
    p.add_argument("--config", help="YAML file with GenerateConfig values")
    p.add_argument("overrides", nargs="*", help="key=value settings")
    p.set_defaults(func=_generate)


def _generate(args) -> str:
    if args.source:
        from worldsim.generation.replicator_dataset import dataset_from_replicator

        return str(dataset_from_replicator(args.source, args.out))
    from worldsim.config import load_config
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import generate

    given = {k: getattr(args, k) for k in ("env", "policy", "episodes", "out") if getattr(args, k) is not None}
    cfg = load_config(GenerateConfig, args.config, args.overrides, **given)
    return str(generate(cfg))


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a tokenizer or a base video model on a LeRobotDataset",
                       description="Train one stage. key=value settings go to the trainer when they name "
                                   "one of its fields (steps, batch_size, lr, ckpt_every, ...), else to the "
                                   "task (clip_len, camera, model.channels, ...). Rerun on the same --out to resume; "
                                   "launch under torchrun for data parallel.")
    p.add_argument("stage", choices=["tokenizer", "base", "policy", "judge", "action"])
    p.add_argument("--data", required=True, help="LeRobotDataset folder (from worldsim generate)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, config.yaml, tb/)")
    p.add_argument("--tokenizer", help="tokenizer run or checkpoint (stages base, judge, action); pixels:P for raw pixels")
    p.add_argument("--config", help="YAML with trainer: and task: sections")
    p.add_argument("overrides", nargs="*", help="key=value settings")
    p.set_defaults(func=_train)


def _locked(out: str, command: str):
    """The output folder's lock (worldsim.io.lock), taken by the launching process: under torchrun
    only rank 0 takes it (the other ranks are its workers)."""
    import contextlib
    import os

    from worldsim.io.lock import check_folder_path, hold_folder

    check_folder_path(out)
    return hold_folder(out, command) if os.environ.get("RANK", "0") == "0" else contextlib.nullcontext()


def _train(args) -> str:
    from worldsim.training.stages import train_stage

    with _locked(args.out, f"worldsim train {args.stage}"):
        return str(train_stage(args.stage, args.data, args.out, args.config, args.overrides, args.tokenizer))


def _add_posttrain(sub) -> None:
    p = sub.add_parser("posttrain", help="post-train a base video model (action, camera, multiview, transfer)",
                       description="Post-train a base checkpoint; key=value settings as for `worldsim train`.")
    p.add_argument("recipe", choices=["action", "camera", "multiview", "transfer"])  # stages.RECIPES
    p.add_argument("--base", required=True, help="base model run or checkpoint (worldsim train base)")
    p.add_argument("--data", required=True, help="LeRobotDataset folder")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--tokenizer", help="tokenizer run or checkpoint")
    p.add_argument("--config", help="YAML with trainer: and task: sections")
    p.add_argument("overrides", nargs="*", help="key=value settings")
    p.set_defaults(func=_posttrain)


def _posttrain(args) -> str:
    from worldsim.training.stages import posttrain_stage

    with _locked(args.out, f"worldsim posttrain {args.recipe}"):
        return str(posttrain_stage(args.recipe, args.base, args.data, args.out, args.config, args.overrides,
                                   args.tokenizer))


def _add_augment(sub) -> None:
    p = sub.add_parser("augment", help="re-render a dataset through a transfer model (sim-to-real augmentation)",
                       description="Compute control maps (depth, segmentation, edges, blur) from a LeRobotDataset "
                                   "or a Replicator folder, generate new frames with a `worldsim posttrain "
                                   "transfer` model and write a LeRobotDataset with the original actions and states.")
    p.add_argument("--model", required=True, help="transfer run or checkpoint (worldsim posttrain transfer)")
    p.add_argument("--data", help="LeRobotDataset folder to augment")
    p.add_argument("--source", help="replicator:DIR, a Replicator render folder to augment")
    p.add_argument("--out", required=True, help="output LeRobotDataset folder")
    p.add_argument("--config", help="YAML with AugmentConfig values")
    p.add_argument("overrides", nargs="*", help="key=value settings")
    p.set_defaults(func=_augment)


def _augment(args) -> str:
    from posttrain.augment.command import augment_command

    return str(augment_command(args.model, args.data, args.source, args.out, args.config, args.overrides))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="worldsim", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    _add_train(sub)
    _add_posttrain(sub)
    _add_augment(sub)
    from evaluation.cli_entry import add_eval_parser

    add_eval_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    stray = [r for r in rest if r.startswith("-") or "=" not in r]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    args.overrides = list(getattr(args, "overrides", [])) + rest   # key=value may come anywhere
    try:
        where = args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"worldsim {args.command}: error: {e}", file=sys.stderr)
        return 2
    print(f"worldsim {args.command}: output in {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
