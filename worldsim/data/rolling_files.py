"""Files that roll over by size, numbered the way LeRobotDataset v3.0 numbers them.

    parquet = RollingParquet(root, "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet", 100, 1000)
    chunk, file = parquet.place(table.nbytes)      # the file the table goes to (a new one when full)
    parquet.write(table)
    video = RollingVideo(root, "observation.images.top", VIDEO_PATH, (64, 64, 3), fps=10, codec=codec,
                         limit_mb=200, chunks_size=1000)
    columns = video.add_episode(frames)            # videos/<key>/{chunk_index,file_index,from/to_timestamp}

A chunk holds ``chunks_size`` files; a parquet file closes when adding a table would take its
uncompressed Arrow size to the limit, an mp4 when its muxed bytes plus the episode's estimate would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from worldsim.data.video import VideoCodec, VideoFileEncoder

MB = 1024**2


class FileSlots:
    """Chunk/file numbering shared by data, episodes and video files (lerobot's rule)."""

    def __init__(self, chunks_size: int):
        self.chunks_size = chunks_size
        self.chunk, self.file = 0, -1

    def advance(self) -> tuple[int, int]:
        if self.file == self.chunks_size - 1:
            self.chunk, self.file = self.chunk + 1, 0
        else:
            self.file += 1
        return self.chunk, self.file


class RollingParquet:
    """Appends tables to data/chunk-XXX/file-XXX.parquet-style files, rolling over by size."""

    def __init__(self, root: Path, template: str, limit_mb: float, chunks_size: int, metadata=None):
        self.root, self.template, self.limit = root, template, limit_mb * MB
        self._slots = FileSlots(chunks_size)
        self._metadata = metadata
        self._writer: pq.ParquetWriter | None = None
        self._bytes = 0

    def place(self, nbytes: int) -> tuple[int, int]:
        """The (chunk, file) the next ``nbytes`` go to, opening a new file when this one is full."""
        if self._writer is not None and self._bytes + nbytes >= self.limit:
            self.close()
        if self._writer is None:
            self._slots.advance()
        return self._slots.chunk, self._slots.file

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            path = self.root / self.template.format(chunk_index=self._slots.chunk, file_index=self._slots.file)
            path.parent.mkdir(parents=True, exist_ok=True)
            schema = table.schema.with_metadata(self._metadata) if self._metadata else table.schema
            self._writer = pq.ParquetWriter(path, schema, compression="snappy")
            self._bytes = 0
        self._writer.write_table(table.cast(self._writer.schema))
        self._bytes += table.nbytes

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class RollingVideo:
    """One video key: episodes appended to an open mp4, rolling over by size."""

    def __init__(self, root: Path, key: str, template: str, shape, fps: int, codec: VideoCodec,
                 limit_mb: float, chunks_size: int):
        self.root, self.key, self.template, self.fps, self.codec = root, key, template, fps, codec
        self.height, self.width, _ = shape
        self.limit = limit_mb * MB
        self._slots = FileSlots(chunks_size)
        self._encoder: VideoFileEncoder | None = None
        self.first_path: Path | None = None

    def add_episode(self, frames: np.ndarray) -> dict[str, Any]:
        """Encode uint8 (T, H, W, 3) frames; return the episode's videos/<key>/... columns."""
        if self._encoder is not None and self._is_full(len(frames)):
            self.close()
        if self._encoder is None:
            self._open_next()
        start = self._encoder.frames_written
        self._encoder.write(frames)
        prefix = f"videos/{self.key}"
        return {
            f"{prefix}/chunk_index": self._slots.chunk,
            f"{prefix}/file_index": self._slots.file,
            f"{prefix}/from_timestamp": start / self.fps,
            f"{prefix}/to_timestamp": self._encoder.frames_written / self.fps,
        }

    def _is_full(self, num_frames: int) -> bool:
        estimate = self._encoder.estimated_bytes() + self._encoder.bytes_per_frame() * num_frames
        return estimate >= self.limit

    def _open_next(self) -> None:
        chunk, file = self._slots.advance()
        path = self.root / self.template.format(video_key=self.key, chunk_index=chunk, file_index=file)
        self._encoder = VideoFileEncoder(path, self.fps, self.height, self.width, self.codec)
        self.first_path = self.first_path or path

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
