"""Looks drawn from a scene snapshot are the model's looks, and the look vector says what the look is."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.looks.randomize import RandomizeConfig, SceneLooks, sample_look
from worldsim.looks.vector import LookSpace, sample_vector


@pytest.fixture(scope="module")
def model():
    from assets import asset_path
    from envs.render.gl import mujoco

    return mujoco.MjModel.from_xml_path(str(asset_path("mjcf/tabletop_push.xml")))


def test_a_snapshot_draws_the_same_looks_as_its_model_and_survives_a_round_trip(model):
    snap = SceneLooks.from_dict(SceneLooks.of(model).to_dict())
    assert snap.materials == ["table", "floor", "pusher", "block", "goal"]      # the MJCF's materials
    a = sample_look(model, np.random.default_rng(5), RandomizeConfig())
    b = sample_look(snap, np.random.default_rng(5), RandomizeConfig())
    for name in ("mat_rgba", "mat_texid", "geom_rgba", "light_dir", "light_diffuse", "gain"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_the_vector_holds_each_materials_colour_texture_and_the_gain(model):
    space = LookSpace.of(model)
    vector, look = sample_vector(model, seed=11)
    assert vector.shape == (space.dim,) and vector.dtype == np.float32
    for m, name in enumerate(space.materials):
        start = space.colour_index(name)
        np.testing.assert_allclose(vector[start:start + 3], look.mat_rgba[m, :3], rtol=1e-6)
        one_hot = vector[start + 3:start + 3 + 1 + len(space.textures)]
        worn = int(look.mat_texid[m].max())
        assert one_hot.sum() == 1 and one_hot[0 if worn < 0 else 1 + space.textures.index(worn)] == 1
    np.testing.assert_allclose(vector[-3:], look.gain, rtol=1e-6)
    assert space.colour_index("chrome") == -1
    again, _ = sample_vector(SceneLooks.of(model), seed=11)
    np.testing.assert_array_equal(vector, again)
    assert np.abs(sample_vector(model, seed=12)[0] - vector).max() > 0.05
