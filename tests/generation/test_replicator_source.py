"""``worldsim generate --source replicator:DIR``: renders exported as Isaac would, back as a dataset."""

import numpy as np
import pytest

from envs.tabletop_push import TabletopPushEnv
from worldsim.cli import main
from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.data.replicator import ReplicatorWriter


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("isaac_like")
    env = TabletopPushEnv(cameras=("top", "front"), image_size=32)
    env.reset(seed=4)
    writer = ReplicatorWriter(folder, cameras=env.cameras)
    frames = []
    for step in range(5):
        captured = env.capture(("rgb", "depth", "segmentation"))
        writer.write(step, captured)
        frames.append(captured)
        env.step(np.array([0.6, -0.4], np.float32))
    env.close()
    return folder, frames


def test_dataset_from_a_replicator_folder(rendered, tmp_path):
    folder, frames = rendered
    assert main(["generate", "--source", f"replicator:{folder}", "--out", str(tmp_path / "ds")]) == 0
    r = LeRobotDatasetReader(tmp_path / "ds")
    assert r.num_episodes == 1 and r.episode_lengths[0] == 5
    ep = r.read_episode(0)
    for cam in ("top", "front"):
        want_depth = np.stack([f[cam].depth for f in frames])[..., None]
        np.testing.assert_array_equal(ep[f"observation.depth.{cam}"], want_depth)
        want_rgb = np.stack([f[cam].rgb for f in frames]).astype(int)
        assert np.abs(ep[f"observation.images.{cam}"].astype(int) - want_rgb).mean() < 4   # lossy video
        np.testing.assert_allclose(ep[f"observation.camera.{cam}.extrinsics"],
                                   np.stack([f[cam].extrinsics for f in frames]), atol=1e-5)
    labels = r.info["worldsim"]["segmentation_labels"]
    seg = ep["observation.segmentation.top"][0, ..., 0]
    want = frames[0]["top"]
    assert {labels[str(i)] for i in np.unique(seg)} == {want.labels[i] for i in np.unique(want.segmentation)}


@pytest.mark.parametrize("source, message", [
    ("isaac:somewhere", "expected replicator:DIR"),
    ("replicator:/does/not/exist", "does not exist"),
])
def test_bad_sources(tmp_path, capsys, source, message):
    assert main(["generate", "--source", source, "--out", str(tmp_path / "ds")]) == 2
    assert message in capsys.readouterr().err
