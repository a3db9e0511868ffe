"""The machine's dense matmul peak, measured, so model FLOP/s can be given as a fraction of it.

    from benchmarks.peak import matmul_peak_flops
    peak = matmul_peak_flops(torch.device("cpu"), torch.float32)
"""

from __future__ import annotations

import time

import torch


def matmul_peak_flops(device: torch.device, dtype: torch.dtype, n: int = 2048, seconds: float = 2.0) -> float:
    """Best FLOP/s of an n x n x n matmul over repeated timed runs (2 n^3 FLOPs each)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        _sync(device)
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        _sync(device)
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - start))
    return best


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
