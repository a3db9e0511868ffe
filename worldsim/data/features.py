"""LeRobotDataset v3.0 feature specs: validation, default columns and the Arrow column layout.

A feature spec is lerobot's dict ``{key: {"dtype": ..., "shape": (...), "names": ...}}``.
``dtype`` is a numpy dtype name (``"float32"``, ``"bool"``, ``"uint8"``, ...) or ``"video"``
(uint8 (H, W, 3) frames stored as mp4; the parquet holds no column for it). lerobot reads a
parquet column through the hf ``datasets`` type chosen from the spec (see its
``get_hf_features_from_features``), so this module writes the Arrow type that maps onto:

    shape (1,)        -> a scalar column            (hf ``Value``)
    shape (n,)        -> fixed_size_list<dtype>[n]  (hf ``List(length=n)``)
    shape (a, b, ...) -> list<list<...<dtype>>>     (hf ``Array2D`` .. ``Array5D``)

    from worldsim.data.features import check_features, episode_arrays, to_arrow, from_arrow
    check_features(spec)                      # ValueError naming the bad key
    T, arrays = episode_arrays(episode, spec) # validated numpy arrays, (T, *shape) each
    column = to_arrow(arrays["action"], spec["action"])
    back = from_arrow(table["action"], spec["action"]["shape"])   # (T, *shape)
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

CODEBASE_VERSION = "v3.0"

DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": (1,), "names": None},
    "frame_index": {"dtype": "int64", "shape": (1,), "names": None},
    "episode_index": {"dtype": "int64", "shape": (1,), "names": None},
    "index": {"dtype": "int64", "shape": (1,), "names": None},
    "task_index": {"dtype": "int64", "shape": (1,), "names": None},
}

NUMERIC_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
)
VISUAL_DTYPES = ("video", "image")
_ARRAY_TYPES = {2: "Array2D", 3: "Array3D", 4: "Array4D", 5: "Array5D"}


def check_features(features: dict[str, dict]) -> None:
    """Raise ValueError naming the key and the problem if ``features`` is not a valid spec."""
    if not features:
        raise ValueError("features is empty: give at least one feature, e.g. 'action'")
    for key, ft in features.items():
        if key in DEFAULT_FEATURES:
            raise ValueError(f"feature {key!r} is written by the writer itself; remove it from features")
        if "/" in key:
            raise ValueError(f"feature name {key!r} contains '/', which LeRobotDataset does not allow")
        _check_one_feature(key, ft)


def _check_one_feature(key: str, ft: dict) -> None:
    dtype, shape = ft.get("dtype"), ft.get("shape")
    if dtype == "image":
        raise ValueError(f"feature {key!r}: dtype 'image' is not written; use 'video' for frames")
    if dtype not in NUMERIC_DTYPES + ("video",):
        raise ValueError(f"feature {key!r}: dtype {dtype!r} is not one of {('video',) + NUMERIC_DTYPES}")
    if not isinstance(shape, (tuple, list)) or not shape or not all(
        isinstance(n, (int, np.integer)) and n > 0 for n in shape
    ):
        raise ValueError(f"feature {key!r}: shape {shape!r} must be a non-empty tuple of positive ints")
    if len(shape) > 5:
        raise ValueError(f"feature {key!r}: shape {tuple(shape)} has more than 5 dimensions")
    if dtype == "video" and (len(shape) != 3 or shape[2] != 3):
        raise ValueError(f"feature {key!r}: a video has shape (height, width, 3), got {tuple(shape)}")


def with_defaults(features: dict[str, dict]) -> dict[str, dict]:
    """The user's features (shapes as tuples) followed by lerobot's five default columns."""
    user = {key: {**ft, "shape": tuple(int(n) for n in ft["shape"])} for key, ft in features.items()}
    return {**user, **{key: dict(ft) for key, ft in DEFAULT_FEATURES.items()}}


def video_keys(features: dict[str, dict]) -> list[str]:
    return [key for key, ft in features.items() if ft["dtype"] == "video"]


def column_keys(features: dict[str, dict]) -> list[str]:
    """Keys stored as parquet columns (everything but videos)."""
    return [key for key, ft in features.items() if ft["dtype"] != "video"]


def episode_arrays(episode: dict[str, Any], features: dict[str, dict]) -> tuple[int, dict[str, np.ndarray]]:
    """Validate one episode against the user features; return (T, {key: array (T, *shape)})."""
    missing = [key for key in features if key not in episode]
    if missing:
        key = missing[0]
        raise ValueError(
            f"episode is missing key {key!r} (expected shape {_shape_text(tuple(features[key]['shape']))}, "
            f"dtype {features[key]['dtype']}); missing keys: {missing}"
        )
    unknown = [key for key in episode if key not in features]
    if unknown:
        raise ValueError(f"episode has unknown key {unknown[0]!r}; valid keys: {sorted(features)}")
    arrays = {key: _one_array(key, episode[key], features[key]) for key in features}
    lengths = {key: len(arr) for key, arr in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"episode keys have different lengths T: {lengths}")
    T = next(iter(lengths.values()))
    if T == 0:
        raise ValueError("episode has no frames (T == 0)")
    return T, arrays


def _one_array(key: str, value: Any, ft: dict) -> np.ndarray:
    arr = np.asarray(value)
    shape = tuple(ft["shape"])
    if shape == (1,) and arr.ndim == 1:
        arr = arr[:, None]  # (T,) -> (T, 1)
    if arr.ndim != len(shape) + 1 or arr.shape[1:] != shape:
        raise ValueError(f"episode key {key!r} has shape {arr.shape}, expected {_shape_text(shape)}")
    expected = np.dtype("uint8" if ft["dtype"] == "video" else ft["dtype"])
    return _cast(key, arr, expected)


def _shape_text(shape: tuple[int, ...]) -> str:
    return f"(T, {', '.join(map(str, shape))})"


_ACCEPTED_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}


def _cast(key: str, arr: np.ndarray, expected: np.dtype) -> np.ndarray:
    """Accept the same dtype, ints for floats, and ints that fit for ints; refuse the rest."""
    if arr.dtype == expected:
        return arr
    ok = arr.dtype.kind in _ACCEPTED_KINDS[expected.kind]
    if ok and expected.kind in "iu" and arr.size:
        info = np.iinfo(expected)
        ok = info.min <= arr.min() and arr.max() <= info.max
    if not ok:
        raise ValueError(f"episode key {key!r} has dtype {arr.dtype}, expected {expected} (shape {arr.shape})")
    return arr.astype(expected)


def to_arrow(arr: np.ndarray, ft: dict) -> pa.Array:
    """(T, *shape) numpy array -> Arrow column of the type lerobot's hf features expect."""
    shape = tuple(ft["shape"])
    flat = pa.array(np.ascontiguousarray(arr).reshape(-1))
    if shape == (1,):
        return flat
    if len(shape) == 1:
        return pa.FixedSizeListArray.from_arrays(flat, shape[0])
    for n in reversed(shape):  # innermost dimension first
        offsets = np.arange(0, len(flat) + 1, n, dtype=np.int32)
        flat = pa.ListArray.from_arrays(pa.array(offsets), flat)
    return flat


def from_arrow(column: pa.ChunkedArray | pa.Array, shape: tuple[int, ...]) -> np.ndarray:
    """Arrow column (scalar, fixed-size or nested lists, hf extension arrays) -> (T, *shape)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    num_rows = len(arr)
    while True:
        if isinstance(arr, pa.ExtensionArray):
            arr = arr.storage
        elif pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type) or pa.types.is_fixed_size_list(arr.type):
            arr = arr.flatten()
        else:
            break
    return arr.to_numpy(zero_copy_only=False).reshape(num_rows, *shape)


def hf_schema_metadata(features: dict[str, dict]) -> dict[bytes, bytes]:
    """The ``huggingface`` schema metadata that hf ``datasets`` 4.x writes for these columns."""
    hf = {key: _hf_feature(features[key]) for key in column_keys(features)}
    return {b"huggingface": json.dumps({"info": {"features": hf}}).encode()}


def _hf_feature(ft: dict) -> dict:
    shape, dtype = tuple(ft["shape"]), ft["dtype"]
    value = {"dtype": dtype, "_type": "Value"}
    if shape == (1,):
        return value
    if len(shape) == 1:
        return {"feature": value, "length": shape[0], "_type": "List"}
    return {"shape": list(shape), "dtype": dtype, "_type": _ARRAY_TYPES[len(shape)]}


def info_features(features: dict[str, dict]) -> dict[str, dict]:
    """Features as JSON-ready dicts (shapes as lists), in the order given."""
    return {key: {**ft, "shape": list(ft["shape"])} for key, ft in features.items()}
