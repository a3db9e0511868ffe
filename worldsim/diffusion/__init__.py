"""Diffusion world model: DiT on megatron-core layers, EDM preconditioning, samplers.

Modules (import them directly; this package imports nothing heavy on its own):
``dit`` (DiTConfig, DiT), ``dit_block``/``dit_layer`` (megatron layers with AdaLN),
``layer_spec`` (CPU / transformer-engine specs), ``sdpa_attention`` (CPU core attention),
``rope3d``, ``packing``, ``edm`` (preconditioning, loss), ``samplers`` (Euler, Heun),
``testing`` (single-process megatron parallel state).
"""
