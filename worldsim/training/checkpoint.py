"""Checkpoint folders: weights in safetensors, everything else in JSON; never pickle.

    from worldsim.training import checkpoint as ckpt
    ckpt.load_model_weights(model, "runs/base")             # run folder, checkpoint folder or .safetensors
    ckpt.load_model_weights(model, "runs/base", ema=True)   # the EMA weights instead
    ckpt.read_meta("runs/base"), ckpt.read_config("runs/base")

Layout of a run folder ``<out>`` (the trainer writes it)::

    <out>/checkpoints/step_0000100/
        model.safetensors   config.yaml   meta.json            <- the checkpoint proper
        ema.safetensors     optimizer.safetensors  optimizer.json
        rng_rank<r>.safetensors  rng_rank<r>.json  loader_rank<r>.json   <- per rank, for exact resume
    <out>/checkpoints/latest     "step_0000100", written last

A checkpoint is written into ``step_XXXXXXX.tmp`` and renamed when complete, then ``latest`` is
replaced, then old ones beyond ``keep_last`` are removed: a run killed at any moment leaves the
previous checkpoint intact. Every loading problem (missing file, truncated or corrupt
safetensors, a pickle, another architecture) is a ValueError naming the path, raised before
anything is modified.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shutil
import time
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

MODEL, EMA, CONFIG, META = "model.safetensors", "ema.safetensors", "config.yaml", "meta.json"
OPTIM_TENSORS, OPTIM_JSON = "optimizer.safetensors", "optimizer.json"
LATEST = "latest"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
_MAX_HEADER = 100 * 1024**2


def step_name(step: int) -> str:
    return f"step_{step:07d}"


def rng_files(rank: int) -> tuple[str, str]:
    return f"rng_rank{rank}.safetensors", f"rng_rank{rank}.json"


def loader_file(rank: int) -> str:
    return f"loader_rank{rank}.json"


# ---------------------------------------------------------------- files


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, obj: Any) -> None:
    _write_bytes(Path(path), (json.dumps(obj, indent=1) + "\n").encode())


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path))
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def write_yaml(path: Path, config: dict) -> None:
    _write_bytes(Path(path), OmegaConf.to_yaml(OmegaConf.create(config)).encode())


def read_json(path: Path) -> Any:
    path = Path(path)
    _require(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); the checkpoint is corrupt") from None


def _require(path: Path) -> None:
    if not path.is_file():
        raise ValueError(f"{path} is missing; the checkpoint {path.parent} is incomplete or not a checkpoint")


# ---------------------------------------------------------------- reading safetensors safely


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


def _check_safetensors_layout(path: Path) -> None:
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
    _require(path)
    refuse_pickle(path)
    _check_safetensors_layout(path)
    try:
        return load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for corrupt content
        raise ValueError(f"{path} is corrupt: {err}") from None


# ---------------------------------------------------------------- matching a model


def param_shapes_hash(state: dict[str, torch.Tensor]) -> str:
    """Hash of (name, shape, dtype) for every entry: equal hashes mean the same architecture."""
    items = sorted((k, list(v.shape), str(v.dtype)) for k, v in state.items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def check_matches(path: Path, loaded: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """ValueError naming missing/unexpected keys and shape mismatches between two state dicts."""
    missing = sorted(set(expected) - set(loaded))
    unexpected = sorted(set(loaded) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(loaded[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(loaded) & set(expected))
        if loaded[k].shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        parts = [("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)]
        found = "; ".join(f"{what} {_few(items)}" for what, items in parts if items)
        raise ValueError(f"{path} does not fit this model (a checkpoint of another architecture?): {found}")


def _few(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def check_architecture(ckpt_dir: Path, architecture: str | None) -> None:
    meta = read_json(ckpt_dir / META)
    if architecture is not None and meta.get("architecture") != architecture:
        raise ValueError(
            f"{ckpt_dir} holds a {meta.get('architecture')!r} checkpoint, expected architecture {architecture!r}"
        )


# ---------------------------------------------------------------- public loading


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder from a checkpoint folder, a run folder or a checkpoints folder."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if path.is_file() or (path / MODEL).is_file():
        return path
    for root in (path / "checkpoints", path):
        found = latest_checkpoint(root)
        if found is not None:
            return found
    raise ValueError(f"{path} holds no checkpoint: expected {MODEL}, or a run folder with checkpoints/{LATEST}")


def tensor_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` without its non-tensor entries (megatron layers add ``_extra_state: None``)."""
    return {k: v for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}


def load_tensor_state(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """``load_state_dict`` of a ``tensor_state``: only ``_extra_state`` entries may be absent."""
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if not k.endswith("_extra_state")]
    if missing or unexpected:
        raise ValueError(f"state does not fit the model: missing {_few(missing)}, unexpected {_few(list(unexpected))}")


def model_state_for_saving(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors as separate CPU tensors (tied weights are stored twice)."""
    return {k: v.detach().cpu().clone() for k, v in tensor_state(model).items()}


def load_model_weights(
    model: torch.nn.Module, path: str | Path, ema: bool = False, architecture: str | None = None
) -> Path:
    """Load weights (or the EMA weights) into ``model`` in place; returns the file read."""
    found = resolve_checkpoint(path)
    file = found if found.is_file() else found / (EMA if ema else MODEL)
    if found.is_dir():
        check_architecture(found, architecture)
    tensors = read_tensors(file)
    check_matches(file, tensors, tensor_state(model))
    load_tensor_state(model, tensors)
    return file


def read_meta(path: str | Path) -> dict:
    return read_json(resolve_checkpoint(path) / META)


def read_config(path: str | Path) -> dict:
    file = resolve_checkpoint(path) / CONFIG
    _require(file)
    return OmegaConf.to_container(OmegaConf.load(file), resolve=True)


# ---------------------------------------------------------------- nested state <-> (tensors, json)


def flatten_state(obj: Any, tensors: dict[str, torch.Tensor], prefix: str = "s") -> Any:
    """JSON-able structure of ``obj`` with each tensor replaced by {"__tensor__": key} in ``tensors``."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[k, flatten_state(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [flatten_state(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} at {prefix} without pickling")


def unflatten_state(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [unflatten_state(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__tuple__" in obj:
        return tuple(unflatten_state(v, tensors) for v in obj["__tuple__"])
    return {k: unflatten_state(v, tensors) for k, v in obj["__dict__"]}


def read_flat_state(tensor_path: Path, json_path: Path) -> Any:
    structure = read_json(json_path)
    tensors = read_tensors(tensor_path)
    try:
        return unflatten_state(structure, tensors)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{json_path} does not match {tensor_path.name} ({err!r}): corrupt checkpoint") from None


# ---------------------------------------------------------------- RNG


def capture_rng() -> tuple[dict[str, torch.Tensor], dict]:
    """(uint8 tensors of the torch CPU/CUDA generators, JSON of numpy's and python's states)."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"torch_cuda_{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    states = {
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "python": [version, list(internal), gauss],
    }
    return tensors, states


def restore_rng(tensors: dict[str, torch.Tensor], states: dict) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("torch_cuda_")), key=lambda k: int(k[11:]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


# ---------------------------------------------------------------- writing a checkpoint


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("torch", "numpy", "safetensors", "megatron-core", "worldsim"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def make_meta(step: int, architecture: str, model_state: dict, **extra) -> dict:
    return {
        "format": FORMAT_VERSION, "step": step, "architecture": architecture,
        "param_shapes_hash": param_shapes_hash(model_state), "versions": versions(),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **extra,
    }


def begin(root: Path, step: int) -> Path:
    """A fresh ``step_XXXXXXX.tmp`` folder under ``root`` (main rank only)."""
    tmp = Path(root) / f"{step_name(step)}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def write_rank_state(tmp: Path, rank: int, loader_state: dict) -> None:
    """This rank's RNG states and loader position (every rank)."""
    rng_tensors, rng_states = capture_rng()
    tensor_file, json_file = rng_files(rank)
    write_tensors(tmp / tensor_file, rng_tensors)
    write_json(tmp / json_file, rng_states)
    write_json(tmp / loader_file(rank), loader_state)


def write_main_state(
    tmp: Path, model_state: dict, ema_state: dict, optimizer_state: dict, config: dict, meta: dict
) -> None:
    """Weights, EMA, optimizer, config and meta (main rank only; meta last)."""
    write_tensors(tmp / MODEL, model_state)
    write_tensors(tmp / EMA, ema_state)
    optim_tensors: dict[str, torch.Tensor] = {}
    structure = flatten_state(optimizer_state, optim_tensors)
    write_tensors(tmp / OPTIM_TENSORS, optim_tensors)
    write_json(tmp / OPTIM_JSON, structure)
    write_yaml(tmp / CONFIG, config)
    write_json(tmp / META, meta)


def commit(root: Path, step: int, keep_last: int) -> Path:
    """Rename the tmp folder into place, point ``latest`` at it, prune old ones (main rank only)."""
    root = Path(root)
    tmp, final = root / f"{step_name(step)}.tmp", root / step_name(step)
    _fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _write_bytes(root / f"{LATEST}.tmp", f"{final.name}\n".encode())
    os.replace(root / f"{LATEST}.tmp", root / LATEST)
    _fsync_dir(root)
    prune(root, keep_last)
    return final


def complete_checkpoints(root: Path) -> list[Path]:
    """Committed checkpoint folders under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_") and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]))


def prune(root: Path, keep_last: int) -> None:
    if keep_last <= 0:
        return
    for old in complete_checkpoints(root)[:-keep_last]:
        shutil.rmtree(old)


def remove_partial(root: Path) -> list[Path]:
    """Delete ``*.tmp`` leftovers of a run that died while saving; returns what was removed."""
    root = Path(root)
    leftovers = [p for p in root.glob("*.tmp")] if root.is_dir() else []
    for p in leftovers:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return leftovers


def latest_checkpoint(root: Path) -> Path | None:
    """The folder ``root/latest`` names, or None when there is no ``latest``."""
    pointer = Path(root) / LATEST
    if not pointer.is_file():
        return None
    target = Path(root) / pointer.read_text().strip()
    if not (target / MODEL).is_file():
        raise ValueError(f"{pointer} names {target.name}, which is missing or incomplete")
    return target


# ---------------------------------------------------------------- reading a checkpoint to resume


@dataclass
class TrainingState:
    """Everything read back for an exact resume, validated before any of it is applied."""

    path: Path
    step: int
    meta: dict
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict
    rng_tensors: dict[str, torch.Tensor]
    rng_states: dict
    loader: dict


def read_training_state(
    ckpt_dir: Path, rank: int, world_size: int, expected_model: dict, architecture: str
) -> TrainingState:
    ckpt_dir = Path(ckpt_dir)
    check_architecture(ckpt_dir, architecture)
    meta = read_json(ckpt_dir / META)
    if meta.get("world_size", world_size) != world_size:
        raise ValueError(
            f"{ckpt_dir} was written by {meta['world_size']} processes, this run has {world_size}; "
            f"exact resume needs the same number (per-rank RNG and loader states)"
        )
    model = read_tensors(ckpt_dir / MODEL)
    check_matches(ckpt_dir / MODEL, model, expected_model)
    ema = read_tensors(ckpt_dir / EMA)
    check_matches(ckpt_dir / EMA, ema, expected_model)
    optimizer = read_flat_state(ckpt_dir / OPTIM_TENSORS, ckpt_dir / OPTIM_JSON)
    tensor_file, json_file = rng_files(rank)
    rng_tensors, rng_states = read_tensors(ckpt_dir / tensor_file), read_json(ckpt_dir / json_file)
    loader = read_json(ckpt_dir / loader_file(rank))
    return TrainingState(ckpt_dir, int(meta["step"]), meta, model, ema, optimizer, rng_tensors, rng_states, loader)
