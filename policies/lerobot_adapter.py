"""A real lerobot ``PreTrainedPolicy`` (with its pre/post processors) as a batched worldsim ``Policy``.

    from policies.lerobot_adapter import LeRobotPolicy, load_lerobot_policy
    policy = LeRobotPolicy(lerobot_policy, preprocessor, postprocessor, env.action_space, task=env.task)
    policy = load_lerobot_policy("outputs/train/act_push/checkpoints/last/pretrained_model", env.action_space)
    policy.reset(num_envs=4, seed=0)
    actions = policy.act(obs_batch)      # float32 (N, action_dim), clipped to the action space

Each step does what ``lerobot-eval``'s rollout does: the observation is mapped as lerobot's
``preprocess_observation`` maps it (``pixels[cam]`` uint8 (N, H, W, 3) -> ``observation.images.<cam>``
float (N, 3, H, W) in [0, 1], ``agent_pos`` -> ``observation.state``, ``environment_state`` ->
``observation.environment_state``), the task string is added, then ``preprocessor``,
``select_action`` under ``inference_mode``, ``postprocessor``. Needs ``pip install '.[lerobot]'``.

lerobot policies keep one action queue for the whole batch: ``reset`` (a new batch of episodes)
calls the policy's ``reset()``, and so does ``reset_envs`` when any env restarts (every env then
replans at its next step). ``reset(seed=...)`` seeds torch's global generator, as lerobot-eval does.
"""

from __future__ import annotations

import numpy as np

from policies.base import clip_to_space

PREFIX = "lerobot:"
OBS_IMAGES, OBS_STATE, OBS_ENV_STATE = "observation.images", "observation.state", "observation.environment_state"


def lerobot_batch(obs: dict, task: str | None = None, device="cpu") -> dict:
    """A batched worldsim observation in lerobot's keys and layout (``preprocess_observation``'s mapping)."""
    import torch

    batch = {}
    for cam, img in obs.get("pixels", {}).items():
        img = torch.as_tensor(np.asarray(img))
        if img.dtype != torch.uint8 or img.ndim != 4 or img.shape[-1] != 3:
            raise ValueError(f"pixels[{cam!r}] must be uint8 (N, H, W, 3), got {img.dtype} {tuple(img.shape)}")
        batch[f"{OBS_IMAGES}.{cam}"] = img.permute(0, 3, 1, 2).contiguous().float().div(255).to(device)  # (N, 3, H, W)
    for key, name in (("environment_state", OBS_ENV_STATE), ("agent_pos", OBS_STATE)):
        if key in obs:
            value = torch.as_tensor(np.asarray(obs[key])).float()
            batch[name] = (value[None] if value.ndim == 1 else value).to(device)  # (N, D)
    if task is not None:
        n = next(iter(batch.values())).shape[0]
        batch["task"] = [task] * n
    return batch


class LeRobotPolicy:
    reads_pixels = True   # every camera of the observation goes into the batch

    def __init__(self, policy, preprocessor, postprocessor, action_space, task: str | None = "", device=None):
        self.policy, self.preprocessor, self.postprocessor = policy, preprocessor, postprocessor
        self.action_space, self.task = action_space, task
        self.device = device if device is not None else _policy_device(policy)
        self.num_envs = 0
        self.policy.eval()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        import torch

        if seed is not None:
            torch.manual_seed(seed)
        self.num_envs = num_envs
        self.policy.reset()

    def reset_envs(self, mask) -> None:
        if np.any(mask):
            self.policy.reset()

    def act(self, obs: dict) -> np.ndarray:
        import torch

        batch = self.preprocessor(lerobot_batch(obs, self.task, self.device))
        with torch.inference_mode():
            action = self.policy.select_action(batch)
        action = self.postprocessor(action)
        action = action.to("cpu").float().numpy()  # (N, A)
        if action.ndim != 2 or action.shape[1:] != self.action_space.shape:
            raise ValueError(f"lerobot policy returned actions of shape {action.shape}; the env's action "
                             f"space is {self.action_space.shape}")
        return clip_to_space(action, self.action_space)


def _policy_device(policy):
    try:
        return next(policy.parameters()).device
    except StopIteration:
        return "cpu"


def load_lerobot_policy(path: str, action_space, task: str | None = "", device: str | None = None) -> LeRobotPolicy:
    """A policy saved by lerobot (``save_pretrained`` of the policy and of both processors) in ``path``."""
    from worldsim.optional import require

    require("lerobot")
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    cfg = PreTrainedConfig.from_pretrained(path)
    if device is not None:
        cfg.device = device
    policy = get_policy_class(cfg.type).from_pretrained(path, config=cfg)
    pre, post = make_pre_post_processors(cfg, pretrained_path=path)
    return LeRobotPolicy(policy, pre, post, action_space, task=task)


def is_lerobot_spec(text) -> bool:
    return str(text).strip().startswith(PREFIX)


def make_lerobot_policy(text: str, action_space, task: str | None = ""):
    """The policy of a ``lerobot:PATH[+degradation...]`` spec."""
    from policies.spec import parse_spec
    from policies.wrappers import WRAPPERS

    path, sep, rest = str(text).strip()[len(PREFIX):].partition("+")
    degradations = parse_spec("expert" + sep + rest).degradations
    policy = load_lerobot_policy(path, action_space, task=task)
    for name, strength in degradations:
        policy = WRAPPERS[name](policy, strength)
    return policy
