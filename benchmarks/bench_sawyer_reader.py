"""The Sawyer state reader in closed loop: Meta-World policies acting on positions read from the cameras.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sawyer_reader.py --reader runs/mw_reader \
        --task push-v3 --episodes 20 [--policies expert,expert+noise:0.5] [--json OUT]

For each policy and seed, one episode in the simulator with the true state and one where the
hand's and the object's positions in the observation are replaced by the reader's reading of
that step's frames (gripper opening and goal stay true: the world model carries them). The gap
between the two success rates is perception error alone. Also the reading error along the way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from policies.base import stack_obs
from policies.factory import make_policy
from posttrain.sawyer.reader import SawyerReader, SawyerReaderConfig
from worldsim.io.tensors import read_tensors

ENV = "worldsim/MetaWorld-v0"


def load_reader(folder: str) -> tuple[SawyerReader, list[str]]:
    config = json.loads((Path(folder) / "config.json").read_text())
    reader = SawyerReader(SawyerReaderConfig(**config["reader"]))
    reader.load_state_dict(read_tensors(Path(folder) / "model.safetensors"))
    return reader.eval(), config["cameras"]


@torch.no_grad()
def perceived(obs: dict, reader: SawyerReader, cameras: list[str]) -> tuple[dict, np.ndarray]:
    views = np.stack([obs["pixels"][c] for c in cameras])                           # (V, H, W, 3)
    frames = torch.from_numpy(views).permute(0, 3, 1, 2)[None].float() / 127.5 - 1
    xyz = reader(frames)[0].numpy()
    agent, env = obs["agent_pos"].copy(), obs["environment_state"].copy()
    truth = np.concatenate([agent[:3], env[:3]])
    agent[:3], env[:3] = xyz[:3], xyz[3:]
    return {**obs, "agent_pos": agent, "environment_state": env}, np.abs(xyz - truth)


def episode(env, policy, seed: int, reader=None, cameras=None) -> tuple[bool, list]:
    obs, _ = env.reset(seed=seed, options={"render": reader is not None})
    policy.reset(1, seed)
    errors, success = [], False
    for _ in range(env.spec.max_episode_steps):
        if reader is not None:
            obs, err = perceived(obs, reader, cameras)
            errors.append(err)
        obs, _, terminated, truncated, info = env.step(policy.act(stack_obs([obs]))[0])
        success = success or bool(info["is_success"])
        if terminated or truncated:
            break
    return success, errors


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reader", required=True)
    p.add_argument("--task", default="push-v3")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--policies", default="expert,expert+noise:0.3,expert+eps:0.3,expert+noise:0.5,random")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    reader, cameras = load_reader(args.reader)
    env = gym.make(ENV, task=args.task, cameras=tuple(cameras), image_size=64)
    rows = {}
    for spec in args.policies.split(","):
        policy = make_policy(spec, ENV, env.action_space, {"task": args.task})
        true = [episode(env, policy, args.seed + k)[0] for k in range(args.episodes)]
        runs = [episode(env, policy, args.seed + k, reader, cameras) for k in range(args.episodes)]
        err = np.concatenate([np.asarray(e) for _, e in runs]) * 100   # cm, per axis
        rows[spec] = {"true_state": float(np.mean(true)), "read_state": float(np.mean([s for s, _ in runs])),
                      "hand_cm": float(np.linalg.norm(err[:, :3], axis=1).mean()),
                      "object_cm": float(np.linalg.norm(err[:, 3:], axis=1).mean())}
        print(spec, rows[spec], flush=True)
    env.close()
    if args.json:
        Path(args.json).write_text(json.dumps({"task": args.task, "episodes": args.episodes, "policies": rows}, indent=1))


if __name__ == "__main__":
    main()
