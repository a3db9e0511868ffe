"""Read a LeRobotDataset v3.0 folder (ours or one written by ``lerobot`` 0.4.x), episode by episode.

    from worldsim.data.lerobot_reader import LeRobotDatasetReader
    r = LeRobotDatasetReader(root)
    r.fps, r.num_episodes, r.episode_lengths, r.tasks, r.stats, r.features, r.info
    ep = r.read_episode(0)
    ep["observation.images.top"]   # uint8 (T, H, W, 3), decoded from its mp4
    ep["action"]                   # (T, *shape) in the feature's dtype; shape (1,) gives (T, 1)
    ep["task"]                     # str

Only the episode index (no stats columns) is loaded up front; an episode's rows are read with a
parquet filter and its frames decoded from the stretch of the mp4 it occupies. A folder that
is not a v3.0 dataset raises ValueError naming the folder and what is missing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from worldsim.data import features as F
from worldsim.data import stats as S
from worldsim.data.video import decode_frames


class LeRobotDatasetReader:
    """Random access to the episodes of a LeRobotDataset v3.0 folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.info = _load_info(self.root)
        self.features: dict[str, dict] = {
            key: {**ft, "shape": tuple(ft["shape"])} for key, ft in self.info["features"].items()
        }
        self.fps: int = int(self.info["fps"])
        self.tasks: list[str] = _load_tasks(self.root)
        self._episodes = _load_episode_index(self.root)
        self.stats: dict[str, S.Stats] = _load_stats(self.root)
        if self.num_episodes != self.info.get("total_episodes", self.num_episodes):
            raise ValueError(
                f"{self.root}: meta/episodes lists {self.num_episodes} episodes but meta/info.json "
                f"says total_episodes={self.info['total_episodes']}; the dataset is incomplete"
            )

    @property
    def num_episodes(self) -> int:
        return len(self._episodes["episode_index"])

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.asarray(self._episodes["length"], dtype=np.int64)  # (num_episodes,)

    def episode_meta(self, episode_index: int) -> dict[str, Any]:
        """The episode's row of meta/episodes (file locations, bounds), stats columns left out."""
        if not 0 <= episode_index < self.num_episodes:
            raise IndexError(f"episode {episode_index} out of range: {self.root} has {self.num_episodes} episodes")
        return {name: column[episode_index] for name, column in self._episodes.items()}

    def read_episode(self, episode_index: int) -> dict[str, Any]:
        """{key: (T, *shape) array} for every feature, videos as uint8 (T, H, W, 3), plus "task"."""
        meta = self.episode_meta(episode_index)
        table = self._read_rows(meta)
        out: dict[str, Any] = {}
        for key, ft in self.features.items():
            if ft["dtype"] == "video":
                out[key] = self._read_video(key, meta)
            elif ft["dtype"] == "image":
                out[key] = _decode_images(table.column(key))
            else:
                out[key] = F.from_arrow(table.column(key), ft["shape"])
        task_index = int(table.column("task_index")[0].as_py())
        out["task"] = self.tasks[task_index]
        return out

    def read_columns(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Non-video features ``keys`` of every episode, stacked in (episode, frame) order, plus
        ``episode_index``: one pass over the data files, no video decoded."""
        bad = [k for k in keys if k not in self.features or self.features[k]["dtype"] in ("video", "image")]
        if bad:
            raise ValueError(f"{self.root}: {bad} are not tabular features; tabular ones: "
                             f"{sorted(k for k, f in self.features.items() if f['dtype'] not in ('video', 'image'))}")
        files = sorted({(int(c), int(f)) for c, f in zip(self._episodes["data/chunk_index"],
                                                        self._episodes["data/file_index"])})
        tables = []
        for chunk, index in files:
            path = self.root / self.info["data_path"].format(chunk_index=chunk, file_index=index)
            _require_file(path, self.root, "data")
            tables.append(pq.read_table(path, columns=list(keys) + ["episode_index", "frame_index"]))
        table = pa.concat_tables(tables).sort_by([("episode_index", "ascending"), ("frame_index", "ascending")])
        out = {k: F.from_arrow(table.column(k), self.features[k]["shape"]) for k in keys}
        out["episode_index"] = table.column("episode_index").to_numpy()
        return out

    def _read_rows(self, meta: dict[str, Any]) -> pa.Table:
        path = self.root / self.info["data_path"].format(
            chunk_index=meta["data/chunk_index"], file_index=meta["data/file_index"]
        )
        _require_file(path, self.root, f"data of episode {meta['episode_index']}")
        table = pq.read_table(path, filters=[("episode_index", "=", int(meta["episode_index"]))])
        table = table.sort_by("frame_index")
        if len(table) != meta["length"]:
            raise ValueError(
                f"{path}: episode {meta['episode_index']} has {len(table)} rows, expected {meta['length']}"
            )
        return table

    def _read_video(self, key: str, meta: dict[str, Any]) -> np.ndarray:
        prefix = f"videos/{key}"
        path = self.root / self.info["video_path"].format(
            video_key=key, chunk_index=meta[f"{prefix}/chunk_index"], file_index=meta[f"{prefix}/file_index"]
        )
        _require_file(path, self.root, f"video {key!r} of episode {meta['episode_index']}")
        from_ts = float(meta[f"{prefix}/from_timestamp"])
        # lerobot stores to_timestamp as the episode's measured duration; the length is authoritative
        frames = decode_frames(path, from_ts, from_ts + meta["length"] / self.fps, self.fps)
        return frames  # (T, H, W, 3)


def _load_info(root: Path) -> dict[str, Any]:
    not_dataset = f"{root} is not a LeRobotDataset v3.0 folder"
    if root.exists() and not root.is_dir():
        raise ValueError(f"{not_dataset}: it is a file; give the dataset's root folder (the one holding meta/)")
    if not root.is_dir():
        raise ValueError(f"{not_dataset}: the folder does not exist")
    path = root / "meta/info.json"
    if not path.is_file():
        raise ValueError(f"{not_dataset}: meta/info.json is missing")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    version = info.get("codebase_version")
    if version != F.CODEBASE_VERSION:
        raise ValueError(
            f"{not_dataset}: meta/info.json has codebase_version {version!r}, expected "
            f"{F.CODEBASE_VERSION!r} (convert older datasets with lerobot's convert_dataset_v21_to_v30)"
        )
    missing = [name for name in ("fps", "features", "data_path") if name not in info]
    if missing:
        raise ValueError(f"{not_dataset}: meta/info.json lacks {missing}")
    return info


def _load_tasks(root: Path) -> list[str]:
    """Task strings ordered by task_index (the string is the pandas index column)."""
    path = root / "meta/tasks.parquet"
    _require_file(path, root, "the task list")
    table = pq.read_table(path)
    pandas_meta = json.loads((table.schema.metadata or {}).get(b"pandas", b"{}"))
    index_columns = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
    task_column = next((c for c in index_columns + ["task", "__index_level_0__"] if c in table.column_names), None)
    if task_column is None or "task_index" not in table.column_names:
        raise ValueError(f"{path}: expected a task_index column indexed by task strings, got {table.column_names}")
    by_index = dict(zip(table.column("task_index").to_pylist(), table.column(task_column).to_pylist()))
    return [by_index[i] for i in sorted(by_index)]


def _load_episode_index(root: Path) -> dict[str, list]:
    """meta/episodes/*/*.parquet without the stats columns, as {column: list}, by episode_index."""
    paths = sorted((root / "meta/episodes").glob("*/*.parquet"))
    if not paths:
        raise ValueError(f"{root} is not a LeRobotDataset v3.0 folder: meta/episodes/chunk-*/file-*.parquet is missing")
    tables = []
    for path in paths:
        names = [n for n in pq.read_schema(path).names if not n.startswith("stats/")]
        tables.append(pq.read_table(path, columns=names))
    table = pa.concat_tables(tables, promote_options="permissive").sort_by("episode_index")
    columns = table.to_pydict()
    if columns["episode_index"] != list(range(len(table))):
        raise ValueError(f"{root}: meta/episodes does not number its episodes 0..{len(table) - 1}")
    return columns


def _load_stats(root: Path) -> dict[str, S.Stats]:
    path = root / "meta/stats.json"
    return S.from_json(json.loads(path.read_text())) if path.is_file() else {}


def _require_file(path: Path, root: Path, what: str) -> None:
    if not path.is_file():
        raise ValueError(f"{root}: {path.relative_to(root)} ({what}) is missing")


def _decode_images(column: pa.ChunkedArray) -> np.ndarray:
    """hf Image column (struct of png/jpeg bytes and path) -> uint8 (T, H, W, 3)."""
    from PIL import Image

    images = [np.asarray(Image.open(io.BytesIO(cell["bytes"])).convert("RGB")) for cell in column.to_pylist()]
    return np.stack(images)
