"""LeRobotDataset v3.0 reading and writing, clips, camera-frame conventions (``frames``) and Replicator folders.

    from worldsim.data import LeRobotWriter, WriterConfig, LeRobotDatasetReader

Importing this package is cheap: the classes (and pyarrow, PyAV) load on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "LeRobotWriter": "worldsim.data.lerobot_writer",
    "WriterConfig": "worldsim.data.lerobot_writer",
    "LeRobotDatasetReader": "worldsim.data.lerobot_reader",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'worldsim.data' has no attribute {name!r}")
