"""Post-training recipes: a base video DiT (``worldsim train base``) made into a world model.

One subpackage per recipe, each with the same file roles where they apply: ``config.py`` (typed
configs), ``model.py`` (networks), ``data.py`` (writing the recipe's training dataset) and
``clips.py`` (reading it back as training batches), ``task.py`` (the training task the trainer
runs), ``world_model.py`` (the stateful stepping model the envs use), ``checkpoint.py`` (loading a
trained run back), ``evaluate.py`` (held-out metrics).

``action/`` (``worldsim posttrain action``, ``worldsim train judge``: the latent action-conditioned
world model), ``camera/`` (``worldsim posttrain camera``), ``multiview/`` (``worldsim posttrain
multiview``: six-camera driving), ``transfer/`` (``worldsim posttrain transfer``: sim-to-real control
branches), ``augment/`` (``worldsim augment``: datasets re-rendered through a transfer model),
``pixel_unet/`` (the pixel-space world model for TabletopPush) and ``common/`` (what several of
them share). Recipes import ``common/`` and ``worldsim``, never each other (``augment/`` builds on
``transfer/``); the training layer finds their tasks by name (``worldsim/training/stages.py``).
"""
