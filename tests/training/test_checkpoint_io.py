"""Checkpoint folders: round trip, pruning, and every refused load leaving model and files untouched.

    .venv/bin/python -m pytest tests/training/test_checkpoint_io.py -q

One tiny in-process training run (4 steps, a checkpoint every 2) provides the checkpoints; the
bad-checkpoint tests damage copies of it.
"""

from __future__ import annotations

import importlib.metadata
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tiny_task import TinyNet, tiny_trainer
from torch import nn

from worldsim import io as wio
from worldsim.io.checkpoints import complete_checkpoints
from worldsim.training.checkpoint import OPTIM_JSON, OPTIM_TENSORS
from worldsim.training.flat_state import flatten_state, read_flat_state, unflatten_state
from worldsim.training.resume import read_training_state


@pytest.fixture(scope="module")
def run(tiny_dataset, tmp_path_factory):
    trainer = tiny_trainer(tmp_path_factory.mktemp("run") / "run", tiny_dataset, steps=4, ckpt_every=2)
    final = trainer.fit()
    return trainer, final


@pytest.fixture
def copy(run, tmp_path) -> Path:
    """A private copy of the final checkpoint folder, free to damage."""
    return Path(shutil.copytree(run[1], tmp_path / "ckpt"))


def state_of(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.is_dir() else {}


def assert_refused(model: nn.Module, path: Path, match: str, **kwargs) -> None:
    """load_model_weights raises a ValueError naming ``path`` and changes neither model nor files."""
    before, folder = state_of(model), path if path.is_dir() else path.parent
    files = files_of(folder)
    with pytest.raises(ValueError, match=match) as err:
        wio.load_model_weights(model, path, **kwargs)
    assert str(path) in str(err.value)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert files_of(folder) == files


# ---------------------------------------------------------------- round trip


def test_weights_ema_and_meta_round_trip(run):
    trainer, final = run
    assert final.name == "step_0000004" and (final.parent / "latest").read_text().strip() == final.name
    model, ema_model = TinyNet(8, 0.2), TinyNet(8, 0.2)
    assert wio.load_model_weights(model, trainer.out) == final / "model.safetensors"
    wio.load_model_weights(ema_model, trainer.out, ema=True, architecture="tiny_next_frame")
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(model.state_dict()[name], value)
        assert torch.equal(ema_model.state_dict()[name], trainer.ema.shadow[name])
    assert not torch.equal(model.inp.weight, ema_model.inp.weight)
    meta = wio.read_meta(final)
    assert meta["step"] == 4 and meta["architecture"] == "tiny_next_frame" and meta["world_size"] == 1
    assert meta["param_shapes_hash"] == wio.param_shapes_hash(model.state_dict())
    assert meta["versions"]["torch"] == importlib.metadata.version("torch")
    assert len(meta["data_fingerprint"]) == 16 and {"train/loss", "eval/probe_mean"} <= set(meta["metrics"])
    assert wio.read_config(trainer.out) == trainer.run_config()
    events = list((trainer.out / "tb").glob("events.out.tfevents.*"))
    assert events and b"train/loss" in events[0].read_bytes()


def test_training_state_round_trip(run):
    trainer, final = run
    optimizer = read_flat_state(final / OPTIM_TENSORS, final / OPTIM_JSON)
    live = trainer.optimizer.state_dict()
    assert optimizer["param_groups"] == live["param_groups"]
    for index, moments in live["state"].items():
        assert set(optimizer["state"][index]) == set(moments)
        assert all(torch.equal(optimizer["state"][index][k], v) for k, v in moments.items())
    assert wio.read_json(final / "loader_rank0.json") == trainer.loader.state_dict()
    state = read_training_state(final, 0, 1, trainer.model.state_dict(), "tiny_next_frame")
    assert state.step == 4 and state.rng_tensors["torch_cpu"].dtype == torch.uint8
    assert set(state.rng_states) == {"numpy", "python"}


def test_nested_state_codec_keeps_types():
    tensors: dict[str, torch.Tensor] = {}
    obj = {0: {"step": torch.tensor(3.0), "m": torch.ones(2)}, "betas": (0.9, 0.99), "xs": [1, None, "a", True]}
    assert unflatten_state(flatten_state(obj, tensors), tensors).keys() == obj.keys()
    back = unflatten_state(flatten_state(obj, {}), tensors)
    assert back["betas"] == (0.9, 0.99) and back["xs"] == [1, None, "a", True]
    assert torch.equal(back[0]["m"], torch.ones(2))
    with pytest.raises(TypeError, match="without pickling"):
        flatten_state({"f": lambda: 0}, {})


def test_keep_last_prunes_old_checkpoints(tiny_dataset, tmp_path):
    final = tiny_trainer(tmp_path / "run", tiny_dataset, steps=4, ckpt_every=1, keep_last=2).fit()
    assert [p.name for p in complete_checkpoints(final.parent)] == ["step_0000003", "step_0000004"]


# ---------------------------------------------------------------- refused loads


def test_truncated_file(copy):
    data = (copy / "model.safetensors").read_bytes()
    for size in (len(data) - 7, 5):
        (copy / "model.safetensors").write_bytes(data[:size])
        assert_refused(TinyNet(8, 0.2), copy / "model.safetensors", "truncated")


def test_corrupt_header(copy):
    (copy / "model.safetensors").write_bytes((16).to_bytes(8, "little") + b"{not json at all" + b"\0" * 64)
    assert_refused(TinyNet(8, 0.2), copy, "corrupt")


def test_other_architecture(copy):
    shapes = r"another architecture.*shape mismatches .*inp.weight: checkpoint \(8, 3\) vs model \(4, 3\)"
    assert_refused(TinyNet(4, 0.2), copy, shapes)
    assert_refused(nn.Linear(3, 3), copy, r"missing keys bias, weight; unexpected keys action_embed.bias")
    assert_refused(TinyNet(8, 0.2), copy, r"holds a 'tiny_next_frame' checkpoint, expected .*'dit'", architecture="dit")


def test_torch_save_file_is_refused(run, tmp_path):
    model = TinyNet(8, 0.2)
    for name in ("model.pt", "model.pth", "weights.bin"):
        torch.save(model.state_dict(), tmp_path / name)
        assert_refused(model, tmp_path / name, "never unpickles")


class _Trap:
    """Unpickling this would create a file: proof that a load never unpickles."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_renamed_to_safetensors_is_refused_without_running_it(copy, tmp_path):
    marker = tmp_path / "pwned"
    (copy / "model.safetensors").write_bytes(pickle.dumps(_Trap(marker), protocol=4))
    assert_refused(TinyNet(8, 0.2), copy, "is a pickle")
    assert_refused(TinyNet(8, 0.2), copy / "model.safetensors", "is a pickle")
    assert not marker.exists()


def test_safetensors_content_under_a_pickle_name_is_refused(tmp_path):
    save_file(TinyNet(8, 0.2).state_dict(), tmp_path / "model.bin")
    assert_refused(TinyNet(8, 0.2), tmp_path / "model.bin", "a .bin file")


def test_missing_files(copy, tmp_path):
    assert_refused(TinyNet(8, 0.2), tmp_path / "nowhere", "does not exist")
    (tmp_path / "empty").mkdir()
    assert_refused(TinyNet(8, 0.2), tmp_path / "empty", "holds no checkpoint")
    (copy / "ema.safetensors").unlink()
    assert_refused(TinyNet(8, 0.2), copy, "ema.safetensors is missing", ema=True)
    (copy / "meta.json").unlink()
    assert_refused(TinyNet(8, 0.2), copy, "meta.json is missing")


def test_latest_pointing_nowhere(copy):
    run_dir = copy.parent / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "latest").write_text("step_0000099\n")
    with pytest.raises(ValueError, match="names step_0000099, which is missing"):
        wio.load_model_weights(TinyNet(8, 0.2), run_dir)


def test_resume_from_damaged_checkpoint_fails_and_keeps_it(run, tiny_dataset, tmp_path):
    """The trainer's own resume: a missing optimizer file is named, nothing on disk changes."""
    out = Path(shutil.copytree(run[0].out, tmp_path / "run"))
    latest = out / "checkpoints" / "step_0000004"
    (latest / OPTIM_JSON).unlink()
    before = {p: files_of(p) for p in (out / "checkpoints").iterdir() if p.is_dir()}
    with pytest.raises(ValueError, match=r"step_0000004/optimizer.json is missing"):
        tiny_trainer(out, tiny_dataset, steps=6, ckpt_every=2).fit()
    assert {p: files_of(p) for p in (out / "checkpoints").iterdir() if p.is_dir()} == before


def test_resume_on_changed_data_is_refused(run, tiny_dataset, tmp_path):
    out = Path(shutil.copytree(run[0].out, tmp_path / "run"))
    meta_path = out / "checkpoints" / "step_0000004" / "meta.json"
    meta = wio.read_json(meta_path)
    wio.write_json(meta_path, {**meta, "data_fingerprint": "0123456789abcdef"})
    with pytest.raises(ValueError, match="fingerprint 0123456789abcdef.*the dataset changed"):
        tiny_trainer(out, tiny_dataset, steps=6).fit()


# ---------------------------------------------------------------- run folders


def test_out_of_another_run_is_refused(run, tiny_dataset, tmp_path):
    out = run[0].out
    with pytest.raises(ValueError, match=r"holds another run.*trainer.lr: 0.01 in the folder, 0.5 now"):
        tiny_trainer(out, tiny_dataset, lr=0.5).fit()
    with pytest.raises(ValueError, match=r"task.hidden: 8 in the folder, 4 now"):
        tiny_trainer(out, tiny_dataset, task={"hidden": 4}).fit()
    (tmp_path / "notes.txt").write_text("not a run")
    with pytest.raises(ValueError, match="not a training run folder"):
        tiny_trainer(tmp_path, tiny_dataset).fit()


def test_finished_run_rerun_is_a_no_op_and_more_steps_extend_it(run, tiny_dataset, tmp_path, capsys):
    out = Path(shutil.copytree(run[0].out, tmp_path / "run"))
    before = (out / "checkpoints/step_0000004/model.safetensors").read_bytes()
    assert tiny_trainer(out, tiny_dataset, steps=4).fit().name == "step_0000004"
    assert (out / "checkpoints/step_0000004/model.safetensors").read_bytes() == before
    assert tiny_trainer(out, tiny_dataset, steps=6).fit().name == "step_0000006"
    assert "at step 4" in capsys.readouterr().out


def test_safetensors_whose_header_length_looks_like_a_pickle_marker_loads(tmp_path):
    """A header of 0x380 bytes starts the file with 80 03, a pickle's protocol-3 marker."""
    import struct

    from safetensors.torch import save_file

    from worldsim.io import read_tensors

    path = tmp_path / "model.safetensors"
    for pad in range(0, 1000):
        save_file({"w" + "x" * pad: torch.zeros(2)}, str(path))
        if path.read_bytes()[:2] == b"\x80\x03":
            break
    assert struct.unpack("<Q", path.read_bytes()[:8])[0] == 0x380
    assert torch.equal(read_tensors(path)["w" + "x" * pad], torch.zeros(2))


def test_a_setting_added_since_the_run_started_resumes_at_its_default(tmp_path):
    """The folder's config predates ``task.new``: resuming is the same run only while ``new`` keeps
    its default (the behaviour the run had)."""
    from omegaconf import OmegaConf

    from worldsim.training.run_folder import RUN_CONFIG, check_run_folder

    OmegaConf.save(OmegaConf.create({"trainer": {"lr": 0.1}, "task": {"hidden": 8}}), tmp_path / RUN_CONFIG)
    defaults = {"trainer": {"lr": 0.01}, "task": {"hidden": 16, "new": 0.0}}
    check_run_folder(tmp_path, {"trainer": {"lr": 0.1}, "task": {"hidden": 8, "new": 0.0}}, defaults)
    with pytest.raises(ValueError, match=r"task.new: '<absent>' in the folder, 2.0 now"):
        check_run_folder(tmp_path, {"trainer": {"lr": 0.1}, "task": {"hidden": 8, "new": 2.0}}, defaults)
    with pytest.raises(ValueError, match=r"task.new: '<absent>' in the folder, 0.0 now"):
        check_run_folder(tmp_path, {"trainer": {"lr": 0.1}, "task": {"hidden": 8, "new": 0.0}})   # no defaults known
