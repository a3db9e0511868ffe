"""What several post-training recipes share.

``base.py`` (reading a ``worldsim train base`` checkpoint: its task config, DiT config and
architecture name), ``codec.py`` (frame codecs: the learned tokenizer or exact pixel patches),
``latents.py`` (a dataset encoded once per frame, with its labels, cached on disk),
``windows.py`` (deterministic, resumable training windows over those latents), ``predict.py``
(how a latent world model steps: ``PredictConfig`` and per-env noise), ``frames.py`` (uint8 <->
float frames), ``lora.py`` (LoRA adapters on a network's linear layers), ``bundle.py`` (the
world-model folder format the envs load), ``env_state.py`` (restarting single envs of a batched
world-model state), ``runtime.py`` (a process-long megatron world for inference).
"""
