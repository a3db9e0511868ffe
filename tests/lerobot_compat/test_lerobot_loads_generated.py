"""Real lerobot loads a dataset made by ``worldsim generate`` from the MuJoCo simulator.

The dataset is made by the main environment's ``worldsim`` command (it needs mujoco, which this
environment lacks), then loaded here with lerobot's own ``LeRobotDataset``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset

from worldsim.data.lerobot_reader import LeRobotDatasetReader

ROOT = Path(__file__).resolve().parents[2]
WORLDSIM = Path(os.environ.get("WORLDSIM_MAIN_BIN", ROOT / ".venv" / "bin")) / "worldsim"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated") / "push"
    cmd = [str(WORLDSIM), "generate", "--env", "worldsim/TabletopPush-v0", "--policy", "expert,random",
           "--episodes", "3", "--out", str(out), "image_size=32", "workers=1"]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "MUJOCO_GL": "egl"})
    return out


def test_lerobot_loads_generated_episodes(generated):
    ours = LeRobotDatasetReader(generated)
    ds = LeRobotDataset(repo_id="local/generated", root=generated, video_backend="pyav")
    assert ds.num_episodes == 3 and len(ds) == sum(ours.episode_lengths)
    lengths = [int(n) for n in ours.episode_lengths]
    starts = np.cumsum([0] + lengths[:-1])
    for i, start in enumerate(starts):
        ep = ds.meta.episodes[i]
        assert ep["dataset_from_index"] == start and ep["dataset_to_index"] == start + lengths[i]


def test_lerobot_frames_and_actions_match_the_simulator_record(generated):
    ours = LeRobotDatasetReader(generated)
    ds = LeRobotDataset(repo_id="local/generated", root=generated, video_backend="pyav")
    episode = ours.read_episode(1)
    start = ours.episode_lengths[0]
    for t in (0, ours.episode_lengths[1] // 2, ours.episode_lengths[1] - 1):
        item = ds[start + t]
        assert int(item["episode_index"]) == 1 and int(item["frame_index"]) == t
        torch.testing.assert_close(item["action"], torch.from_numpy(episode["action"][t]))
        torch.testing.assert_close(item["observation.state"], torch.from_numpy(episode["observation.state"][t]))
        for cam in ("top", "front"):
            theirs = (item[f"observation.images.{cam}"].permute(1, 2, 0).numpy() * 255).round()
            mine = episode[f"observation.images.{cam}"][t].astype(np.float64)
            assert np.abs(theirs - mine).max() <= 1, cam   # the same decoded frame
        assert item["task"] == "push the red block into the green goal region"
