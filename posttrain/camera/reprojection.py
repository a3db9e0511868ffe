"""The reprojection camera model: the first view, lifted by its depth, seen from the commanded
camera, and a U-Net that completes what the reprojection cannot see.

    filler = ViewFiller(ViewFillerConfig())
    frame = filler(first, depth, intrinsics, pose0, pose_t)   # (B, 3, H, W) in [-1, 1], (B, H, W) metres,
                                                              # (B, 3, 3), (B, 4, 4), (B, 4, 4) -> (B, 3, H, W)

The way 3D-cache camera models built on video generators (GEN3C and others on Cosmos) use what the
simulator gives at reset: the first frame and its depth are a 3D cache, seen again from each
commanded camera. ``surface`` says how: ``points`` splats every pixel as points (``reproject.py``);
``mesh`` rasterizes the depth map as triangles cut at depth jumps (``mesh.py``), so a surface the
camera comes closer to stays whole. That image, where points landed, the depth they
landed at, and the first frame go into the pixel world model's U-Net (``posttrain.pixel_unet.network``:
the first frame as its anchor, the reprojection as its one context frame, hit mask and depth as layout
maps); the camera's motion from the first view (its rotation as the rotation matrix's axial
vector and cosine, its offset in ``translation_unit``) sets every block's group-norm scale and
shift. The output is added to the reprojection: where the cache sees the scene the network only
mends seams (with ``holes_only`` not even that: those pixels stay exactly the cache's); the
disoccluded and newly entering parts are its to paint. The geometry is exact, so the view follows
the camera however far it moves; only the painting is learned. With ``views`` > 1 the network
completes a rig's views together, attending across them (``pixel_unet.network.ViewAttention``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from posttrain.camera.mesh import continuous_faces, rasterize
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
                                   blocks=cfg.blocks, cond_dim=cfg.cond_dim, groups=cfg.groups, anchor=True, layout=2,
                                   views=cfg.views, image_size=cfg.image_size))

    def reproject(self, first: Tensor, depth: Tensor, intrinsics: Tensor, pose0: Tensor, pose_t: Tensor) -> ReprojectedView:
        """One view (B, 3, H, W) with its depth (B, H, W) seen from ``pose_t``; ``reproject_views``
        takes several views of one moment (a camera rig) at once."""
        return self.reproject_views(first[:, None], depth[:, None], intrinsics[:, None], pose0[:, None],
                                    intrinsics, pose_t)

    def reproject_views(self, views: Tensor, depths: Tensor, intrinsics: Tensor, poses: Tensor, k_t: Tensor,
                        pose_t: Tensor) -> ReprojectedView:
        """Views (B, V, 3, H, W) with depths (B, V, H, W), intrinsics (B, V, 3, 3) and poses (B, V, 4, 4),
        all lifted into one surface, seen by the camera ``k_t`` (B, 3, 3) at ``pose_t`` (B, 4, 4)."""
        return self.see(*self.lift(views, depths, intrinsics, poses), k_t, pose_t, tuple(views.shape[-2:]))

    def lift(self, views: Tensor, depths: Tensor, intrinsics: Tensor, poses: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Views (B, V, 3, H, W) as one surface per batch item: points and colours (B, P, 3) float64 and
        the mesh's faces ``keep`` (B, V, 2, H-1, W-1) bool (``surface: mesh``; (B, 0) for points).
        A world model lifts its first views once and only ``see``s them afterwards."""
        c = self.cfg
        b, v, _, h, w = views.shape
        mesh = c.surface == "mesh"
        points, colours = unproject(views.flatten(0, 1).double(), depths.flatten(0, 1).double(),
                                    intrinsics.flatten(0, 1).double(), poses.flatten(0, 1).double(),
                                    1 if mesh else c.supersample, c.far)
        keep = (continuous_faces(depths.flatten(0, 1), c.face_tolerance, c.far).view(b, v, 2, h - 1, w - 1)
                if mesh else torch.zeros(b, 0, dtype=torch.bool))
        return points.reshape(b, -1, 3), colours.reshape(b, -1, 3), keep

    def see(self, points: Tensor, colours: Tensor, keep: Tensor, k_t: Tensor, pose_t: Tensor,
            size: tuple[int, int]) -> ReprojectedView:
        """A lifted surface (``lift``'s three tensors) seen by the camera ``k_t`` (B, 3, 3) at ``pose_t`` (B, 4, 4)."""
        if self.cfg.surface == "mesh":
            return rasterize(points, colours, keep, k_t.double(), pose_t.double(), size, self.cfg.depth_tolerance)
        return splat(points, colours, k_t.double(), pose_t.double(), size, self.cfg.depth_tolerance)

    def forward(self, first: Tensor, depth: Tensor, intrinsics: Tensor, pose0: Tensor, pose_t: Tensor) -> Tensor:
        return self.complete(first, self.reproject(first, depth, intrinsics, pose0, pose_t), pose0, pose_t)

    def complete(self, first: Tensor, view: ReprojectedView, pose0: Tensor, pose_t: Tensor) -> Tensor:
        """The view at ``pose_t`` (B, 3, H, W) from the reprojection ``view`` and the camera's own
        first view ``first`` (taken at ``pose0``)."""
        warped, hit = view.rgb.to(first.dtype), view.hit.to(first.dtype)
        maps = torch.cat([hit, (view.depth / self.cfg.depth_unit).to(first.dtype)], dim=1)
        motion = relative_motion(pose0.double(), pose_t.double(), self.cfg.translation_unit).to(first.dtype)
        context = torch.stack([first, warped], dim=1)                    # (B, 2, 3, H, W): anchor, reprojection
        change = self.net(context, motion[:, None], torch.zeros(len(first)), layout=maps)
        if self.cfg.holes_only:                     # what the first views saw stays exactly as they saw it
            change = change * (1 - hit)
        return warped + change
