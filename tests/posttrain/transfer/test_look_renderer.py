"""The look renderer: what it is told about a look, that it learns looks, and its export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from posttrain.transfer.look_config import LookRendererConfig
from posttrain.transfer.look_renderer import LookRenderer, class_indices
from transfer_helpers import tiny_look_model, tiny_transfer_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_transfer_data(tmp_path_factory.mktemp("looks") / "data")


def test_class_indices_follow_label_names_and_refuse_unknown_classes():
    seg = np.array([[7, 2], [2, 9]])
    out = class_indices(seg, {7: "block", 2: "floor", 9: "table"}, ["floor", "table", "block"])
    np.testing.assert_array_equal(out, [[2, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"\['id 9 \(unlabelled\)'\] are not ones.*knows: floor, block"):
        class_indices(seg, {7: "block", 2: "floor"}, ["floor", "block"])


def test_each_pixel_is_painted_with_its_class_material_colour_and_an_untrained_renderer_keeps_the_frame():
    cfg = LookRendererConfig(image_size=8, classes=["floor", "block"], look_dim=7, palette=[0, 4], channels=[8, 8],
                             cond_dim=8, groups=2, patch=2)
    renderer = LookRenderer(cfg)
    look = torch.tensor([[0.1, 0.2, 0.3, 0.0, 1.0, 0.5, 0.0]])
    classes = torch.zeros(1, 8, 8, dtype=torch.long)
    classes[0, 2:4, 2:4] = 1
    maps = renderer.layout(torch.full((1, 8, 8), 1.0), classes, look)
    assert maps.shape == (1, 1 + 2 + 3, 8, 8)
    torch.testing.assert_close(maps[0, 3:, 0, 0], torch.tensor([0.1, 0.2, 0.3]) * 2 - 1)   # floor: look[0:3]
    torch.testing.assert_close(maps[0, 3:, 2, 2], torch.tensor([1.0, 0.5, 0.0]) * 2 - 1)   # block: look[4:7]
    canonical = torch.rand(1, 3, 8, 8) * 2 - 1
    torch.testing.assert_close(renderer(canonical, torch.ones(1, 8, 8), classes, look), canonical)
    with pytest.raises(ValueError, match="one palette entry per class"):
        LookRenderer(LookRendererConfig(classes=["floor"], look_dim=3, palette=[]))


def test_training_learns_the_looks_of_its_frames(data, tmp_path):
    from posttrain.transfer.look_train import held_out_psnr, load_look_frames, load_renderer
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    folder = tiny_look_model(tmp_path, data, steps=60)
    renderer, cfg = load_renderer(str(tmp_path / "run"))
    frames = load_look_frames(LeRobotDatasetReader(data), "top", cfg.net.classes)
    seen = held_out_psnr(renderer, frames, np.flatnonzero(frames.layout == 0))
    assert seen["rendered_psnr"] > seen["canonical_psnr"] + 2     # it draws the looks, not the canonical frame
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics) == {"rendered_psnr", "canonical_psnr", "frames"}


def test_an_exported_model_draws_a_seeds_look_again_and_keeps_the_layout(data, tmp_path):
    from posttrain.transfer.look_model import LookModel
    from worldsim.conditioning.control_sources import dataset_labels, episode_inputs
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    model = LookModel.load(str(tiny_look_model(tmp_path, data)))
    reader = LeRobotDatasetReader(data)
    inputs = episode_inputs(reader.read_episode(0), "top", dataset_labels(reader), "observation.canonical.top")
    a, b, c = model.render(inputs, seed=3), model.render(inputs, seed=3), model.render(inputs, seed=4)
    assert a.shape == inputs.rgb.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(model.look(3)[0], model.look(3)[0])
    with pytest.raises(ValueError, match="needs rgb, depth, segmentation.*lacks depth"):
        model.render(type(inputs)(rgb=inputs.rgb, segmentation=inputs.segmentation, labels=inputs.labels), seed=0)
    with pytest.raises(ValueError, match="not a look renderer"):
        LookModel.load(str(tmp_path / "run"))


def test_data_without_looks_is_refused(tmp_path, artifacts):
    from posttrain.transfer.look_config import LookTrainConfig
    from posttrain.transfer.look_train import train

    with pytest.raises(ValueError, match="has no looks.*posttrain.transfer.data"):
        train(LookTrainConfig(data=artifacts["data"], out=str(tmp_path / "run"), steps=1))


def test_input_looks_draw_a_share_of_samples_from_the_same_moment_in_another_look(data):
    from posttrain.transfer.look_train import load_look_frames, sources
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(data)
    frames = load_look_frames(reader, "top", ["background", "floor", "table", "goal", "pusher", "block"])
    starts = np.concatenate([[0], np.cumsum(reader.episode_lengths)[:-1]])
    rows = np.array([starts[0] + 1, starts[3] + 2])          # layout 0 look 0 frame 1, layout 1 look 1 frame 2
    np.testing.assert_array_equal(frames.siblings[rows], [[starts[0] + 1, starts[1] + 1], [starts[2] + 2, starts[3] + 2]])
    rng = np.random.default_rng(0)
    assert torch.equal(sources(frames, rows, 0.0, rng), frames.canonical[rows])
    swapped = sources(frames, rows, 1.0, rng)
    for row, image in zip(rows, swapped):
        other = [r for r in frames.siblings[row] if r != row]
        assert torch.equal(image, frames.target[other[0]]) or torch.equal(image, frames.canonical[row])
    assert not torch.equal(swapped, frames.canonical[rows])


def test_the_shipped_renderer_draws_the_look_the_simulator_renders():
    """Told a look, the shipped model's frame is far closer to the simulator's render in that look than
    the canonical frame it starts from is (held out in training: 34.8 against 20.2 dB)."""
    import dataclasses

    from assets import asset_path
    from envs.tabletop_push import TabletopPushEnv
    from posttrain.transfer.look_model import LookModel
    from worldsim.conditioning.controls import ControlInputs
    from worldsim.looks.randomize import add_sensor_noise, applied

    model = LookModel.load(str(asset_path("world_models/look_tabletop")))
    env = TabletopPushEnv(cameras=("top",), image_size=64)
    env.reset(seed=123)
    frame = env.capture()["top"]
    psnr = lambda a, b: 10 * np.log10(255 ** 2 / np.mean((a.astype(float) - b) ** 2))  # noqa: E731
    gains = []
    for seed in (70, 71, 72, 73):
        _, look = model.look(seed)
        still = dataclasses.replace(look, camera_shift=np.zeros(3), camera_rotation=np.eye(3), noise_std=0.0)
        with applied(env.model, env.data, still, "top"):
            truth = add_sensor_noise(env.render_source.render_rgb()["top"], still, np.random.default_rng(0))
        inputs = ControlInputs(rgb=frame.rgb[None], depth=frame.depth[None], segmentation=frame.segmentation[None],
                               labels=env.render_source.labels)
        drawn = model.render(inputs, seed, sensor_noise=False)[0]
        assert psnr(drawn, truth) > 28
        gains.append(psnr(drawn, truth) - psnr(frame.rgb, truth))
    assert np.mean(gains) > 8
