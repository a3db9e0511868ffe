"""How well the world model's judges score the simulator's own steps (perception error alone).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_judges.py [--checkpoint WM] [--episodes 10]
        [--json benchmarks/results/judges.json]

Rolls the quick policy zoo out in the simulator the world model imitates (no world-model
dynamics involved) and, at every step, asks both judges of the world model to label it:
``learned`` reads the frame, state and action of step t (as trained); ``state`` applies the task's
rule to the state head's reading of the simulator's frame after the step. Both are compared with
the simulator's ``is_success`` and reward: accuracy, precision, recall, F1 and reward MAE.
"""

from __future__ import annotations

import argparse
import json
import platform

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from envs.world_model.session import load_for_env, simulator_of
from evaluation.zoo import zoo_policies
from policies.factory import make_policy
from posttrain.action.judge_metrics import binary_metrics, reward_mae


def label_episode(sim, wm, policy, seed: int, rule) -> dict[str, list]:
    """Per step: the simulator's success/reward and both judges' labels."""
    obs, _ = sim.reset(seed=seed)
    policy.reset(1, seed)
    out = {k: [] for k in ("success", "reward", "learned_success", "learned_reward", "state_success", "state_reward")}
    done = False
    while not done:
        action = np.clip(policy.act(batch(obs))[0], sim.action_space.low, sim.action_space.high).astype(np.float32)
        latent = encode(wm, obs)
        state = torch.from_numpy(np.concatenate([obs["agent_pos"], obs["environment_state"]])[None].astype(np.float32))
        logit, reward = wm.judges(latent, state, torch.from_numpy(action[None]))
        obs, r, terminated, truncated, info = sim.step(action)
        agent, env_state = wm.dynamics.state_head(encode(wm, obs))
        rule_reward, rule_success = rule(agent.numpy(), env_state.numpy())
        for key, value in (("success", info["is_success"]), ("reward", r), ("learned_success", bool(wm.judges.success(logit)[0])),
                           ("learned_reward", float(reward[0])), ("state_success", bool(rule_success[0])),
                           ("state_reward", float(rule_reward[0]))):
            out[key].append(value)
        done = terminated or truncated
    return out


def batch(obs: dict) -> dict:
    return {"pixels": {c: f[None] for c, f in obs["pixels"].items()}, "agent_pos": obs["agent_pos"][None],
            "environment_state": obs["environment_state"][None]}


def encode(wm, obs) -> torch.Tensor:
    return wm.encode({c: f[None] for c, f in obs["pixels"].items()})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None, help="world-model folder (default: the shipped one)")
    p.add_argument("--episodes", type=int, default=10, help="episodes per policy of the quick zoo")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    from envs.rules import state_rule

    env_id, kwargs = simulator_of(args.checkpoint)
    wm = load_for_env(args.checkpoint, judge="learned")
    rule = state_rule(env_id, kwargs)
    sim = gym.make(env_id, **kwargs)
    labels = {k: [] for k in ("success", "reward", "learned_success", "learned_reward", "state_success", "state_reward")}
    for spec in zoo_policies("quick", env_id):
        policy = make_policy(spec, env_id, sim.action_space, kwargs)
        for k in range(args.episodes):
            for key, values in label_episode(sim, wm, policy, 5000 + k, rule).items():
                labels[key].extend(values)
    result = {"env": env_id, "checkpoint": args.checkpoint or "default", "steps": len(labels["success"]),
              "episodes_per_policy": args.episodes, "machine": platform.machine()}
    for judge in ("learned", "state"):
        result[judge] = {**binary_metrics(labels[f"{judge}_success"], labels["success"]),
                         "reward_mae": reward_mae(labels[f"{judge}_reward"], labels["reward"])}
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
