"""safetensors files read and written safely: never a pickle, truncation caught before loading.

    from worldsim.io.tensors import read_tensors, write_tensors
    write_tensors(path, {"w": w})       # detached, CPU, contiguous, fsynced
    read_tensors(path)                  # ValueError naming ``path`` for a pickle, truncation, corruption
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from worldsim.io.files import require

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
_MAX_HEADER = 100 * 1024**2


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path))
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def refuse_pickle(path: Path) -> None:
    """ValueError if ``path`` is (or is named like) a pickle or a torch.save archive."""
    with open(path, "rb") as f:
        head = f.read(9)
    # a safetensors file starts with its header length (u64, little-endian), then '{'; those
    # first bytes can look like a pickle's protocol marker, so rule that layout out first
    is_safetensors = len(head) == 9 and head[8:9] == b"{"
    is_pickle = not is_safetensors and len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5
    is_torch_zip = head[:4] == b"PK\x03\x04"
    if is_pickle or is_torch_zip or path.suffix.lower() in PICKLE_SUFFIXES:
        kind = "a torch.save zip archive" if is_torch_zip else "a pickle" if is_pickle else f"a {path.suffix} file"
        raise ValueError(
            f"{path} is {kind}; worldsim never unpickles (a pickle can run code). Convert it where you trust "
            f"it: safetensors.torch.save_file(torch.load(p, weights_only=True), 'model.safetensors')"
        )


def check_safetensors_layout(path: Path) -> None:
    """The header parses and the data it describes fits in the file (catches truncation)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path} is truncated: {size} bytes, not even a safetensors header")
        n = int.from_bytes(head, "little")
        if n > min(size - 8, _MAX_HEADER):
            raise ValueError(
                f"{path} is truncated or not a safetensors file: header of {n} bytes in a {size}-byte file"
            )
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError(f"{path} is corrupt: its safetensors header is not valid JSON") from None
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    needed = 8 + n + max(ends, default=0)
    if needed > size:
        raise ValueError(f"{path} is truncated: its header describes {needed} bytes, the file has {size}")


def read_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, refusing pickles; every failure is a ValueError naming ``path``."""
    path = Path(path)
    require(path)
    refuse_pickle(path)
    check_safetensors_layout(path)
    try:
        return load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for corrupt content
        raise ValueError(f"{path} is corrupt: {err}") from None
