"""Training data for sim-to-real transfer: TabletopPush episodes rendered in many random looks.

Each layout (a policy episode) is written ``looks`` times, each look an episode of its own with
the same actions and states: ``observation.images.<cam>`` is the randomised look (materials,
lights, a small camera offset, sensor noise; worldsim/looks/randomize.py), and the same
(offset) camera's canonical render rides along as ``observation.canonical.<cam>`` (video; edges and
blur are computed from it, as they would be from a plain render at augment time) with
``observation.depth.<cam>`` and ``observation.segmentation.<cam>``; ``observation.look`` is the
look's parameters as one vector (worldsim/looks/vector.py), the same on every frame of
the episode. The env's physics is untouched.

    python -m posttrain.transfer.data --out runs/transfer_data episodes=32 looks=3 max_steps=40
    write_randomized_dataset(RandomizedDataConfig(out="runs/transfer_data", episodes=4))

It rolls out policies in the simulator, so it sits with ``worldsim generate`` in the command layer
(docs/design.md); ``python -m posttrain.transfer.data`` runs its ``main``.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from worldsim.generation.features import HWC
from worldsim.looks.randomize import RandomizeConfig, SceneLooks, add_sensor_noise, applied, sample_look
from worldsim.looks.vector import LookSpace

ENV_ID = "worldsim/TabletopPush-v0"


@dataclass
class RandomizedDataConfig:
    out: str = "runs/transfer_data"
    episodes: int = 32          # layouts (policy episodes)
    looks: int = 3              # random looks per layout: the dataset holds episodes * looks
    seed: int = 0
    camera: str = "top"
    image_size: int = 64
    max_steps: int = 40
    policy: str = "expert,expert+noise:0.5,random"
    randomize: RandomizeConfig = field(default_factory=RandomizeConfig)

    def check(self) -> None:
        for name in ("episodes", "looks", "max_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}; need at least 1")


def features(cam: str, size: int, look_dim: int) -> dict[str, dict]:
    vec = lambda n: {"dtype": "float32", "shape": (n,), "names": None}  # noqa: E731
    flag = {"dtype": "bool", "shape": (1,), "names": None}
    return {f"observation.images.{cam}": {"dtype": "video", "shape": (size, size, 3), "names": HWC},
            f"observation.canonical.{cam}": {"dtype": "video", "shape": (size, size, 3), "names": HWC},
            f"observation.depth.{cam}": {"dtype": "float32", "shape": (size, size, 1), "names": HWC},
            f"observation.segmentation.{cam}": {"dtype": "uint8", "shape": (size, size, 1), "names": HWC},
            "observation.look": vec(look_dim),
            "observation.state": vec(2), "observation.environment_state": vec(4), "action": vec(2),
            "next.reward": {"dtype": "float32", "shape": (1,), "names": None}, "next.done": flag, "next.success": flag}


def render_looks(env, looks, cam: str, rng) -> list[dict[str, np.ndarray]]:
    """One frame per look: randomised RGB, and canonical RGB / depth / segmentation from its camera."""
    out = []
    for look in looks:
        with applied(env.model, env.data, look, cam, appearance=False):
            frame = env.render_source.render(("rgb", "depth", "segmentation"))[cam]
        with applied(env.model, env.data, look, cam):
            rgb = env.render_source.render_rgb()[cam]
        out.append({f"observation.images.{cam}": add_sensor_noise(rgb, look, rng),
                    f"observation.canonical.{cam}": frame.rgb,
                    f"observation.depth.{cam}": frame.depth[..., None],
                    f"observation.segmentation.{cam}": frame.segmentation[..., None].astype(np.uint8)})
    return out


def record_layout(env, policy, seed: int, cfg: RandomizedDataConfig) -> list[dict[str, np.ndarray]]:
    """``cfg.looks`` episodes of one policy rollout, identical but for the frames."""
    from policies.base import stack_obs

    rng = np.random.default_rng([cfg.seed, seed])
    looks = [sample_look(env.model, rng, cfg.randomize) for _ in range(cfg.looks)]
    obs, _ = env.reset(seed=seed)
    policy.reset(1, seed)
    steps = []
    for t in range(cfg.max_steps):
        frames = render_looks(env, looks, cfg.camera, rng)
        action = np.asarray(policy.act(stack_obs([obs]))[0], np.float32)
        state = {"observation.state": obs["agent_pos"], "observation.environment_state": obs["environment_state"]}
        obs, reward, terminated, _, info = env.step(action)
        done = bool(terminated) or t == cfg.max_steps - 1
        steps.append((frames, {**state, "action": action, "next.reward": np.float32(reward), "next.done": done,
                               "next.success": bool(info["is_success"])}))
        if done:
            break
    shared = {k: np.stack([s[1][k] for s in steps]) for k in steps[0][1]}
    space = LookSpace.of(env.model)
    vectors = [np.repeat(space.vector(look)[None], len(steps), axis=0) for look in looks]
    return [{**shared, "observation.look": vectors[i],
             **{k: np.stack([s[0][i][k] for s in steps]) for k in steps[0][0][i]}} for i in range(cfg.looks)]


def write_randomized_dataset(cfg: RandomizedDataConfig) -> Path:
    """Write (or find complete) the randomised-look LeRobotDataset at ``cfg.out``."""
    from envs.tabletop_push import TASK, TabletopPushEnv
    from policies.factory import make_policy
    from policies.spec import parse_mix
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

    cfg.check()
    out = Path(cfg.out)
    if (out / "meta/info.json").is_file():
        return out
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} holds files but no dataset; give a new or empty folder")
    env = TabletopPushEnv(cameras=(cfg.camera,), image_size=cfg.image_size)
    mix = parse_mix(cfg.policy)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    extra = {"worldsim": {"segmentation_labels": {str(k): v for k, v in env.render_source.labels.items()},
                          "randomized_looks": cfg.looks, "layouts": cfg.episodes,
                          "scene_looks": SceneLooks.of(env.model).to_dict()}}
    writer = LeRobotWriter(partial, WriterConfig(fps=10, robot_type="TabletopPush-v0", crf=12, extra_info=extra,
                                                 features=features(cfg.camera, cfg.image_size,
                                                                           LookSpace.of(env.model).dim)))
    for e in tqdm(range(cfg.episodes), desc="randomised layouts", unit="layout", dynamic_ncols=True):
        policy = make_policy(mix[e % len(mix)], ENV_ID, env.action_space)
        for episode in record_layout(env, policy, cfg.seed + e, cfg):
            writer.add_episode(episode, task=TASK)
    writer.finalize()
    env.close()
    out.mkdir(parents=True, exist_ok=True)
    for part in partial.iterdir():
        part.rename(out / part.name)
    partial.rmdir()
    return out


def main(argv=None) -> Path:
    from worldsim.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("overrides", nargs="*", help="key=value RandomizedDataConfig settings")
    args = parser.parse_args(argv)
    path = write_randomized_dataset(load_config(RandomizedDataConfig, None, args.overrides, out=args.out))
    print(f"randomised dataset in {path}")
    return path


if __name__ == "__main__":
    main()
