"""The run folder of ``worldsim generate``: a manifest and finished episodes, kept across kills.

``<out>/.worldsim/manifest.json`` records the config of the run; ``<out>/.worldsim/episodes/``
holds one ``.npz`` per finished episode, written to a temporary name and renamed, so a kill at
any moment leaves only whole episodes behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

from worldsim.io.files import remove_partial, write_json
from worldsim.io.lock import contents

DATASET_PARTS = ("meta", "data", "videos")


class RunFolder:
    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.state = self.out / ".worldsim"
        self.episodes_dir = self.state / "episodes"
        self.manifest_path = self.state / "manifest.json"

    # -- manifest -----------------------------------------------------------------------------
    def open(self, manifest: dict) -> dict:
        """Create the folder or check it holds the same run; returns the stored manifest."""
        if self.manifest_path.exists():
            stored = json.loads(self.manifest_path.read_text())
            self._check_same_run(stored, manifest)
            self.remove_partial()
            return stored
        self._check_empty()
        self.episodes_dir.mkdir(parents=True, exist_ok=True)
        self.write_manifest({**manifest, "status": "running"})
        return manifest

    def _check_empty(self) -> None:
        if contents(self.out):
            found = ", ".join(sorted(p.name for p in contents(self.out))[:5])
            raise ValueError(
                f"output folder {self.out} already holds files that are not a worldsim generate run "
                f"({found}); choose a new or empty folder"
            )

    def _check_same_run(self, stored: dict, manifest: dict) -> None:
        diff = [k for k in manifest["config"] if stored["config"].get(k) != manifest["config"][k]]
        if diff:
            detail = "; ".join(f"{k}: {stored['config'].get(k)!r} there, {manifest['config'][k]!r} now" for k in diff)
            raise ValueError(f"output folder {self.out} holds a different generate run ({detail}); "
                             "rerun with the same settings to resume, or choose a new folder")

    def write_manifest(self, manifest: dict) -> None:
        write_json(self.manifest_path, manifest, indent=2)

    def mark_complete(self, manifest: dict) -> None:
        self.write_manifest({**manifest, "status": "complete"})

    # -- episodes -----------------------------------------------------------------------------
    def episode_path(self, index: int) -> Path:
        return self.episodes_dir / f"episode_{index:06d}.npz"

    def remove_partial(self) -> list[Path]:
        """Delete episodes a kill cut short while they were being staged (``episode_<i>.tmp.npz``)."""
        return remove_partial(self.episodes_dir, "*.tmp.npz")

    def finished(self) -> set[int]:
        # a kill during save_episode leaves episode_<i>.tmp.npz: unfinished, rerun (and overwritten)
        names = (re.fullmatch(r"episode_(\d+)\.npz", p.name) for p in self.episodes_dir.glob("episode_*.npz"))
        return {int(m.group(1)) for m in names if m}

    def save_episode(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        path = self.episode_path(index)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)

    def load_episode(self, index: int) -> dict[str, np.ndarray]:
        with np.load(self.episode_path(index)) as z:
            return {k: z[k] for k in z.files}

    # -- dataset parts ------------------------------------------------------------------------
    def clear_dataset_parts(self) -> None:
        for part in DATASET_PARTS:
            shutil.rmtree(self.out / part, ignore_errors=True)
        shutil.rmtree(self.state / "assembling", ignore_errors=True)

    def publish(self, assembled: Path) -> None:
        """Move an assembled dataset's parts into the output folder, meta last."""
        for part in ("data", "videos", "meta"):
            if (assembled / part).exists():
                os.replace(assembled / part, self.out / part)
        shutil.rmtree(assembled, ignore_errors=True)

    def drop_episodes(self) -> None:
        shutil.rmtree(self.episodes_dir, ignore_errors=True)

