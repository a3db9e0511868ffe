"""``worldsim train tokenizer|base``: config routing, bad input, and both stages end to end (tiny)."""

import json

import pytest

from worldsim.cli import main
from worldsim.training.stages import route_overrides, run_config


def test_overrides_go_to_the_trainer_or_the_task():
    assert route_overrides(["steps=5", "model.channels=8", "clip_len=9", "task.camera=front", "trainer.lr=1e-3"]) == [
        "trainer.steps=5", "task.model.channels=8", "task.clip_len=9", "task.camera=front", "trainer.lr=1e-3"]
    _, cfg = run_config("tokenizer", overrides=["steps=5", "model.channels=8"], data="d", out="o")
    assert cfg.trainer.steps == 5 and cfg.task.model.channels == 8 and cfg.task.data == "d" and cfg.trainer.out == "o"


def test_unknown_key_lists_the_valid_ones(tmp_path, capsys):
    assert main(["train", "tokenizer", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "colour=red"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'colour'" in err and "clip_len" in err


def test_a_folder_that_is_not_a_dataset(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["train", "tokenizer", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "is not a LeRobotDataset v3.0 folder" in capsys.readouterr().err


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "ds"
    assert main(["generate", "--episodes", "4", "--out", str(out), "image_size=32", "cameras=[top]",
                 "depth=false", "segmentation=false", "workers=1"]) == 0
    return out


TINY_TOKENIZER = ["steps=3", "batch_size=2", "clip_len=9", "model.channels=8", "eval_clips=2", "held_out=0.25",
                  "progress=false"]
TINY_DIT = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.adaln_lora_dim=8",
            "eval_clips=2", "sample_steps=2", "held_out=0.25", "progress=false"]


def test_tokenizer_then_base_model(dataset, tmp_path):
    tok = tmp_path / "tok"
    assert main(["train", "tokenizer", "--data", str(dataset), "--out", str(tok), *TINY_TOKENIZER]) == 0
    meta = json.loads(next(tok.glob("checkpoints/step_0000003/meta.json")).read_text())
    assert meta["architecture"] == "video_tokenizer" and 0 < meta["metrics"]["eval/psnr"] < 60
    base = tmp_path / "base"
    argv = ["train", "base", "--data", str(dataset), "--tokenizer", str(tok), "--out", str(base),
            "steps=2", "batch_size=3", "clip_len=5", "max_clip_len=13", *TINY_DIT]
    assert main(argv) == 0
    metrics = json.loads(next(base.glob("checkpoints/step_0000002/meta.json")).read_text())["metrics"]
    for key in ("next_frame_psnr", "chunk_psnr", "tokenizer_chunk_psnr", "copy_first_frame_chunk_psnr"):
        assert 0 < metrics[f"eval/{key}"] < 100, key
    assert 0.0 <= metrics["train/padding_fraction"] < 1.0


def test_base_refuses_a_checkpoint_that_is_not_a_tokenizer(dataset, tmp_path, capsys):
    base = tmp_path / "base"
    assert main(["train", "base", "--data", str(dataset), "--tokenizer", str(tmp_path), "--out", str(base)]) == 2
    assert "holds no checkpoint" in capsys.readouterr().err
