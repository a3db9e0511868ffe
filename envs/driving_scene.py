"""The DrivingMultiView street in MuJoCo: load it, pose the cars, render it with street classes.

Every car is a mocap body; ``StreetScene.pose`` writes the ego and traffic poses and runs
``mj_forward`` so that cameras and renders follow. The ego's cameras get the vertical FOV that
gives their horizontal FOV at the requested image aspect.

    scene = StreetScene(height=64, width=64)
    scene.pose(ego, traffic)
    source = StreetRenderSource(scene.model, scene.data, ("front", "back"), 64, 64)
"""

from __future__ import annotations

import numpy as np

from assets import asset_path
from envs.driving_ego import EgoState
from envs.driving_layout import CAMERAS, N_PARKED, N_TRAFFIC, vertical_fov
from envs.driving_traffic import Traffic
from envs.render.gl import mujoco
from envs.render.mujoco_source import MujocoRenderSource

CLASSES = ("road", "marking", "sidewalk", "building", "pole", "ground", "car", "ego")
PALETTE = np.array([[0.75, 0.1, 0.1], [0.1, 0.25, 0.7], [0.85, 0.85, 0.88], [0.1, 0.1, 0.12], [0.55, 0.57, 0.6],
                    [0.9, 0.7, 0.1], [0.15, 0.5, 0.25], [0.55, 0.3, 0.15]])


def street_classes(model) -> tuple[np.ndarray, dict[int, str]]:
    """Class id per geom from the prefix of its name (see assets/mjcf/make_driving_street.py)."""
    geom_class = np.zeros(model.ngeom, np.int32)
    for g in range(model.ngeom):
        prefix = model.geom(g).name.split("_")[0]
        if prefix not in CLASSES:
            raise ValueError(f"geom {model.geom(g).name!r} has no street class prefix; allowed: {', '.join(CLASSES)}")
        geom_class[g] = CLASSES.index(prefix) + 1
    return geom_class, {0: "background", **{i + 1: c for i, c in enumerate(CLASSES)}}


class StreetRenderSource(MujocoRenderSource):
    """``MujocoRenderSource`` whose segmentation uses the street classes (all cars are ``car``)."""

    def __init__(self, model, data, cameras, height: int = 64, width: int = 64):
        super().__init__(model, data, cameras, height, width)
        self._geom_class, self.labels = street_classes(model)


def yaw_quat(yaw) -> np.ndarray:
    yaw = np.asarray(yaw, np.float64)
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)


class StreetScene:
    def __init__(self, height: int, width: int):
        self.model = mujoco.MjModel.from_xml_path(str(asset_path("mjcf/driving_street.xml")))
        self.data = mujoco.MjData(self.model)
        for name, (_, hfov, _) in CAMERAS.items():
            self.model.cam_fovy[self.model.camera(name).id] = vertical_fov(hfov, height, width)
        self._ego = self._mocap("ego")
        self._traffic = np.array([self._mocap(f"traffic{i}") for i in range(N_TRAFFIC)])
        self._parked = np.array([self._mocap(f"parked{i}") for i in range(N_PARKED)])
        self._paint = np.array([self.model.geom(f"car_{kind}{i}_body").id
                                for kind, n in (("traffic", N_TRAFFIC), ("parked", N_PARKED)) for i in range(n)])

    def _mocap(self, body: str) -> int:
        return int(self.model.body_mocapid[self.model.body(body).id])

    def paint(self, rng: np.random.Generator) -> None:
        """Give every traffic and parked car a body colour from the palette."""
        self.model.geom_rgba[self._paint, :3] = PALETTE[rng.integers(0, len(PALETTE), self._paint.size)]

    def pose(self, ego: EgoState, traffic: Traffic) -> None:
        d = self.data
        d.mocap_pos[self._ego] = (ego.x, ego.y, 0.0)
        d.mocap_quat[self._ego] = yaw_quat(ego.yaw)
        d.mocap_pos[self._traffic] = np.stack([traffic.x, traffic.y, np.zeros_like(traffic.x)], axis=1)
        d.mocap_quat[self._traffic] = yaw_quat(np.where(traffic.direction > 0, 0.0, np.pi))
        d.mocap_pos[self._parked] = np.concatenate([traffic.parked, np.zeros((len(traffic.parked), 1))], axis=1)
        d.mocap_quat[self._parked] = yaw_quat(np.where(traffic.parked[:, 1] > 0, np.pi, 0.0))  # face the lane's way
        mujoco.mj_forward(self.model, self.data)
