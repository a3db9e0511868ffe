"""String entry points ``"package.module:attr"``: registries name what they build, import it only when asked.

    cls = load_entry_point("policies.tabletop_play:TabletopPushPlay")
"""

from __future__ import annotations

import importlib
from typing import Any


def load_entry_point(path: str) -> Any:
    """The attribute ``attr`` of module ``package.module`` named by ``"package.module:attr"``."""
    module, sep, name = path.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"entry point {path!r} must read 'package.module:attr'")
    return getattr(importlib.import_module(module), name)
