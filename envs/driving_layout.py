"""Geometry of the DrivingMultiView street, shared by the MJCF generator and the env.

The street runs along world +x. Traffic drives on the right: the ego lane is centred at
``EGO_LANE_Y`` (y < 0) and carries traffic in +x; the oncoming lane at ``-EGO_LANE_Y`` carries
traffic in -x. Beyond each driving lane lies a parking strip, then a raised sidewalk, then
buildings. Units: metres, seconds, radians.

    from envs.driving_layout import LANE_WIDTH, EGO_LANE_Y, CAR_HALF
"""

from __future__ import annotations

import numpy as np

X_MIN, X_MAX = -80.0, 320.0          # road extent along x
LANE_WIDTH = 3.5
EGO_LANE_Y = -LANE_WIDTH / 2         # centre of the ego lane; the oncoming lane is at +1.75
ROAD_EDGE = LANE_WIDTH               # |y| of the solid edge lines; beyond them is off-road
PARKING_Y = 4.75                     # |y| of the parked cars' centres
SIDEWALK = (6.0, 9.0)                # |y| range of the raised sidewalks
CURB_HEIGHT = 0.15
BUILDING_Y = 10.0                    # |y| of the building fronts

CAR_HALF = np.array([2.2, 0.9])      # half length, half width of every car (collision box)
N_LEAD, N_ONCOMING, N_PARKED = 3, 8, 16
N_TRAFFIC = N_LEAD + N_ONCOMING

# Ego cameras in the nuScenes arrangement: name -> (yaw in degrees, horizontal FOV in degrees,
# mount (x, y) in the ego frame: x forward, y left), all at height CAMERA_Z, looking level.
CAMERAS = {
    "front": (0.0, 70.0, (1.9, 0.0)),
    "front_left": (55.0, 70.0, (1.2, 0.85)),
    "front_right": (-55.0, 70.0, (1.2, -0.85)),
    "back_left": (110.0, 70.0, (-1.2, 0.85)),
    "back": (180.0, 110.0, (-2.0, 0.0)),
    "back_right": (-110.0, 70.0, (-1.2, -0.85)),
}
CAMERA_Z = 1.65


def vertical_fov(horizontal_fov_deg: float, height: int, width: int) -> float:
    """MuJoCo's ``fovy`` (degrees) giving ``horizontal_fov_deg`` across a ``height x width`` image."""
    half = np.deg2rad(horizontal_fov_deg) / 2
    return float(np.rad2deg(2 * np.arctan(np.tan(half) * height / width)))
