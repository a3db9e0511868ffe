"""A pixel-space world model for TabletopPush (DIAMOND / GameNGen recipe), grounded in learned state dynamics.

Files, one concern each: ``config.py`` (typed configs), ``network.py`` (the U-Net with actions by
adaptive group norm), ``predictors.py`` (deterministic regression and EDM diffusion on the same
network), ``latent_dit.py`` (the Cosmos-style predictors: a frozen per-frame video tokenizer and
a megatron-core DiT on its latents, behind the same contract), ``data.py`` (episodes in memory, context windows), ``reader.py`` (state from frames),
``train.py`` (the training loop: context noise, rollout training), ``frames.py`` (uint8 <-> float
frames), ``world_model.py`` (the batched, stateful world model the envs step), ``perception.py``
(its reading of the simulator's frames, for PerceivedSim), ``export.py`` (the world-model folder),
``untrained.py`` (a valid folder with random weights, for tests). Grounding (the default folder):
``dynamics.py`` / ``dynamics_train.py`` (learned dynamics of the simulator's physical state),
``symmetry_frame.py`` (the square block's symmetry frame the dynamics work in),
``layout.py`` (silhouettes of the state for the U-Net), ``yaw_reader.py`` and ``reader_fit.py``
(the readers, fitted to a folder), ``grounding.py`` (how the parts step together).
"""
