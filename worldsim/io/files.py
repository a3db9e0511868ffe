"""Atomic small-file I/O: bytes, JSON and YAML written whole and fsynced, JSON read with a clear error.

    from worldsim.io.files import write_json, read_json
    write_json(out / "metrics.json", {"psnr": 31.2})    # written to a temp file, fsynced, renamed
    read_json(out / "metrics.json")                     # ValueError naming the path if missing/corrupt

A reader never sees a half-written file: each writer writes ``<name>.tmp``, fsyncs it and
renames it over ``<name>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename inside it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a fsynced ``.tmp`` sibling renamed into place."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove_partial(folder: str | Path, pattern: str = "*.tmp*") -> list[Path]:
    """Delete the temporary files a kill left under ``folder`` (``pattern``, searched recursively);
    call only when no writer is running there. Returns what was removed."""
    folder = Path(folder)
    found = sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else []
    for path in found:
        path.unlink(missing_ok=True)
    return found


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | Path, obj: Any, indent: int = 1, sort_keys: bool = False) -> None:
    write_bytes(path, (json.dumps(obj, indent=indent, sort_keys=sort_keys) + "\n").encode())


def write_yaml(path: str | Path, config: dict) -> None:
    from omegaconf import OmegaConf

    write_bytes(path, OmegaConf.to_yaml(OmegaConf.create(config)).encode())


def require(path: Path) -> None:
    """ValueError unless ``path`` is a file (a checkpoint missing one of its parts)."""
    if not path.is_file():
        raise ValueError(f"{path} is missing; the checkpoint {path.parent} is incomplete or not a checkpoint")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    require(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); the checkpoint is corrupt") from None
