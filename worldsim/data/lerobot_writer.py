"""Write a LeRobotDataset v3.0 folder that real ``lerobot`` (0.4.x) loads, episode by episode.

    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig
    w = LeRobotWriter(root, WriterConfig(fps=10, robot_type="tabletop_pusher", features=features))
    w.add_episode({"observation.images.top": frames, "action": actions, ...}, task="push the block")
    w.finalize()

Layout written (lerobot's templates)::

    meta/info.json  meta/stats.json  meta/tasks.parquet  meta/episodes/chunk-000/file-000.parquet
    data/chunk-XXX/file-XXX.parquet          (many episodes per file)
    videos/<key>/chunk-XXX/file-XXX.mp4      (many episodes per file, frame i at i / fps)

Nothing is held in memory across episodes but one open parquet writer and one open mp4 per
video key, a small buffer of episode rows and the running stats. A data (or episodes) file
rolls over when adding an episode would take its uncompressed Arrow size to
``data_files_size_in_mb``; a video file when its muxed bytes plus the episode's estimate
would reach ``video_files_size_in_mb``; a chunk holds ``chunks_size`` files.
``info.json`` is written last, so a folder from a run that died is not mistaken for a dataset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from worldsim.data import features as F
from worldsim.data import stats as S
from worldsim.data.rolling_files import RollingParquet, RollingVideo
from worldsim.data.video import VideoCodec, video_info

DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
_RESERVED_INFO_KEYS = {
    "codebase_version", "robot_type", "total_episodes", "total_frames", "total_tasks", "chunks_size",
    "data_files_size_in_mb", "video_files_size_in_mb", "fps", "splits", "data_path", "video_path", "features",
}


@dataclass
class WriterConfig:
    """Everything that decides what a LeRobotWriter puts on disk."""

    fps: int
    features: dict[str, Any]
    robot_type: str | None = None
    extra_info: dict[str, Any] = field(default_factory=dict)
    chunks_size: int = 1000
    data_files_size_in_mb: float = 100
    video_files_size_in_mb: float = 200
    vcodec: str = "libx264"
    crf: int = 10
    pix_fmt: str = "yuv420p"
    gop: int = 2
    episodes_buffer_size: int = 100

    def codec(self) -> VideoCodec:
        return VideoCodec(vcodec=self.vcodec, crf=self.crf, pix_fmt=self.pix_fmt, gop=self.gop)

    def check(self) -> None:
        if not isinstance(self.fps, (int, np.integer)) or self.fps <= 0:
            raise ValueError(f"fps must be a positive int, got {self.fps!r}")
        for name in ("chunks_size", "data_files_size_in_mb", "video_files_size_in_mb", "episodes_buffer_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        clash = sorted(_RESERVED_INFO_KEYS & set(self.extra_info))
        if clash:
            raise ValueError(f"extra_info may not set {clash}: the writer owns these info.json keys")
        F.check_features(self.features)
        for key in F.video_keys(self.features):
            height, width, _ = self.features[key]["shape"]
            self.codec().check(height, width, key)


class LeRobotWriter:
    """Streams episodes into a new LeRobotDataset v3.0 folder; see the module docstring."""

    def __init__(self, root: str | Path, cfg: WriterConfig):
        cfg.check()
        self.root, self.cfg = Path(root), cfg
        _claim_empty_root(self.root)
        self.features = F.with_defaults(cfg.features)  # user features, then the 5 default columns
        self._data = RollingParquet(
            self.root, DATA_PATH, cfg.data_files_size_in_mb, cfg.chunks_size, F.hf_schema_metadata(self.features)
        )
        self._episode_files = RollingParquet(self.root, EPISODES_PATH, cfg.data_files_size_in_mb, cfg.chunks_size)
        self._videos = {key: RollingVideo(self.root, key, VIDEO_PATH, cfg.features[key]["shape"], cfg.fps, cfg.codec(),
                                        cfg.video_files_size_in_mb, cfg.chunks_size)
                        for key in F.video_keys(self.features)}
        self._episode_rows: list[dict[str, Any]] = []
        self._tasks: dict[str, int] = {}
        self._stats: dict[str, S.Stats] | None = None
        self.num_episodes = 0
        self.num_frames = 0
        self._finalized = False

    def add_episode(self, episode: dict[str, Any], task: str) -> int:
        """Validate and write one episode ({key: (T, *shape)}); return its episode_index."""
        if self._finalized:
            raise RuntimeError("LeRobotWriter.add_episode after finalize(); make a new writer")
        if not isinstance(task, str) or not task:
            raise ValueError(f"task must be a non-empty string, got {task!r}")
        T, arrays = F.episode_arrays(episode, self.cfg.features)
        task_index = self._tasks.setdefault(task, len(self._tasks))
        arrays.update(self._default_columns(T, task_index))
        row = {"episode_index": self.num_episodes, "tasks": [task], "length": T}
        row.update(self._write_data(arrays))
        for key, video in self._videos.items():
            row.update(video.add_episode(arrays[key]))
        ep_stats = S.episode_stats(arrays, self.features)
        row.update({f"stats/{key}/{name}": v for key, s in S.to_json(ep_stats).items() for name, v in s.items()})
        self._add_episode_row(row)
        self._stats = ep_stats if self._stats is None else S.aggregate([self._stats, ep_stats])
        self.num_episodes += 1
        self.num_frames += T
        return row["episode_index"]

    def _default_columns(self, T: int, task_index: int) -> dict[str, np.ndarray]:
        frame_index = np.arange(T, dtype=np.int64)  # (T,)
        return {
            "timestamp": (frame_index / self.cfg.fps).astype(np.float32)[:, None],  # (T, 1)
            "frame_index": frame_index[:, None],
            "episode_index": np.full((T, 1), self.num_episodes, dtype=np.int64),
            "index": (self.num_frames + frame_index)[:, None],
            "task_index": np.full((T, 1), task_index, dtype=np.int64),
        }

    def _write_data(self, arrays: dict[str, np.ndarray]) -> dict[str, int]:
        keys = F.column_keys(self.features)
        table = pa.table({key: F.to_arrow(arrays[key], self.features[key]) for key in keys})
        chunk, file = self._data.place(table.nbytes)
        self._data.write(table)
        T = len(table)
        return {
            "data/chunk_index": chunk,
            "data/file_index": file,
            "dataset_from_index": self.num_frames,
            "dataset_to_index": self.num_frames + T,
        }

    def _add_episode_row(self, row: dict[str, Any]) -> None:
        self._episode_rows.append(row)
        if len(self._episode_rows) >= self.cfg.episodes_buffer_size:
            self._flush_episode_rows()

    def _flush_episode_rows(self) -> None:
        if not self._episode_rows:
            return
        table = pa.Table.from_pylist(self._episode_rows)
        chunk, file = self._episode_files.place(table.nbytes)
        table = table.append_column("meta/episodes/chunk_index", pa.array([chunk] * len(table), pa.int64()))
        table = table.append_column("meta/episodes/file_index", pa.array([file] * len(table), pa.int64()))
        self._episode_files.write(table)
        self._episode_rows = []

    def finalize(self) -> None:
        """Close every file and write meta/info.json, stats.json and tasks.parquet."""
        if self._finalized:
            return
        if self.num_episodes == 0:
            self.close()
            raise ValueError(f"LeRobotWriter({self.root}): finalize() with no episode; add_episode first")
        self._flush_episode_rows()
        self.close()
        _write_tasks(self.root, self._tasks)
        _write_json(self.root / "meta/stats.json", S.to_json(self._stats))
        _write_json(self.root / "meta/info.json", self._info())
        self._finalized = True

    def close(self) -> None:
        """Close open files without writing metadata (what an error path wants)."""
        self._data.close()
        self._episode_files.close()
        for video in self._videos.values():
            video.close()

    def _info(self) -> dict[str, Any]:
        cfg = self.cfg
        features = F.info_features(self.features)
        for key, video in self._videos.items():
            features[key]["info"] = video_info(video.first_path)
        info = {
            "codebase_version": F.CODEBASE_VERSION,
            "robot_type": cfg.robot_type,
            "total_episodes": self.num_episodes,
            "total_frames": self.num_frames,
            "total_tasks": len(self._tasks),
            "chunks_size": cfg.chunks_size,
            "data_files_size_in_mb": cfg.data_files_size_in_mb,
            "video_files_size_in_mb": cfg.video_files_size_in_mb,
            "fps": cfg.fps,
            "splits": {"train": f"0:{self.num_episodes}"},
            "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if self._videos else None,
            "features": features,
        }
        return {**info, **cfg.extra_info}

    def __enter__(self) -> LeRobotWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finalize()
        else:
            self.close()


def _claim_empty_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise ValueError(f"dataset root {root} exists and is not a folder")
    if root.exists() and any(root.iterdir()):
        raise ValueError(f"dataset root {root} already contains files; give an empty or new folder")
    root.mkdir(parents=True, exist_ok=True)


def _write_tasks(root: Path, tasks: dict[str, int]) -> None:
    """meta/tasks.parquet: task strings as the (pandas) index, one column task_index."""
    ordered = sorted(tasks, key=tasks.get)
    table = pa.table({"task_index": pa.array([tasks[t] for t in ordered], pa.int64()), "task": ordered})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {"name": name, "field_name": name, "pandas_type": pandas_type, "numpy_type": numpy_type, "metadata": None}
            for name, pandas_type, numpy_type in [("task_index", "int64", "int64"), ("task", "unicode", "object")]
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.0",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    pq.write_table(table, root / "meta/tasks.parquet")


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False))
