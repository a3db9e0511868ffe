"""Real lerobot 0.4.4 loads what worldsim.data writes, and worldsim.data reads what lerobot writes.

    .venv-lerobot/bin/python -m pytest tests/lerobot_compat     (no network; see conftest.py)

Frame t of episode e is a flat colour derived from (e, t): neighbouring frames differ by 12
levels in green and episodes by 40 in red, so a frame fetched from the wrong timestamp shows
after lossy coding. Low-dim features are random and must match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lerobot")
torch = pytest.importorskip("torch")

from lerobot.datasets.lerobot_dataset import LeRobotDataset  # noqa: E402

from worldsim.data.lerobot_reader import LeRobotDatasetReader  # noqa: E402
from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig  # noqa: E402

pytestmark = pytest.mark.lerobot

FPS = 10
LENGTHS = (6, 9, 4)
STARTS = (0, 6, 15)
TASKS = ("push the red block", "push the blue block", "push the red block")
VIDEO = "observation.images.top"


def frame_colour(episode: int, t: int) -> np.ndarray:
    return np.array([20 + 40 * episode, 20 + 12 * t, 200 - 10 * t], dtype=np.float64)


def make_features(height: int, width: int) -> dict:
    return {
        VIDEO: {"dtype": "video", "shape": (height, width, 3), "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
        "action": {"dtype": "float32", "shape": (2,), "names": None},
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
        "observation.depth.top": {
            "dtype": "float32", "shape": (height, width, 1), "names": ["height", "width", "channels"],
        },
        "observation.camera.top.intrinsics": {"dtype": "float32", "shape": (3, 3), "names": None},
    }


def make_episodes(height: int, width: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    episodes = []
    for e, T in enumerate(LENGTHS):
        colours = np.stack([frame_colour(e, t) for t in range(T)]).astype(np.uint8)  # (T, 3)
        episodes.append({
            VIDEO: np.broadcast_to(colours[:, None, None, :], (T, height, width, 3)).copy(),
            "observation.state": rng.normal(size=(T, 2)).astype(np.float32),
            "action": rng.normal(size=(T, 2)).astype(np.float32),
            "next.reward": rng.normal(size=(T, 1)).astype(np.float32),
            "next.done": (np.arange(T) == T - 1)[:, None],
            "observation.depth.top": rng.random((T, height, width, 1)).astype(np.float32),
            "observation.camera.top.intrinsics": rng.normal(size=(T, 3, 3)).astype(np.float32),
        })
    return episodes


def mean_colour_chw(image: torch.Tensor) -> np.ndarray:
    """lerobot's float (3, H, W) frame in [0, 1] -> its mean colour in levels of 255."""
    return image.double().mean(dim=(1, 2)).numpy() * 255


# ---------------------------------------------------------------- lerobot loads ours


@pytest.fixture(scope="module", params=["one_file_per_kind", "rolled_files"])
def ours(request, tmp_path_factory):
    """A dataset written by LeRobotWriter, with one file of each kind or one per episode."""
    height, width = 32, 48
    limits = {} if request.param == "one_file_per_kind" else {
        "data_files_size_in_mb": 1e-6, "video_files_size_in_mb": 1e-6, "chunks_size": 2, "episodes_buffer_size": 1,
    }
    root = tmp_path_factory.mktemp(request.param) / "dataset"
    episodes = make_episodes(height, width)
    cfg = WriterConfig(fps=FPS, features=make_features(height, width), robot_type="sim", **limits)
    writer = LeRobotWriter(root, cfg)
    for episode, task in zip(episodes, TASKS):
        writer.add_episode(episode, task=task)
    writer.finalize()
    return root, episodes


def test_lerobot_sees_our_episodes_and_bounds(ours):
    root, _ = ours
    ds = LeRobotDataset(repo_id="local/test", root=root, video_backend="pyav")
    assert len(ds) == sum(LENGTHS) == 19
    assert ds.num_episodes == 3
    assert list(ds.meta.episodes["dataset_from_index"]) == [0, 6, 15]
    assert list(ds.meta.episodes["dataset_to_index"]) == [6, 15, 19]
    assert ds.meta.video_keys == [VIDEO]
    assert ds.meta.info["features"][VIDEO]["info"]["video.codec"] == "h264"


def test_lerobot_items_match_what_we_wrote(ours):
    root, episodes = ours
    ds = LeRobotDataset(repo_id="local/test", root=root, video_backend="pyav")
    for e, T in enumerate(LENGTHS):
        for t in range(T):
            item = ds[STARTS[e] + t]
            assert (item["episode_index"].item(), item["frame_index"].item()) == (e, t)
            assert item["task"] == TASKS[e]
            for key in ("observation.state", "action", "observation.depth.top", "observation.camera.top.intrinsics"):
                assert torch.equal(item[key], torch.from_numpy(episodes[e][key][t])), key
            assert item["next.reward"].item() == episodes[e]["next.reward"][t, 0]
            assert item["next.done"].item() == (t == T - 1)
            image = item[VIDEO]
            assert image.shape == (3, 32, 48) and image.dtype == torch.float32
            assert 0.0 <= image.min().item() and image.max().item() <= 1.0
            error = np.abs(mean_colour_chw(image) - frame_colour(e, t)).max()
            assert error <= 5, (e, t, mean_colour_chw(image))


def test_lerobot_delta_timestamps_across_an_episode_boundary(ours):
    root, episodes = ours
    deltas = [-0.1, 0.0, 0.1]
    ds = LeRobotDataset(
        repo_id="local/test", root=root, video_backend="pyav",
        delta_timestamps={VIDEO: deltas, "action": deltas},
    )
    cases = {  # global index -> the (episode, frame) each delta should land on, and padding
        5: ([(0, 4), (0, 5), (0, 5)], [False, False, True]),  # last frame of episode 0
        6: ([(1, 0), (1, 0), (1, 1)], [True, False, False]),  # first frame of episode 1
        14: ([(1, 7), (1, 8), (1, 8)], [False, False, True]),
    }
    for index, (frames, pads) in cases.items():
        item = ds[index]
        assert item[VIDEO].shape == (3, 3, 32, 48)
        assert item[f"{VIDEO}_is_pad"].tolist() == pads
        assert item["action_is_pad"].tolist() == pads
        for k, (e, t) in enumerate(frames):
            assert np.abs(mean_colour_chw(item[VIDEO][k]) - frame_colour(e, t)).max() <= 5, (index, k)
            assert torch.equal(item["action"][k], torch.from_numpy(episodes[e]["action"][t]))


def test_lerobot_reads_our_stats(ours):
    root, episodes = ours
    ds = LeRobotDataset(repo_id="local/test", root=root, video_backend="pyav")
    actions = np.concatenate([ep["action"] for ep in episodes]).astype(np.float64)
    np.testing.assert_allclose(ds.meta.stats["action"]["mean"], actions.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(ds.meta.stats["action"]["std"], actions.std(axis=0), rtol=1e-6)
    assert ds.meta.stats[VIDEO]["mean"].shape == (3, 1, 1)
    assert list(ds.meta.tasks.index) == ["push the red block", "push the blue block"]
    assert ds.meta.get_task_index("push the blue block") == 1


# ---------------------------------------------------------------- we read lerobot's


@pytest.fixture(scope="module", params=["libsvtav1", "h264", "h264_rolled_files"])
def theirs(request, tmp_path_factory):
    """A dataset written by lerobot itself (add_frame / save_episode / finalize), videos on;
    "rolled_files" shrinks its file size limits so every episode gets its own files."""
    height, width = 64, 64  # lerobot's default codec, SVT-AV1, needs 64 pixels or more
    root = tmp_path_factory.mktemp(f"lerobot_{request.param}") / "dataset"
    episodes = make_episodes(height, width)
    ds = LeRobotDataset.create(
        repo_id="local/theirs", fps=FPS, features=make_features(height, width), root=root,
        robot_type="sim", use_videos=True, vcodec=request.param.removesuffix("_rolled_files"),
    )
    if request.param.endswith("_rolled_files"):
        ds.meta.update_chunk_settings(data_files_size_in_mb=1e-6, video_files_size_in_mb=1e-6)
    for episode, task in zip(episodes, TASKS):
        for t in range(len(episode["action"])):
            ds.add_frame({**{key: value[t] for key, value in episode.items()}, "task": task})
        ds.save_episode()
    ds.finalize()
    return root, episodes, ds.meta.stats


def test_we_read_lerobots_episodes(theirs):
    root, episodes, _ = theirs
    reader = LeRobotDatasetReader(root)
    assert reader.num_episodes == 3 and reader.fps == FPS
    assert list(reader.episode_lengths) == list(LENGTHS)
    assert reader.tasks == ["push the red block", "push the blue block"]
    rolled = len(list((root / "data").rglob("*.parquet"))) > 1
    assert len(list((root / "videos").rglob("*.mp4"))) == (3 if rolled else 1)
    # lerobot concatenates episodes into one mp4 unless rolled: episode 2 starts 1.5 s into it
    assert reader.episode_meta(2)[f"videos/{VIDEO}/from_timestamp"] == pytest.approx(0.0 if rolled else 1.5)
    for e, original in enumerate(episodes):
        got = reader.read_episode(e)
        assert got["task"] == TASKS[e]
        for key in ("observation.state", "action", "next.reward", "next.done", "observation.depth.top",
                    "observation.camera.top.intrinsics"):
            np.testing.assert_array_equal(got[key], original[key], err_msg=key)
        np.testing.assert_array_equal(got["index"][:, 0], STARTS[e] + np.arange(LENGTHS[e]))
        frames = got[VIDEO]
        assert frames.shape == (LENGTHS[e], 64, 64, 3) and frames.dtype == np.uint8
        for t, frame in enumerate(frames):
            error = np.abs(frame.reshape(-1, 3).mean(axis=0) - frame_colour(e, t)).max()
            assert error <= 6, (e, t, frame.reshape(-1, 3).mean(axis=0))


def test_we_read_lerobots_stats(theirs):
    root, _, lerobot_stats = theirs
    reader = LeRobotDatasetReader(root)
    for key in ("action", "observation.state", "next.reward"):
        for name in ("min", "max", "mean", "std", "count", "q01", "q50", "q99"):
            np.testing.assert_allclose(reader.stats[key][name], lerobot_stats[key][name], err_msg=f"{key}/{name}")


def test_we_read_lerobots_image_features(tmp_path):
    """use_videos=False: lerobot stores frames as PNG bytes in the parquet (hf Image), losslessly."""
    features = {
        "observation.images.top": {"dtype": "image", "shape": (8, 12, 3), "names": ["height", "width", "channels"]},
        "action": {"dtype": "float32", "shape": (2,), "names": None},
    }
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (T, 8, 12, 3), dtype=np.uint8) for T in (3, 2)]
    ds = LeRobotDataset.create(
        repo_id="local/images", fps=FPS, features=features, root=tmp_path / "ds", use_videos=False
    )
    for episode_frames in frames:
        for frame in episode_frames:
            ds.add_frame({"observation.images.top": frame, "action": np.zeros(2, np.float32), "task": "look"})
        ds.save_episode()
    ds.finalize()
    reader = LeRobotDatasetReader(tmp_path / "ds")
    for e, episode_frames in enumerate(frames):
        np.testing.assert_array_equal(reader.read_episode(e)["observation.images.top"], episode_frames)
