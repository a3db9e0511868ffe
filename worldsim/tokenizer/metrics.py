"""Frame-wise PSNR and SSIM of video batches, uint8 or float in [-1, 1].

Videos are (B, C, T, H, W). uint8 input is read as [0, 255], float input as [-1, 1] (clamped);
both are mapped to [0, 1] before scoring, so the two give the same numbers for the same frames.
Scores are per frame, shape (B, T): average over T for a clip score or keep T for a curve over
the horizon. Identical frames have PSNR ``inf``.

SSIM follows Wang et al. 2004: an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03,
dynamic range 1, "valid" filtering (no padding), the SSIM map averaged over positions and colour
channels. :func:`ssim_unit` is the differentiable core the reconstruction loss reuses.

    psnr(pred_uint8, target_uint8).mean()        # dB
    ssim(pred, target)                           # (B, T)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

K1, K2 = 0.01, 0.03


def to_unit_range(video: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] or float [-1, 1] -> float in [0, 1]."""
    if video.dtype == torch.uint8:
        return video.float() / 255.0
    if not video.is_floating_point():
        raise TypeError(f"video must be uint8 or float in [-1, 1], got dtype {video.dtype}")
    return ((video.float() + 1.0) / 2.0).clamp(0.0, 1.0)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per frame of [-1, 1] video: (B, C, T, H, W) x2 -> (B, T), uncapped.

    The reference PSNR for model outputs; uint8 frames use ``posttrain.multiview.metrics.psnr``
    (pooled) or ``posttrain.camera.evaluate.frame_psnr`` (per frame)."""
    _check_pair(pred, target)
    err = (to_unit_range(pred) - to_unit_range(target)).square()
    mse = err.mean(dim=(1, 3, 4))  # (B, T)
    return -10.0 * torch.log10(mse)


def ssim(pred: torch.Tensor, target: torch.Tensor, window_size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity per frame: (B, C, T, H, W) x2 -> (B, T), in [-1, 1]."""
    _check_pair(pred, target)
    return ssim_unit(to_unit_range(pred), to_unit_range(target), window_size, sigma)


def ssim_unit(x: torch.Tensor, y: torch.Tensor, window_size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """SSIM per frame of float videos already on a [0, 1] scale (not clamped; differentiable)."""
    B, C, T, H, W = x.shape
    if min(H, W) < window_size:
        raise ValueError(f"SSIM needs frames of at least {window_size}x{window_size}, got {H}x{W}")
    frames_x = x.transpose(1, 2).reshape(B * T, C, H, W)
    frames_y = y.transpose(1, 2).reshape(B * T, C, H, W)
    window = gaussian_window(window_size, sigma, x).expand(C, 1, -1, -1)  # (C, 1, k, k)
    stats = [F.conv2d(v, window, groups=C) for v in (frames_x, frames_y)]
    stats += [F.conv2d(v, window, groups=C) for v in (frames_x**2, frames_y**2, frames_x * frames_y)]
    mu_x, mu_y, e_xx, e_yy, e_xy = stats  # (B*T, C, H-k+1, W-k+1) each
    var_x, var_y, cov = e_xx - mu_x**2, e_yy - mu_y**2, e_xy - mu_x * mu_y
    c1, c2 = K1**2, K2**2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return (num / den).mean(dim=(1, 2, 3)).reshape(B, T)


def gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    """Normalised 2D Gaussian, (1, 1, size, size), with ``like``'s dtype and device."""
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)[None, None]


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.ndim != 5:
        raise ValueError(
            f"expected two (B, C, T, H, W) videos of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
