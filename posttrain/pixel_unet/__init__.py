"""A pixel-space world model that holds up in closed loop (DIAMOND / GameNGen recipe) for TabletopPush.

Files, one concern each: ``config.py`` (typed configs), ``network.py`` (the U-Net with actions by
adaptive group norm), ``predictors.py`` (deterministic regression and EDM diffusion on the same
network), ``data.py`` (episodes in memory, context windows), ``reader.py`` (state from frames),
``train.py`` (the training loop: context noise, rollout training), ``frames.py`` (uint8 <-> float
frames), ``world_model.py`` (the batched, stateful world model the envs step), ``perception.py``
(its reading of the simulator's frames, for PerceivedSim), ``export.py`` (the world-model folder),
``untrained.py`` (a valid folder with random weights, for tests).
"""
