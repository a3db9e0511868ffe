"""worldsim/DrivingMultiView-v0: drive down a street with traffic, seen by six cameras (nuScenes rig).

    import gymnasium as gym, envs
    env = gym.make("worldsim/DrivingMultiView-v0", image_size=64)     # all six cameras
    obs, info = env.reset(seed=0)
    obs["pixels"]["back"]          # uint8 (64, 64, 3), 110 degree horizontal field of view
    frames = env.unwrapped.capture(("rgb", "depth", "segmentation"))   # per camera, with K and pose
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.arguments import named_arguments
from envs.camera_rendering import CameraRendering
from envs.contract import check_cameras, image_hw, observation_space, validate_action
from envs.driving_ego import BicycleConfig, EgoState, action_to_controls, bicycle_step, boxes_overlap
from envs.driving_layout import CAMERAS, CAR_HALF, EGO_LANE_Y, ROAD_EDGE, X_MAX
from envs.driving_rules import AGENT_DIM
from envs.driving_scene import StreetRenderSource, StreetScene
from envs.driving_traffic import Traffic, sample_traffic, step_traffic

CAMERA_NAMES = tuple(CAMERAS)
TASK = "drive along the street in your lane, keep your distance to the car ahead and do not crash"
N_NEAREST = 6
ENV_STATE_DIM = 3 * N_NEAREST + 2


@named_arguments
class DrivingMultiViewEnv(CameraRendering, gym.Env):
    """
    ## Description
    An ego car drives down a straight two-way street (``assets/mjcf/driving_street.xml``, made
    by ``assets/mjcf/make_driving_street.py``): two 3.5 m lanes with a dashed centre line and
    solid edge lines, parking strips with parked cars, raised sidewalks with lamp posts and
    buildings on both sides. Three cars drive ahead in the ego lane at 6-9 m/s (each keeping a
    time gap to the one ahead, with a slowly varying cruise speed) and eight cars come the other
    way in the oncoming lane. All cars are moved kinematically; the ego follows a kinematic
    bicycle model integrated in Python. Six cameras sit on the ego's roof in the nuScenes
    arrangement: ``front`` (yaw 0), ``front_left`` (+55 deg), ``front_right`` (-55 deg),
    ``back_left`` (+110 deg), ``back`` (180 deg), ``back_right`` (-110 deg); all have a 70 deg
    horizontal field of view except ``back`` (110 deg), at any image aspect.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: ``(steering, acceleration)``. Steering is the front-wheel
    angle as a fraction of 0.5 rad, positive turning left; acceleration is a fraction of
    3 m/s^2 when positive and of 6 m/s^2 braking when negative. Speed stays in [0, 15] m/s (no
    reversing). Each step lasts 0.1 s.

    ## Observation Space
    ``Dict(pixels=Dict({camera: Box(0, 255, (H, W, 3), uint8)}), agent_pos=Box(4,),
    environment_state=Box(20,))``, all float32 in the road frame (x along the road, y to the
    left, metres, radians, m/s):

    * ``agent_pos``: the ego's ``(x, y, yaw, speed)``; yaw in (-pi, pi], 0 = along the road.
    * ``environment_state[0:18]``: the 6 moving cars nearest to the ego (centre distance),
      nearest first, each ``(dx, dy, vx)``: its centre minus the ego's centre and its signed
      velocity along x (negative for oncoming cars).
    * ``environment_state[18]``: lane offset, the ego's y minus its lane centre (-1.75 m),
      positive when left of the centre.
    * ``environment_state[19]``: metres still to drive along x to reach the goal.

    ## Rewards
    ``0.1`` per metre driven along x in the step, minus ``0.1 * |lane offset|``; ``-10`` on a
    crash or leaving the road, ``+10`` on success.

    ## Starting State
    From the reset seed: the ego at x in [-5, 5], 0.3 m or less from its lane centre, heading
    within 0.08 rad of the road, at 3-7 m/s; the lead cars 18-35 m ahead and then 20-45 m
    apart; oncoming cars spread along the road; parked cars in random bays and every car's
    colour.

    ## Episode End
    Terminates on a crash (the ego's box overlaps any moving or parked car's box), on leaving
    the road (the ego's centre beyond an edge line, ``|y| > 3.5``, or past the road's end), and
    on success if ``terminate_on_success``: ``is_success`` is true once the ego has driven
    ``goal_distance`` (80 m) along x from its start with no crash. Truncation after 150 steps
    (``max_episode_steps`` of the registration).

    ## Arguments
    ``cameras`` (subset of the six names; default all six, in the order above),
    ``image_size`` (int or (H, W); default 64), ``goal_distance`` (metres, default 80),
    ``terminate_on_success`` (default True), ``render_mode`` (``"rgb_array"``: ``render()``
    returns the first camera's frame). Reset option ``render`` (default True): False renders no
    camera that episode and its ``pixels`` are all-zero frames of the same space
    (``envs.camera_rendering``).

    ## Version History
    * v0: initial version; the ``render`` reset option was added later and changes nothing for a
      caller who does not pass it.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    task = TASK
    control_dt = 0.1
    dynamics = BicycleConfig()

    def __init__(self, cameras=CAMERA_NAMES, image_size=64, goal_distance: float = 80.0,
                 terminate_on_success: bool = True, render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        if not 0 < goal_distance <= 200:
            raise ValueError(f"goal_distance={goal_distance!r} must be in (0, 200] metres")
        self.cameras = check_cameras(cameras, CAMERA_NAMES)
        self.height, self.width = image_hw(image_size)
        self.render_mode = render_mode
        self.goal_distance = float(goal_distance)
        self.terminate_on_success = bool(terminate_on_success)
        self.scene = StreetScene(self.height, self.width)
        self.model, self.data = self.scene.model, self.scene.data
        self.render_source = StreetRenderSource(self.model, self.data, self.cameras, self.height, self.width)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = observation_space(self.cameras, self.height, self.width, AGENT_DIM, ENV_STATE_DIM)
        self._last_rgb: dict[str, np.ndarray] | None = None

    # -- gym API ------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._episode_rendering(options)
        rng = self.np_random
        self.ego = EgoState(x=float(rng.uniform(-5, 5)), y=EGO_LANE_Y + float(rng.uniform(-0.3, 0.3)),
                            yaw=float(rng.uniform(-0.08, 0.08)), speed=float(rng.uniform(3, 7)))
        self.traffic: Traffic = sample_traffic(rng, self.ego.x)
        self.scene.paint(rng)
        self.start_x, self.t = self.ego.x, 0.0
        self.scene.pose(self.ego, self.traffic)
        return self._observation(), self._info(crashed=False)

    def step(self, action):
        a = validate_action(action, self.action_space)
        steer, accel = action_to_controls(a, self.dynamics)
        before = self.ego
        self.ego = bicycle_step(self.ego, steer, accel, self.control_dt, self.dynamics)
        self.traffic = step_traffic(self.traffic, self.t, self.control_dt)
        self.t += self.control_dt
        self.scene.pose(self.ego, self.traffic)
        crashed = self.collided() or self.off_road()
        info = self._info(crashed)
        reward = 0.1 * (self.ego.x - before.x) - 0.1 * abs(self.lane_offset())
        reward += -10.0 if crashed else 10.0 if info["is_success"] else 0.0
        terminated = crashed or (info["is_success"] and self.terminate_on_success)
        return self._observation(), float(reward), bool(terminated), False, info

    # -- state --------------------------------------------------------------------------------
    def lane_offset(self) -> float:
        return self.ego.y - EGO_LANE_Y

    def collided(self) -> bool:
        pose = (self.ego.x, self.ego.y, self.ego.yaw)
        t = self.traffic
        others = [(x, y, 0.0) for x, y in zip(t.x, t.y)] + [(x, y, 0.0) for x, y in t.parked]
        near = [p for p in others if abs(p[0] - pose[0]) < 6 and abs(p[1] - pose[1]) < 6]
        return any(boxes_overlap(pose, p, CAR_HALF) for p in near)

    def off_road(self) -> bool:
        return abs(self.ego.y) > ROAD_EDGE or self.ego.x > X_MAX

    def _environment_state(self) -> np.ndarray:
        t = self.traffic
        rel = np.stack([t.x - self.ego.x, t.y - self.ego.y, t.velocity_x], axis=1)      # (N, 3)
        nearest = rel[np.argsort(np.hypot(rel[:, 0], rel[:, 1]), kind="stable")[:N_NEAREST]]
        to_goal = self.start_x + self.goal_distance - self.ego.x
        return np.concatenate([nearest.ravel(), [self.lane_offset(), to_goal]]).astype(np.float32)

    def _observation(self) -> dict:
        return {"pixels": self._pixels(), "agent_pos": self.ego.as_array(),
                "environment_state": self._environment_state()}

    def _info(self, crashed: bool) -> dict:
        success = bool(not crashed and self.ego.x - self.start_x >= self.goal_distance)
        return {"is_success": success}

    def close(self):
        self.render_source.close()
