"""The depth map as a mesh (``posttrain/camera/mesh.py``): exact on planes seen from a new pose,
cut at depth jumps, and against MuJoCo's own render of a moved camera."""

import numpy as np
import pytest
import torch

from posttrain.camera.mesh import continuous_faces, rasterize
from posttrain.camera.reproject import splat, unproject

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SIZE = 32
K = torch.tensor([[[30.0, 0, 16], [0, 30.0, 16], [0, 0, 1]]], dtype=torch.float64)


def _look(eye, target) -> torch.Tensor:
    """(1, 4, 4) world-from-camera in OpenCV axes (x right, y down, z forward), world z up."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    pose[:3, 3] = eye
    return torch.from_numpy(pose)[None]


def _rays(pose: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel centre's ray: origin (3,), world directions (H, W, 3)."""
    v, u = np.meshgrid(np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5, indexing="ij")
    k = K[0].numpy()
    cam = np.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], np.ones_like(u)], -1)
    p = pose[0].numpy()
    return p[:3, 3], cam @ p[:3, :3].T


def _ground_view(pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A camera over the ground plane z = 0: its planar depth and, as colours, each pixel's world
    point (x, y, z) on the ground, worked out by intersecting the pixel's ray with the plane."""
    origin, dirs = _rays(pose)
    t = -origin[2] / dirs[..., 2]
    assert (t > 0).all(), "the test camera must see only ground"
    world = origin + t[..., None] * dirs
    depth = t                                       # camera-frame rays have z = 1: t is the planar depth
    return torch.from_numpy(world).permute(2, 0, 1)[None], torch.from_numpy(depth)[None]


def test_a_plane_seen_closer_is_whole_and_exact():
    """A camera looking down at the ground moves closer: the mesh covers every pixel the first view
    saw with no cracks, and its perspective-correct colour at each pixel is the ground point that
    pixel's ray hits (a colour linear in the world point interpolates exactly on a plane); points
    splatted from the same view leave cracks."""
    pose0, pose1 = _look([0, 0, 4.0], [0.5, 0, 0]), _look([0.2, 0, 2.0], [0.6, 0, 0])
    colours0, depth0 = _ground_view(pose0)
    truth, _ = _ground_view(pose1)
    points, colours = unproject(colours0, depth0, K, pose0, supersample=1)
    keep = continuous_faces(depth0)
    assert keep.all()
    view = rasterize(points, colours, keep[:, None], K, pose1, (SIZE, SIZE))
    hit = view.hit[0, 0].bool()
    assert hit.float().mean() > 0.95
    np.testing.assert_allclose(view.rgb[0][:, hit].numpy(), truth[0][:, hit].numpy(), atol=1e-6)
    np.testing.assert_allclose(view.depth[0, 0][hit].numpy(), _ground_view(pose1)[1][0][hit].numpy(), rtol=1e-6)
    cracks = splat(points, colours, K, pose1, (SIZE, SIZE)).hit.mean()
    assert cracks < 0.5


def test_faces_are_cut_where_the_depth_jumps():
    """Two walls facing the camera, 2 m and 5 m away, side by side: the faces across the seam are
    cut and the rest kept; seen from a camera moved sideways, the part of the far wall the near
    one hid stays a hole instead of a stretched sheet."""
    depth = torch.full((1, SIZE, SIZE), 5.0, dtype=torch.float64)
    depth[:, :, :16] = 2.0
    keep = continuous_faces(depth)
    assert not keep[0, :, :, 15].any()                      # faces between columns 15 and 16
    assert keep[0, :, :, :15].all() and keep[0, :, :, 16:].all()
    pose0 = torch.eye(4, dtype=torch.float64)[None]
    rgb = torch.ones(1, 3, SIZE, SIZE, dtype=torch.float64)
    points, colours = unproject(rgb, depth, K, pose0, supersample=1)
    moved = pose0.clone()
    moved[0, 0, 3] = 0.3                                    # 30 cm to the right
    cut = rasterize(points, colours, keep[:, None], K, moved, (SIZE, SIZE)).hit[0, 0]
    whole = rasterize(points, colours, torch.ones_like(keep)[:, None], K, moved, (SIZE, SIZE)).hit[0, 0]
    # The near wall's last pixel centre (u = 15.5) moves left by 30 * 0.3 / 2 = 4.5 px to 11.0, the far
    # wall's first (16.5) by 30 * 0.3 / 5 = 1.8 px to 14.7: the pixel centres 11.5 ... 14.5 see neither.
    assert (cut[16, 8:20] == 0).nonzero()[:, 0].tolist() == [3, 4, 5, 6]
    assert whole[16, :28].all()


def test_depth_of_plane_and_inverse_depth_test_agree_on_tilted_planes():
    """A tilted plane is one surface at any angle: inverse depth is linear along rows and columns."""
    pose = _look([0, 0, 1.5], [2.0, 0.5, 0])          # the top rows see the ground 10 m out
    _, depth = _ground_view(pose)
    assert continuous_faces(depth).all()


def test_mesh_matches_the_simulator_render(scene):
    """A MuJoCo room seen from a camera that dollied forward: where the mesh lands (most of the
    view) it agrees with MuJoCo's own render there, far better than the first view does."""
    from posttrain.camera.motion import CameraMotionConfig
    from posttrain.camera.walks import walk

    scene.reset(3)
    poses = walk("dolly", np.random.default_rng(2), 6, CameraMotionConfig())
    rgb0, depth0 = scene.render_depth(poses[0])
    first = torch.from_numpy(rgb0).permute(2, 0, 1)[None].double()
    depth = torch.from_numpy(depth0)[None].double()
    k = torch.from_numpy(scene.intrinsics().astype(np.float64))[None]
    pose0, pose_t = torch.from_numpy(poses[0])[None], torch.from_numpy(poses[6])[None]
    truth = scene.render(poses[6]).astype(np.float64)
    points, colours = unproject(first, depth, k, pose0, supersample=1)
    mesh = rasterize(points, colours, continuous_faces(depth)[:, None], k, pose_t, (48, 48))
    hit = mesh.hit[0, 0].numpy() > 0
    psnr = lambda img: 10 * np.log10(255.0 ** 2 / ((img - truth) ** 2)[hit].mean())   # noqa: E731
    assert hit.mean() > 0.5
    assert psnr(mesh.rgb[0].permute(1, 2, 0).numpy()) > max(30.0, psnr(rgb0.astype(np.float64)) + 5)
