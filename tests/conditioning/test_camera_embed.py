"""Camera embedding: rays reach the token their pixels belong to, in the DiT's token order, and a
freshly added embedder leaves the DiT's function unchanged."""

import pytest
import torch

from worldsim.conditioning.camera_embed import CameraEmbedConfig, CameraEmbedder, patchify_rays
from worldsim.diffusion.dit import DiT, DiTConfig, patchify

TINY = dict(in_channels=4, hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8, spec="cpu")


pytestmark = pytest.mark.usefixtures("megatron_one_thread")


def cell_index_map(t: int, h: int, w: int, cell: tuple[int, int, int]) -> torch.Tensor:
    """(1, 6, t, h, w): every pixel holds the (t, h, w)-order index of the cell it falls in."""
    ct, ch, cw = cell
    ti, yi, xi = torch.meshgrid(torch.arange(t) // ct, torch.arange(h) // ch, torch.arange(w) // cw, indexing="ij")
    idx = (ti * (h // ch) + yi) * (w // cw) + xi
    return idx.float()[None, None].expand(1, 6, t, h, w)


def test_each_token_gets_exactly_its_own_pixels_in_dit_order():
    cfg = CameraEmbedConfig(hidden_size=8, num_layers=1, patch_size=(1, 2, 2), spatial_compression=4)
    rays = cell_index_map(3, 16, 24, (1, 8, 8))          # a token = 2x2 latent cells of 4x4 pixels = 8x8 pixels
    tokens = patchify_rays(rays, cfg)                     # (1, S, 6 * 64)
    assert tokens.shape == (1, 3 * 2 * 3, 6 * 64)
    assert torch.equal(tokens[0], torch.arange(18).float()[:, None].expand(18, 384))
    # the DiT's own patchify of a latent map whose cells hold their token index puts tokens in the same order
    latent = cell_index_map(3, 4, 6, (1, 2, 2))[:, :1]     # (1, 1, 3, 4, 6)
    dit_tokens, grid = patchify(latent, (1, 2, 2))
    assert grid == (3, 2, 3)
    assert torch.equal(dit_tokens[0, :, 0], tokens[0, :, 0])


def test_temporal_compression_repeats_the_first_frame_like_the_tokenizer():
    cfg = CameraEmbedConfig(hidden_size=8, num_layers=1, patch_size=(1, 1, 1), spatial_compression=2,
                            temporal_compression=4)
    rays = torch.randn(2, 6, 1 + 4, 4, 4)
    tokens = patchify_rays(rays, cfg)                     # latent frames: 1 + 1, 2x2 cells
    assert tokens.shape == (2, 2 * 2 * 2, 6 * 4 * 2 * 2)
    # latent frame 0 sees only video frame 0 (four times)
    first = tokens[:, 0].reshape(2, 6, 4, 2, 2)
    assert torch.equal(first, rays[:, :, :1, :2, :2].expand(2, 6, 4, 2, 2))
    with pytest.raises(ValueError, match="1 \\+ k \\* 4"):
        patchify_rays(torch.randn(1, 6, 4, 4, 4), cfg)
    with pytest.raises(ValueError, match="rays must be"):
        patchify_rays(torch.randn(1, 5, 1, 4, 4), cfg)


def test_zero_init_leaves_the_dit_unchanged_and_trained_weights_do_not():
    torch.manual_seed(0)
    dit = DiT(DiTConfig(**TINY)).eval()
    with torch.no_grad():
        for p in dit.parameters():                        # make zero-initialised gates non-zero
            p.add_(0.1 * torch.randn_like(p))
    embed = CameraEmbedder(CameraEmbedConfig(hidden_size=32, num_layers=2, patch_size=(1, 2, 2), spatial_compression=2))
    x = torch.randn(2, 4, 3, 4, 4)
    rays = torch.randn(2, 6, 3, 8, 8)
    cond = torch.zeros(2, 3, dtype=torch.bool)
    cond[:, 0] = True
    c = torch.full((2,), 0.2)
    adds = embed(rays)
    assert len(adds) == 2 and adds[0].shape == (3 * 2 * 2, 2, 32)
    with torch.no_grad():
        assert torch.equal(dit(x, c, cond_mask=cond, attn_input_adds=adds), dit(x, c, cond_mask=cond))
    # gradients reach the zero-initialised projections, and once they move the output changes
    dit(x, c, cond_mask=cond, attn_input_adds=embed(rays)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in embed.parameters())
    with torch.no_grad():
        embed.proj[1].weight.normal_(0, 0.1)
        assert not torch.allclose(dit(x, c, cond_mask=cond, attn_input_adds=embed(rays)),
                                  dit(x, c, cond_mask=cond), atol=1e-4)
    assert all(layer.bias is None for layer in embed.proj)
