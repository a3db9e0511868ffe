"""LeRobotDataset v3.0 writer and reader: round trips, layout, stats and errors (main env).

    .venv/bin/python -m pytest tests/data

Episodes are synthetic: frame t of episode e is one flat colour derived from (e, t) (neighbouring
frames differ by 12 levels in green, episodes by 40 in red), so a wrong or shifted frame shows
after lossy coding; every other feature is random and must come back bit for bit.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from worldsim.data.lerobot_reader import LeRobotDatasetReader
from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig
from worldsim.data.video import VideoCodec, VideoFileEncoder, decode_frames

FPS = 10
H, W = 16, 24
LENGTHS = (5, 8, 1)
TASKS = ("push the red block", "push the blue block", "push the red block")
VIDEO = "observation.images.top"
FRAME_TOLERANCE = 5  # levels of 255, on a frame's mean colour; neighbours are 12 apart


def make_features() -> dict:
    hw1 = {"shape": (H, W, 1), "names": ["height", "width", "channels"]}
    return {
        VIDEO: {"dtype": "video", "shape": (H, W, 3), "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
        "observation.environment_state": {"dtype": "float32", "shape": (4,), "names": None},
        "action": {"dtype": "float32", "shape": (2,), "names": None},
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
        "next.success": {"dtype": "bool", "shape": (1,), "names": None},
        "observation.depth.top": {"dtype": "float32", **hw1},
        "observation.segmentation.top": {"dtype": "int32", **hw1},
        "observation.segmentation.side": {"dtype": "uint8", **hw1},
        "observation.camera.top.intrinsics": {"dtype": "float32", "shape": (3, 3), "names": None},
        "observation.camera.top.extrinsics": {"dtype": "float32", "shape": (4, 4), "names": None},
    }


def frame_colour(episode: int, t: int) -> np.ndarray:
    return np.array([20 + 40 * episode, 20 + 12 * t, 200 - 10 * t], dtype=np.uint8)


def make_episode(rng: np.random.Generator, episode: int, T: int) -> dict[str, np.ndarray]:
    frames = np.stack([np.broadcast_to(frame_colour(episode, t), (H, W, 3)) for t in range(T)])  # (T, H, W, 3)
    return {
        VIDEO: frames,
        "observation.state": rng.normal(size=(T, 2)).astype(np.float32),
        "observation.environment_state": rng.normal(size=(T, 4)).astype(np.float32),
        "action": rng.normal(size=(T, 2)).astype(np.float32),
        "next.reward": rng.normal(size=T).astype(np.float32),  # (T,) for a shape-(1,) feature
        "next.done": (np.arange(T) == T - 1)[:, None],  # (T, 1)
        "next.success": rng.random((T, 1)) < 0.3,
        "observation.depth.top": rng.random((T, H, W, 1)).astype(np.float32),
        "observation.segmentation.top": rng.integers(-1, 7, (T, H, W, 1)).astype(np.int32),
        "observation.segmentation.side": rng.integers(0, 255, (T, H, W, 1)).astype(np.uint8),
        "observation.camera.top.intrinsics": rng.normal(size=(T, 3, 3)).astype(np.float32),
        "observation.camera.top.extrinsics": rng.normal(size=(T, 4, 4)).astype(np.float32),
    }


def write_dataset(root, **cfg_overrides) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    episodes = [make_episode(rng, e, T) for e, T in enumerate(LENGTHS)]
    cfg = WriterConfig(
        fps=FPS, robot_type="tabletop_pusher", features=make_features(),
        extra_info={"segmentation_labels": {"0": "table", "1": "block"}}, **cfg_overrides,
    )
    writer = LeRobotWriter(root, cfg)
    for episode, task in zip(episodes, TASKS):
        writer.add_episode(episode, task=task)
    writer.finalize()
    return episodes


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds") / "dataset"
    return root, write_dataset(root)


def read_parquet_rows(path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def assert_frames_follow_pattern(frames: np.ndarray, episode: int) -> None:
    assert frames.dtype == np.uint8 and frames.shape == (LENGTHS[episode], H, W, 3)
    for t, frame in enumerate(frames):
        expected = frame_colour(episode, t).astype(float)
        mean_colour = frame.reshape(-1, 3).mean(axis=0)
        assert np.abs(mean_colour - expected).max() <= FRAME_TOLERANCE, (episode, t, mean_colour, expected)
        assert np.abs(frame.astype(float) - expected).max() <= 2 * FRAME_TOLERANCE, (episode, t)


# ---------------------------------------------------------------- round trip


def test_low_dim_features_round_trip_exactly(dataset):
    root, episodes = dataset
    reader = LeRobotDatasetReader(root)
    features = make_features()
    for e, original in enumerate(episodes):
        got = reader.read_episode(e)
        for key, value in original.items():
            if key == VIDEO:
                continue
            expected = value.reshape(len(value), *features[key]["shape"])  # (T,) reward -> (T, 1)
            assert got[key].dtype == np.dtype(features[key]["dtype"]), key
            np.testing.assert_array_equal(got[key], expected, err_msg=key)
        assert got["task"] == TASKS[e]


def test_video_frames_round_trip_within_tolerance(dataset):
    root, _ = dataset
    reader = LeRobotDatasetReader(root)
    for e in range(len(LENGTHS)):
        assert_frames_follow_pattern(reader.read_episode(e)[VIDEO], e)


def test_default_columns_and_episode_bounds(dataset):
    root, _ = dataset
    reader = LeRobotDatasetReader(root)
    assert reader.num_episodes == 3 and reader.fps == FPS
    assert list(reader.episode_lengths) == [5, 8, 1]
    assert reader.tasks == ["push the red block", "push the blue block"]
    starts = [0, 5, 13]
    for e, T in enumerate(LENGTHS):
        got = reader.read_episode(e)
        np.testing.assert_array_equal(got["frame_index"][:, 0], np.arange(T))
        np.testing.assert_array_equal(got["index"][:, 0], starts[e] + np.arange(T))
        np.testing.assert_array_equal(got["episode_index"][:, 0], np.full(T, e))
        np.testing.assert_array_equal(got["task_index"][:, 0], np.full(T, [0, 1, 0][e]))
        np.testing.assert_allclose(got["timestamp"][:, 0], np.arange(T) / FPS, rtol=0, atol=1e-7)
        assert got["timestamp"].dtype == np.float32
    rows = read_parquet_rows(root / "meta/episodes/chunk-000/file-000.parquet")
    assert [r["dataset_from_index"] for r in rows] == [0, 5, 13]
    assert [r["dataset_to_index"] for r in rows] == [5, 13, 14]
    assert [r["length"] for r in rows] == [5, 8, 1]
    assert [r["tasks"] for r in rows] == [[t] for t in TASKS]


def test_several_episodes_share_one_video_file_at_exact_timestamps(dataset):
    root, _ = dataset
    rows = read_parquet_rows(root / "meta/episodes/chunk-000/file-000.parquet")
    prefix = f"videos/{VIDEO}"
    assert [r[f"{prefix}/file_index"] for r in rows] == [0, 0, 0]
    assert [r[f"{prefix}/chunk_index"] for r in rows] == [0, 0, 0]
    np.testing.assert_allclose([r[f"{prefix}/from_timestamp"] for r in rows], [0.0, 0.5, 1.3])
    np.testing.assert_allclose([r[f"{prefix}/to_timestamp"] for r in rows], [0.5, 1.3, 1.4])
    videos = sorted((root / "videos").rglob("*.mp4"))
    assert [p.relative_to(root).as_posix() for p in videos] == [f"videos/{VIDEO}/chunk-000/file-000.mp4"]
    with av.open(str(videos[0])) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert len(times) == sum(LENGTHS)
    assert max(abs(t - i / FPS) for i, t in enumerate(times)) < 1e-9  # frame i at i / fps


def test_info_json(dataset):
    root, _ = dataset
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (3, 14, 2)
    assert info["fps"] == FPS and info["robot_type"] == "tabletop_pusher"
    assert info["splits"] == {"train": "0:3"}
    assert info["chunks_size"] == 1000 and info["data_files_size_in_mb"] == 100
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    assert info["segmentation_labels"] == {"0": "table", "1": "block"}
    features = info["features"]
    assert features["timestamp"] == {"dtype": "float32", "shape": [1], "names": None}
    assert features["index"]["dtype"] == "int64"
    assert features["observation.camera.top.extrinsics"]["shape"] == [4, 4]
    assert features[VIDEO]["info"] == {
        "video.height": H, "video.width": W, "video.codec": "h264", "video.pix_fmt": "yuv420p",
        "video.is_depth_map": False, "video.fps": FPS, "video.channels": 3, "has_audio": False,
    }


def test_tasks_parquet_is_indexed_by_task(dataset):
    root, _ = dataset
    table = pq.read_table(root / "meta/tasks.parquet")
    pandas_meta = json.loads(table.schema.metadata[b"pandas"])
    (index_column,) = pandas_meta["index_columns"]
    assert dict(zip(table.column(index_column).to_pylist(), table.column("task_index").to_pylist())) == {
        "push the red block": 0, "push the blue block": 1,
    }


def test_data_columns_use_the_arrow_types_lerobot_reads(dataset):
    root, _ = dataset
    schema = pq.read_schema(root / "data/chunk-000/file-000.parquet")
    assert schema.field("next.reward").type == pa.float32()  # shape (1,) -> hf Value
    assert schema.field("next.done").type == pa.bool_()
    assert schema.field("observation.state").type == pa.list_(pa.float32(), 2)  # hf List(length=2)
    assert schema.field("observation.camera.top.intrinsics").type == pa.list_(pa.list_(pa.float32()))
    assert VIDEO not in schema.names
    hf = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
    assert hf["observation.depth.top"] == {"shape": [H, W, 1], "dtype": "float32", "_type": "Array3D"}


def test_decode_frames_returns_exactly_the_requested_window(tmp_path):
    """Sparse keyframes (gop 4): decoding starts at an earlier keyframe and must drop those frames."""
    frames = np.full((12, 16, 64, 3), 128, np.uint8)  # (T, H, W, 3): a white square moving 4 px a frame
    for t in range(12):
        frames[t, 4:12, 4 * t : 4 * t + 4] = 255
    path = tmp_path / "square.mp4"
    encoder = VideoFileEncoder(path, FPS, 16, 64, VideoCodec(gop=4))
    encoder.write(frames)
    encoder.close()

    def square_positions(decoded):
        return [int(np.argmax(frame[8, :, 0] > 200)) // 4 for frame in decoded]

    assert square_positions(decode_frames(path, 0.7, 1.1, FPS)) == [7, 8, 9, 10]
    assert square_positions(decode_frames(path, 0.0, 0.3, FPS)) == [0, 1, 2]
    assert square_positions(decode_frames(path, 1.1, 1.2, FPS)) == [11]
    with pytest.raises(ValueError, match=r"found 2 frames.*expected 5"):
        decode_frames(path, 1.0, 1.5, FPS)


# ---------------------------------------------------------------- stats


def _expected_stats(parts: list[np.ndarray], frames: list[int], spread: list[bool]) -> dict[str, np.ndarray]:
    """Stats over the (N_e, C) rows of each episode, from numpy on the raw data. Episodes weigh by
    their frame count; an episode without spread (one frame of a numeric feature) has its
    quantiles replaced by its mean."""
    everything = np.concatenate(parts).astype(np.float64)
    weights = np.array(frames, dtype=np.float64)[:, None]  # (E, 1)
    expected = {
        "min": everything.min(axis=0), "max": everything.max(axis=0),
        "mean": everything.mean(axis=0), "std": everything.std(axis=0),
    }
    for name, q in [("q01", 0.01), ("q10", 0.10), ("q50", 0.50), ("q90", 0.90), ("q99", 0.99)]:
        per_episode = [  # the empirical inverse CDF of each episode
            np.quantile(p.astype(np.float64), q, axis=0, method="inverted_cdf") if s else p.mean(axis=0)
            for p, s in zip(parts, spread)
        ]
        expected[name] = (np.stack(per_episode) * weights).sum(axis=0) / weights.sum()
    return expected


def _histogram_tolerance(parts: list[np.ndarray], frames: list[int]) -> np.ndarray:
    """Quantiles come from 5000-bin histograms: one bin width per episode, frame-weighted."""
    weights = np.array(frames, dtype=np.float64)[:, None]  # (E, 1)
    widths = np.stack([np.ptp(p.astype(np.float64), axis=0) / 5000 for p in parts])
    return (widths * weights).sum(axis=0) / weights.sum() + 1e-9


def _check_stats(stats: dict, expected: dict, tolerance: np.ndarray, exact_min_max: bool) -> None:
    for name in ("min", "max"):
        got = np.asarray(stats[name], dtype=np.float64).ravel()
        if exact_min_max:
            np.testing.assert_array_equal(got, expected[name], err_msg=name)
        else:
            np.testing.assert_allclose(got, expected[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(np.ravel(stats["mean"]), expected["mean"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.ravel(stats["std"]), expected["std"], rtol=1e-6, atol=1e-9)
    for name in ("q01", "q10", "q50", "q90", "q99"):
        error = np.abs(np.ravel(stats[name]) - expected[name])
        assert np.all(error <= tolerance), (name, stats[name], expected[name])


@pytest.mark.parametrize("key", ["action", "observation.depth.top", "next.done", "next.reward"])
def test_stats_of_numeric_features_match_numpy(dataset, key):
    root, episodes = dataset
    stats = json.loads((root / "meta/stats.json").read_text())[key]
    parts = [ep[key].reshape(len(ep[key]), -1, 1 if ep[key].ndim == 1 else ep[key].shape[-1]) for ep in episodes]
    parts = [p.reshape(-1, p.shape[-1]) for p in parts]  # (T * pixels, C): stats per last axis
    expected = _expected_stats(parts, list(LENGTHS), [T >= 2 for T in LENGTHS])
    assert stats["count"] == [14]  # frames, not pixels
    _check_stats(stats, expected, _histogram_tolerance(parts, list(LENGTHS)), exact_min_max=True)


def test_stats_of_video_are_per_channel_in_unit_range(dataset):
    root, episodes = dataset
    stats = json.loads((root / "meta/stats.json").read_text())[VIDEO]
    parts = [ep[VIDEO].reshape(-1, 3).astype(np.float64) / 255 for ep in episodes]  # every frame (T < 100)
    expected = _expected_stats(parts, list(LENGTHS), [True] * len(LENGTHS))
    assert stats["count"] == [14]
    assert all(np.asarray(value).shape == (3, 1, 1) for name, value in stats.items() if name != "count")
    _check_stats(stats, expected, _histogram_tolerance(parts, list(LENGTHS)), exact_min_max=False)


def test_episode_rows_carry_per_episode_stats(dataset):
    root, episodes = dataset
    rows = read_parquet_rows(root / "meta/episodes/chunk-000/file-000.parquet")
    for row, episode in zip(rows, episodes):
        np.testing.assert_allclose(row["stats/action/mean"], episode["action"].astype(np.float64).mean(axis=0))
        assert row["stats/action/count"] == [len(episode["action"])]
        assert np.asarray(row[f"stats/{VIDEO}/mean"]).shape == (3, 1, 1)
    assert rows[0]["meta/episodes/chunk_index"] == 0 and rows[0]["meta/episodes/file_index"] == 0


# ---------------------------------------------------------------- rolling files


def test_tiny_size_limits_roll_files_and_chunks(tmp_path):
    root = tmp_path / "rolled"
    episodes = write_dataset(
        root, data_files_size_in_mb=1e-6, video_files_size_in_mb=1e-6, chunks_size=2, episodes_buffer_size=1
    )
    expected_files = ["chunk-000/file-000", "chunk-000/file-001", "chunk-001/file-000"]
    data = sorted(p.relative_to(root / "data").as_posix() for p in (root / "data").rglob("*.parquet"))
    assert data == [f + ".parquet" for f in expected_files]
    video_dir = root / "videos" / VIDEO
    videos = sorted(p.relative_to(video_dir).as_posix() for p in video_dir.rglob("*.mp4"))
    assert videos == [f + ".mp4" for f in expected_files]
    meta_dir = root / "meta/episodes"
    metas = sorted(p.relative_to(meta_dir).as_posix() for p in meta_dir.rglob("*.parquet"))
    assert metas == [f + ".parquet" for f in expected_files]
    rows = [row for f in expected_files for row in read_parquet_rows(meta_dir / f"{f}.parquet")]
    assert [(r["meta/episodes/chunk_index"], r["meta/episodes/file_index"]) for r in rows] == [(0, 0), (0, 1), (1, 0)]
    assert [(r["data/chunk_index"], r["data/file_index"]) for r in rows] == [(0, 0), (0, 1), (1, 0)]
    assert [r[f"videos/{VIDEO}/from_timestamp"] for r in rows] == [0.0, 0.0, 0.0]
    reader = LeRobotDatasetReader(root)
    for e, original in enumerate(episodes):
        got = reader.read_episode(e)
        np.testing.assert_array_equal(got["action"], original["action"])
        assert_frames_follow_pattern(got[VIDEO], e)


def test_size_limit_keeps_episodes_together_until_full(tmp_path):
    """A limit that fits two episodes' action column but not three puts episode 2 in a new file."""
    features = {"action": {"dtype": "float32", "shape": (2,), "names": None}}
    root = tmp_path / "two_per_file"
    T = 1000  # 1000 rows * (8 B action + 4 + 4 * 8 B defaults) = 44 kB of Arrow data per episode
    limit_mb = 100_000 / 1024**2  # 100 kB: two episodes (88 kB) fit, a third would not
    writer = LeRobotWriter(root, WriterConfig(fps=FPS, features=features, data_files_size_in_mb=limit_mb))
    for _ in range(3):
        writer.add_episode({"action": np.zeros((T, 2), np.float32)}, task="t")
    writer.finalize()
    rows = read_parquet_rows(root / "meta/episodes/chunk-000/file-000.parquet")
    assert [r["data/file_index"] for r in rows] == [0, 0, 1]
    assert LeRobotDatasetReader(root).read_episode(2)["action"].shape == (T, 2)


# ---------------------------------------------------------------- errors


def _valid_episode(T: int = 5) -> dict[str, np.ndarray]:
    return make_episode(np.random.default_rng(1), 0, T)


def _writer(tmp_path) -> LeRobotWriter:
    return LeRobotWriter(tmp_path / "ds", WriterConfig(fps=FPS, features=make_features()))


def test_wrong_shape_names_key_got_and_expected(tmp_path):
    episode = _valid_episode()
    episode["observation.state"] = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"'observation\.state'.*\(5, 3\).*\(T, 2\)"):
        _writer(tmp_path).add_episode(episode, task="t")


def test_wrong_frame_size_is_refused(tmp_path):
    episode = _valid_episode()
    episode[VIDEO] = np.zeros((5, H, W + 2, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"'{VIDEO}'.*\(5, {H}, {W + 2}, 3\).*\(T, {H}, {W}, 3\)"):
        _writer(tmp_path).add_episode(episode, task="t")


def test_missing_key_is_named(tmp_path):
    episode = _valid_episode()
    del episode["action"]
    with pytest.raises(ValueError, match=r"missing key 'action'.*\(T, 2\)"):
        _writer(tmp_path).add_episode(episode, task="t")


def test_unknown_key_is_named(tmp_path):
    episode = {**_valid_episode(), "observation.images.side": np.zeros((5, H, W, 3), np.uint8)}
    with pytest.raises(ValueError, match=r"unknown key 'observation\.images\.side'"):
        _writer(tmp_path).add_episode(episode, task="t")


def test_different_lengths_are_refused(tmp_path):
    episode = _valid_episode()
    episode["action"] = episode["action"][:4]
    with pytest.raises(ValueError, match=r"different lengths.*'action': 4"):
        _writer(tmp_path).add_episode(episode, task="t")


@pytest.mark.parametrize(
    "key, value",
    [(VIDEO, np.zeros((5, H, W, 3), np.float32)), ("next.done", np.zeros((5, 1), np.float32)),
     ("observation.segmentation.side", np.full((5, H, W, 1), 300, np.int64))],
)
def test_wrong_dtype_is_refused(tmp_path, key, value):
    episode = {**_valid_episode(), key: value}
    with pytest.raises(ValueError, match=rf"'{key}' has dtype"):
        _writer(tmp_path).add_episode(episode, task="t")


def test_refuses_a_root_with_files_but_takes_an_empty_one(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=str(tmp_path / "full")):
        LeRobotWriter(tmp_path / "full", WriterConfig(fps=FPS, features=make_features()))
    (tmp_path / "empty").mkdir()
    LeRobotWriter(tmp_path / "empty", WriterConfig(fps=FPS, features=make_features())).close()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"vcodec": "mpeg4"}, "vcodec 'mpeg4'"),
        ({"vcodec": "libsvtav1"}, "libsvtav1 cannot encode frames smaller"),
        ({"extra_info": {"fps": 30}}, r"extra_info may not set \['fps'\]"),
        ({"features": {"timestamp": {"dtype": "float32", "shape": (1,)}}}, "'timestamp' is written by the writer"),
        ({"features": {"x": {"dtype": "float32", "shape": (0,)}}}, "'x': shape"),
        ({"features": {VIDEO: {"dtype": "video", "shape": (15, 24, 3)}}}, "even height and width"),
    ],
)
def test_bad_config_is_refused_with_the_field(tmp_path, overrides, message):
    cfg = WriterConfig(**{"fps": FPS, "features": make_features(), **overrides})
    with pytest.raises(ValueError, match=message):
        LeRobotWriter(tmp_path / "ds", cfg)
    assert not (tmp_path / "ds").exists()


def test_reader_rejects_a_folder_without_info(tmp_path):
    with pytest.raises(ValueError, match=rf"{tmp_path}.*meta/info\.json is missing"):
        LeRobotDatasetReader(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        LeRobotDatasetReader(tmp_path / "nowhere")


def test_reader_rejects_an_older_codebase_version(tmp_path):
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta/info.json").write_text(json.dumps({"codebase_version": "v2.1", "fps": 10, "features": {}}))
    with pytest.raises(ValueError, match=r"codebase_version 'v2\.1'.*'v3\.0'"):
        LeRobotDatasetReader(tmp_path)


def test_reader_names_a_missing_video_file(tmp_path):
    root = tmp_path / "ds"
    write_dataset(root)
    (root / f"videos/{VIDEO}/chunk-000/file-000.mp4").unlink()
    reader = LeRobotDatasetReader(root)
    with pytest.raises(ValueError, match=rf"videos/{VIDEO}/chunk-000/file-000\.mp4.*missing"):
        reader.read_episode(0)


def test_reader_names_missing_episode_metadata(tmp_path):
    root = tmp_path / "ds"
    write_dataset(root)
    (root / "meta/episodes/chunk-000/file-000.parquet").unlink()
    with pytest.raises(ValueError, match=r"meta/episodes/chunk-\*/file-\*\.parquet is missing"):
        LeRobotDatasetReader(root)


def test_a_failed_run_leaves_no_info_json(tmp_path):
    root = tmp_path / "ds"
    with pytest.raises(RuntimeError):
        with LeRobotWriter(root, WriterConfig(fps=FPS, features=make_features())) as writer:
            writer.add_episode(_valid_episode(), task="t")
            raise RuntimeError("simulator crashed")
    with pytest.raises(ValueError, match="meta/info.json is missing"):
        LeRobotDatasetReader(root)


def test_stats_leave_out_infinite_depth():
    from worldsim.data.stats import array_stats

    depth = np.full((2, 4, 4, 1), np.inf, np.float32)
    depth[:, :2] = 1.5
    depth[1, 0, 0] = 0.5
    stats = array_stats(depth)
    assert stats["max"][0] == 1.5 and stats["min"][0] == 0.5
    assert stats["mean"][0] == pytest.approx((15 * 1.5 + 0.5) / 16)


def test_stats_of_a_constant_column_of_large_values():
    """episode_index 300 over an episode: every quantile is 300 (numpy's histogram refuses a range
    padded by less than float resolution, which broke datasets of more than ~256 episodes)."""
    from worldsim.data.stats import array_stats

    stats = array_stats(np.full((40, 1), 300, np.int64))
    for key in ("min", "max", "mean", "q01", "q50", "q99"):
        assert float(np.asarray(stats[key]).reshape(-1)[0]) == 300.0, key
