"""A view's depth map as a triangle mesh, rasterized into another camera: the surface the reprojection
models see when ``surface: mesh``.

    keep = continuous_faces(depth)                                   # (B, 2, H-1, W-1): faces on one surface
    view = rasterize(vertices, colours, keep, intrinsics, pose, (H, W))   # ReprojectedView, as ``splat`` gives

Point splatting (``reproject.splat``) leaves a crack wherever the new camera sees a surface larger
than the first view did (the road ahead as the car drives on, a wall it passes): each point lands
in one pixel, and the pixels between stay empty. The U-Net then paints cracks one view at a time,
and neighbouring views disagree there. A mesh has no cracks: every 2 x 2 block of pixel centres is
two triangles, rasterized with perspective-correct colour, so a magnified surface stays whole and
every camera that sees it sees the same colours at the same 3D points.

Faces are cut where the depth jumps (a car in front of the road, a building's edge against the
sky), so that what the first view could not see stays a hole for the U-Net to paint. The test is
exact on planes: along each pixel edge, inverse depth is linear on a plane, so the next value
predicted from the two behind it (from either side) misses by at most ``tolerance`` of it on one
surface, and by the jump across two.

Cameras as in ``reproject.py``: world-from-camera poses in OpenCV axes, pixel centres at +0.5.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from posttrain.camera.reproject import ReprojectedView, z_buffer

NEAR = 1e-3   # (m) vertices closer to the camera than this cut their faces


def _smooth_edges(disparity: Tensor, tolerance: float) -> Tensor:
    """(B, H, W) inverse depth -> (B, H, W-1): the edge between columns j and j+1 lies on one surface."""
    d = disparity
    a, b = d[..., :-1], d[..., 1:]
    scale = torch.maximum(a, b) * tolerance
    miss = torch.full_like(a, float("inf"))
    from_left, from_right = miss.clone(), miss.clone()
    from_left[..., 1:] = (b[..., 1:] - (2 * a[..., 1:] - d[..., :-2])).abs()        # predicted from j-1, j
    from_right[..., :-1] = (a[..., :-1] - (2 * b[..., :-1] - d[..., 2:])).abs()     # predicted from j+2, j+1
    if d.shape[-1] < 3:                                                             # no third point: same depth
        return (a - b).abs() <= scale
    return torch.minimum(from_left, from_right) <= scale


def continuous_faces(depth: Tensor, tolerance: float = 0.1, far: float = 1e3) -> Tensor:
    """(B, H, W) planar depth (inf where nothing is hit) -> (B, 2, H-1, W-1) bool: the two triangles
    of each 2 x 2 block of pixels, (top-left, top-right, bottom-left) and (bottom-right, bottom-left,
    top-right), kept where their edges along the rows and the columns lie on one surface."""
    d = 1.0 / torch.nan_to_num(depth.double(), posinf=far).clamp(NEAR, far)
    rows = _smooth_edges(d, tolerance)                                  # (B, H, W-1)
    cols = _smooth_edges(d.transpose(1, 2), tolerance).transpose(1, 2)  # (B, H-1, W)
    upper = rows[:, :-1] & cols[..., :-1]        # top edge, left edge
    lower = rows[:, 1:] & cols[..., 1:]          # bottom edge, right edge
    return torch.stack([upper, lower], dim=1)


@lru_cache(maxsize=8)
def face_corners(views: int, h: int, w: int) -> Tensor:
    """(views * 2 * (h-1) * (w-1), 3) vertex indices of every face, in ``continuous_faces``' order,
    for vertices laid out (views, h, w). Cached: the world models ask for the same table every step."""
    idx = torch.arange(views * h * w).view(views, h, w)
    tl, tr, bl, br = idx[:, :-1, :-1], idx[:, :-1, 1:], idx[:, 1:, :-1], idx[:, 1:, 1:]
    upper = torch.stack([tl, tr, bl], dim=-1)
    lower = torch.stack([br, bl, tr], dim=-1)
    return torch.stack([upper, lower], dim=1).reshape(-1, 3)


def _project(vertices: Tensor, intrinsics: Tensor, pose: Tensor) -> Tensor:
    """(B, M, 3) world -> (B, M, 3) (u, v, z): pixel coordinates and planar depth in camera ``pose``."""
    cam = (vertices - pose[:, None, :3, 3]) @ pose[:, :3, :3]
    z = cam[..., 2]
    safe = z.clamp_min(NEAR)
    u = cam[..., 0] / safe * intrinsics[:, 0, 0, None] + intrinsics[:, 0, 2, None]
    v = cam[..., 1] / safe * intrinsics[:, 1, 1, None] + intrinsics[:, 1, 2, None]
    return torch.stack([u, v, z], dim=-1)


def _fragments(tri: Tensor, colour: Tensor, batch: Tensor, size: tuple[int, int], extent: int):
    """Triangles whose pixel box is at most ``extent`` wide: (pixel index, depth, colour) of every
    pixel centre inside one. tri (F, 3, 3) corners' (u, v, z); colour (F, 3, C); batch (F,)."""
    h, w = size
    u, v, z = tri[..., 0], tri[..., 1], tri[..., 2]
    x0 = torch.ceil(u.min(1).values - 0.5).clamp_min(0).long()
    y0 = torch.ceil(v.min(1).values - 0.5).clamp_min(0).long()
    dy, dx = torch.meshgrid(torch.arange(extent), torch.arange(extent), indexing="ij")
    px = x0[:, None] + dx.reshape(1, -1)                                    # (F, extent^2)
    py = y0[:, None] + dy.reshape(1, -1)
    cx, cy = px.to(u.dtype) + 0.5, py.to(u.dtype) + 0.5
    (ax, bx, qx), (ay, by, qy) = u.unbind(1), v.unbind(1)
    area = (bx - ax) * (qy - ay) - (qx - ax) * (by - ay)
    w0 = ((bx - cx.T) * (qy - cy.T) - (qx - cx.T) * (by - cy.T)).T / area[:, None]
    w1 = ((qx - cx.T) * (ay - cy.T) - (ax - cx.T) * (qy - cy.T)).T / area[:, None]
    w2 = 1.0 - w0 - w1
    bary = torch.stack([w0, w1, w2], dim=-1)                                # (F, extent^2, 3)
    inside = (bary >= -1e-9).all(-1) & (px < w) & (py < h)
    f, k = inside.nonzero(as_tuple=True)
    persp = bary[f, k] / z[f]                                               # perspective-correct weights
    total = persp.sum(-1, keepdim=True)
    depth = 1.0 / total[:, 0]
    rgb = (persp[..., None] * colour[f]).sum(1) / total
    return batch[f] * (h * w) + py[f, k] * w + px[f, k], depth, rgb


def _pixel_span(coord: Tensor, limit: int) -> Tensor:
    """(..., 3) corner coordinates along one axis -> (...) pixel centres their range holds, within [0, limit)."""
    first = torch.ceil(coord.amin(-1) - 0.5).clamp_min(0)
    last = torch.floor(coord.amax(-1) - 0.5).clamp_max(limit - 1)
    return last - first + 1


def rasterize(vertices: Tensor, colours: Tensor, keep: Tensor, intrinsics: Tensor, pose: Tensor,
              size: tuple[int, int], depth_tolerance: float = 0.02) -> ReprojectedView:
    """Meshes of (B, V, h, w) vertices (world points, (B, V*h*w, 3)) with colours (B, V*h*w, C) and
    faces ``keep`` (B, V, 2, h-1, w-1) seen by camera ``pose`` (B, 4, 4): the nearest surface per
    pixel, surfaces within ``depth_tolerance`` (relative) of it blended. Faces are rasterized in
    groups of equal pixel-box size, so that the many small faces cost little."""
    b, views, _, hs, ws = keep.shape
    h, w = size
    faces = face_corners(views, hs + 1, ws + 1)                                     # (F, 3)
    uvz = _project(vertices, intrinsics.to(vertices.dtype), pose.to(vertices.dtype))  # (B, M, 3)
    tri = uvz[:, faces]                                                               # (B, F, 3, 3)
    span = torch.maximum(_pixel_span(tri[..., 0], w), _pixel_span(tri[..., 1], h))
    live = keep.reshape(b, -1) & (tri[..., 2] > NEAR).all(-1) & (span >= 1)
    bi, fi = live.nonzero(as_tuple=True)
    tri, span, col = tri[bi, fi], span[bi, fi].long(), colours[bi[:, None], faces[fi]]
    parts = [_fragments(tri[span == s], col[span == s], bi[span == s], size, int(s))
             for s in torch.unique(span).tolist()]
    index = torch.cat([p[0] for p in parts]) if parts else torch.zeros(0, dtype=torch.long)
    depth = torch.cat([p[1] for p in parts]) if parts else torch.zeros(0, dtype=vertices.dtype)
    rgb = torch.cat([p[2] for p in parts]) if parts else torch.zeros(0, colours.shape[-1], dtype=colours.dtype)
    return z_buffer(index, depth, rgb, b, size, depth_tolerance)
