"""The latent action-conditioned world model: tokenizer latents, a next-frame predictor, a state head, judges.

Files, one concern each: ``config.py`` (``ActionTaskConfig`` and ``JudgeTaskConfig``, and what a
base checkpoint fills in), ``model.py`` (the action DiT: a base DiT plus an action embedding, and
``ActionWorldModel`` holding dynamics and state head), ``deterministic.py`` (the conv next-latent
regressor, the baseline), ``state_head.py`` (low-dimensional observation keys from a latent),
``frames.py`` (context + target slot as DiT inputs), ``losses.py`` (diffusion, regression and
rollout losses), ``predict.py`` (one latent step: regression or a few sampler steps),
``evaluate.py`` (held-out one-step and rollout metrics against real frames), ``task.py``
(``worldsim posttrain action``), ``judge_task.py`` (``worldsim train judge``: success and reward
judges), ``export.py`` (the world-model folder from action and judge runs), ``world_model.py`` (the
batched, stateful world model the envs step), ``perception.py`` (its reading of the simulator's
frames), ``default_model.py`` (``python -m posttrain.action.default_model``: every stage, then the
folder), ``untrained.py`` (a valid folder with random weights, for tests and benchmarks).
"""
