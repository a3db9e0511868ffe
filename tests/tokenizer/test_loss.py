"""The tokenizer's reconstruction loss: foreground weighting of small objects."""

import torch

from worldsim.tokenizer.loss import ReconstructionLossConfig, foreground_weights, reconstruction_loss


def scene() -> torch.Tensor:
    """A grey table (B=1, C=3, T=1, 16x16) with a 3x3 red pusher at rows/cols 5-7."""
    video = torch.full((1, 3, 1, 16, 16), -0.2)
    video[0, :, 0, 5:8, 5:8] = torch.tensor([0.9, -0.8, -0.8])[:, None, None]
    return video


def test_foreground_is_what_differs_from_the_frames_median_colour():
    w = foreground_weights(scene(), ReconstructionLossConfig(foreground_weight=9.0))
    assert w.shape == (1, 1, 1, 16, 16)
    assert torch.all(w[0, 0, 0, 5:8, 5:8] == 10.0)
    assert int((w == 10.0).sum()) == 9 and int((w == 1.0).sum()) == 16 * 16 - 9


def test_losing_the_pusher_costs_more_with_foreground_weight():
    """Erasing the 9 pusher pixels costs as much as a faint error over the whole table without the
    weight; with it, erasing the pusher costs clearly more."""
    target = scene()
    erased = target.clone()
    erased[0, :, 0, 5:8, 5:8] = -0.2
    plain, weighted = (ReconstructionLossConfig(ssim_weight=0.0, gradient_weight=0.0, foreground_weight=w)
                       for w in (0.0, 10.0))
    ratio = {}
    for name, cfg in (("plain", plain), ("weighted", weighted)):
        lost = reconstruction_loss(erased, target, cfg)[0]
        faint = reconstruction_loss(target + 0.05, target, cfg)[0]
        ratio[name] = float(lost / faint)
    assert ratio["weighted"] > 5 * ratio["plain"], ratio
