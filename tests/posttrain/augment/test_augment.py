"""``worldsim augment``: new frames, everything else of the source kept exactly; resume and refusal;
Replicator folders; clear errors for inputs a model or control cannot take."""

from __future__ import annotations

import numpy as np
import pytest

import posttrain.augment.command as augment
import posttrain.augment.generators as generators
from posttrain.augment.command import augment_command
from transfer_helpers import tiny_transfer_data, tiny_transfer_run
from worldsim.data.lerobot_reader import LeRobotDatasetReader

KEPT = ["action", "observation.state", "observation.environment_state", "next.reward", "next.done", "next.success",
        "observation.depth.top", "observation.segmentation.top", "task"]


@pytest.fixture(scope="module")
def made(artifacts, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("augment")
    data = tiny_transfer_data(root / "data")
    run = tiny_transfer_run(root / "run", data)           # a fresh pixels:4 DiT with edge/depth/seg branches
    return {"data": str(data), "run": str(run), "plain": artifacts["data"], "tokenizer": artifacts["tokenizer"]}


def test_augment_keeps_actions_states_and_episode_bounds(made, tmp_path):
    out = augment_command(made["run"], made["data"], None, tmp_path / "aug", None, ["looks=2", "steps=2"])
    src, aug = LeRobotDatasetReader(made["data"]), LeRobotDatasetReader(out)
    assert aug.num_episodes == 2 * src.num_episodes
    np.testing.assert_array_equal(aug.episode_lengths, np.repeat(src.episode_lengths, 2))
    for e in range(src.num_episodes):
        a = src.read_episode(e)
        looks = [aug.read_episode(2 * e + k) for k in range(2)]
        for b in looks:
            for key in KEPT:
                np.testing.assert_array_equal(b[key], a[key], err_msg=key)
            other = b["observation.canonical.top"].astype(int) - a["observation.canonical.top"]
            assert np.abs(other).mean() < 3                      # other videos kept (re-encoded once)
            assert b["observation.images.top"].shape == a["observation.images.top"].shape
            assert np.abs(b["observation.images.top"].astype(int) - a["observation.images.top"]).mean() > 2
        assert np.abs(looks[0]["observation.images.top"].astype(int) - looks[1]["observation.images.top"]).mean() > 1
    starts = np.concatenate([[0], np.cumsum(aug.episode_lengths)])
    for e in range(aug.num_episodes):
        meta = aug.episode_meta(e)
        assert (meta["dataset_from_index"], meta["dataset_to_index"]) == (starts[e], starts[e + 1])


def test_rerun_resumes_and_a_foreign_out_is_refused(made, tmp_path, monkeypatch):
    out = tmp_path / "aug"
    calls = []
    real_generate = generators._generate

    def counting(*args):
        calls.append(1)
        return real_generate(*args)

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(generators, "_generate", counting)
    monkeypatch.setattr(augment, "_assemble", killed)
    with pytest.raises(KeyboardInterrupt):                       # dies after generating, before writing
        augment_command(made["run"], made["data"], None, out, None, ["steps=2", "episodes=[0,1]"])
    assert len(calls) == 2
    monkeypatch.undo()
    monkeypatch.setattr(generators, "_generate", counting)
    augment_command(made["run"], made["data"], None, out, None, ["steps=2", "episodes=[0,1]"])
    assert len(calls) == 2                                       # staged episodes were reused
    info = (out / "meta/info.json").stat().st_mtime_ns
    augment_command(made["run"], made["data"], None, out, None, ["steps=2", "episodes=[0,1]"])
    assert (out / "meta/info.json").stat().st_mtime_ns == info and len(calls) == 2
    with pytest.raises(ValueError, match="another config"):
        augment_command(made["run"], made["data"], None, out, None, ["steps=3", "episodes=[0,1]"])
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a `worldsim augment` run"):
        augment_command(made["run"], made["data"], None, junk, None, ["steps=2"])


def test_bad_input_is_a_clear_error(made, tmp_path):
    run, data = made["run"], made["data"]
    with pytest.raises(ValueError, match="'depth' needs the feature 'observation.depth.top'"):
        augment_command(run, made["plain"], None, tmp_path / "a", None, [])
    with pytest.raises(ValueError, match="'normals' is not allowed"):
        augment_command(run, data, None, tmp_path / "b", None, ["controls.names=[normals]"])
    with pytest.raises(ValueError, match="'blur' has no branch"):
        augment_command(run, data, None, tmp_path / "c", None, ["controls.names=[blur]"])
    with pytest.raises(ValueError, match="exactly one of --data"):
        augment_command(run, None, None, tmp_path / "d", None, [])
    with pytest.raises(ValueError, match="unknown config key 'look'"):
        augment_command(run, data, None, tmp_path / "e", None, ["look=2"])
    with pytest.raises(ValueError, match="not a transfer model"):
        augment_command(made["tokenizer"], data, None, tmp_path / "f", None, [])


def replicator_folder(path, size: int, frames: int = 3, depth: bool = True):
    from envs.tabletop_push import TabletopPushEnv
    from worldsim.data.replicator import ReplicatorWriter

    env = TabletopPushEnv(cameras=("top",), image_size=size)
    env.reset(seed=0)
    writer = ReplicatorWriter(path, cameras=("top",))
    for i in range(frames):
        captured = env.capture(("rgb", "depth", "segmentation") if depth else ("rgb", "segmentation"))
        writer.write(i, captured)
        env.step(np.array([0.5, 0.0], np.float32))
    env.close()
    return path


def test_replicator_folders_augment_and_are_checked(made, tmp_path):
    from worldsim.data.replicator import ReplicatorFolder

    folder = replicator_folder(tmp_path / "rep", 32)
    out = augment_command(made["run"], None, f"replicator:{folder}", tmp_path / "aug", None, ["steps=2"])
    aug = LeRobotDatasetReader(out)
    ep = aug.read_episode(0)
    assert aug.num_episodes == 1 and len(ep["observation.images.top"]) == 3
    depth = np.stack([f["top"].depth for f in ReplicatorFolder(folder).iter_frames()])
    np.testing.assert_array_equal(ep["observation.depth.top"][..., 0], depth)
    no_depth = replicator_folder(tmp_path / "nodepth", 32, frames=2, depth=False)
    with pytest.raises(ValueError, match="'depth' needs the Replicator annotator 'distance_to_image_plane'.*nodepth"):
        augment_command(made["run"], None, f"replicator:{no_depth}", tmp_path / "x", None, [])
    small = replicator_folder(tmp_path / "small", 16, frames=2)
    with pytest.raises(ValueError, match="trained on 32x32 frames.*16x16"):
        augment_command(made["run"], None, f"replicator:{small}", tmp_path / "y", None, [])


def test_a_look_cut_short_by_a_kill_is_removed_on_resume(tmp_path):
    """``ep<e>_look<k>.tmp.npy`` left by a kill is deleted when the run is opened again (and generated anew)."""
    manifest = {"run": {"model": "m", "source": "s", "config": {}}}
    out = tmp_path / "aug"
    assert not augment._claim(out, manifest)
    stale = out / augment.STATE / "episodes" / "ep000000_look000.tmp.npy"
    stale.write_bytes(b"cut short")
    assert not augment._claim(out, manifest)
    assert not stale.exists()
