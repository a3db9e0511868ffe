"""The Sawyer camera geometry against pinhole projections worked out by hand, and against what
MuJoCo actually renders (the recorded camera parameters put the puck where its pixels are)."""

import numpy as np
import torch

from posttrain.sawyer.camera import height_above, on_plane, project

K = torch.tensor([[10.0, 0.0, 8.0], [0.0, 10.0, 8.0], [0.0, 0.0, 1.0]])


def _looking_down(height: float) -> torch.Tensor:
    """World-from-camera of a camera at (0, 0, height) looking straight down: image x is world x,
    image y (down in the image) is world -y, forward is world -z."""
    e = torch.eye(4)
    e[:3, :3] = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    e[2, 3] = height
    return e


def test_projection_of_a_camera_looking_down_matches_the_pinhole_formula():
    # (0.5, 0.25, 0) seen from 2 m up: x_c = 0.5, y_c = -0.25, z_c = 2 -> u = 10 * 0.25 + 8, v = 10 * -0.125 + 8
    uv = project(torch.tensor([[[0.5, 0.25, 0.0]]]), K, _looking_down(2.0))[0, 0]
    assert torch.allclose(uv, torch.tensor([10.5, 6.75]))
    back = on_plane(uv[None], torch.zeros(1), K, _looking_down(2.0))[0]
    assert torch.allclose(back, torch.tensor([0.5, 0.25, 0.0]), atol=1e-6)


def test_a_point_above_the_table_is_recovered_from_its_pixel_and_the_table_point_below_it():
    e = torch.eye(4)   # an oblique camera at (0, -1, 1) looking along (0, 1, -1)
    fwd = torch.tensor([0.0, 1.0, -1.0]) / 2 ** 0.5
    right = torch.tensor([1.0, 0.0, 0.0])
    e[:3, 0], e[:3, 1], e[:3, 2], e[:3, 3] = right, torch.linalg.cross(fwd, right), fwd, torch.tensor([0.0, -1.0, 1.0])
    points = torch.tensor([[0.1, 0.2, 0.3], [-0.2, 0.5, 0.05]])
    floor = points.clone()
    floor[:, 2] = 0
    uv, uv_floor = project(points[None], K, e)[0], project(floor[None], K, e)[0]
    xy = on_plane(uv_floor, torch.zeros(2), K, e)[:, :2]
    assert torch.allclose(xy, points[:, :2], atol=1e-5)
    assert torch.allclose(height_above(uv, xy, K, e), points[:, 2], atol=1e-5)


def test_the_recorded_camera_puts_the_puck_on_its_segmented_pixels(tmp_path):
    from worldsim.data.lerobot_reader import LeRobotDatasetReader
    from worldsim.generation.config import GenerateConfig
    from worldsim.generation.pipeline import generate

    out = generate(GenerateConfig(env="worldsim/MetaWorld-v0", task="push-v3", policy="expert", episodes=2,
                                  out=str(tmp_path / "d"), workers=1, cameras=["corner4"], image_size=64, max_steps=3,
                                  depth=False, segmentation=True, camera_params=True, sim_state=True))
    reader = LeRobotDatasetReader(str(out))
    labels = reader.info["worldsim"]["segmentation_labels"]
    puck = [int(k) for k, name in labels.items() if name == "obj"]
    assert puck, labels
    for i in range(reader.num_episodes):
        ep = reader.read_episode(i)
        seg = np.asarray(ep["observation.segmentation.corner4"][0, ..., 0])
        rows, cols = np.nonzero(np.isin(seg, puck))
        centre = torch.tensor([[cols.mean() + 0.5, rows.mean() + 0.5]])
        k = torch.from_numpy(ep["observation.camera.corner4.intrinsics"][0])
        e = torch.from_numpy(ep["observation.camera.corner4.extrinsics"][0])
        uv = project(torch.from_numpy(ep["observation.sim_state"][0, 14:17])[None, None], k, e)[0, 0]
        assert (uv - centre[0]).norm() < 1.0, (uv, centre)   # the puck's centre within a pixel of its pixels' mean
