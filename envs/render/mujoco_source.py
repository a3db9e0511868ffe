"""Render source for MuJoCo scenes: RGB, metric depth, segmentation and camera parameters.

One ``mujoco.Renderer`` per image size is created lazily and reused for every call, which is
what makes rendering millions of small frames affordable (gymnasium's per-call renderer is
several times slower at 64x64).

    source = MujocoRenderSource(model, data, cameras=("top", "front"), height=64, width=64)
    frames = source.render(("rgb", "depth", "segmentation"))   # {camera: CameraFrame}
"""

from __future__ import annotations

import atexit
import weakref

import numpy as np

from envs.render.gl import mujoco
from worldsim.data.frames import CameraFrame, check_modalities, pinhole_intrinsics, pose_from_gl


def camera_names(model: mujoco.MjModel) -> list[str]:
    return [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_CAMERA, i) for i in range(model.ncam)]


def segmentation_classes(model: mujoco.MjModel) -> tuple[np.ndarray, dict[int, str]]:
    """Class id per geom (index = geom id) and the class names; 0 is background.

    A geom's class is its body's name; geoms attached to the world body use their own name
    (up to the first '_' or '/'), so a table top and its legs form one class.
    """
    names: dict[str, int] = {}
    geom_class = np.zeros(model.ngeom, np.int32)
    for g in range(model.ngeom):
        body = int(model.geom_bodyid[g])
        if body == 0:
            name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "world"
            label = name.replace("/", "_").split("_")[0]
        else:
            label = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body) or f"body{body}"
        geom_class[g] = names.setdefault(label, len(names) + 1)
    return geom_class, {0: "background", **{v: k for k, v in names.items()}}


_LIVE: "weakref.WeakSet[MujocoRenderSource]" = weakref.WeakSet()


def _close_all() -> None:
    """Free GL contexts before the EGL display goes away at interpreter exit."""
    for source in list(_LIVE):
        source.close()


def _track(source: "MujocoRenderSource") -> None:
    # Registered after mujoco's own GL module has registered its exit hook, so ours runs first.
    if not _LIVE:
        atexit.unregister(_close_all)
        atexit.register(_close_all)
    _LIVE.add(source)


class MujocoRenderSource:
    """Renders named cameras of a live ``(MjModel, MjData)`` pair at one image size."""

    def __init__(self, model, data, cameras, height: int = 64, width: int = 64):
        known = camera_names(model)
        for cam in cameras:
            if cam not in known:
                raise ValueError(f"unknown camera {cam!r}; this scene has: {', '.join(known)}")
        max_w, max_h = int(model.vis.global_.offwidth), int(model.vis.global_.offheight)
        if not (0 < width <= max_w and 0 < height <= max_h):
            raise ValueError(
                f"image size {height}x{width} is outside this scene's offscreen buffer "
                f"(at most {max_h}x{max_w}, set by <visual><global offheight offwidth>)"
            )
        self.model, self.data = model, data
        self.cameras = tuple(cameras)
        self.height, self.width = int(height), int(width)
        self._renderer: mujoco.Renderer | None = None
        self._geom_class, self.labels = segmentation_classes(model)

    @property
    def renderer(self) -> mujoco.Renderer:
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
            _track(self)
        return self._renderer

    def intrinsics(self, camera: str) -> np.ndarray:
        fovy = float(self.model.cam(camera).fovy[0])
        return pinhole_intrinsics(fovy, self.height, self.width)

    def extrinsics(self, camera: str) -> np.ndarray:
        cam = self.data.cam(camera)
        return pose_from_gl(cam.xpos, cam.xmat)

    def render_rgb(self) -> dict[str, np.ndarray]:
        """Only the colour images, ``{camera: uint8 (H, W, 3)}``: the observation hot path."""
        out = {}
        for cam in self.cameras:
            self.renderer.update_scene(self.data, camera=cam)
            out[cam] = self.renderer.render()
        return out

    def render(self, modalities=("rgb",), rgb: dict[str, np.ndarray] | None = None) -> dict[str, CameraFrame]:
        """Every requested modality for every camera; pass ``rgb`` to reuse frames already drawn."""
        modalities = check_modalities(modalities)
        return {cam: self._render_camera(cam, modalities, rgb) for cam in self.cameras}

    def _render_camera(self, cam: str, modalities, rgb) -> CameraFrame:
        r = self.renderer
        r.update_scene(self.data, camera=cam)
        frame = CameraFrame(
            rgb=rgb[cam] if rgb is not None else r.render(),
            intrinsics=self.intrinsics(cam),
            extrinsics=self.extrinsics(cam),
            labels=self.labels,
        )
        if "depth" in modalities:
            r.enable_depth_rendering()
            depth = r.render().astype(np.float32)  # (H, W) planar metres
            r.disable_depth_rendering()
            depth[depth >= self.model.vis.map.zfar * self.model.stat.extent * 0.999] = np.inf
            frame.depth = depth
        if "segmentation" in modalities:
            r.enable_segmentation_rendering()
            seg = r.render()  # (H, W, 2) [object id, object type]
            r.disable_segmentation_rendering()
            frame.segmentation = self._classes(seg)
        return frame

    def _classes(self, seg: np.ndarray) -> np.ndarray:
        ids, types = seg[..., 0], seg[..., 1]
        is_geom = (types == mujoco.mjtObj.mjOBJ_GEOM) & (ids >= 0)
        out = np.zeros(ids.shape, np.int32)
        out[is_geom] = self._geom_class[ids[is_geom]]
        return out

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
