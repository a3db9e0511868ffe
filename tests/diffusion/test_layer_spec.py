"""Layer specs: choosing one, the transformer-engine spec matching the CPU spec on a GPU, and the
error that names the extra where transformer_engine is missing."""

from __future__ import annotations

import pytest
import torch

from worldsim.diffusion.dit import DiT
from worldsim.diffusion.layer_spec import get_layer_spec, resolve_spec_kind
from worldsim.diffusion.sdpa_attention import SDPAttention
from worldsim.optional import MissingExtraError, is_available

HAVE_GPU_STACK = torch.cuda.is_available() and is_available("transformer_engine")


def test_auto_picks_what_the_machine_has():
    assert resolve_spec_kind("auto") == ("gpu" if HAVE_GPU_STACK else "cpu")
    assert resolve_spec_kind("cpu") == "cpu"
    with pytest.raises(ValueError, match="'auto', 'cpu', 'gpu'"):
        resolve_spec_kind("tpu")


def test_cpu_spec_uses_sdpa_core_attention():
    spec = get_layer_spec("cpu", cross_attention=True)
    assert spec.submodules.self_attention.submodules.core_attention is SDPAttention
    assert spec.submodules.cross_attention.submodules.core_attention is SDPAttention


@pytest.mark.skipif(is_available("transformer_engine"), reason="transformer_engine is installed")
def test_gpu_spec_without_transformer_engine_names_the_extra():
    with pytest.raises(MissingExtraError, match=r"pip install 'worldsim\[gpu\]'"):
        get_layer_spec("gpu")


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


@pytest.mark.skipif(not HAVE_GPU_STACK, reason="needs CUDA and transformer_engine")
def test_gpu_spec_matches_cpu_spec(tiny_cfg, randomize):
    """Same weights through TE modules and through the CPU spec (both on the GPU, bf16)."""
    reference = randomize(DiT(tiny_cfg(cross_attention=True, spec="cpu"))).cuda()
    fast = DiT(tiny_cfg(cross_attention=True, spec="gpu")).cuda()
    weights = {k: v for k, v in reference.state_dict().items() if not k.endswith("_extra_state")}
    missing, unexpected = fast.load_state_dict(weights, strict=False)
    assert not unexpected and all(k.endswith("_extra_state") for k in missing), (missing, unexpected)
    reference, fast = reference.bfloat16(), fast.bfloat16()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 3, 4, 4, generator=g).cuda().bfloat16()
    c_noise = torch.tensor([0.2, -0.5]).cuda()
    context = torch.randn(2, 5, 12, generator=g).cuda().bfloat16()
    videos = [x[0], x[1, :, :2]]  # variable length: the packed (THD) path
    with torch.no_grad():
        for inputs in (x, videos):
            got = fast(inputs, c_noise, context=context)
            expected = reference(inputs, c_noise, context=context)
            for a, b in zip(got, expected):
                assert _relative_error(a, b) < 2e-2
