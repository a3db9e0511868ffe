"""The reprojection camera model: the first view, lifted by its depth, seen from the commanded
camera, and a U-Net that completes what the reprojection cannot see.

    filler = ViewFiller(ViewFillerConfig())
    frame = filler(first, depth, intrinsics, pose0, pose_t)   # (B, 3, H, W) in [-1, 1], (B, H, W) metres,
                                                              # (B, 3, 3), (B, 4, 4), (B, 4, 4) -> (B, 3, H, W)

The way 3D-cache camera models built on video generators (GEN3C and others on Cosmos) use what the
simulator gives at reset: the first frame and its depth are a point cloud (``reproject.py``); each
commanded camera sees its own reprojection of it. That image, where points landed, the depth they
landed at, and the first frame go into the pixel world model's U-Net (``posttrain.pixel_unet.network``:
the first frame as its anchor, the reprojection as its one context frame, hit mask and depth as layout
maps); the camera's motion from the first view (its rotation as the rotation matrix's axial
vector and cosine, its offset in ``translation_unit``) sets every block's group-norm scale and
shift. The output is added to the reprojection: where the cache sees the scene the network only
mends seams; the disoccluded and newly entering parts are its to paint. The geometry is exact, so
the view follows the camera however far it moves; only the painting is learned.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from posttrain.camera.reproject import ReprojectedView, splat, unproject
from posttrain.camera.reprojection_config import ViewFillerConfig
from posttrain.pixel_unet.config import UNetConfig
from posttrain.pixel_unet.network import UNet

MOTION_DIM = 7   # axial vector of the relative rotation (3), its cosine term (1), the offset (3)


def relative_motion(pose0: Tensor, pose_t: Tensor, translation_unit: float) -> Tensor:
    """(B, 4, 4) world-from-camera x2 -> (B, 7): camera t in camera 0's frame."""
    rel = torch.linalg.solve(pose0, pose_t)
    rot = rel[:, :3, :3]
    axial = torch.stack([rot[:, 2, 1] - rot[:, 1, 2], rot[:, 0, 2] - rot[:, 2, 0], rot[:, 1, 0] - rot[:, 0, 1]], 1) / 2
    cosine = (rot.diagonal(dim1=1, dim2=2).sum(1, keepdim=True) - 1) / 2
    return torch.cat([axial, cosine - 1, rel[:, :3, 3] / translation_unit], dim=1)


class ViewFiller(nn.Module):
    def __init__(self, cfg: ViewFillerConfig):
        super().__init__()
        self.cfg = cfg
        self.net = UNet(UNetConfig(context=1, action_dim=MOTION_DIM, patch=cfg.patch, channels=list(cfg.channels),
                                   blocks=cfg.blocks, cond_dim=cfg.cond_dim, groups=cfg.groups, anchor=True, layout=2))

    def reproject(self, first: Tensor, depth: Tensor, intrinsics: Tensor, pose0: Tensor, pose_t: Tensor) -> ReprojectedView:
        c = self.cfg
        points, colours = unproject(first, depth, intrinsics, pose0, c.supersample, c.far)
        return splat(points, colours.to(first.dtype), intrinsics, pose_t, tuple(first.shape[-2:]), c.depth_tolerance)

    def forward(self, first: Tensor, depth: Tensor, intrinsics: Tensor, pose0: Tensor, pose_t: Tensor) -> Tensor:
        view = self.reproject(first.double(), depth.double(), intrinsics.double(), pose0.double(), pose_t.double())
        warped, hit = view.rgb.to(first.dtype), view.hit.to(first.dtype)
        maps = torch.cat([hit, (view.depth / self.cfg.depth_unit).to(first.dtype)], dim=1)
        motion = relative_motion(pose0.double(), pose_t.double(), self.cfg.translation_unit).to(first.dtype)
        context = torch.stack([first, warped], dim=1)                    # (B, 2, 3, H, W): anchor, reprojection
        change = self.net(context, motion[:, None], torch.zeros(len(first)), layout=maps)
        return warped + change
