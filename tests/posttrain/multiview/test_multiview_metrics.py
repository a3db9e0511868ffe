"""Sampson epipolar error on hand-worked camera pairs, feature matching on known shifts, per-view PSNR."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posttrain.multiview.metrics import (cross_view_sampson, fundamental_matrix, match_features, per_view_psnr, psnr,
                                         sampson_distance, summarize_sampson)

K = np.array([[40.0, 0.0, 16.0], [0.0, 40.0, 16.0], [0.0, 0.0, 1.0]])


def pose(yaw_deg: float = 0.0, position=(0.0, 0.0, 0.0)) -> np.ndarray:
    """World-from-camera: a camera turned by yaw about its own y (down) axis, placed at position."""
    a = math.radians(yaw_deg)
    out = np.eye(4)
    out[:3, :3] = [[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]]
    out[:3, 3] = position
    return out


def project(K, world_from_cam, points):
    cam = (np.linalg.inv(world_from_cam) @ np.c_[points, np.ones(len(points))].T)[:3]  # (3, N)
    pix = K @ cam
    return (pix[:2] / pix[2]).T


def scene_points(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return np.c_[rng.uniform(-2, 2, n), rng.uniform(-1, 1, n), rng.uniform(4, 9, n)]


def test_rectified_stereo_has_the_hand_worked_fundamental_matrix():
    """Camera b one unit to the right (x) of a, same orientation: t = (-1, 0, 0) in b's frame,
    E = [t]x, and F = K^-T E K^-1 is zero except F[1,2] = 1/f, F[2,1] = -1/f, F[2,2] = 0
    (the constraint reduces to y_a = y_b)."""
    F = fundamental_matrix(K, pose(), K, pose(position=(1.0, 0.0, 0.0)))
    expect = np.zeros((3, 3))
    expect[1, 2], expect[2, 1] = 1 / 40, -1 / 40
    expect[2, 2] = 16 / 40 - 16 / 40
    assert np.allclose(F, expect, atol=1e-12)


def test_projected_points_have_zero_sampson_distance_under_a_general_pose():
    pts = scene_points()
    pa, pb = pose(10.0, (0.2, 0.1, 0.0)), pose(-40.0, (1.0, -0.3, 0.5))
    F = fundamental_matrix(K, pa, K, pb)
    d = sampson_distance(F, project(K, pa, pts), project(K, pb, pts))
    assert d.shape == (50,) and d.max() < 1e-9


def test_shift_off_the_epipolar_line_gives_the_known_distance():
    """Rectified pair: epipolar lines are the rows. Moving x_b down by delta px puts the pair
    delta off the constraint y_a = y_b; the nearest consistent pair moves each point delta/2,
    so the Sampson distance is exactly sqrt(2 (delta/2)^2) = delta / sqrt(2). A shift along the
    row (a change of disparity only) stays on the epipolar line: distance 0."""
    pts = scene_points(seed=1)
    pa, pb = pose(), pose(position=(0.5, 0.0, 0.0))
    F = fundamental_matrix(K, pa, K, pb)
    xa, xb = project(K, pa, pts), project(K, pb, pts)
    for delta in (0.5, 1.0, 3.0):
        d = sampson_distance(F, xa, xb + [0.0, delta])
        assert np.allclose(d, delta / math.sqrt(2), rtol=1e-9)
    assert sampson_distance(F, xa, xb + [2.5, 0.0]).max() < 1e-9


def test_rotated_pair_shift_along_the_line_normal():
    """General pair: shifting x_b by delta along the unit normal of its epipolar line F x_a gives
    residual delta * |l_12|, so the distance is delta |l| / sqrt(|l|^2 + |l'|^2) with l' = F^T x_b,
    which is below delta and, to first order, independent of the sign of delta."""
    pts = scene_points(seed=2)
    pa, pb = pose(0.0), pose(55.0, (0.3, 0.0, 0.1))
    F = fundamental_matrix(K, pa, K, pb)
    xa, xb = project(K, pa, pts)[:1], project(K, pb, pts)[:1]
    line = F @ np.r_[xa[0], 1.0]
    normal = line[:2] / np.linalg.norm(line[:2])
    shifted = xb + 0.7 * normal
    line_a = F.T @ np.r_[shifted[0], 1.0]
    expect = 0.7 * np.linalg.norm(line[:2]) / math.sqrt(line[0] ** 2 + line[1] ** 2 + line_a[0] ** 2 + line_a[1] ** 2)
    assert np.isclose(sampson_distance(F, xa, shifted)[0], expect, rtol=1e-9)


def test_bad_cameras_and_points_are_clear_errors():
    with pytest.raises(ValueError, match="extrinsics"):
        fundamental_matrix(K, np.diag([2.0, 1, 1, 1]), K, pose())
    with pytest.raises(ValueError, match="intrinsics"):
        fundamental_matrix(np.zeros((3, 3)), pose(), K, pose())
    with pytest.raises(ValueError, match="pair up"):
        sampson_distance(np.eye(3), np.zeros((3, 2)), np.zeros((2, 2)))


def texture(size=64, seed=0) -> np.ndarray:
    """A random blocky colour texture with corners for SIFT at every scale."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 4, size // 4, 3), dtype=np.uint8)
    return np.kron(small, np.ones((4, 4, 1), np.uint8))


def test_matches_of_a_shifted_crop_differ_by_the_shift():
    """Two 32 px crops of one texture, the second taken (dx, dy) further right/down: a correct
    match of a feature differs by exactly (dx, dy) in continuous pixels (upsampling undone)."""
    img, (dx, dy) = texture(), (5, 3)
    a, b = img[8:40, 8:40], img[8 + dy:40 + dy, 8 + dx:40 + dx]
    pts_a, pts_b = match_features(a, b, upsample=4)
    assert len(pts_a) >= 10
    err = np.abs(pts_a - pts_b - [dx, dy]).max(axis=1)
    assert np.median(err) < 0.25 and np.mean(err < 0.5) > 0.8


def test_cross_view_sampson_on_views_of_one_plane_is_small():
    """A textured plane seen by two cameras side by side (rectified): the two renders differ by a
    pure horizontal shift, so correct matches lie on the epipolar rows."""
    img = texture(96, seed=3)
    a, b = img[20:52, 30:62], img[20:52, 36:68]   # b sees the plane 6 px further right: camera moved +x
    cams = {"l": K, "r": K}
    scores = cross_view_sampson({"l": a, "r": b}, cams, {"l": pose(), "r": pose(position=(0.1, 0.0, 0.0))},
                                pairs=(("l", "r"),))
    summary = summarize_sampson(scores)
    assert summary["matches_per_frame_set"] >= 10
    assert summary["sampson_median_px"] < 0.2
    # the same matches under a wrong pose (b moved down, not right: epipolar lines become the
    # columns) are 6 px off them, a Sampson distance of 6 / sqrt(2)
    wrong = summarize_sampson(cross_view_sampson({"l": a, "r": b}, cams,
                                                 {"l": pose(), "r": pose(position=(0.0, 0.1, 0.0))},
                                                 pairs=(("l", "r"),)))
    assert abs(wrong["sampson_median_px"] - 6 / math.sqrt(2)) < 0.2


def test_psnr_hand_worked_and_per_view():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255                               # MSE = 255^2 / 48 -> PSNR = 10 log10(48)
    assert math.isclose(psnr(a, b), 10 * math.log10(48), rel_tol=1e-12)
    assert psnr(a, a) == 100.0
    out = per_view_psnr({"front": a, "back": b}, {"front": b, "back": b})
    assert out["back"] == 100.0 and math.isclose(out["front"], 10 * math.log10(48))
    with pytest.raises(ValueError, match="cameras"):
        per_view_psnr({"front": a}, {"back": a})
