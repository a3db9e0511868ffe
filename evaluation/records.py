"""The evaluation folder's raw data: per-episode JSONL records, recorded frames, and the manifest
that says which evaluation the folder holds (so a rerun resumes it and another one is refused).

    store = RecordStore("runs/eval", identity={"env": ..., "seed": 0}, fingerprints={"expert": "expert"})
    store.done("simulator")                       # {(policy, episode), ...} already recorded
    store.append("simulator", record, recording)  # one JSON line, flushed and fsynced; frames as .npz
    store.records("simulator")                    # every record, in order
    RecordStore.attach("runs/eval")               # a worker's handle: no manifest check or write

Layout under ``<out>/records/``: ``evaluation.json`` (identity and policy fingerprints),
``<column>.jsonl`` (one line per finished episode), ``frames/<column>/<policy>/ep<k>.npz``
(frames per camera and actions of recorded episodes), ``timing.jsonl`` (wall time, one row per stored episode, summed over runs).
A line cut short by a kill is dropped on the next read by the column's writer; other readers
(``repair=False``, e.g. a worker waiting for another column's recordings) skip it and leave the
file alone. Each file has one writer at a time, so appends need no lock: a column that several
workers share writes one shard per worker (``<column>@<shard>.jsonl``), and they divide its
episodes in chunks, each claimed once (``claim``: an exclusively created file under
``claims/<column>/``); ``records`` reads every shard.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np

from worldsim.io.files import remove_partial, write_bytes, write_json
from worldsim.io.lock import contents

MANIFEST = "evaluation.json"


def policy_slug(spec: str) -> str:
    """A file-name-safe, unique name for a policy spec."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", spec)[-48:].strip("_.") or "policy"
    return f"{readable}-{hashlib.sha1(spec.encode()).hexdigest()[:8]}"


def _differences(saved: dict, now: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key, "<absent>"), now.get(key, "<absent>")
        if a != b:
            out.append(f"{prefix}{key}: {a!r} in the folder, {b!r} now")
    return out


class RecordStore:
    def __init__(self, out: str | Path, identity: dict | None, fingerprints: dict[str, str] | None = None):
        """Open (or create) the folder's store for the evaluation ``identity``; refuses another one.
        ``identity=None``: attach to a store already opened (see ``attach``)."""
        self.out = Path(out)
        self.root = self.out / "records"
        if identity is not None:
            self._open(identity, fingerprints or {})

    @classmethod
    def attach(cls, out: str | Path) -> "RecordStore":
        """The store of a folder the caller has already opened, without touching its manifest."""
        if not (Path(out) / "records" / MANIFEST).is_file():
            raise ValueError(f"{out} holds no evaluation ({Path(out) / 'records' / MANIFEST} is missing)")
        return cls(out, None)

    def _open(self, identity: dict, fingerprints: dict[str, str]) -> None:
        manifest = self.root / MANIFEST
        if manifest.is_file():
            saved = json.loads(manifest.read_text())
            self._check(saved, identity, fingerprints)
            fingerprints = {**saved.get("policies", {}), **fingerprints}
        elif contents(self.out):
            raise ValueError(f"{self.out} is not empty and holds no evaluation ({self.root / MANIFEST} is missing); "
                             f"choose another out")
        self.root.mkdir(parents=True, exist_ok=True)
        remove_partial(self.root / "frames", "*.tmp.npz")   # frames a kill cut short (rewritten on the rerun)
        write_json(manifest, {"identity": identity, "policies": fingerprints}, indent=2, sort_keys=True)

    def _check(self, saved: dict, identity: dict, fingerprints: dict[str, str]) -> None:
        diffs = _differences(json.loads(json.dumps(saved.get("identity", {}))), json.loads(json.dumps(identity)))
        old = saved.get("policies", {})
        diffs += _differences({k: old[k] for k in fingerprints if k in old},
                              {k: v for k, v in fingerprints.items() if k in old}, "policy ")
        if diffs:
            raise ValueError(f"{self.out} holds another evaluation ({'; '.join(diffs)}); use another out, "
                             f"or rerun with the same settings to resume it")

    # ------------------------------------------------------------ records

    def path(self, column: str, shard: str | None = None) -> Path:
        return self.root / (f"{column}.jsonl" if shard is None else f"{column}@{shard}.jsonl")

    def records(self, column: str, repair: bool = True, shard: str | None = None) -> list[dict]:
        """Every complete record of ``column`` (all its shards), in order of finishing; ``repair``
        rewrites a file without a line a kill cut short: only the writer's own file (``shard``),
        or, with no shard given, every file of the column (no other writer may be running)."""
        files = [self.path(column)] + sorted(self.root.glob(f"{column}@*.jsonl"))
        records = []
        for path in files:
            own = shard is None or path == self.path(column, shard)
            records += _read_lines(path, repair and own)
        return sorted(records, key=lambda r: r.get("finished_at", 0.0)) if len(files) > 1 else records

    def done(self, column: str, repair: bool = True, shard: str | None = None) -> set[tuple[str, int]]:
        return {(r["policy"], int(r["episode"])) for r in self.records(column, repair, shard)}

    def claim(self, column: str, chunk: int, owner: str) -> bool:
        """True if ``owner`` holds chunk ``chunk`` of ``column``: it claimed it now, or earlier
        (a worker started again takes up its own chunks)."""
        path = self.root / "claims" / column / f"{chunk}"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return path.read_text() == owner
        with os.fdopen(fd, "w") as f:
            f.write(owner)
        return True

    def clear_claims(self) -> None:
        """Forget every claim (only when no worker runs: at the start of an evaluation run)."""
        for path in sorted((self.root / "claims").glob("*/*")):
            path.unlink()

    def append(self, column: str, record: dict, recording: dict | None = None, shard: str | None = None) -> dict:
        record = {"column": column, **record, "finished_at": time.time()}
        if recording is not None:
            record["frames"] = self._save_frames(column, record, recording)
        with open(self.path(column, shard), "ab") as f:
            f.write((json.dumps(record) + "\n").encode())
            f.flush()
            os.fsync(f.fileno())
        return record

    # ------------------------------------------------------------ frames

    def _save_frames(self, column: str, record: dict, recording: dict) -> str:
        rel = Path("frames") / column / policy_slug(record["policy"]) / f"ep{record['episode']:05d}.npz"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays = {f"frames_{cam}": v for cam, v in recording["frames"].items()}
        np.savez_compressed(tmp, actions=recording["actions"], **arrays)
        os.replace(tmp, path)
        return str(rel)

    def load_frames(self, record: dict) -> dict | None:
        """{"frames": {cam: uint8 (T+1, H, W, 3)}, "actions": (T, A)} of a record, or None."""
        if not record.get("frames") or not (self.root / record["frames"]).is_file():
            return None
        with np.load(self.root / record["frames"]) as data:
            frames = {k[len("frames_"):]: data[k] for k in data.files if k.startswith("frames_")}
            return {"frames": frames, "actions": data["actions"]}

    # ------------------------------------------------------------ timing

    def add_time(self, column: str, episodes: int, seconds: float) -> None:
        """Append one line (a single O_APPEND write, so workers may add theirs concurrently)."""
        line = (json.dumps({"column": column, "episodes": episodes, "seconds": seconds}) + "\n").encode()
        fd = os.open(self.root / "timing.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def timing(self) -> list[dict]:
        path = self.root / "timing.jsonl"
        if not path.is_file():
            return []
        out = []
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


def _read_lines(path: Path, repair: bool) -> list[dict]:
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")
    good, records = [], []
    for line in lines:
        try:
            records.append(json.loads(line))
            good.append(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
    if repair and len(good) != len([x for x in lines if x.strip()]):  # a kill cut the last line: drop it
        write_bytes(path, b"".join(x + b"\n" for x in good))
    return records

