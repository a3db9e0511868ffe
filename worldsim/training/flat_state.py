"""Nested state (an optimizer's ``state_dict``) as safetensors plus JSON, so it is stored without pickle.

    tensors = {}
    structure = flatten_state(optimizer.state_dict(), tensors)   # JSON-able; tensors filled in
    unflatten_state(structure, tensors) == optimizer.state_dict()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from worldsim.io.files import read_json
from worldsim.io.tensors import read_tensors


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
