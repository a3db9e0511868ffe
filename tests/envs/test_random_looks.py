"""TabletopPush with ``looks=``: every episode in a look of its own, the physics as without."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tabletop_push import TabletopPushEnv


def frames_and_states(env, seed: int, steps: int = 3):
    obs, _ = env.reset(seed=seed)
    out = [(obs["pixels"]["top"].copy(), obs["agent_pos"].copy(), obs["environment_state"].copy())]
    for _ in range(steps):
        obs, *_ = env.step(np.array([0.7, -0.3], np.float32))
        out.append((obs["pixels"]["top"].copy(), obs["agent_pos"].copy(), obs["environment_state"].copy()))
    return out


def test_looks_change_the_frames_not_the_episode():
    plain = TabletopPushEnv(cameras=("top",), image_size=32)
    looked = TabletopPushEnv(cameras=("top",), image_size=32, looks=1000)
    a, b = frames_and_states(plain, 3), frames_and_states(looked, 3)
    for (fa, pa, ea), (fb, pb, eb) in zip(a, b):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(ea, eb)
        assert np.abs(fa.astype(int) - fb).mean() > 5
    again = frames_and_states(looked, 3)
    for (fb, *_), (fc, *_) in zip(b, again):
        np.testing.assert_array_equal(fb, fc)                 # the same seed, the same look and noise
    other = frames_and_states(TabletopPushEnv(cameras=("top",), image_size=32, looks=1001), 3)
    assert np.abs(other[0][0].astype(int) - b[0][0]).mean() > 5
    np.testing.assert_array_equal(plain.render_source.render_rgb()["top"], looked.render_source.render_rgb()["top"])


@pytest.mark.parametrize("bad", [-1, 1.5, "random", True])
def test_a_bad_looks_value_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="looks=.*allowed: None"):
        TabletopPushEnv(cameras=("top",), image_size=32, looks=bad)


def test_capture_and_canonical_frames_come_from_the_camera_the_look_moved():
    plain = TabletopPushEnv(cameras=("top",), image_size=32)
    looked = TabletopPushEnv(cameras=("top",), image_size=32, looks=1000)
    plain.reset(seed=5)
    looked.reset(seed=5)
    a, b = plain.capture()["top"], looked.capture()["top"]
    np.testing.assert_allclose(b.extrinsics[:3, 3] - a.extrinsics[:3, 3], looked._look.camera_shift, atol=1e-6)
    assert 0.8 < (a.segmentation == b.segmentation).mean() < 1.0     # the same scene from a little way off
    canonical = looked.canonical_rgb()["top"].astype(int)
    assert np.abs(canonical - looked.render()).mean() > 5             # the scene's own look, not the episode's
    assert np.abs(canonical - plain.render_source.render_rgb()["top"]).mean() < 5
