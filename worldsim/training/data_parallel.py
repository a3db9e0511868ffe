"""Data-parallel synchronisation by hand: gradients averaged in flat buckets, weights broadcast from rank 0.

    average_gradients(model.parameters(), group, device)   # after backward, before the optimizer step
    broadcast_from_first(tensor_state(model).values(), group)

Hand-written rather than DistributedDataParallel so a task may call any submodule in any order.
"""

from __future__ import annotations

from typing import Iterable

import torch
import torch.distributed as dist

_BUCKET_NUMEL = 1 << 24


def average_gradients(parameters: Iterable[torch.nn.Parameter], group, device: torch.device) -> None:
    """Mean of the gradients over the data-parallel ``group``, in flat buckets.

    A parameter without a gradient on some ranks gets zeros there; one without a gradient on
    every rank keeps ``None`` (so AdamW skips it, as it would with one process).
    """
    group_size = dist.get_world_size(group)
    if group_size == 1:
        return
    params = [p for p in parameters if p.requires_grad]
    used = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=device)  # (P,)
    dist.all_reduce(used, group=group)
    params = [p for p, u in zip(params, used.tolist()) if u > 0]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    for bucket in buckets([p.grad for p in params]):
        flat = torch.cat([g.reshape(-1) for g in bucket])  # (numel,)
        dist.all_reduce(flat, group=group)
        flat.div_(group_size)
        offset = 0
        for g in bucket:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()


def broadcast_from_first(tensors: Iterable[torch.Tensor], group) -> None:
    """Every rank takes data-parallel rank 0's values of ``tensors`` (weights, buffers)."""
    if dist.get_world_size(group) == 1:
        return
    src = dist.get_global_rank(group, 0)
    for t in tensors:
        dist.broadcast(t.data, src=src, group=group)


def buckets(tensors: list[torch.Tensor], max_numel: int = _BUCKET_NUMEL) -> list[list[torch.Tensor]]:
    """Tensors grouped by dtype and device into buckets of at most ``max_numel`` elements (or one tensor)."""
    out: list[list[torch.Tensor]] = []
    open_buckets: dict[tuple, list[torch.Tensor]] = {}
    for t in tensors:
        key = (t.dtype, t.device)
        bucket = open_buckets.get(key)
        if bucket is None or sum(x.numel() for x in bucket) + t.numel() > max_numel:
            bucket = open_buckets[key] = []
            out.append(bucket)
        bucket.append(t)
    return out
