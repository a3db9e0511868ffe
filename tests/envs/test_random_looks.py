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
