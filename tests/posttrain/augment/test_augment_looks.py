"""``worldsim augment`` with a look renderer: new looks, the rest of the source kept; which looks; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from posttrain.augment.command import augment_command
from posttrain.augment.config import AugmentConfig
from posttrain.augment.generators import look_seed
from test_augment import KEPT, replicator_folder
from transfer_helpers import tiny_look_model, tiny_transfer_data
from worldsim.data.lerobot_reader import LeRobotDatasetReader


@pytest.fixture(scope="module")
def made(artifacts, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("augment_looks")
    data = tiny_transfer_data(root / "data")
    return {"data": str(data), "model": str(tiny_look_model(root, data)), "plain": artifacts["data"]}


def test_looks_replace_the_frames_and_keep_everything_else(made, tmp_path):
    out = augment_command(made["model"], made["data"], None, tmp_path / "aug", None, ["looks=2"])
    src, aug = LeRobotDatasetReader(made["data"]), LeRobotDatasetReader(out)
    assert aug.num_episodes == 2 * src.num_episodes
    for e in range(src.num_episodes):
        a = src.read_episode(e)
        looks = [aug.read_episode(2 * e + k) for k in range(2)]
        for b in looks:
            for key in KEPT:
                np.testing.assert_array_equal(b[key], a[key], err_msg=key)
        assert np.abs(looks[0]["observation.images.top"].astype(int) - looks[1]["observation.images.top"]).mean() > 1


def test_shared_looks_repeat_across_episodes_and_unshared_ones_do_not():
    shared, own = AugmentConfig(seed=5), AugmentConfig(seed=5, shared_looks=False)
    assert look_seed(shared, 0, 1) == look_seed(shared, 7, 1) == 6
    seeds = {look_seed(own, e, k) for e in range(20) for k in range(3)}
    assert len(seeds) == 60 and look_seed(own, 3, 1) == look_seed(own, 3, 1)


def test_a_replicator_folder_is_redrawn(made, tmp_path):
    folder = replicator_folder(tmp_path / "rep", 32)
    out = augment_command(made["model"], None, f"replicator:{folder}", tmp_path / "aug", None, ["looks=2"])
    aug = LeRobotDatasetReader(out)
    a, b = (aug.read_episode(k)["observation.images.top"] for k in range(2))
    assert aug.num_episodes == 2 and len(a) == 3 and np.abs(a.astype(int) - b).mean() > 1


def test_controls_the_renderer_does_not_take_and_missing_inputs_are_clear_errors(made, tmp_path):
    model, data = made["model"], made["data"]
    with pytest.raises(ValueError, match="'edge' has no branch in this model; it has: depth, segmentation"):
        augment_command(model, data, None, tmp_path / "a", None, ["controls.names=[edge]"])
    with pytest.raises(ValueError, match="always takes depth and segmentation"):
        augment_command(model, data, None, tmp_path / "b", None, ["controls.names=[depth]"])
    with pytest.raises(ValueError, match="takes no control weights"):
        augment_command(model, data, None, tmp_path / "c", None, ["controls.segmentation.where=[block]"])
    with pytest.raises(ValueError, match="'depth' needs the feature 'observation.depth.top'"):
        augment_command(model, made["plain"], None, tmp_path / "d", None, [])


def test_include_source_writes_each_source_episode_before_its_looks(made, tmp_path):
    out = augment_command(made["model"], made["data"], None, tmp_path / "aug", None,
                          ["looks=2", "include_source=true", "shared_looks=false"])
    src, aug = LeRobotDatasetReader(made["data"]), LeRobotDatasetReader(out)
    assert aug.num_episodes == 3 * src.num_episodes
    for e in range(src.num_episodes):
        a = src.read_episode(e)["observation.images.top"].astype(int)
        kept, *looks = (aug.read_episode(3 * e + k)["observation.images.top"] for k in range(3))
        assert np.abs(kept - a).mean() < 3                       # the source's frames (re-encoded once)
        assert all(np.abs(look - a).mean() > 2 for look in looks)


def test_material_colours_can_be_asked_for_and_bad_ones_are_refused(made, tmp_path):
    from posttrain.transfer.look_model import LookModel
    from worldsim.looks.vector import LookSpace

    model = LookModel.load(made["model"])
    start = LookSpace.of(model.scene).colour_index("table")
    for seed in (0, 1):
        vector, look = model.look(seed, {"table": [0.9, 0.1, 0.2]})
        np.testing.assert_allclose(vector[start:start + 3], [0.9, 0.1, 0.2], rtol=1e-6)
        rest = np.r_[0:start, start + 3:len(vector)]
        np.testing.assert_array_equal(vector[rest], model.look(seed)[0][rest])   # the rest is the seed's look
    out = augment_command(made["model"], made["data"], None, tmp_path / "red", None,
                          ["looks=1", "colours.table=[0.9,0.1,0.2]", "episodes=[0]"])
    assert LeRobotDatasetReader(out).num_episodes == 1
    with pytest.raises(ValueError, match="no material 'chrome'; it has: table, floor"):
        augment_command(made["model"], made["data"], None, tmp_path / "a", None, ["colours.chrome=[1,0,0]"])
    with pytest.raises(ValueError, match=r"colours.table=\[2.0, 0.0, 0.0\]; give \[r, g, b\], each in \[0, 1\]"):
        augment_command(made["model"], made["data"], None, tmp_path / "b", None, ["colours.table=[2,0,0]"])
