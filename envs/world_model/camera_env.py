"""worldsim/CameraWorld-v0: walk a camera through a generated TabletopPush scene, from one start image.

    import gymnasium as gym, envs
    env = gym.make("worldsim/CameraWorld-v0")                      # the default model in assets/
    obs, info = env.reset(seed=0)                                  # the simulator's view of layout 0
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())   # a camera motion
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.arguments import named_arguments
from envs.contract import image_hw, observation_space, validate_action
from envs.simulators import world_model_env

ENV_ID = "worldsim/CameraWorld-v0"
CAMERA = "camera"
MODEL_SEED_HIGH = 2**62


@named_arguments
class CameraWorldEnv(gym.Env):
    """
    ## Description
    Navigation inside a generated scene: ``reset`` renders one start image of a TabletopPush
    layout (and, for the default reprojection model, its depth) with the MuJoCo simulator; from
    then on every view is generated. The default model (``posttrain/camera/reprojection.py``)
    reprojects the start image through its depth into the commanded camera and a U-Net completes
    what the reprojection cannot see; a camera-conditioned video DiT (``worldsim posttrain
    camera``, ``checkpoint=assets/world_models/camera_tabletop``) instead generates each view from
    the previous one and the commanded motion (Plücker rays), latents carried. After ``reset``
    the simulator is never stepped, read or queried.

    ## Action Space
    ``Box(-1, 1, (6,), float32)``: a camera motion in the camera's own frame (OpenCV axes: x right,
    y down, z forward): ``a[:3] * max_translation`` metres and the rotation vector
    ``a[3:] * max_rotation`` radians (``posttrain.camera.motion``; the scales of the model's training
    data, 0.08 m and 0.15 rad for the default model). Bad actions raise a ValueError.

    ## Observation Space
    ``Dict(pixels=Dict(camera=Box(0, 255, (H, W, 3), uint8)), agent_pos=Box(6,),
    environment_state=Box(0,))``. ``agent_pos`` is the camera's pose: position (x, y, z) in metres
    in the table frame, then yaw, pitch (negative looking down) and roll in radians. It is the start
    pose composed with the commanded motions (exact dead reckoning: the camera is the agent).

    ## Rewards
    Always 0: there is no task, only looking around.

    ## Starting State
    ``reset(seed=s)``: the TabletopPush-v0 layout of seed ``s`` seen from a random pose on the
    training orbits (0.55-0.85 m from a point within 0.2 m of the table centre, 26-63 degrees above
    the table, looking at it), drawn from ``s`` too; model sampling noise is seeded from ``s``.

    ## Episode End
    Never terminates; truncated after ``max_episode_steps`` (50 in the registration).

    ## Arguments
    ``checkpoint`` (a ``posttrain/camera/reprojection_export.py`` folder, or a ``worldsim posttrain
    camera`` run or checkpoint folder; None: the default model in
    ``assets/world_models/camera_reprojection``, 64x64), ``sample_steps``/``sampler`` (the DiT's
    only: override the checkpoint's), ``image_size`` (optional: must equal the model's),
    ``render_mode`` (``"rgb_array"``).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, sample_steps=None, sampler=None, image_size=None,
                 render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        self.model = load_camera_model(str(checkpoint or default_checkpoint()), sample_steps, sampler)
        self.height, self.width = self.model.height, self.model.width
        if image_size is not None and image_hw(image_size) != (self.height, self.width):
            raise ValueError(f"image_size={image_size!r} but this model generates {self.height}x{self.width} views")
        self.render_mode = render_mode
        self.action_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
        self.observation_space = observation_space((CAMERA,), self.height, self.width, 6, 0)
        self._scene = None
        self.state = None
        self._obs = None

    def _start_scene(self):
        from envs.camera_scene import CameraScene

        if self._scene is None:
            fy = float(self.model.intrinsics[1, 1])
            self._scene = CameraScene(self.height, float(np.degrees(2 * np.arctan(self.height / (2 * fy)))))
        return self._scene

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        from posttrain.camera.motion import OrbitConfig, start_pose

        super().reset(seed=seed)
        scene = self._start_scene()
        scene.reset(int(self.np_random.integers(2**31)) if seed is None else seed)
        pose = start_pose(self.np_random, OrbitConfig())
        seeds = [int(self.np_random.integers(MODEL_SEED_HIGH))]
        if getattr(self.model, "needs_depth", False):
            frame, depth = scene.render_depth(pose)
            self.state = self.model.start({CAMERA: frame[None, None]}, pose[None], {"depth": depth[None]}, seeds)
        else:
            frame = scene.render(pose)
            self.state = self.model.start({CAMERA: frame[None, None]}, pose[None], seeds=seeds)
        self._obs = self._observation(frame, pose)
        return self._obs, {"is_success": False}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = validate_action(action, self.action_space)
        self.state, frames, extras = self.model.step(self.state, a[None])
        self._obs = {"pixels": {CAMERA: np.array(frames[CAMERA][0], np.uint8)}, "agent_pos": extras["agent_pos"][0],
                     "environment_state": extras["environment_state"][0]}
        return self._obs, 0.0, False, False, {"is_success": False}

    @staticmethod
    def _observation(frame: np.ndarray, pose: np.ndarray) -> dict:
        from posttrain.camera.motion import camera_state

        return {"pixels": {CAMERA: np.array(frame, np.uint8)}, "agent_pos": camera_state(pose),
                "environment_state": np.zeros(0, np.float32)}

    def render(self):
        if self.render_mode is None:
            return None
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return self._obs["pixels"][CAMERA]

    def close(self):
        if self._scene is not None:
            self._scene.close()
            self._scene = None


def load_camera_model(path: str, sample_steps=None, sampler=None):
    """The camera model in ``path``, by the architecture its config names: the reprojection model
    (deterministic: no sampler settings) or the camera DiT."""
    from worldsim.io.checkpoints import read_config

    from posttrain.camera.reprojection_config import ARCHITECTURE as REPROJECTION

    if read_config(path).get("architecture") == REPROJECTION:
        if sample_steps is not None or sampler is not None:
            raise ValueError(f"{path} is a reprojection camera model: it samples nothing, so sample_steps="
                             f"{sample_steps!r} / sampler={sampler!r} do not apply; leave them unset")
        from posttrain.camera.reprojection_world_model import ReprojectionCameraWorldModel

        return ReprojectionCameraWorldModel.load(path)
    from posttrain.camera.world_model import CameraWorldModel
    from posttrain.common.runtime import ensure_megatron

    ensure_megatron()
    return CameraWorldModel.load(path, sample_steps=sample_steps, sampler=sampler)


def default_checkpoint():
    from assets import asset_path

    relative = world_model_env(ENV_ID).default_model
    try:
        return asset_path(relative)
    except FileNotFoundError:
        raise ValueError(f"no default camera world model at assets/{relative}; pass checkpoint=") from None
