"""Videos for the evaluation report: side-by-side frames, mp4 (h264) files, PNG posters.

    strip = side_by_side([sim_frames, wm_frames])          # uint8 (T, H, W1 + gap + W2, 3)
    write_mp4(upscale(strip, 3), "report/videos/x.mp4", fps=10)
    png_bytes = png(strip[0])

Shorter videos hold their last frame so that all panels run to the longest one.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

GAP = 2  # white pixels between panels


def _hold(frames: np.ndarray, length: int) -> np.ndarray:
    if len(frames) >= length:
        return frames[:length]
    return np.concatenate([frames, np.repeat(frames[-1:], length - len(frames), axis=0)])


def stack_cameras(frames: dict[str, np.ndarray]) -> np.ndarray:
    """A column's cameras one above the other: {cam: (T, H, W, 3)} -> (T, sum H + gaps, W, 3)."""
    views = list(frames.values())
    length = max(len(v) for v in views)
    return _join([_hold(v, length) for v in views], axis=1)


def side_by_side(panels: list[np.ndarray]) -> np.ndarray:
    """Panels (T_i, H, W_i, 3) left to right; heights must agree, lengths may differ."""
    length = max(len(p) for p in panels)
    return _join([_hold(p, length) for p in panels], axis=2)


def _join(parts: list[np.ndarray], axis: int) -> np.ndarray:
    out = [parts[0]]
    for part in parts[1:]:
        shape = list(part.shape)
        shape[axis] = GAP
        out += [np.full(shape, 255, np.uint8), part]
    return np.concatenate(out, axis=axis)


def upscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of (T, H, W, 3) frames (small renders survive h264 chroma better)."""
    return frames.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else frames


def even(frames: np.ndarray) -> np.ndarray:
    """Pad to even height and width (yuv420p needs them)."""
    _, h, w, _ = frames.shape
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), constant_values=255)


def write_mp4(frames: np.ndarray, path: str | Path, fps: int = 10) -> Path:
    from worldsim.data.video import VideoCodec, VideoFileEncoder

    frames = even(np.asarray(frames, np.uint8))
    _, h, w, _ = frames.shape
    encoder = VideoFileEncoder(Path(path), fps=fps, height=h, width=w, codec=VideoCodec(crf=18, gop=30))
    try:
        encoder.write(frames)
    finally:
        encoder.close()
    return Path(path)


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
