"""The Sawyer state reader: the soft-argmax finds a feature where it fires, and the reader learns a
camera's geometry (a dot's image position -> its 3-D position) from a few hundred frames."""

import torch

from posttrain.sawyer.reader import SawyerReader, SawyerReaderConfig, SpatialSoftArgmax


def test_soft_argmax_returns_the_hot_pixel_in_normalised_coordinates():
    maps = torch.full((1, 2, 9, 17), -50.0)
    maps[0, 0, 0, 16] = 50.0     # top right
    maps[0, 1, 4, 4] = 50.0      # x = -1 + 2 * 4/16, y = 0
    points = SpatialSoftArgmax(2)(maps)[0]
    assert torch.allclose(points[0], torch.tensor([1.0, -1.0]), atol=1e-4)
    assert torch.allclose(points[1], torch.tensor([-0.5, 0.0]), atol=1e-4)


def _dots(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views of a white dot on grey: view 0 sees (x, y), view 1 sees (x, z); targets are (x, y, z) twice."""
    xyz = torch.rand(n, 3, generator=gen) * 0.8 + 0.1               # in [0.1, 0.9]
    frames = torch.full((n, 2, 3, 24, 24), -0.5)
    cols, rows = (xyz * 23).round().long().unbind(1)[0], (xyz * 23).round().long()
    for i in range(n):
        frames[i, 0, :, rows[i, 1], cols[i]] = 1.0
        frames[i, 1, :, rows[i, 2], cols[i]] = 1.0
    return frames, torch.cat([xyz, xyz], dim=1)


def test_the_reader_learns_positions_from_two_views():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    frames, targets = _dots(384, gen)
    reader = SawyerReader(SawyerReaderConfig(views=2, channels=16, keypoints=8, hidden=64))
    reader.set_normalization(targets)
    opt = torch.optim.Adam(reader.parameters(), lr=3e-3)
    for step in range(300):
        idx = torch.randint(len(frames), (32,), generator=gen)
        loss = reader.loss(frames[idx], targets[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    test, truth = _dots(64, gen)
    with torch.no_grad():
        err = (reader(test) - truth).abs().mean()
    spread = (truth - truth.mean(0)).abs().mean()                   # guessing the mean
    assert err < 0.25 * spread, (float(err), float(spread))
