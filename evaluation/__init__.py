"""Policy evaluation: batched seeded rollouts, metrics, policy zoos and the report (``worldsim eval``).

    from evaluation.config import EvalConfig
    from evaluation.pipeline import run_evaluation
    run_evaluation(EvalConfig(zoo="quick", episodes=20, out="runs/eval"))   # -> runs/eval/index.html

Modules: ``runner`` (rollouts, per-episode records), ``vector`` (vector envs), ``columns``
(simulator / world model / perception columns), ``lanes`` (what a worker runs: a column's
episodes, open-loop replays via ``replay``), ``workers`` (lanes in spawned processes at once,
restarts, Ctrl-C), ``metrics`` (Wilson, Pearson, Spearman, MMRV, bootstrap intervals,
fidelity), ``zoo`` (policy sets), ``unseen`` (policies a world model was not trained on),
``policy_specs`` (spec -> policy, incl. ``bc:PATH``), ``records`` (JSONL store, resume),
``results`` (summaries, agreement, eval_info.json), ``plots`` / ``video`` / ``report`` (the
report folder), ``assemble`` (report from stored records), ``pipeline``, ``cli_entry``. Importing this package imports none of them (no torch, no mujoco).
"""
