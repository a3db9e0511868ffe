"""The multi-view driving world model: six camera views generated jointly from ego actions.

Files, one concern each: ``config.py`` (``MultiViewTaskConfig``, what a base checkpoint fills in),
``model.py`` (the multi-view DiT with view embeddings, and the state-delta head),
``predict.py`` (one step of every view at once), ``task.py`` (``worldsim posttrain multiview``),
``checkpoint.py`` (a trained run loaded back, for ``worldsim/DrivingWorldModel-v0``).
"""
