"""Control maps and weights against hand-worked cases (no model, no megatron).

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q tests/conditioning/test_controls.py
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from worldsim.conditioning.control_maps import blur_map, depth_map, edge_map, segmentation_map
from worldsim.conditioning.control_weights import renormalize, weight_map
from worldsim.conditioning.controls import (BlurControlConfig, ControlInputs, ControlsConfig, EdgeControlConfig,
                                            compute_controls, control_weights)


def square(level: int, size: int = 32, lo: int = 8, hi: int = 24) -> np.ndarray:
    """(1, size, size, 3) uint8: a filled square of grey ``level`` on black, rows/cols lo..hi-1."""
    img = np.zeros((1, size, size, 3), np.uint8)
    img[0, lo:hi, lo:hi] = level
    return img


def ring(size: int = 32, lo: int = 8, hi: int = 24, slack: int = 1) -> np.ndarray:
    """Pixels within ``slack`` of the square's boundary (the last row/column inside or the first outside)."""
    yy, xx = np.mgrid[:size, :size]
    near_x = (np.abs(xx - (lo - 0.5)) <= slack + 0.5) | (np.abs(xx - (hi - 0.5)) <= slack + 0.5)
    near_y = (np.abs(yy - (lo - 0.5)) <= slack + 0.5) | (np.abs(yy - (hi - 0.5)) <= slack + 0.5)
    inside_x, inside_y = (xx >= lo - 2) & (xx <= hi + 1), (yy >= lo - 2) & (yy <= hi + 1)
    return (near_x & inside_y) | (near_y & inside_x)


def test_canny_finds_the_outline_of_a_drawn_square():
    edges = edge_map(square(255))[0, 0] > 0
    assert edges.sum() >= 4 * 14                 # every side (16 px) found, corners may be rounded
    assert not (edges & ~ring()).any()           # and nothing away from the outline
    assert edges[16, 16] == 0 and edges[2, 2] == 0


def test_canny_presets_follow_the_thresholds():
    # A step of 30 grey levels: Sobel L1 gradient is 4*30 = 120 on a side and at most 8*30 = 240
    # anywhere, so low (50/100) keeps the outline and high (200/300) has no strong pixel at all.
    low = edge_map(square(30), *EdgeControlConfig(preset="low").thresholds())
    high = edge_map(square(30), *EdgeControlConfig(preset="high").thresholds())
    assert low.sum() >= 4 * 14 and high.sum() == 0
    assert edge_map(np.full((2, 16, 16, 3), 90, np.uint8)).sum() == 0   # a flat image has no edge


def test_depth_normalisation_by_hand():
    depth = np.array([[[1.0, 2.0], [3.0, np.inf]]], np.float32)   # (T=1, 2, 2), inf = nothing hit
    auto = depth_map(depth)                                        # the clip's own range 1..3
    np.testing.assert_allclose(auto[0, 0], [[0.0, 0.5], [1.0, 1.0]])
    fixed = depth_map(depth, near=0.0, far=4.0)
    np.testing.assert_allclose(fixed[0, 0], [[0.25, 0.5], [0.75, 1.0]])
    two = depth_map(np.stack([depth[0], depth[0] + 1.0]))          # one scale for all frames: 1..4
    np.testing.assert_allclose(two[:, 0, 0, 0], [0.0, 1 / 3], rtol=1e-6)


def test_segmentation_colours_are_fixed_per_class():
    ids = np.array([[[0, 1], [2, 1]]])
    out = segmentation_map(ids)                                    # (1, 3, 2, 2)
    assert out.shape == (1, 3, 2, 2) and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out[0, :, 0, 0], [0, 0, 0])      # background is black
    np.testing.assert_array_equal(out[0, :, 0, 1], out[0, :, 1, 1])
    assert np.abs(out[0, :, 0, 1] - out[0, :, 1, 0]).max() > 0.1
    np.testing.assert_array_equal(segmentation_map(np.array([[[2]]]))[0, :, 0, 0], out[0, :, 1, 0])
    with pytest.raises(ValueError, match="0..255"):
        segmentation_map(np.array([[[300]]]))


def test_blur_keeps_a_flat_image_and_smooths_a_square():
    flat = blur_map(np.full((1, 32, 32, 3), 128, np.uint8), factor=4)
    np.testing.assert_allclose(flat, 128 / 255, atol=1e-6)
    out = blur_map(square(255), factor=8)[0, 0]
    assert 0.0 < out[8, 8] < 1.0 and out[16, 16] > out[2, 2]       # the step is softened, not moved
    with pytest.raises(ValueError, match="4 to 16"):
        BlurControlConfig(factor=32).check()


def test_weights_renormalise_only_above_one():
    seg = np.zeros((1, 2, 2), np.int32)
    seg[0, 0, 0] = 4                                               # one pusher pixel
    edge = weight_map(1.0, where=["pusher"], elsewhere=0.0, segmentation=seg, labels={0: "background", 4: "pusher"})
    out = renormalize({"edge": edge, "segmentation": 1.0})
    np.testing.assert_allclose(out["edge"], [[[0.5, 0.0], [0.0, 0.0]]])
    np.testing.assert_allclose(out["segmentation"], [[[0.5, 1.0], [1.0, 1.0]]])
    small = renormalize({"a": 0.3, "b": 0.4})                      # sum 0.7: left alone, not scaled up
    assert small == pytest.approx({"a": 0.3, "b": 0.4})
    t = renormalize({"a": torch.tensor([2.0, 0.5]), "b": torch.tensor([2.0, 0.25])})
    torch.testing.assert_close(t["a"], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(t["b"], torch.tensor([0.5, 0.25]))
    with pytest.raises(ValueError, match="negative"):
        renormalize({"a": -1.0})


def test_compute_controls_and_weights_from_inputs():
    rgb = square(255, size=16, lo=4, hi=12)
    depth = np.full((1, 16, 16), 2.0, np.float32)
    seg = np.zeros((1, 16, 16), np.int32)
    seg[0, 4:12, 4:12] = 4
    inputs = ControlInputs(rgb=rgb, depth=depth, segmentation=seg, labels={0: "background", 4: "pusher"})
    cfg = ControlsConfig(names=["edge", "segmentation"])
    cfg.edge.where, cfg.segmentation.where = ["pusher"], ["background"]
    maps = compute_controls(inputs, cfg)
    assert maps["edge"].shape == (1, 1, 16, 16) and maps["segmentation"].shape == (1, 3, 16, 16)
    w = control_weights(inputs, cfg)
    np.testing.assert_array_equal(w["edge"][0], (seg[0] == 4).astype(np.float32))
    np.testing.assert_array_equal(w["segmentation"][0], (seg[0] == 0).astype(np.float32))


def test_bad_control_input_errors_name_the_problem():
    inputs = ControlInputs(rgb=square(255))
    with pytest.raises(ValueError, match="'depth' needs depth"):
        compute_controls(inputs, ControlsConfig(names=["depth"]))
    with pytest.raises(ValueError, match="'normals' is not allowed"):
        compute_controls(inputs, ControlsConfig(names=["normals"]))
    with pytest.raises(ValueError, match="preset 'extreme'"):
        compute_controls(inputs, ControlsConfig(names=["edge"], edge=EdgeControlConfig(preset="extreme")))
    with pytest.raises(ValueError, match="needs segmentation"):
        cfg = ControlsConfig(names=["edge"])
        cfg.edge.where = ["pusher"]
        control_weights(inputs, cfg)


def test_replicator_folder_missing_an_annotator_is_named(tmp_path):
    from worldsim.conditioning.control_sources import check_replicator, replicator_inputs
    from worldsim.data.frames import CameraFrame, pinhole_intrinsics
    from worldsim.data.replicator import ReplicatorFolder, ReplicatorWriter

    writer = ReplicatorWriter(tmp_path / "rep", cameras=("top",))
    for i in range(2):
        frame = CameraFrame(rgb=square(200, size=16, lo=4, hi=12)[0], intrinsics=pinhole_intrinsics(45, 16, 16),
                            extrinsics=np.eye(4, dtype=np.float32))
        writer.write(i, {"top": frame})
    folder = ReplicatorFolder(tmp_path / "rep")
    check_replicator(folder, "top", ["edge", "blur"])               # rgb is there
    with pytest.raises(ValueError, match=r"'depth' needs the Replicator annotator 'distance_to_image_plane'.*rep"):
        check_replicator(folder, "top", ["edge", "depth"])
    with pytest.raises(ValueError, match="'semantic_segmentation'"):
        check_replicator(folder, "top", ["segmentation"])
    assert replicator_inputs(folder, "top").rgb.shape == (2, 16, 16, 3)
