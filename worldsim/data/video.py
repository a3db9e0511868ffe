"""MP4 video files for LeRobotDataset v3.0, encoded and decoded with PyAV.

One mp4 file holds many episodes back to back. Frame ``i`` of a file carries pts ``i`` in a
1/fps time base, so it sits at exactly ``i / fps`` seconds; an episode occupies
``[from_timestamp, to_timestamp)`` of its file. lerobot decodes by timestamp (tolerance 1e-4 s),
so exact pts are what make its frames line up.

    enc = VideoFileEncoder(path, fps=10, height=64, width=64, codec=VideoCodec())
    enc.write(frames)          # uint8 (T, H, W, 3); call again for the next episode
    enc.close()
    frames = decode_frames(path, from_timestamp=0.5, to_timestamp=1.3, fps=10)   # (8, H, W, 3)

Codecs: ``libx264`` (h264, the default) and ``libsvtav1`` (lerobot's own default; PyAV's
SVT-AV1 crashes on frames below 64 pixels, so it is refused there). Both decode with the
decoders in PyAV's wheel (h264, libdav1d) and so with lerobot's ``pyav`` backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SUPPORTED_CODECS = ("libx264", "libsvtav1")
_MIN_SVTAV1_SIZE = 64


CRF_RANGE = {"libx264": (0, 51), "libsvtav1": (0, 63)}   # what the encoders accept (8-bit)


@dataclass
class VideoCodec:
    """How frames are encoded. ``crf``: lower is better quality (0..51 for x264, 0..63 for AV1);
    ``gop``: frames between keyframes (small = fast random access, as lerobot's default 2)."""

    vcodec: str = "libx264"
    crf: int = 10
    pix_fmt: str = "yuv420p"
    gop: int = 2

    def check(self, height: int, width: int, key: str = "video") -> None:
        """Raise ValueError if this codec cannot encode (height, width) frames."""
        if self.vcodec not in SUPPORTED_CODECS:
            raise ValueError(f"vcodec {self.vcodec!r} is not supported; use one of {SUPPORTED_CODECS}")
        if self.pix_fmt not in ("yuv420p", "yuv444p"):
            raise ValueError(f"pix_fmt {self.pix_fmt!r} is not supported; use 'yuv420p' or 'yuv444p'")
        low, high = CRF_RANGE[self.vcodec]
        if isinstance(self.crf, bool) or not isinstance(self.crf, int) or not low <= self.crf <= high:
            raise ValueError(f"crf={self.crf!r} is out of range for {self.vcodec}: allowed {low}..{high} "
                             f"(lower is better quality; 0 with yuv444p is lossless)")
        if self.pix_fmt == "yuv420p" and (height % 2 or width % 2):
            raise ValueError(f"{key}: yuv420p needs even height and width, got ({height}, {width})")
        if self.vcodec == "libsvtav1" and min(height, width) < _MIN_SVTAV1_SIZE:
            raise ValueError(
                f"{key}: libsvtav1 cannot encode frames smaller than {_MIN_SVTAV1_SIZE} pixels "
                f"(got ({height}, {width})); use vcodec='libx264'"
            )
        if self.vcodec == "libsvtav1" and self.pix_fmt != "yuv420p":
            raise ValueError("libsvtav1 only encodes pix_fmt 'yuv420p'")

    def options(self) -> dict[str, str]:
        """Encoder options. x264 runs without B-frames or lookahead, so every frame is muxed as
        soon as it is encoded (the muxed byte count, used to roll files, is never stale)."""
        opts = {"g": str(self.gop), "crf": str(self.crf)}
        if self.vcodec == "libx264":
            opts.update({"tune": "zerolatency", "bf": "0"})
        if self.vcodec == "libsvtav1":
            opts["preset"] = "12"
        return opts


class VideoFileEncoder:
    """One mp4 file kept open while episodes are appended to it."""

    def __init__(self, path: Path, fps: int, height: int, width: int, codec: VideoCodec):
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("libav").setLevel(logging.ERROR)
        self.path, self.fps = path, fps
        self._container = av.open(str(path), mode="w")
        self._stream = self._container.add_stream(codec.vcodec, rate=fps, options=codec.options())
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = codec.pix_fmt
        self._time_base = Fraction(1, fps)
        self._stream.time_base = self._time_base
        self.frames_written = 0
        self._packets = 0
        self._bytes = 0

    def write(self, frames: np.ndarray) -> None:
        """Append uint8 (T, H, W, 3) frames at pts frames_written, frames_written + 1, ..."""
        for frame in frames:  # (H, W, 3)
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            video_frame.pts = self.frames_written
            video_frame.time_base = self._time_base
            self._mux(self._stream.encode(video_frame))
            self.frames_written += 1

    def estimated_bytes(self) -> float:
        """Bytes muxed so far, plus frames still inside the encoder at the average frame size."""
        if self._packets == 0:
            return 0.0
        pending = self.frames_written - self._packets
        return self._bytes + pending * self._bytes / self._packets

    def bytes_per_frame(self) -> float:
        return self._bytes / self._packets if self._packets else 0.0

    def close(self) -> None:
        self._mux(self._stream.encode(None))  # flush the encoder
        self._container.close()

    def _mux(self, packets) -> None:
        for packet in packets:
            self._packets += 1
            self._bytes += packet.size
            self._container.mux(packet)


def decode_frames(path: Path, from_timestamp: float, to_timestamp: float, fps: int) -> np.ndarray:
    """Frames whose timestamps lie in [from_timestamp, to_timestamp): uint8 (T, H, W, 3).

    A frame belongs to the range if its timestamp is within half a frame of a slot
    from_timestamp + k / fps; the number returned is round((to - from) * fps) or an error."""
    expected = round((to_timestamp - from_timestamp) * fps)
    half = 0.5 / fps
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(max(0, int(from_timestamp / stream.time_base)), stream=stream, backward=True)
        for frame in container.decode(stream):
            t = frame.time  # seconds, pts * time_base
            if t is None:
                continue
            if t >= to_timestamp - half:
                break
            if t >= from_timestamp - half:
                frames.append(frame.to_ndarray(format="rgb24"))  # (H, W, 3)
    if len(frames) != expected:
        raise ValueError(
            f"{path}: found {len(frames)} frames in [{from_timestamp}, {to_timestamp}) s, expected {expected}"
        )
    return np.stack(frames)


def video_info(path: Path) -> dict:
    """The ``info`` block lerobot stores for a video feature, read from one of its files."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(stream.base_rate),
            "video.channels": 3,
            "has_audio": len(container.streams.audio) > 0,
        }
