"""Replicator's colourized semantic segmentation, to and from our class-id maps.

BasicWriter with ``colorize_semantic_segmentation=True`` writes an RGBA PNG and a JSON that
names every colour: ``{"(0, 0, 0, 0)": {"class": "BACKGROUND"}, "(0, 0, 0, 255)": {"class":
"UNLABELLED"}, "(140, 25, 255, 255)": {"class": "cube"}}``. Uncolourized output is an integer
PNG with the JSON keyed by id (``{"0": {"class": "BACKGROUND"}, ...}``); both are read here.

Our maps are int32 class ids with 0 background. ``colorize`` gives each id a fixed colour
(id 0 is Isaac's BACKGROUND colour); ``ClassRegistry`` gives every class name one id across all
frames of a folder (BACKGROUND and UNLABELLED are 0) and ``decode`` turns a PNG back into ids.

    rgba, labels_json = colorize(segmentation, labels)
    registry = ClassRegistry(); registry.add_labels(labels_json)
    ids = decode(np.asarray(Image.open(png)), labels_json, registry)
"""

from __future__ import annotations

import re

import numpy as np

BACKGROUND_NAMES = ("BACKGROUND", "UNLABELLED")
_RGBA_KEY = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")
_SPREAD = 0x9E3779B1  # odd, so id -> id * _SPREAD mod 2**24 is one-to-one


def id_colors(ids: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 RGBA per class id: 0 -> (0, 0, 0, 0), others distinct, opaque, never black."""
    ids = np.asarray(ids, np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= 1 << 24):
        raise ValueError(f"segmentation ids must lie in [0, 2**24); got {ids.min()}..{ids.max()}")
    code = (ids * _SPREAD) & 0xFFFFFF
    rgba = np.stack([code & 255, (code >> 8) & 255, (code >> 16) & 255, np.full_like(code, 255)], -1)
    rgba[ids == 0] = 0
    return rgba.astype(np.uint8)


def rgba_key(rgba) -> str:
    return "({}, {}, {}, {})".format(*(int(c) for c in rgba))


def colorize(segmentation: np.ndarray, labels: dict[int, str]) -> tuple[np.ndarray, dict]:
    """RGBA image (H, W, 4) and the labels JSON dict for an int class-id map.

    The JSON names every class of ``labels`` in id order (Isaac names only those present), so a
    folder read back with ``ClassRegistry`` gives the same ids for contiguous labels 1..N.
    """
    present = np.unique(segmentation)
    unnamed = [int(i) for i in present if i != 0 and int(i) not in labels]
    if unnamed:
        raise ValueError(f"segmentation id {unnamed[0]} has no name in labels {labels}")
    ids = np.array(sorted({0, *(int(k) for k in labels if int(k) > 0)}), np.int64)
    colors = id_colors(ids)
    lut = {int(i): c for i, c in zip(ids, colors)}
    rgba = np.zeros(segmentation.shape + (4,), np.uint8)
    for i in present:
        rgba[segmentation == i] = lut[int(i)]
    names = {rgba_key(lut[0]): {"class": "BACKGROUND"}}
    names.update({rgba_key(lut[int(i)]): {"class": labels[int(i)]} for i in ids if i != 0})
    return rgba, names


def label_name(value) -> str:
    """Class name of one labels-JSON value: ``{"class": "cube"}``, another semantic type, or a string."""
    if isinstance(value, dict):
        if "class" in value:
            return str(value["class"])
        return ",".join(str(v) for v in value.values())
    return str(value)


def parse_key(key: str) -> int:
    """Packed uint32 pixel code of a labels-JSON key: ``"(r, g, b, a)"`` or an integer id."""
    m = _RGBA_KEY.match(key.strip())
    if m:
        r, g, b, a = (int(x) for x in m.groups())
        return r | g << 8 | b << 16 | a << 24
    if key.strip().isdigit():
        return int(key)
    raise ValueError(f"labels key {key!r} is neither '(r, g, b, a)' nor an integer id")


def pixel_codes(image: np.ndarray) -> np.ndarray:
    """(H, W) uint32 codes comparable with ``parse_key``: packed RGBA, or the ids themselves."""
    if image.ndim == 2:
        return image.astype(np.uint32)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGBA, RGB or single-channel image; got shape {image.shape}")
    px = image.astype(np.uint32)
    alpha = px[..., 3] if image.shape[2] == 4 else np.full(image.shape[:2], 255, np.uint32)
    return px[..., 0] | px[..., 1] << 8 | px[..., 2] << 16 | alpha << 24


class ClassRegistry:
    """One id per class name across a whole folder; ids in order of first appearance."""

    def __init__(self, background: str = "background"):
        self.ids: dict[str, int] = {}
        self.background = background

    def id_of(self, name: str) -> int:
        if name.upper() in BACKGROUND_NAMES:
            return 0
        return self.ids.setdefault(name, len(self.ids) + 1)

    def add_labels(self, labels_json: dict) -> None:
        for value in labels_json.values():
            self.id_of(label_name(value))

    @property
    def labels(self) -> dict[int, str]:
        return {0: self.background, **{i: name for name, i in self.ids.items()}}


def decode(image: np.ndarray, labels_json: dict, registry: ClassRegistry) -> np.ndarray:
    """(H, W) int32 class ids from a segmentation PNG and its labels JSON.

    Raises ``ValueError`` naming the first pixel value the JSON does not name.
    """
    lut = {parse_key(k): registry.id_of(label_name(v)) for k, v in labels_json.items()}
    codes = pixel_codes(image)
    uniq, inverse = np.unique(codes, return_inverse=True)
    missing = [int(c) for c in uniq if int(c) not in lut]
    if missing:
        raise ValueError(f"pixel value {_describe(missing[0], image.ndim)} is not named in the labels")
    return np.array([lut[int(c)] for c in uniq], np.int32)[inverse.reshape(codes.shape)]


def _describe(code: int, ndim: int) -> str:
    if ndim == 2:
        return str(code)
    return rgba_key([code & 255, code >> 8 & 255, code >> 16 & 255, code >> 24 & 255])
