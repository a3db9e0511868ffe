"""The ``worldsim eval`` subcommand: parse the config, call ``run_evaluation``.

Registered in ``worldsim/cli.py`` with ``add_eval_parser(sub)``; on its own:

    python -m evaluation.cli_entry --out runs/eval episodes=100 policies=[expert,random]
"""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Roll out policies in the simulator (and a world model) and write a report folder: index.html, "
    "eval_info.json (lerobot-eval's schema), results.json. Settings as key=value: env=ID task=push-v3 "
    "cameras=[top] image_size=64 max_steps=N policies=[expert,expert+noise:0.5,bc:RUN] zoo=default|quick "
    "bc=[RUN] bc_per_run=3 episodes=100 seed=0 num_envs=16 success=any|end world_model=default|CKPT|none "
    "perception=true resampled_sim=false video_episodes=1 bootstrap=1000 parallel=true render_all=false. "
    "Rerun on the same --out to resume (after Ctrl-C too); a rerun of a finished evaluation only rebuilds "
    "the report."
)


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="evaluate policies in the simulator / world model and write a report",
                              description=DESCRIPTION)
    p.add_argument("--config", help="YAML file with EvalConfig values")
    p.add_argument("--out", help="report folder (default runs/eval)")
    p.add_argument("overrides", nargs="*", help="key=value settings")
    p.set_defaults(func=run_eval)
    return p


def run_eval(args) -> str:
    """``args``: ``config``, ``out``, ``overrides`` (as parsed above). Returns the report's index.html."""
    from evaluation.config import EvalConfig
    from evaluation.pipeline import run_evaluation
    from worldsim.config import load_config

    given = {"out": args.out} if getattr(args, "out", None) else {}
    cfg = load_config(EvalConfig, getattr(args, "config", None), list(getattr(args, "overrides", []) or []), **given)
    return str(run_evaluation(cfg))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="worldsim")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *(argv or [])] if argv is not None else None)
    try:
        print(f"worldsim eval: output in {args.func(args)}")
    except (ValueError, FileNotFoundError) as e:
        print(f"worldsim eval: error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
