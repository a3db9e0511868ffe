"""Policy evaluation: batched seeded rollouts, metrics, policy zoos and the report (``worldsim eval``).

    from evaluation.config import EvalConfig
    from evaluation.pipeline import run_evaluation
    run_evaluation(EvalConfig(zoo="quick", episodes=20, out="runs/eval"))   # -> runs/eval/index.html

Modules: ``runner`` (rollouts, per-episode records), ``vector`` (vector envs), ``metrics``
(Wilson, Pearson, Spearman, MMRV, fidelity), ``zoo`` (policy sets), ``policy_specs`` (spec ->
policy, incl. ``bc:PATH``), ``records`` (JSONL store, resume), ``results`` (summaries,
eval_info.json), ``plots`` / ``video`` / ``report`` (the report folder), ``assemble``,
``pipeline``, ``cli_entry``. Importing this package imports none of them (no torch, no mujoco).
"""
