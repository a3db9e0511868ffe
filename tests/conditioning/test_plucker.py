"""Plücker rays against hand-worked cameras, their invariances, and the pose/intrinsics checks."""

import math

import pytest
import torch

from worldsim.conditioning.plucker import check_poses, plucker_rays, relative_poses

# fx = fy = 2, principal point (2, 2), a 4x4 image: pixel (u, v) has centre (u + 0.5, v + 0.5)
K = torch.tensor([[2.0, 0.0, 2.0], [0.0, 2.0, 2.0], [0.0, 0.0, 1.0]], dtype=torch.float64)


def pose(rotation=None, translation=(0.0, 0.0, 0.0)) -> torch.Tensor:
    p = torch.eye(4, dtype=torch.float64)
    if rotation is not None:
        p[:3, :3] = rotation
    p[:3, 3] = torch.tensor(translation, dtype=torch.float64)
    return p


def rot_z(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)


def rot_x(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]], dtype=torch.float64)


def test_identity_camera_at_origin_has_zero_moment_and_normalised_inverse_k_directions():
    rays = plucker_rays(K, pose(), 4, 4)                     # (6, 4, 4)
    assert rays.shape == (6, 4, 4)
    assert torch.equal(rays[:3], torch.zeros(3, 4, 4, dtype=torch.float64))
    # pixel (0, 0): centre (0.5, 0.5) -> K^-1 -> (-0.75, -0.75, 1), norm sqrt(2.125)
    expect = torch.tensor([-0.75, -0.75, 1.0], dtype=torch.float64) / math.sqrt(2.125)
    assert torch.allclose(rays[3:, 0, 0], expect, atol=1e-12)
    # pixel (u=3, v=1): centre (3.5, 1.5) -> (0.75, -0.25, 1), norm sqrt(1.625)
    expect = torch.tensor([0.75, -0.25, 1.0], dtype=torch.float64) / math.sqrt(1.625)
    assert torch.allclose(rays[3:, 1, 3], expect, atol=1e-12)


def test_translated_camera_moment_is_t_cross_d_worked_by_hand():
    rays = plucker_rays(K, pose(translation=(1.0, 2.0, 3.0)), 4, 4)
    # pixel (1, 1): d = (-0.25, -0.25, 1) / sqrt(1.125); (1, 2, 3) x (-0.25, -0.25, 1) = (2.75, -1.75, 0.25)
    norm = math.sqrt(1.125)
    assert torch.allclose(rays[3:, 1, 1], torch.tensor([-0.25, -0.25, 1.0], dtype=torch.float64) / norm)
    assert torch.allclose(rays[:3, 1, 1], torch.tensor([2.75, -1.75, 0.25], dtype=torch.float64) / norm)


def test_rotated_camera_principal_ray_is_the_cameras_z_axis():
    k = torch.tensor([[3.0, 0.0, 1.5], [0.0, 3.0, 1.5], [0.0, 0.0, 1.0]], dtype=torch.float64)  # pixel (1,1) on axis
    r = rot_z(0.7) @ rot_x(-2.0)
    rays = plucker_rays(k, pose(r, (0.5, -1.0, 2.0)), 3, 3)
    assert torch.allclose(rays[3:, 1, 1], r[:, 2], atol=1e-12)
    assert torch.allclose(rays[:3, 1, 1], torch.linalg.cross(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),
                                                             r[:, 2]), atol=1e-12)


def test_moment_does_not_change_when_the_camera_moves_along_the_ray():
    r = rot_z(0.3) @ rot_x(0.4)
    p = pose(r, (0.2, 0.1, -0.5))
    rays = plucker_rays(K, p, 4, 4)
    d = rays[3:, 2, 1]
    moved = plucker_rays(K, pose(r, (torch.tensor([0.2, 0.1, -0.5], dtype=torch.float64) + 1.7 * d).tolist()), 4, 4)
    assert torch.allclose(moved[:, 2, 1], rays[:, 2, 1], atol=1e-12)
    assert not torch.allclose(moved[:3, 0, 0], rays[:3, 0, 0], atol=1e-3)  # other rays do move
    # a Plücker moment is always orthogonal to its direction, and directions have unit length
    assert torch.allclose((rays[:3] * rays[3:]).sum(0), torch.zeros(4, 4, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(rays[3:].norm(dim=0), torch.ones(4, 4, dtype=torch.float64))


def test_relative_rays_do_not_depend_on_where_the_world_is():
    poses = torch.stack([pose(rot_z(0.1 * i), (0.1 * i, 0.0, 0.05 * i)) for i in range(3)])[None]  # (1, 3, 4, 4)
    world = pose(rot_z(1.1) @ rot_x(0.5), (3.0, -2.0, 1.0))
    rel = relative_poses(poses)
    moved = relative_poses(world @ poses)
    assert torch.allclose(rel, moved, atol=1e-12)
    assert torch.allclose(rel[0, 0], torch.eye(4, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(plucker_rays(K, rel, 4, 4), plucker_rays(K, moved, 4, 4), atol=1e-10)
    # batched K per frame gives what one K gives
    per_frame = plucker_rays(K.expand(1, 3, 3, 3), rel, 4, 4)
    assert per_frame.shape == (1, 3, 6, 4, 4) and torch.allclose(per_frame, plucker_rays(K, rel, 4, 4))


@pytest.mark.parametrize("bad, match", [
    (pose(torch.diag(torch.tensor([2.0, 1.0, 1.0], dtype=torch.float64))), "not orthonormal"),
    (pose(torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))), "determinant"),
    (pose(translation=(float("nan"), 0.0, 0.0)), "NaN"),
    (torch.zeros(4, 4, dtype=torch.float64), "last row"),
    (torch.eye(3, dtype=torch.float64), r"\(\.\.\., 4, 4\)"),
])
def test_invalid_poses_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        plucker_rays(K, bad, 4, 4)
    with pytest.raises(ValueError, match=match):
        check_poses(bad)


@pytest.mark.parametrize("bad, match", [
    (torch.tensor([[0.0, 0.0, 2.0], [0.0, 2.0, 2.0], [0.0, 0.0, 1.0]]), "focal"),
    (torch.tensor([[2.0, 0.0, 2.0], [0.0, -1.0, 2.0], [0.0, 0.0, 1.0]]), "focal"),
    (torch.tensor([[2.0, 0.0, float("inf")], [0.0, 2.0, 2.0], [0.0, 0.0, 1.0]]), "NaN or inf"),
    (torch.eye(4), r"\(\.\.\., 3, 3\)"),
])
def test_invalid_intrinsics_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        plucker_rays(bad, pose(), 4, 4)
