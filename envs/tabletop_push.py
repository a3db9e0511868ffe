"""worldsim/TabletopPush-v0: push a block into a goal region on a table (our own MuJoCo scene).

    import gymnasium as gym, envs
    env = gym.make("worldsim/TabletopPush-v0", cameras=("top", "front"), image_size=64)
    obs, info = env.reset(seed=0)
    obs, info = env.reset(seed=1, options={"render": False})   # physics only: pixels are zeros
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from assets import asset_path
from envs.arguments import named_arguments
from envs.camera_rendering import CameraRendering
from envs.contract import check_cameras, image_hw, observation_space, validate_action
from envs.random_looks import RandomLooks
from envs.render.gl import mujoco
from envs.render.mujoco_source import MujocoRenderSource

CAMERAS = ("top", "front", "side")
# the physical state ``sim_state()`` returns (metres, radians, m/s, rad/s): positions, block yaw, velocities
SIM_STATE = ("pusher_x", "pusher_y", "block_x", "block_y", "block_yaw",
             "pusher_vx", "pusher_vy", "block_vx", "block_vy", "block_wz")
TASK = "push the red block into the green goal region"
GOAL_RADIUS = 0.05


def state_outcome(agent_pos, environment_state) -> tuple[np.ndarray, np.ndarray]:
    """The task's reward and success from state, batched: agent_pos (N, 2) pusher (x, y),
    environment_state (N, 4) block (x, y) + goal (x, y) -> reward (N,) float64, success (N,) bool.

    The simulator scores every step with this; a world model applies it to its predicted state."""
    agent = np.asarray(agent_pos, np.float64).reshape(-1, 2)
    env = np.asarray(environment_state, np.float64).reshape(-1, 4)
    d_pb = np.linalg.norm(agent - env[:, :2], axis=1)
    d_bg = np.linalg.norm(env[:, :2] - env[:, 2:], axis=1)
    success = d_bg < GOAL_RADIUS
    dense = 0.2 * (1 - np.tanh(10 * d_pb)) + 0.8 * (1 - np.tanh(10 * d_bg))
    return np.where(success, 1.0, dense), success


@named_arguments
class TabletopPushEnv(RandomLooks, CameraRendering, gym.Env):
    """
    ## Description
    A blue cylindrical pusher moves in the plane of a textured table; it must push a red block
    into a green goal disk. The scene is ``assets/mjcf/tabletop_push.xml``; it is small enough
    that a world model can learn it on a CPU.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: the pusher's commanded (x, y) velocity as a fraction of
    0.5 m/s. Each step lasts 0.1 s (50 physics steps of 2 ms).

    ## Observation Space
    ``Dict(pixels=Dict({camera: Box(0, 255, (H, W, 3), uint8)}), agent_pos=Box(2,),
    environment_state=Box(4,))``. ``agent_pos`` is the pusher's (x, y); ``environment_state``
    is the block's (x, y) followed by the goal's (x, y), all in metres in the table frame.
    An episode reset with ``options={"render": False}`` renders no camera: its ``pixels`` are
    all-zero frames of the same space, everything else is exactly what a rendering episode
    gives (``envs.camera_rendering``). ``sim_state()`` returns the whole physical state
    (``SIM_STATE``: positions, the block's yaw, velocities), which datasets may record as
    ``observation.sim_state`` (``worldsim generate ... sim_state=true``) for dynamics models.

    ## Rewards
    Dense, in [0, 1]: ``0.2 * (1 - tanh(10 d(pusher, block))) + 0.8 * (1 - tanh(10 d(block,
    goal)))``, and exactly 1 on success.

    ## Starting State
    Pusher, block and goal are drawn uniformly on the table from the reset seed, with the block
    at least 0.12 m from the goal and 0.08 m from the pusher.

    ## Episode End
    Success: the block's centre within ``goal_radius`` (0.05 m) of the goal's centre; the
    episode terminates on success if ``terminate_on_success``. Truncation after 100 steps
    (``max_episode_steps`` of the registration).

    ## Arguments
    ``cameras`` (subset of ``top``, ``front``, ``side``; default ``("top", "front")``),
    ``image_size`` (int or (H, W); default 64), ``terminate_on_success`` (default True),
    ``render_mode`` (``"rgb_array"``: ``render()`` returns the first camera's frame), ``looks``
    (None, the default: the scene as modelled; a seed: every episode rendered in a random look
    drawn from that seed and the reset seed: materials, lights, a small camera offset, sensor
    noise; ``envs.random_looks``). Reset option ``render`` (default True): False skips rendering
    for that episode.

    ## Version History
    * v0: initial version; the ``render`` reset option and the ``looks`` argument were added
      later and change nothing for a caller who does not pass them.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    task = TASK
    sim_state_names = SIM_STATE
    control_dt = 0.1
    goal_radius = GOAL_RADIUS
    max_speed = 0.5

    def __init__(self, cameras=("top", "front"), image_size=64, terminate_on_success=True,
                 render_mode: str | None = "rgb_array", looks: int | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        self.cameras = check_cameras(cameras, CAMERAS)
        self.height, self.width = image_hw(image_size)
        self.render_mode = render_mode
        self.terminate_on_success = bool(terminate_on_success)
        self._init_looks(looks)
        self.model = mujoco.MjModel.from_xml_path(str(asset_path("mjcf/tabletop_push.xml")))
        self.data = mujoco.MjData(self.model)
        self.n_substeps = round(self.control_dt / self.model.opt.timestep)
        self.render_source = MujocoRenderSource(self.model, self.data, self.cameras, self.height, self.width)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = observation_space(self.cameras, self.height, self.width, 2, 4)
        self._qadr = {n: self.model.joint(n).qposadr[0] for n in
                      ("pusher_x", "pusher_y", "block_x", "block_y", "block_yaw")}
        self._goal_body = self.model.body("goal").id
        self._last_rgb: dict[str, np.ndarray] | None = None

    # -- state --------------------------------------------------------------------------------
    def _pusher(self) -> np.ndarray:
        return self.data.body("pusher").xpos[:2].astype(np.float32)

    def _block(self) -> np.ndarray:
        return self.data.body("block").xpos[:2].astype(np.float32)

    def _goal(self) -> np.ndarray:
        return self.model.body_pos[self._goal_body, :2].astype(np.float32)

    def sim_state(self) -> np.ndarray:
        """The whole physical state, float32 (10,) named by ``SIM_STATE``: what the observation
        leaves out (the block's yaw, every velocity) is what a learned dynamics model needs to be Markov."""
        joints = ("pusher_x", "pusher_y", "block_x", "block_y")
        vel = [self.data.qvel[self.model.joint(n).dofadr[0]] for n in joints + ("block_yaw",)]
        yaw = self.data.qpos[self._qadr["block_yaw"]]
        return np.array([*self._pusher(), *self._block(), yaw, *vel], np.float32)

    def _sample_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = self.np_random
        goal = rng.uniform(-0.2, 0.2, 2)
        block = rng.uniform(-0.17, 0.17, 2)
        while np.linalg.norm(block - goal) < 0.12:
            block = rng.uniform(-0.17, 0.17, 2)
        pusher = rng.uniform(-0.25, 0.25, 2)
        while np.linalg.norm(pusher - block) < 0.08:
            pusher = rng.uniform(-0.25, 0.25, 2)
        return pusher, block, goal

    # -- gym API ------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._episode_rendering(options)
        self._episode_look(seed)
        pusher, block, goal = self._sample_layout()
        mujoco.mj_resetData(self.model, self.data)
        pusher0 = self.model.body("pusher").pos[:2]
        block0 = self.model.body("block").pos[:2]
        q = self.data.qpos
        q[self._qadr["pusher_x"]], q[self._qadr["pusher_y"]] = pusher - pusher0
        q[self._qadr["block_x"]], q[self._qadr["block_y"]] = block - block0
        q[self._qadr["block_yaw"]] = self.np_random.uniform(-np.pi / 4, np.pi / 4)
        self.model.body_pos[self._goal_body, :2] = goal
        mujoco.mj_forward(self.model, self.data)
        return self._observation(), self._info()

    def step(self, action):
        a = validate_action(action, self.action_space)
        self.data.ctrl[:] = a * self.max_speed
        mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)
        obs = self._observation()
        reward, success = state_outcome(obs["agent_pos"], obs["environment_state"])
        terminated = bool(success[0] and self.terminate_on_success)
        return obs, float(reward[0]), terminated, False, {"is_success": bool(success[0])}

    def _observation(self) -> dict:
        return {
            "pixels": self._pixels(),
            "agent_pos": self._pusher(),
            "environment_state": np.concatenate([self._block(), self._goal()]),
        }

    def _info(self) -> dict:
        return {"is_success": bool(state_outcome(self._pusher(), np.concatenate([self._block(), self._goal()]))[1][0])}

    def close(self):
        self.render_source.close()
