"""One run per output folder (``worldsim.io.lock``): a second run is refused at once naming the holder,
a lock left by a killed run blocks nothing, and worker processes neither hold nor release it."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from worldsim.cli import main
from worldsim.io.lock import LOCK_NAME, hold_folder

ROOT = Path(__file__).resolve().parents[1]


def hold_in_subprocess(folder: Path) -> subprocess.Popen:
    """Another process that takes ``folder``'s lock and keeps it until killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from worldsim.io.lock import hold_folder
        with hold_folder({str(folder)!r}, "worldsim eval"):
            print("held", flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_folder_held_by_another_process_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "ev"
    proc = hold_in_subprocess(out)
    try:
        with pytest.raises(ValueError) as err:
            with hold_folder(out, "worldsim eval"):
                pass
        message = str(err.value)
        assert str(out) in message and f"pid {proc.pid}" in message and "worldsim eval" in message
        assert "started" in message
    finally:
        proc.kill()
        proc.wait()


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path):
    out = tmp_path / "ev"
    proc = hold_in_subprocess(out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / LOCK_NAME).is_file()            # the file stays behind, the lock does not
    with hold_folder(out, "worldsim eval"):
        assert (out / LOCK_NAME).read_text().count(str(os.getpid())) == 1
    assert not (out / LOCK_NAME).exists()         # a run that ends removes it


def test_the_same_process_may_take_it_again(tmp_path):
    with hold_folder(tmp_path / "x", "a"):
        with hold_folder(tmp_path / "x", "b"):
            pass
        assert (tmp_path / "x" / LOCK_NAME).is_file()   # still held by the outer one
    assert not (tmp_path / "x").exists()               # created here and left empty: removed


def _exit_at_once():
    pass


def _try_lock(folder: str, queue) -> None:
    try:
        with hold_folder(folder, "child"):
            queue.put("took it")
    except ValueError as err:
        queue.put(str(err))


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_worker_processes_do_not_release_it(tmp_path, method):
    out = tmp_path / "ev"
    ctx = mp.get_context(method)
    with hold_folder(out, "worldsim generate"):
        worker = ctx.Process(target=_exit_at_once)
        worker.start()
        worker.join()
        queue = ctx.Queue()
        other = ctx.Process(target=_try_lock, args=(str(out), queue))
        other.start()
        other.join()
        assert "is in use by worldsim generate" in queue.get(timeout=10)


@pytest.mark.parametrize("argv", [
    ["eval", "world_model=none", "policies=[expert]", "episodes=1"],
    ["generate", "--episodes", "1"],
    ["train", "tokenizer", "--data", "/no/such/data"],
    ["augment", "--model", "/no/such/model", "--data", "/no/such/data"],
])
def test_every_command_refuses_a_folder_in_use_at_once(tmp_path, capsys, argv):
    out = tmp_path / "out"
    proc = hold_in_subprocess(out)
    try:
        assert main([*argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"output folder {out} is in use by worldsim eval (pid {proc.pid}" in err, err
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("module", ["posttrain.pixel_unet.train", "posttrain.pixel_unet.dynamics_train"])
def test_pixel_family_trainers_refuse_a_folder_in_use(tmp_path, module):
    import importlib

    main = importlib.import_module(module).main
    proc = hold_in_subprocess(tmp_path / "run")
    try:
        with pytest.raises(ValueError, match="is in use by"):
            main([f"out={tmp_path / 'run'}", f"data={tmp_path / 'nowhere'}"])
    finally:
        proc.kill()
        proc.wait()
