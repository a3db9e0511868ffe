"""The TabletopPush scene with one camera placed anywhere (camera post-training data and the camera env).

    scene = CameraScene(image_size=32, fovy=60.0)
    scene.reset(seed)                      # the layout TabletopPush-v0 draws for ``seed``
    rgb = scene.render(pose)               # uint8 (H, W, 3) from a world-from-camera pose (OpenCV axes)
    rgb, depth = scene.render_depth(pose)  # and float32 (H, W) planar metres (inf: nothing hit)

The camera is the scene's spare ``side`` camera, moved at runtime through ``model.cam_pos``/``cam_quat``
of this process's own model copy (the XML is unchanged).
"""

from __future__ import annotations

import numpy as np

MOVABLE_CAMERA = "side"


class CameraScene:
    """The TabletopPush scene with one camera placed anywhere: ``render(pose)`` -> uint8 (H, W, 3)."""

    def __init__(self, image_size: int = 32, fovy: float = 60.0):
        from envs.render.gl import mujoco
        from envs.render.mujoco_source import MujocoRenderSource
        from envs.tabletop_push import TabletopPushEnv

        self._mujoco = mujoco
        self.env = TabletopPushEnv(cameras=("top",), image_size=image_size, render_mode=None)
        self.model, self.data = self.env.model, self.env.data
        self.cam = self.model.camera(MOVABLE_CAMERA).id
        self.model.cam_fovy[self.cam] = fovy
        self.source = MujocoRenderSource(self.model, self.data, (MOVABLE_CAMERA,), image_size, image_size)

    def reset(self, seed: int) -> None:
        """The layout (block, pusher, goal) TabletopPush-v0 draws for ``seed``."""
        self.env.reset(seed=int(seed))

    def set_pose(self, pose: np.ndarray) -> None:
        """Place the camera at a world-from-camera pose (OpenCV axes)."""
        from worldsim.data.frames import GL_TO_CV

        quat = np.zeros(4)
        self._mujoco.mju_mat2Quat(quat, (np.asarray(pose[:3, :3], np.float64) @ GL_TO_CV).ravel())
        self.model.cam_pos[self.cam] = pose[:3, 3]
        self.model.cam_quat[self.cam] = quat
        self._mujoco.mj_forward(self.model, self.data)

    def render(self, pose: np.ndarray) -> np.ndarray:
        self.set_pose(pose)
        return self.source.render_rgb()[MOVABLE_CAMERA]

    def render_depth(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The colour image and its planar depth in metres (inf where the view hits nothing)."""
        self.set_pose(pose)
        frame = self.source.render(("rgb", "depth"))[MOVABLE_CAMERA]
        return frame.rgb, frame.depth

    def intrinsics(self) -> np.ndarray:
        return self.source.intrinsics(MOVABLE_CAMERA)

    def extrinsics(self) -> np.ndarray:
        return self.source.extrinsics(MOVABLE_CAMERA)

    def close(self) -> None:
        self.source.close()
        self.env.close()
