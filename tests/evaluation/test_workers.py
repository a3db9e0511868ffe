"""Worker processes: a worker killed mid-way is started again and its unfinished episodes rerun (none
lost, none twice); Ctrl-C stops everything and leaves a folder that resumes; a worker's error is
raised in the parent with its message."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from evaluation import workers
from evaluation.columns import Column
from evaluation.config import EvalConfig
from evaluation.lanes import Lane, Rollouts
from evaluation.pipeline import run_evaluation
from evaluation.records import RecordStore
from evaluation.runner import Job
from evaluation.workers import WorkerError, run_lanes
from worldsim.config import load_config

from eval_helpers import ENV_ID, SMALL_OVERRIDES

ROOT = Path(__file__).resolve().parents[2]
# episodes long enough (rendered, 80 steps) that a kill lands mid-way, even on a loaded machine
ARGS = [*SMALL_OVERRIDES, "max_steps=80", "render_all=true", "video_episodes=0", "num_envs=1",
        "policies=[random,expert+noise:0.5]", "episodes=6", "resampled_sim=true"]
EPISODES = 12   # per column


def config(out, *extra) -> EvalConfig:
    return load_config(EvalConfig, overrides=[*ARGS, f"out={out}", *extra])


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []


def finished(path: Path) -> int:
    """Complete lines so far (the file may be mid-append)."""
    return path.read_bytes().count(b"\n") if path.is_file() else 0


def outcomes(out: Path, column: str) -> dict:
    return {(r["policy"], r["episode"]): (r["seed"], r["return"], r["length"], r["success_any"])
            for r in lines(out / "records" / f"{column}.jsonl")}


def kill_worker_when(path: Path, count: int, lane: str = "simulator") -> dict:
    """In the background: SIGKILL the lane's worker once ``path`` holds ``count`` records."""
    seen: dict = {}

    def watch():
        deadline = time.time() + 120
        while time.time() < deadline:
            if finished(path) >= count:
                for proc in multiprocessing.active_children():
                    if proc.name == f"worldsim-eval-{lane}":
                        seen["records"] = finished(path)
                        os.kill(proc.pid, signal.SIGKILL)
                        return
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    return seen


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "ev"
    run_evaluation(config(out, "parallel=false", "render_all=false"))   # in this process, physics only
    return out


def test_a_killed_worker_is_restarted_and_its_unfinished_episodes_rerun(tmp_path, reference, capfd):
    out = tmp_path / "ev"
    killed = kill_worker_when(out / "records" / "simulator.jsonl", 3)
    run_evaluation(config(out))
    assert "records" in killed and killed["records"] < EPISODES, "the kill should land mid-way"
    assert "the simulator worker died (exit code -9)" in capfd.readouterr().err
    for column in ("simulator", "simulator_resampled"):
        keys = [(r["policy"], r["episode"]) for r in lines(out / "records" / f"{column}.jsonl")]
        assert len(keys) == len(set(keys)) == EPISODES, column    # every episode exactly once
        assert outcomes(out, column) == outcomes(reference, column)


def test_a_worker_that_keeps_dying_stops_the_evaluation(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "MAX_RESTARTS", 0)
    out = tmp_path / "ev"
    kill_worker_when(out / "records" / "simulator.jsonl", 1)
    with pytest.raises(WorkerError, match="simulator evaluation worker died 1 times"):
        run_evaluation(config(out))
    assert 1 <= len(lines(out / "records" / "simulator.jsonl")) < EPISODES


def test_ctrl_c_stops_the_workers_and_the_folder_resumes(tmp_path, reference):
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "evaluation.cli_entry", "--out", str(out), *ARGS]
    # the child starts with SIGINT's default disposition whatever this test process has set (a
    # signal ignored at exec stays ignored, and Python then installs no KeyboardInterrupt handler)
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    jsonl = out / "records" / "simulator.jsonl"
    deadline = time.time() + 120
    while finished(jsonl) < 1 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the evaluation ended before it could be interrupted; make it longer"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "rerun the same command to resume" in err, (proc.returncode, err[-2000:])
    stopped = jsonl.read_bytes()
    time.sleep(1.0)
    assert jsonl.read_bytes() == stopped and finished(jsonl) < EPISODES   # no worker left writing
    run_evaluation(config(out))
    for column in ("simulator", "simulator_resampled"):
        keys = [(r["policy"], r["episode"]) for r in lines(out / "records" / f"{column}.jsonl")]
        assert len(keys) == len(set(keys)) == EPISODES
        assert outcomes(out, column) == outcomes(reference, column)


def lane_with(column: Column) -> Lane:
    return Lane("simulator", (Rollouts(column, (Job("random", 0, 0),)),))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"env_id": "worldsim/Nope-v0", "env_kwargs": {}}, ValueError, "unknown env 'worldsim/Nope-v0'"),
    ({"env_id": ENV_ID, "env_kwargs": {"bogus": 1}}, ValueError, "takes no argument 'bogus'; its arguments: cameras"),
    ({"env_id": ENV_ID, "env_kwargs": {"cameras": 5}}, WorkerError, "(?s)simulator evaluation worker failed.*TypeError"),
])
def test_a_workers_error_is_raised_here(tmp_path, kwargs, error, message):
    out = tmp_path / "ev"
    RecordStore(out, {"test": True}, {})
    cfg = load_config(EvalConfig, overrides=[*SMALL_OVERRIDES, f"out={out}"])
    described = {"task": "", "fps": 10, "reads_pixels": {"random": False}}
    with pytest.raises(error, match=message):
        run_lanes([lane_with(Column("simulator", "simulator", **kwargs))], cfg, described, print)


def test_a_chunk_is_claimed_once_and_shards_are_read_together(tmp_path):
    """Claims: the first lane to claim a chunk holds it (and holds it again after a restart);
    the other is refused until the claims are cleared. A shard's writer repairs only its own
    shard: a line another worker is still writing is left alone."""
    store = RecordStore(tmp_path, {"test": True}, {})
    assert store.claim("col", 0, "simulator") and store.claim("col", 0, "simulator")
    assert not store.claim("col", 0, "world_model") and store.claim("col", 1, "world_model")
    store.clear_claims()
    assert store.claim("col", 0, "world_model")
    base = {"seed": 0, "success_any": True, "success_end": True, "length": 3}
    store.append("col", {**base, "policy": "a", "episode": 0}, shard="simulator")
    store.append("col", {**base, "policy": "a", "episode": 1}, shard="world_model")
    with open(store.path("col", "world_model"), "ab") as f:
        f.write(b'{"policy": "a", "epis')                       # mid-append in the other worker
    assert store.done("col", shard="simulator") == {("a", 0), ("a", 1)}
    assert store.path("col", "world_model").read_bytes().endswith(b'"epis')   # not repaired by the other
    assert store.done("col", shard="world_model") == {("a", 0), ("a", 1)}
    assert store.path("col", "world_model").read_bytes().endswith(b"\n")       # its own writer repairs it
