"""worldsim/MetaWorld-v0: Meta-World manipulation tasks under worldsim's observation contract.

    import gymnasium as gym, envs
    env = gym.make("worldsim/MetaWorld-v0", task="push-v3", cameras=("corner2", "corner4"))
    obs, info = env.reset(seed=0)

Meta-World's own env class simulates; this module only seeds it, renders it through
``MujocoRenderSource`` and splits its 39-d state vector into ``agent_pos`` and
``environment_state``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.arguments import named_arguments
from envs.camera_rendering import CameraRendering
from envs.contract import check_cameras, image_hw, observation_space, validate_action
from envs.render.gl import mujoco
from envs.metaworld_state import SIM_STATE, sim_state
from envs.render.mujoco_source import MujocoRenderSource

# after envs.render.gl, so that MUJOCO_GL is set before metaworld imports mujoco
from metaworld.env_dict import ALL_V3_ENVIRONMENTS  # noqa: E402

TASKS = {
    "push-v3": "push the puck to the goal",
    "reach-v3": "move the gripper to the goal",
    "drawer-open-v3": "open the drawer",
    "button-press-v3": "press the button",
}
CAMERAS = ("corner", "corner2", "corner3", "corner4", "topview", "behindGripper", "gripperPOV")

AGENT_SLICE = slice(0, 4)  # hand xyz, gripper opening in [0, 1]
OBJECTS_SLICE = slice(4, 18)  # up to two objects: (xyz, quaternion) each, zero padded
GOAL_SLICE = slice(36, 39)
ENV_STATE_DIM = 17
ROLL_180 = np.array([0.0, 0.0, 0.0, 1.0])  # quaternion (w, x, y, z): half turn about the view axis


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown Meta-World task {task!r}; allowed: {', '.join(TASKS)}")
    return task


def roll_upside_down_cameras(model: mujoco.MjModel, data: mujoco.MjData) -> list[str]:
    """Turn every fixed camera whose image 'up' points below the horizon half a turn about its
    view axis, so it renders upright. Meta-World's corner cameras were written for mujoco-py,
    which read images bottom-up; MuJoCo's renderer shows them upside down. Rolling the camera
    (rather than flipping pixels) keeps depth, segmentation and camera poses consistent.
    Returns the names of the cameras it turned."""
    mujoco.mj_forward(model, data)
    turned = []
    for cam in range(model.ncam):
        up_z = data.cam_xmat[cam].reshape(3, 3)[2, 1]  # world z of the camera's +y (image up)
        if model.cam_bodyid[cam] == 0 and up_z < 0:
            mujoco.mju_mulQuat(model.cam_quat[cam], model.cam_quat[cam].copy(), ROLL_180)
            turned.append(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_CAMERA, cam))
    mujoco.mj_forward(model, data)
    return turned


@named_arguments
class MetaWorldEnv(CameraRendering, gym.Env):
    """
    ## Description
    A Sawyer arm on a table performs one Meta-World v3 task (``push-v3``, ``reach-v3``,
    ``drawer-open-v3`` or ``button-press-v3``). Simulation, rewards and success are Meta-World's
    own (metaworld 3.x, goal observable); this env seeds the layout from ``reset(seed=...)``,
    renders its cameras upright and exposes worldsim's observation contract.

    ## Action Space
    Meta-World's ``Box(-1, 1, (4,), float32)``: (dx, dy, dz) moves the hand's mocap target by up
    to 1 cm per step along each axis, and the last entry is the gripper effort (-1 open, +1
    close). Each step lasts 12.5 ms (5 physics steps of 2.5 ms).

    ## Observation Space
    ``Dict(pixels=Dict({camera: Box(0, 255, (H, W, 3), uint8)}), agent_pos=Box(4,),
    environment_state=Box(17,))``. ``agent_pos`` is the hand's (x, y, z) in metres and the
    gripper opening in [0, 1]; ``environment_state`` is Meta-World's object block (up to two
    objects, each position xyz and an orientation quaternion, zero padded to 14) followed by
    the goal's (x, y, z): entries 4:18 and 36:39 of Meta-World's 39-d observation. The object
    depends on the task (the puck for push and reach, the drawer handle, the button) and so
    does the quaternion's order (xyzw for the puck, wxyz for drawer and button).

    ## Rewards
    Meta-World's v2 dense reward for the task, in [0, 10] (10 on success for most tasks).

    ## Starting State
    The object and goal positions are drawn uniformly from the task's Meta-World reset range
    (``_random_reset_space``, with Meta-World's own rejection rules) by a generator seeded from
    the reset seed; the same seed gives the same layout and the same frames. The hand starts
    at the task's fixed ``hand_init_pos``.

    ## Episode End
    Success is Meta-World's ``info["success"]`` (e.g. puck within 5 cm of the goal for push,
    drawer handle within 3 cm of the open position). The episode terminates on success if
    ``terminate_on_success``. Truncation after 150 steps (``max_episode_steps`` of the
    registration), or at Meta-World's own horizon of 500 steps, whichever comes first.

    ## Arguments
    ``task`` (one of ``TASKS``; default ``"push-v3"``), ``cameras`` (subset of ``CAMERAS``;
    default ``("corner2", "corner4")``: ``corner4`` is the closer view that LeRobot's
    Meta-World env calls ``corner2``), ``image_size`` (int or (H, W); default 64),
    ``terminate_on_success`` (default True), ``shadows`` (default False: Meta-World's shadow
    pass is barely visible at 64 px and makes software (llvmpipe) rendering about 3x slower),
    ``render_mode`` (``"rgb_array"``: ``render()`` returns the first camera's frame). Reset
    option ``render`` (default True): False renders no camera that episode and its ``pixels``
    are all-zero frames of the same space (``envs.camera_rendering``).

    ## Version History
    * v0: initial version (metaworld 3.1, v3 tasks, corner cameras rolled upright); the
      ``render`` reset option was added later and changes nothing for a caller who does not pass it.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 80}
    sim_state_names = SIM_STATE   # sim_state(): the physical state, named (envs.metaworld_state)

    def __init__(self, task: str = "push-v3", cameras=("corner2", "corner4"), image_size=64,
                 terminate_on_success=True, shadows=False, render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        self.metaworld_task = check_task(task)
        self.task = TASKS[task]
        self.cameras = check_cameras(cameras, CAMERAS)
        self.height, self.width = image_hw(image_size)
        self.render_mode = render_mode
        self.terminate_on_success = bool(terminate_on_success)
        self._mw = self._make_metaworld(task, max(self.height, 480), max(self.width, 480))
        self.model, self.data = self._mw.model, self._mw.data
        self.rolled_cameras = roll_upside_down_cameras(self.model, self.data)
        if not shadows:
            self.model.light_castshadow[:] = 0
        self.render_source = MujocoRenderSource(self.model, self.data, self.cameras, self.height, self.width)
        mw_space = self._mw.action_space
        self.action_space = gym.spaces.Box(mw_space.low, mw_space.high, mw_space.shape, np.float32)
        self.observation_space = observation_space(self.cameras, self.height, self.width, 4, ENV_STATE_DIM)
        self._last_rgb: dict[str, np.ndarray] | None = None

    @staticmethod
    def _make_metaworld(task: str, height: int, width: int):
        """Meta-World's env for ``task``, goal observable, sampling its layout from ``np_random``."""
        env = ALL_V3_ENVIRONMENTS[task](render_mode=None, height=height, width=width)
        env._partially_observable = False
        del env.sawyer_observation_space  # cached for the goal-hidden default; rebuilt on use
        env._set_task_called = True
        env.seeded_rand_vec = True
        return env

    # -- gym API ------------------------------------------------------------------------------
    def _sample_layout(self) -> np.ndarray:
        """Meta-World's task vector (object and goal placement) for this reset, drawn the way
        its benchmarks draw tasks (an unfrozen reset, rejection rules included) but from a
        generator seeded by ``self.np_random``; then frozen, as ``set_task`` would."""
        mw = self._mw
        mw.np_random = np.random.default_rng(int(self.np_random.integers(2**63)))
        mw._freeze_rand_vec = False
        mw.reset_model()
        mw._freeze_rand_vec = True
        return mw._last_rand_vec

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._episode_rendering(options)
        self._sample_layout()
        mw_obs, _ = self._mw.reset()
        _, mw_info = self._mw.evaluate_state(mw_obs, np.zeros(4, np.float32))
        return self._observation(mw_obs), self._info(mw_info)

    def step(self, action):
        a = validate_action(action, self.action_space)
        mw_obs, reward, _, truncated, mw_info = self._mw.step(a)
        obs, info = self._observation(mw_obs), self._info(mw_info)
        terminated = bool(info["is_success"] and self.terminate_on_success)
        return obs, float(reward), terminated, bool(truncated), info

    def _observation(self, mw_obs: np.ndarray) -> dict:
        env_state = np.concatenate([mw_obs[OBJECTS_SLICE], mw_obs[GOAL_SLICE]])
        return {
            "pixels": self._pixels(),
            "agent_pos": mw_obs[AGENT_SLICE].astype(np.float32),
            "environment_state": env_state.astype(np.float32),
        }

    def sim_state(self) -> np.ndarray:
        """The whole physical state, float32 (44,) named by ``sim_state_names``
        (``envs.metaworld_state.SIM_STATE``: hand, its velocity, the mocap target the actions move,
        fingers, object pose and velocity, goal, arm joints); datasets record it as
        ``observation.sim_state`` (``worldsim generate ... sim_state=true``) for dynamics models."""
        return sim_state(self._mw, self.metaworld_task)

    @staticmethod
    def _info(mw_info: dict) -> dict:
        return {"is_success": bool(mw_info["success"])}

    def close(self):
        self.render_source.close()
        self._mw.close()
