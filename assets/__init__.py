"""Package data: MJCF scenes, YAML presets and small default checkpoints.

    from assets import asset_path
    asset_path("mjcf/tabletop_push.xml")
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def asset_path(relative: str) -> Path:
    path = ROOT / relative
    if not path.exists():
        raise FileNotFoundError(f"asset {relative!r} not found under {ROOT}")
    return path
