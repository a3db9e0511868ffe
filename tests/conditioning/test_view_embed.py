"""Views folded into the frame axis and back, and the learned view embedding that tells them apart."""

from __future__ import annotations

import pytest
import torch

from worldsim.conditioning.view_embed import (ViewEmbedConfig, ViewEmbedding, fold_frames, fold_views, unfold_views,
                                              views_from_width, views_to_width)


pytestmark = pytest.mark.usefixtures("megatron_one_thread")


def labelled(b=2, v=3, c=2, t=2, h=2, w=2):
    """x[b*V + v, c, t] = 1000 b + 100 v + 10 c + t everywhere in (h, w): each value names its place."""
    idx = torch.arange(b)[:, None, None, None] * 1000 + torch.arange(v)[None, :, None, None] * 100 \
        + torch.arange(c)[None, None, :, None] * 10 + torch.arange(t)[None, None, None, :]
    return idx.reshape(b * v, c, t, 1, 1).expand(-1, -1, -1, h, w).float()


def test_fold_is_view_major_and_round_trips():
    x = labelled()
    folded = fold_views(x, views=3)
    assert folded.shape == (2, 2, 6, 2, 2)
    # frame j of the folded clip is view j // T, frame j % T
    assert [int(folded[1, 1, j, 0, 0]) for j in range(6)] == [1010, 1011, 1110, 1111, 1210, 1211]
    assert torch.equal(unfold_views(folded, views=3), x)


def test_fold_frames_matches_fold_views():
    mask = torch.rand(6, 4) > 0.5                                # (B*V, T)
    as_video = mask.float()[:, None, :, None, None]              # (B*V, 1, T, 1, 1)
    assert torch.equal(fold_frames(mask, 3).float(), fold_views(as_video, 3)[:, 0, :, 0, 0])
    actions = torch.randn(6, 4, 2)
    second = actions[:, None, :, None, None, 1]                   # (B*V, 1, T, 1, 1): action component 1
    assert torch.equal(fold_frames(actions, 3)[:, :, 1], fold_views(second, 3)[:, 0, :, 0, 0])


def test_side_by_side_views_round_trip():
    x = torch.randn(2, 3, 4, 5, 3 * 6)     # (B, C, T, h, V*w)
    per_view = views_from_width(x, 3)
    assert per_view.shape == (6, 3, 4, 5, 6)
    assert torch.equal(per_view[1 * 3 + 2], x[1, ..., 12:18])   # batch 1, view 2 = third width block
    assert torch.equal(views_to_width(per_view, 3), x)


def test_bad_view_counts_are_clear_errors():
    with pytest.raises(ValueError, match="views=4"):
        fold_views(torch.zeros(6, 1, 1, 1, 1), 4)
    embed = ViewEmbedding(ViewEmbedConfig(num_views=6, channels=7))
    with pytest.raises(ValueError, match="trained for 6 views"):
        embed(torch.zeros(1, 2, 4, 2, 2), views=4)


def test_view_channels_carry_each_views_row():
    embed = ViewEmbedding(ViewEmbedConfig(num_views=3, channels=4))
    x = torch.randn(2, 5, 3 * 2, 2, 2)
    out = embed(x, views=3)
    assert out.shape == (2, 9, 6, 2, 2)
    assert torch.equal(out[:, :5], x)
    for frame in range(6):
        expect = embed.embedding.weight[frame // 2].detach()
        assert torch.equal(out[1, 5:, frame, 1, 0], expect)


@torch.no_grad()
def test_view_embedding_breaks_the_view_swap_symmetry():
    """Joint attention with RoPE restarted per view is equivariant to swapping views; with equal
    embedding rows it stays so, with distinct learned rows it does not (the views become nameable)."""
    from worldsim.diffusion.dit import DiT, DiTConfig

    torch.manual_seed(0)
    c, e = 4, 3
    dit = DiT(DiTConfig(in_channels=c + e, hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8,
                        num_cond_frames=0, spec="cpu"))
    for p in dit.parameters():
        p.add_(0.1 * torch.randn(p.shape))
    embed = ViewEmbedding(ViewEmbedConfig(num_views=2, channels=e))
    x = torch.randn(2, c, 4, 4, 4)  # 2 views x 2 frames
    swap = lambda v: torch.cat([v[:, :, 2:], v[:, :, :2]], dim=2)  # noqa: E731
    run = lambda v: dit(embed(v, views=2), torch.tensor(0.3), views=2)[:, :c]  # noqa: E731

    embed.embedding.weight.copy_(torch.randn(1, e).expand(2, e))
    assert torch.allclose(swap(run(swap(x))), run(x), atol=1e-5)
    embed.embedding.weight.copy_(torch.randn(2, e))
    assert not torch.allclose(swap(run(swap(x))), run(x), atol=1e-3)
