"""Clip loader: shapes, alignment of frames/actions/states, resumable position, rank shards, errors.

    .venv/bin/python -m pytest tests/data/test_clips.py -q

The dataset is synthetic: frame t of episode e is one flat colour derived from (e, t) on camera
"top" (and its inverse on "side"); action t is exactly [e, t] and state t is [10 e + t, -t], so
every clip says where it came from and a shifted frame or action shows.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from worldsim.data.clips import ClipConfig, ClipLoader, EpisodeCache, clip_windows, held_out_split
from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

H, W = 16, 16
LENGTHS = (7, 5, 9)
TOLERANCE = 6 / 127.5  # video is lossy: a frame's mean may move a few levels; neighbours are 12 apart


def colour(episode: int, t: int) -> np.ndarray:
    return np.array([20 + 60 * episode, 20 + 12 * t, 200 - 10 * t], dtype=np.uint8)


def write_dataset(root) -> None:
    video = {"dtype": "video", "shape": (H, W, 3), "names": ["height", "width", "channels"]}
    features = {"observation.images.top": video, "observation.images.side": video,
                "observation.state": {"dtype": "float32", "shape": (2,), "names": None},
                "action": {"dtype": "float32", "shape": (2,), "names": None}}
    writer = LeRobotWriter(root, WriterConfig(fps=10, features=features))
    for e, T in enumerate(LENGTHS):
        top = np.stack([np.broadcast_to(colour(e, t), (H, W, 3)) for t in range(T)])  # (T, H, W, 3)
        t = np.arange(T, dtype=np.float32)
        writer.add_episode({"observation.images.top": top, "observation.images.side": 255 - top,
                            "action": np.stack([np.full(T, e, np.float32), t], 1),
                            "observation.state": np.stack([10 * e + t, -t], 1)}, task="push")
    writer.finalize()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "ds"
    write_dataset(path)
    return str(path)


def loader(root, batch_size=2, rank=0, world=1, seed=0, **cfg) -> ClipLoader:
    cfg = {"cameras": ["top"], "clip_len": 3, **cfg}
    return ClipLoader(ClipConfig(root=root, **cfg), batch_size=batch_size, rank=rank, world=world, seed=seed)


def expected_video(episode: int, frames: np.ndarray) -> torch.Tensor:
    rgb = np.stack([colour(episode, int(t)) for t in frames]).astype(np.float32)  # (T, 3)
    return torch.from_numpy(rgb.T / 127.5 - 1.0)  # (3, T)


def assert_clip_matches(video, action, state, episode: int, frames: np.ndarray) -> None:
    """video (3, T, H, W), action (T, 2), state (T, 2) come from ``frames`` of ``episode``."""
    np.testing.assert_array_equal(action.numpy(), np.stack([np.full(len(frames), episode), frames], 1))
    np.testing.assert_array_equal(state.numpy(), np.stack([10 * episode + frames, -frames], 1))
    mean = video.mean(dim=(2, 3))  # (3, T)
    assert (mean - expected_video(episode, frames)).abs().max() < TOLERANCE, (episode, frames)


def clip_ids(batch) -> list[tuple[int, int]]:
    return list(zip(batch["episode"].tolist(), batch["start"].tolist()))


# ---------------------------------------------------------------- shapes and alignment


def test_batch_shapes_and_range(root):
    batch = next(loader(root, batch_size=2, cameras=["top", "side"]))
    for cam in ("top", "side"):
        video = batch["video"][cam]
        assert video.shape == (2, 3, 3, H, W) and video.dtype == torch.float32
        assert video.min() >= -1.0 and video.max() <= 1.0
    assert batch["action"].shape == (2, 3, 2) and batch["state"].shape == (2, 3, 2)
    assert batch["lengths"].tolist() == [3, 3] and batch["cu_seqlens"].tolist() == [0, 3, 6]


def test_frames_actions_and_states_align(root):
    ld = loader(root, batch_size=3, cameras=["top", "side"])
    for _ in range(4):
        batch = next(ld)
        for b, (e, s) in enumerate(clip_ids(batch)):
            frames = np.arange(s, s + 3)
            assert_clip_matches(batch["video"]["top"][b], batch["action"][b], batch["state"][b], e, frames)
            side = batch["video"]["side"][b].mean(dim=(2, 3))  # (3, T): the inverse colours
            assert (side + expected_video(e, frames)).abs().max() < TOLERANCE


def test_frame_step_takes_every_kth_frame(root):
    batch = next(loader(root, batch_size=2, frame_step=2))
    for b, (e, s) in enumerate(clip_ids(batch)):
        assert_clip_matches(batch["video"]["top"][b], batch["action"][b], batch["state"][b], e, s + 2 * np.arange(3))


def test_variable_lengths_are_packed(root):
    ld = loader(root, batch_size=3, clip_len=2, max_clip_len=5)
    seen = set()
    for _ in range(6):
        batch = next(ld)
        lengths, cu = batch["lengths"], batch["cu_seqlens"]
        assert cu.dtype == torch.int32 and cu.tolist() == [0, *np.cumsum(lengths.tolist())]
        assert batch["video"]["top"].shape == (1, 3, int(cu[-1]), H, W) and batch["action"].shape == (1, int(cu[-1]), 2)
        for b, (e, s) in enumerate(clip_ids(batch)):
            n = int(lengths[b])
            assert 2 <= n <= 5 and s + n <= LENGTHS[e]
            lo, hi = int(cu[b]), int(cu[b + 1])
            video = batch["video"]["top"][0, :, lo:hi]
            assert_clip_matches(video, batch["action"][0, lo:hi], batch["state"][0, lo:hi], e, s + np.arange(n))
            seen.add(n)
    assert len(seen) > 1, "lengths should vary"


# ---------------------------------------------------------------- order, position, shards


def test_same_seed_same_batches_other_seed_other_order(root):
    a, b, c = loader(root, seed=3), loader(root, seed=3), loader(root, seed=4)
    ids_a = [clip_ids(next(a)) for _ in range(5)]
    assert ids_a == [clip_ids(next(b)) for _ in range(5)]
    assert ids_a != [clip_ids(next(c)) for _ in range(5)]


def test_an_epoch_visits_every_window_once_and_epochs_differ(root):
    ld = loader(root, batch_size=1)
    windows = {tuple(w) for w in clip_windows(np.array(LENGTHS), [0, 1, 2], 3, 1).tolist()}
    assert len(ld) == len(windows) == sum(T - 2 for T in LENGTHS)
    epoch0 = [clip_ids(next(ld))[0] for _ in range(len(ld))]
    epoch1 = [clip_ids(next(ld))[0] for _ in range(len(ld))]
    assert set(epoch0) == set(epoch1) == windows and len(set(epoch0)) == len(epoch0)
    assert epoch0 != epoch1 and ld.state_dict() == {"epoch": 1, "index": len(ld)}


def test_restored_position_gives_the_same_next_batches(root):
    first = loader(root, batch_size=2, clip_len=2, max_clip_len=4)
    for _ in range(len(first) + 3):  # into the second epoch
        next(first)
    state = json.loads(json.dumps(first.state_dict()))
    assert state == {"epoch": 1, "index": 3}
    expected = [next(first) for _ in range(len(first))]  # crosses into the third epoch
    second = loader(root, batch_size=2, clip_len=2, max_clip_len=4)
    second.load_state_dict(state)
    for want, got in zip(expected, (next(second) for _ in expected)):
        assert clip_ids(want) == clip_ids(got)
        assert torch.equal(want["video"]["top"], got["video"]["top"]) and torch.equal(want["action"], got["action"])


def test_bad_position_is_refused(root):
    ld = loader(root)
    for state in ({"epoch": -1, "index": 0}, {"epoch": 0, "index": 10**6}, {"epoch": "0", "index": 0}, {}):
        with pytest.raises(ValueError, match="position"):
            ld.load_state_dict(state)


def test_ranks_take_disjoint_equal_shards(root):
    shards = []
    for rank in range(2):
        ld = loader(root, batch_size=2, rank=rank, world=2, seed=7)
        shards.append([i for _ in range(len(ld)) for i in clip_ids(next(ld))])
    assert len(shards[0]) == len(shards[1]) > 0
    assert not set(shards[0]) & set(shards[1])
    assert len(set(shards[0])) == len(shards[0])


def test_episode_subset_and_held_out_split(root):
    train, held = held_out_split(num_episodes=3, fraction=0.34, seed=1)
    assert sorted(train + held) == [0, 1, 2] and len(held) == 1
    assert held_out_split(3, 0.34, 1) == (train, held)
    ld = loader(root, batch_size=1, episodes=held)
    assert {e for _ in range(len(ld)) for e, _ in clip_ids(next(ld))} == set(held)


def test_held_out_split_edges():
    assert held_out_split(5, 0.0, 0) == ([0, 1, 2, 3, 4], [])
    train, held = held_out_split(10, 0.99, 0)
    assert len(train) == 1 and len(held) == 9
    with pytest.raises(ValueError, match="at least 2"):
        held_out_split(1, 0.5, 0)
    with pytest.raises(ValueError, match="fraction"):
        held_out_split(10, 1.0, 0)


# ---------------------------------------------------------------- cache and errors


def test_lru_cache_evicts_least_recently_used():
    loads = []

    def load(e):
        loads.append(e)
        return {"x": np.zeros(100, np.uint8)}

    cache = EpisodeCache(load, budget_bytes=250)  # two episodes fit
    for e in (0, 1, 0, 2, 0, 1):
        cache.get(e)
    assert loads == [0, 1, 2, 1] and list(cache.items) == [0, 1] and cache.nbytes == 200


def test_small_cache_still_gives_the_same_batches(root):
    roomy, tight = loader(root, batch_size=2), loader(root, batch_size=2, cache_mb=1e-6)
    for _ in range(5):
        a, b = next(roomy), next(tight)
        assert torch.equal(a["video"]["top"], b["video"]["top"])
    assert len(tight.cache.items) == 1 and len(roomy.cache.items) == 3


def test_not_a_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a LeRobotDataset"):
        loader(str(tmp_path))


def test_unknown_camera_lists_allowed_ones(root):
    with pytest.raises(ValueError, match=r"unknown camera.*'wrist'.*allowed: \['top', 'side'\]"):
        loader(root, cameras=["wrist"])


def test_too_few_clips_for_a_batch(root):
    with pytest.raises(ValueError, match="fewer than batch_size"):
        loader(root, batch_size=4, clip_len=9)
    with pytest.raises(ValueError, match="max_clip_len"):
        loader(root, clip_len=4, max_clip_len=3)
