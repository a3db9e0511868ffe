"""Megatron layer specs for the DiT layer: a CPU spec and a transformer-engine (GPU) spec.

Both specs build the same ``DiTLayer`` with the same parameter names, so one state dict loads
into either (the GPU spec only adds TE's ``_extra_state`` buffers):

    spec = get_layer_spec("auto", cross_attention=True)   # gpu if CUDA + transformer_engine
    spec = get_layer_spec("cpu")     # megatron Column/RowParallelLinear, torch norms, SDPA attention
    spec = get_layer_spec("gpu")     # TEColumnParallelLinear, TEDotProductAttention,
                                     # TERowParallelLinear, TENorm (QK-norm)

The GPU spec uses ``TEColumnParallelLinear`` rather than ``TELayerNormColumnParallelLinear``: the
AdaLN modulation (per-sample scale and shift) sits between the norm and the first linear, so the
fused norm+linear cannot be used. The norms before each sub-block are our non-affine ``AdaLNNorm``
in both specs; the optional QK-norms are megatron's (``config.normalization``, RMSNorm for DiT).
"""

from __future__ import annotations

import torch

from megatron.core.tensor_parallel import ColumnParallelLinear, RowParallelLinear
from megatron.core.transformer.attention import (
    CrossAttention,
    CrossAttentionSubmodules,
    SelfAttention,
    SelfAttentionSubmodules,
)
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.identity_op import IdentityOp
from megatron.core.transformer.mlp import MLP, MLPSubmodules
from megatron.core.transformer.spec_utils import ModuleSpec
from megatron.core.transformer.torch_norm import WrappedTorchNorm
from megatron.core.transformer.transformer_layer import TransformerLayerSubmodules
from worldsim.diffusion.dit_layer import AdaLNNorm, DiTLayer
from worldsim.diffusion.sdpa_attention import SDPAttention
from worldsim.optional import is_available, require

SPEC_KINDS = ("auto", "cpu", "gpu")


def resolve_spec_kind(kind: str) -> str:
    """'auto' -> 'gpu' when CUDA and transformer_engine are both there, else 'cpu'."""
    if kind not in SPEC_KINDS:
        raise ValueError(f"spec={kind!r} is not one of {SPEC_KINDS}")
    if kind != "auto":
        return kind
    return "gpu" if torch.cuda.is_available() and is_available("transformer_engine") else "cpu"


def get_layer_spec(kind: str = "auto", cross_attention: bool = False, qk_norm: bool = True,
                   ffn_hidden_size: int | None = None) -> ModuleSpec:
    """The DiT layer spec for ``kind`` in 'auto' | 'cpu' | 'gpu'."""
    build = cpu_layer_spec if resolve_spec_kind(kind) == "cpu" else gpu_layer_spec
    return build(cross_attention=cross_attention, qk_norm=qk_norm, ffn_hidden_size=ffn_hidden_size)


def cpu_layer_spec(cross_attention: bool = False, qk_norm: bool = True,
                   ffn_hidden_size: int | None = None) -> ModuleSpec:
    """Megatron-core local modules with torch SDPA core attention (runs on CPU and GPU)."""
    return _dit_layer_spec(ColumnParallelLinear, RowParallelLinear, SDPAttention, WrappedTorchNorm,
                           cross_attention, qk_norm, ffn_hidden_size)


def gpu_layer_spec(cross_attention: bool = False, qk_norm: bool = True,
                   ffn_hidden_size: int | None = None) -> ModuleSpec:
    """Transformer-engine modules; raises MissingExtraError naming ``pip install 'worldsim[gpu]'``."""
    require("transformer_engine", extra="gpu")
    if not torch.cuda.is_available():
        raise RuntimeError("spec='gpu' needs a CUDA device; use spec='cpu' or 'auto' on this machine")
    from megatron.core.extensions.transformer_engine import (
        TEColumnParallelLinear,
        TEDotProductAttention,
        TENorm,
        TERowParallelLinear,
    )

    return _dit_layer_spec(TEColumnParallelLinear, TERowParallelLinear, TEDotProductAttention,
                           TENorm, cross_attention, qk_norm, ffn_hidden_size)


def _dit_layer_spec(column_linear, row_linear, core_attention, qk_norm_cls, cross_attention,
                    qk_norm, ffn_hidden_size) -> ModuleSpec:
    no_mask = {"attn_mask_type": AttnMaskType.no_mask}
    self_attention = ModuleSpec(
        module=SelfAttention, params=no_mask,
        submodules=SelfAttentionSubmodules(
            linear_qkv=column_linear, core_attention=core_attention, linear_proj=row_linear,
            q_layernorm=qk_norm_cls if qk_norm else IdentityOp,
            k_layernorm=qk_norm_cls if qk_norm else IdentityOp,
        ),
    )
    cross = ModuleSpec(
        module=CrossAttention, params=no_mask,
        submodules=CrossAttentionSubmodules(linear_q=column_linear, linear_kv=column_linear,
                                            core_attention=core_attention, linear_proj=row_linear),
    )
    mlp_params = {} if ffn_hidden_size is None else {"ffn_hidden_size": ffn_hidden_size}
    mlp = ModuleSpec(module=MLP, params=mlp_params,
                     submodules=MLPSubmodules(linear_fc1=column_linear, linear_fc2=row_linear))
    return ModuleSpec(
        module=DiTLayer,
        submodules=TransformerLayerSubmodules(
            input_layernorm=AdaLNNorm, self_attention=self_attention,
            pre_cross_attn_layernorm=AdaLNNorm if cross_attention else IdentityOp,
            cross_attention=cross if cross_attention else IdentityOp,
            pre_mlp_layernorm=AdaLNNorm, mlp=mlp,
        ),
    )
