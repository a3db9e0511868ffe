"""Train the default world model for a simulator from a dataset, a tokenizer and a base DiT.

    OMP_NUM_THREADS=1 python -m posttrain.action.default_model --data runs/push_train \
        --tokenizer runs/tokenizer --base runs/base --out assets/world_models/tabletop_push_latent
    OMP_NUM_THREADS=1 python -m posttrain.action.default_model --data runs/push_train \
        --tokenizer pixels:8 --out runs/wm_pixels            # the exact-pixel deterministic baseline

Stages (each a resumable ``Trainer`` run under ``--work``; rerun the same command to resume):
  1. encode every frame once with the tokenizer (``<work>/latents.safetensors``);
  2. ``deterministic``: the conv next-latent regressor (the deterministic baseline of docs/design.md);
  3. ``diffusion`` (with ``--base``): the base DiT post-trained with the action embedding;
  4. ``judges``: success and reward judges from the simulator's labels;
  5. export: one world-model folder (``--out``) with both predictors; the default predictor is
     the one with the better held-out rollout PSNR (``--default`` overrides). ``<out>/README.md``
     records the command, the stage settings and the held-out metrics.
About 15 minutes on 1-2 CPU cores with the default step counts (``--scale`` multiplies them).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from worldsim.config import load_config
from worldsim.training.trainer import Trainer, TrainerConfig


@dataclass
class Stage:
    name: str
    steps: int
    batch_size: int
    lr: float
    task: dict = field(default_factory=dict)


def stages(args) -> list[Stage]:
    common = {"data": args.data, "tokenizer": args.tokenizer, "latent_cache": str(Path(args.work) / "latents.safetensors"),
              "cameras": args.cameras, "context_frames": args.context_frames}
    scale = args.scale
    out = [Stage("deterministic", int(2500 * scale), 32, 1e-3,
                 {**common, "predictor": "deterministic", "network": "conv", "context_noise": args.context_noise})]
    if args.base:
        out.append(Stage("diffusion", int(1200 * scale), 16, 2e-4,
                         {**common, "predictor": "diffusion", "network": "dit", "base": args.base,
                          "sample_steps": args.sample_steps, "lora": {"rank": args.lora_rank}}))
    if args.dit_regressor and args.base:
        out.append(Stage("deterministic_dit", int(1200 * scale), 16, 2e-4,
                         {**common, "predictor": "deterministic", "network": "dit", "base": args.base}))
    judge = {k: common[k] for k in ("data", "tokenizer", "latent_cache", "cameras")}
    out.append(Stage("judges", int(1500 * scale), 64, 1e-3, judge))
    return out


def run_stage(stage: Stage, work: Path, latent_scale: float, batch_scale: float = 1.0) -> Path:
    from posttrain.action.config import ActionTaskConfig, JudgeTaskConfig
    from posttrain.action.judge_task import JudgeTask
    from posttrain.action.task import ActionTask

    batch = max(1, round(stage.batch_size * batch_scale))
    trainer = TrainerConfig(out=str(work / stage.name), steps=stage.steps, batch_size=batch, lr=stage.lr,
                            warmup_steps=min(100, stage.steps // 10), ckpt_every=max(1, stage.steps // 4),
                            ema_decay=0.99, log_every=25)
    if stage.name == "judges":
        task = JudgeTask(load_config(JudgeTaskConfig, **stage.task, latent_scale=latent_scale))
    else:
        task = ActionTask(load_config(ActionTaskConfig, **stage.task))
    print(f"[default_model] stage {stage.name}: {stage.steps} steps -> {trainer.out}", flush=True)
    return Trainer(trainer, task).fit()


def base_latent_scale(base: str) -> float:
    from posttrain.common.base import base_task_config

    return float(base_task_config(base).get("latent_scale", 1.0)) if base else 1.0


def pick_default(metrics: dict, names: list[str]) -> str:
    """The predictor with the best held-out open-loop rollout PSNR (then one-step PSNR)."""
    def score(name):
        m = metrics.get(name, {})
        rollout = [v for k, v in m.items() if k.startswith("eval/rollout_psnr")]
        return (rollout[0] if rollout else float("-inf"), m.get("eval/next_frame_psnr", float("-inf")))
    return max(names, key=score)


def write_readme(out: Path, argv: list[str], runs: dict, metrics: dict, default: str, seconds: float) -> None:
    lines = ["# World model", "", "Made on this machine by:", "", "```",
             "OMP_NUM_THREADS=1 python -m posttrain.action.default_model " + " ".join(shlex.quote(a) for a in argv), "```", "",
             f"Default predictor: `{default}` (best held-out rollout PSNR). Wall time: {seconds / 60:.1f} min.", "",
             "| piece | run | held-out metrics |", "|---|---|---|"]
    for name, path in runs.items():
        shown = {k.removeprefix("eval/"): round(v, 4) for k, v in metrics.get(name, {}).items() if k.startswith("eval/")}
        lines.append(f"| {name} | `{path}` | {json.dumps(shown)} |")
    (out / "README.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    from posttrain.action.export import export_world_model
    from worldsim.io import read_meta

    started, work = time.time(), Path(args.work)
    if not args.cameras and args.base:
        from posttrain.common.base import base_task_config

        args.cameras = [base_task_config(args.base)["camera"]]
    latent_scale = base_latent_scale(args.base)
    runs = {s.name: run_stage(s, work, latent_scale, args.batch_scale) for s in stages(args)}
    predictors = {k: str(v) for k, v in runs.items() if k != "judges"}
    metrics = {k: read_meta(v).get("metrics", {}) for k, v in runs.items()}
    default = args.default or pick_default(metrics, list(predictors))
    out = export_world_model(args.out, args.tokenizer, predictors, str(runs["judges"]), args.data, default_predictor=default,
                             provenance={"command": "python -m posttrain.action.default_model " + " ".join(argv)})
    write_readme(out, argv, {k: str(v) for k, v in runs.items()}, metrics, default, time.time() - started)
    print(f"[default_model] world model in {out} (default predictor: {default})", flush=True)
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m posttrain.action.default_model", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="LeRobotDataset from worldsim generate")
    p.add_argument("--tokenizer", required=True, help="tokenizer run/checkpoint (temporal_compression=1), or "
                                                       "pixels:8 for exact 8x8 pixel patches (no base then)")
    p.add_argument("--context-noise", type=float, default=0.0, help="deterministic: noise on context latents")
    p.add_argument("--base", default="", help="base DiT run/checkpoint (worldsim train base); without it only "
                                              "the deterministic predictor is trained")
    p.add_argument("--out", required=True, help="world-model folder to write")
    p.add_argument("--work", default="runs/world_model_work", help="folder for the stage runs (resumable)")
    p.add_argument("--cameras", type=lambda s: [c for c in s.split(",") if c], default=[],
                   help="comma-separated cameras (default: the base model's camera)")
    p.add_argument("--context-frames", type=int, default=1)
    p.add_argument("--sample-steps", type=int, default=3, help="diffusion sampling steps per env step")
    p.add_argument("--lora-rank", type=int, default=0, help="LoRA on the base DiT (0: full fine-tuning)")
    p.add_argument("--dit-regressor", action="store_true", help="also train the DiT trunk as a deterministic regressor")
    p.add_argument("--default", help="default predictor name (default: best rollout PSNR)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every stage's step count")
    p.add_argument("--batch-scale", type=float, default=1.0, help="multiply every stage's batch size")
    return p.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
