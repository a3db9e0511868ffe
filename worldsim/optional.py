"""The one place that checks optional dependencies.

    from worldsim.optional import require
    isaacsim = require("isaacsim", extra="isaac")

A missing extra raises ``MissingExtraError`` naming the ``pip install`` command that fixes it.
"""

from __future__ import annotations

import importlib
import importlib.util

EXTRAS = {
    "isaacsim": "isaac",
    "omni.replicator.core": "isaac",
    "transformer_engine": "gpu",
    "lerobot": "lerobot",
}


class MissingExtraError(ImportError):
    pass


def is_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, extra: str | None = None):
    """Import ``module`` or raise an error that names the extra to install."""
    extra = extra or EXTRAS.get(module, module)
    if not is_available(module):
        raise MissingExtraError(
            f"{module!r} is not installed; install it with: pip install 'worldsim[{extra}]'"
        )
    return importlib.import_module(module)
