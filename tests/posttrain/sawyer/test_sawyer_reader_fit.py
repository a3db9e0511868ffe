"""``python -m posttrain.sawyer.reader_fit`` on a tiny Meta-World dataset: the held-out split is the
first dataset's last episodes, extra datasets only train, and the folder holds what the bench reads."""

import json

import numpy as np

from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.generation.config import GenerateConfig
from worldsim.generation.pipeline import generate


def _dataset(out, seed):
    return generate(GenerateConfig(env="worldsim/MetaWorld-v0", task="push-v3", policy="expert,random", episodes=3,
                                   out=str(out), seed=seed, workers=1, cameras=["corner2", "corner4"], image_size=16,
                                   max_steps=4, depth=False, segmentation=False, camera_params=False))


def test_reader_fit_holds_out_the_first_datasets_last_episodes(tmp_path):
    from posttrain.sawyer.reader_fit import main

    first, extra = _dataset(tmp_path / "a", 0), _dataset(tmp_path / "b", 100)
    main(["--data", f"{first},{extra}", "--out", str(tmp_path / "r"), "--steps", "3", "--holdout", "1", "--batch", "4"])
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    lengths = [int(n) for n in LeRobotDatasetReader(str(first)).episode_lengths]
    lengths_extra = [int(n) for n in LeRobotDatasetReader(str(extra)).episode_lengths]
    assert metrics["frames_held_out"] == lengths[-1]
    assert metrics["frames_train"] == sum(lengths[:-1]) + sum(lengths_extra)
    assert all(np.isfinite(v) for v in metrics["held_out"].values())
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["cameras"] == ["corner2", "corner4"] and (tmp_path / "r" / "model.safetensors").is_file()
