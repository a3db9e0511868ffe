"""The Sawyer state reader: its heat maps learn to find marked points (to a fraction of a pixel),
and it turns keypoint pixels into metres by the camera's geometry."""

import pytest
import torch

from posttrain.sawyer.camera import project
from posttrain.sawyer.config import SawyerReaderConfig
from posttrain.sawyer.reader import KEYPOINTS, SawyerReader

SIZE = 24
COLOURS = torch.tensor([[1.0, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1]])   # one per keypoint


def _dots(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey frames with one coloured 2x2 dot per keypoint; targets: each dot's centre in pixels."""
    frames = torch.zeros(n, 3, SIZE, SIZE)
    corners = torch.randint(1, SIZE - 3, (n, len(KEYPOINTS), 2), generator=gen)
    for i in range(n):
        for k in range(len(KEYPOINTS)):
            u, v = corners[i, k].tolist()
            frames[i, :, v:v + 2, u:u + 2] = COLOURS[k][:, None, None]
    return frames, corners.float() + 1.0   # a 2x2 dot at columns u, u+1 is centred at u + 1


@pytest.mark.parametrize("full_res", [False, True])
def test_heat_maps_learn_to_find_marked_points(full_res):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    frames, targets = _dots(512, gen)
    reader = SawyerReader(SawyerReaderConfig(channels=16, height=SIZE, width=SIZE, full_res=full_res))
    cells = SIZE * SIZE if full_res else SIZE * SIZE // 4
    assert reader.heat_maps(frames[:2])[0].shape == (2, len(KEYPOINTS), cells)
    opt = torch.optim.Adam(reader.parameters(), lr=3e-3)
    for _ in range(250):
        idx = torch.randint(len(frames), (32,), generator=gen)
        loss = reader.loss(frames[idx], targets[idx], torch.zeros(32), torch.zeros(32, 3), torch.zeros(32, 3))
        opt.zero_grad()
        loss.backward()
        opt.step()
    test, truth = _dots(64, gen)
    with torch.no_grad():
        err = (reader.keypoints(test) - truth).norm(dim=-1).mean()
    assert err < 1.0, float(err)   # pixels; guessing the image centre is ~8


class _Fixed(SawyerReader):
    """A reader whose heat maps are Gaussians (sigma 1.4 px) on given pixels."""

    def __init__(self, uv: torch.Tensor, **kw):
        super().__init__(SawyerReaderConfig(channels=8, height=16, width=16), **kw)
        self.uv = uv

    def heat_maps(self, frames):
        d2 = ((self.grid[None, None] - self.uv[:, :, None]) ** 2).sum(-1)
        return -d2 / 4.0, torch.full((len(frames),), 0.4)


def test_keypoint_pixels_become_metres_through_the_camera():
    k = torch.tensor([[10.0, 0.0, 8.0], [0.0, 10.0, 8.0], [0.0, 0.0, 1.0]])
    e = torch.eye(4)   # a camera at (0, -1, 1) looking along (0, 1, -1)
    fwd = torch.tensor([0.0, 1.0, -1.0]) / 2 ** 0.5
    right = torch.tensor([1.0, 0.0, 0.0])
    e[:3, 0], e[:3, 1], e[:3, 2], e[:3, 3] = right, torch.linalg.cross(fwd, right), fwd, torch.tensor([0.0, -1.0, 1.0])
    hand, obj, goal = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([-0.05, 0.1, 0.02]), torch.tensor([0.08, 0.3, 0.01])
    points = torch.stack([hand, torch.tensor([0.1, 0.2, 0.0]), obj, torch.tensor([-0.05, 0.1, 0.0]), goal])[None]
    reader = _Fixed(project(points, k, e), intrinsics=k, extrinsics=e, heights=torch.tensor([0.0, 0.01]))
    read = reader(torch.zeros(1, 3, 16, 16))
    for name, truth in (("hand", hand), ("object", obj), ("goal", goal)):
        assert torch.allclose(read[name][0], truth, atol=2e-3), (name, read[name], truth)
    assert float(read["gripper"][0]) == pytest.approx(0.4)
