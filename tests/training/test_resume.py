"""Exact resume, for real: SIGKILL a training process after its step-10 checkpoint and rerun it.

    .venv/bin/python -m pytest tests/training/test_resume.py -q

The tiny task's loss draws noise from torch's global RNG and uses dropout, its evaluation draws
random numbers at every checkpoint, and its data comes from the shuffled clip loader, so the
resumed run matches only if weights, EMA, optimizer moments, every RNG and the loader position
come back exactly. The reference run (in-process, while the resumed one runs) never stops and
checkpoints only at the end: checkpoint frequency must not change the trajectory either.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file
from tiny_task import SLEEP_ENV

SCRIPT = Path(__file__).with_name("tiny_task.py")
SETTINGS = {"steps": 30, "batch_size": 4, "warmup_steps": 5, "lr": 0.01, "log_every": 5}


def command(data: str, out: Path) -> list[str]:
    settings = [f"{k}={v}" for k, v in SETTINGS.items()]
    return [sys.executable, str(SCRIPT), "--data", data, "--out", str(out), *settings, "ckpt_every=10"]


def wait_for_latest(proc: subprocess.Popen, latest: Path, timeout: float = 120.0) -> str:
    """The checkpoint name in ``latest`` as soon as it appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        name = latest.read_text().strip() if latest.is_file() else ""
        if name:
            return name
        if proc.poll() is not None:
            pytest.fail(f"training exited ({proc.returncode}) before its first checkpoint: {proc.args}")
        time.sleep(0.005)
    pytest.fail(f"no checkpoint within {timeout} s")


def checkpoint_files(out: Path, step: str) -> dict[str, bytes]:
    folder = out / "checkpoints" / step
    names = ("model.safetensors", "ema.safetensors", "optimizer.safetensors")
    return {name: (folder / name).read_bytes() for name in names}


def kill_after_checkpoint(data: str, run: Path) -> str:
    """Start the run slowed to 0.1 s a step, SIGKILL it as soon as a checkpoint (step 10) is committed."""
    env = {**os.environ, SLEEP_ENV: "0.1"}
    with open(run.parent / "victim.log", "w") as log:
        victim = subprocess.Popen(command(data, run), env=env, stdout=log, stderr=subprocess.STDOUT)
        name = wait_for_latest(victim, run / "checkpoints" / "latest")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert name != "step_0000030" and not (run / "checkpoints" / "step_0000030").exists()
    return name


def test_killed_run_resumes_bit_identical(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    killed_after = kill_after_checkpoint(tiny_dataset, run)  # step_0000010 unless the machine is very slow
    leftover = run / "checkpoints" / "step_0000020.tmp"  # as if killed while writing the next checkpoint
    leftover.mkdir(exist_ok=True)
    (leftover / "model.safetensors").write_bytes(b"half a file")

    resumed = subprocess.Popen(command(tiny_dataset, run), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # meanwhile the same command on a fresh folder, never stopped; a process of its own, so it runs
    # with the same torch thread count as the resumed one (float sums depend on it)
    reference = subprocess.run(command(tiny_dataset, tmp_path / "ref"), capture_output=True, text=True)
    assert reference.returncode == 0, reference.stderr
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"{killed_after} at step {int(killed_after[5:])}" in stdout and not leftover.exists()

    got, want = checkpoint_files(run, "step_0000030"), checkpoint_files(tmp_path / "ref", "step_0000030")
    for name in want:
        assert got[name] == want[name], f"{name} differs from the uninterrupted run"
    start = load_file(run / "checkpoints" / killed_after / "model.safetensors")
    end = load_file(run / "checkpoints" / "step_0000030" / "model.safetensors")
    assert any((start[k] != end[k]).any() for k in end), "training after the resume changed nothing"
