"""A stack of DiT layers built from a megatron layer spec, passing the timestep embedding through.

Megatron's ``TransformerBlock.forward`` has no slot for an extra per-sample embedding (NeMo's DiT
smuggles it through ``attention_mask``); this stack builds N layers with ``build_module`` and calls
each with ``emb``, ``rotary_pos_emb`` and ``packed_seq_params`` as explicit arguments:

    block = DiTBlock(transformer_config, get_layer_spec("cpu"), adaln_lora_dim=64)
    x = block(x, emb, rotary_pos_emb=freqs)     # (S, B, C) -> (S, B, C); packed: (T, 1, C)

Layers are children named "0", "1", ... so that inside a model the keys read ``blocks.i.*``.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from torch import Tensor
from torch.utils.checkpoint import checkpoint

from megatron.core.packed_seq_params import PackedSeqParams
from megatron.core.transformer.module import MegatronModule
from megatron.core.transformer.spec_utils import ModuleSpec, build_module
from megatron.core.transformer.transformer_config import TransformerConfig


class DiTBlock(MegatronModule):
    """``config.num_layers`` DiT layers from ``spec``, optional final norm.

    ``final_norm``: a norm spec/class built as ``(config, hidden_size, eps)`` or None.
    ``checkpoint_layers``: recompute each layer in backward (torch checkpoint, no CUDA RNG needed).
    """

    def __init__(self, config: TransformerConfig, spec: ModuleSpec, adaln_lora_dim: int,
                 final_norm: Union[ModuleSpec, type, None] = None, checkpoint_layers: bool = False):
        super().__init__(config=config)
        self.num_layers = config.num_layers
        for i in range(self.num_layers):
            layer = build_module(spec, config=config, layer_number=i + 1,
                                 adaln_lora_dim=adaln_lora_dim)
            self.add_module(str(i), layer)
        self.final_layernorm = None
        if final_norm is not None:
            self.final_layernorm = build_module(final_norm, config=config,
                                                hidden_size=config.hidden_size,
                                                eps=config.layernorm_epsilon)
        self.checkpoint_layers = checkpoint_layers

    @property
    def layers(self) -> list:
        return [self._modules[str(i)] for i in range(self.num_layers)]

    def forward(
        self,
        hidden_states: Tensor,
        emb: Tensor,
        context: Optional[Tensor] = None,
        rotary_pos_emb: Optional[Tensor] = None,
        packed_seq_params: Optional[PackedSeqParams] = None,
        context_packed_seq_params: Optional[PackedSeqParams] = None,
        attn_input_adds: Optional[Sequence[Optional[Tensor]]] = None,
        block_residuals: Optional[Sequence[Optional[Tensor]]] = None,
    ) -> Tensor:
        """hidden_states (S, B, C) or packed (T, 1, C); emb (B, C) -> same shape as the input.

        Optional per-layer hooks, sequences of length <= num_layers whose entries may be None:
        ``attn_input_adds[i]`` is added inside layer i to its self-attention input (camera
        conditioning), ``block_residuals[i]`` to layer i's output (a control branch)."""
        x = hidden_states
        for i, layer in enumerate(self.layers):
            add = _entry(attn_input_adds, i)
            args = (x, emb, context, rotary_pos_emb, packed_seq_params, context_packed_seq_params, add)
            if self.checkpoint_layers and self.training:
                x = checkpoint(layer, *args, use_reentrant=False)
            else:
                x = layer(*args)
            residual = _entry(block_residuals, i)
            if residual is not None:
                x = x + residual
        return x if self.final_layernorm is None else self.final_layernorm(x)


def _entry(values: Optional[Sequence[Optional[Tensor]]], i: int) -> Optional[Tensor]:
    return None if values is None or i >= len(values) else values[i]
