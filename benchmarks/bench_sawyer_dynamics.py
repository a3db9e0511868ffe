"""Meta-World state dynamics (``posttrain.sawyer``): open-loop error, and the zoo in a dynamics-only closed loop.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_sawyer_dynamics --run runs/mw_push_dyn \
        --data runs/mw_push --task push-v3 --episodes 50 [--zoo default] [--json runs/bench.json]

(1) Open loop: from states of the dataset's held-out episodes (the run's last ``holdout_episodes``,
every 20th step as a start), the dynamics roll forward under the recorded actions; the mean error
of the object's and the hand's position at steps 10, 20 and 40 (centimetres).
(2) Closed loop, the key number: for each policy of the task's zoo (``envs.simulators`` METAWORLD),
``--episodes`` episodes from the simulator's reset state for seeds 5000.., once in the simulator and
once stepping the learned dynamics instead (the policy acts on ``agent_pos`` / ``environment_state``
built from the predicted state; success is the task's rule on it; both end on success or after 150
steps). Prints per-policy success in the simulator and in the dynamics, and Pearson / MMRV across
policies; ``--floor`` adds the simulator on other seeds (the sampling-noise floor of those numbers).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from envs.metaworld_env import MetaWorldEnv
from envs.metaworld_state import HAND, OBJ, observation_from_state, task_rule
from envs.simulators import METAWORLD
from evaluation.metrics import mean_abs_error, mmrv, pearson
from evaluation.zoo import zoo_policies
from policies.base import stack_obs
from policies.factory import make_policy
from posttrain.sawyer.dynamics_train import load_dynamics, load_transitions, split

HORIZONS = (10, 20, 40)
MAX_STEPS = METAWORLD.max_episode_steps
SEED0 = 5000
FLOOR_SEED0 = 9000


def open_loop(model, data, episodes, every: int = 20) -> dict[int, dict[str, float]]:
    """Mean position error (cm) of the object and the hand after h steps of recorded actions."""
    k, hmax = model.cfg.context, max(HORIZONS)
    starts = [(e, t) for e in episodes for t in range(0, int(data.lengths[e]) - hmax, every)]
    if not starts:
        return {}
    ctx, acts, truth = [], [], []
    for e, t in starts:
        base, n = int(data.starts[e]), int(data.lengths[e])
        idx = base + np.clip(np.arange(t - k + 1, t + hmax + 1), 0, n - 1)
        offs = np.arange(t - k + 1, t + hmax)
        ctx.append(data.states[idx[:k]])
        acts.append(data.actions[idx[:-1]] * (offs >= 0)[:, None])
        truth.append(data.states[idx[k:]])
    ctx, acts, truth = (torch.from_numpy(np.stack(a).astype(np.float32)) for a in (ctx, acts, truth))
    ctx_obj = ctx[:, -1, OBJ].numpy().copy()
    preds = []
    with torch.no_grad():
        for j in range(hmax):
            nxt = model(ctx, acts[:, j:j + k])
            preds.append(nxt)
            ctx = torch.cat([ctx[:, 1:], nxt[:, None]], dim=1)
    preds = torch.stack(preds, dim=1).numpy()
    truth = truth.numpy()
    out = {}
    for h in HORIZONS:
        err = lambda sl: float(np.linalg.norm(preds[:, h - 1, sl] - truth[:, h - 1, sl], axis=1).mean() * 100)  # noqa: E731
        moved = np.linalg.norm(truth[:, h - 1, OBJ] - ctx_obj, axis=1)
        out[h] = {"object_cm": err(OBJ), "hand_cm": err(HAND), "starts": len(starts),
                  "object_moved_cm": float(moved.mean() * 100)}
    return out


def sim_episode(env, policy, seed: int) -> bool:
    obs, _ = env.reset(seed=seed, options={"render": False})
    policy.reset(1, seed)
    for _ in range(MAX_STEPS):
        obs, _, terminated, truncated, info = env.step(policy.act(stack_obs([obs]))[0])
        if info["is_success"]:
            return True
        if terminated or truncated:
            break
    return False


def dynamics_episode(env, model, rule, policy, seed: int) -> bool:
    """The same episode start, then the learned dynamics instead of the simulator."""
    env.reset(seed=seed, options={"render": False})
    policy.reset(1, seed)
    k = model.cfg.context
    state = torch.from_numpy(env.sim_state()[None])
    ctx = state[:, None].repeat(1, k, 1)                       # before the first state: repeated, zero actions
    acts = torch.zeros(1, k, model.cfg.action_dim)
    with torch.no_grad():
        for _ in range(MAX_STEPS):
            agent, env_state = observation_from_state(ctx[:, -1].numpy())
            action = policy.act({"agent_pos": agent, "environment_state": env_state})
            acts = torch.cat([acts[:, 1:], torch.from_numpy(np.asarray(action, np.float32))[:, None]], dim=1)
            nxt = model(ctx, acts)
            ctx = torch.cat([ctx[:, 1:], nxt[:, None]], dim=1)
            if rule(*observation_from_state(nxt.numpy()))[1][0]:
                return True
    return False


def closed_loop(model, task: str, zoo: str, episodes: int, floor: bool = False) -> list[dict]:
    env = MetaWorldEnv(task=task, render_mode=None, image_size=16, cameras=("corner2",))
    env_id, kwargs = METAWORLD.env_id, {"task": task}
    rule = task_rule(task)
    rows = []
    for spec in zoo_policies(zoo, env_id):
        policy = make_policy(spec, env_id, env.action_space, kwargs)
        t0 = time.time()
        sim = [sim_episode(env, policy, SEED0 + i) for i in range(episodes)]
        t1 = time.time()
        dyn = [dynamics_episode(env, model, rule, policy, SEED0 + i) for i in range(episodes)]
        row = {"policy": spec, "sim": float(np.mean(sim)), "dynamics": float(np.mean(dyn)),
               "agree": float(np.mean(np.equal(sim, dyn))), "sim_s": t1 - t0, "dyn_s": time.time() - t1}
        if floor:   # the simulator again on other seeds: how far apart two samples of one truth land
            row["sim_resampled"] = float(np.mean([sim_episode(env, policy, FLOOR_SEED0 + i) for i in range(episodes)]))
        print(f"  {spec:24s} sim {row['sim']:.2f}  dynamics {row['dynamics']:.2f}  (per-episode agreement "
              f"{row['agree']:.2f})" + (f"  sim resampled {row['sim_resampled']:.2f}" if floor else ""), flush=True)
        rows.append(row)
    env.close()
    return rows


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a posttrain.sawyer.dynamics_train run folder")
    p.add_argument("--data", default=None, help="its dataset (default: the run's data); held-out episodes for (1)")
    p.add_argument("--task", default="push-v3")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--zoo", default="default")
    p.add_argument("--floor", action="store_true", help="also the simulator on seeds 9000..: the sampling-noise floor")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model, cfg = load_dynamics(args.run)
    data = load_transitions(args.data or cfg.data)
    _, held = split(data, cfg.holdout_episodes)
    print(f"open loop on {len(held)} held-out episodes (mean position error, cm):")
    ol = open_loop(model, data, held)
    for h, row in ol.items():
        print(f"  step {h:3d}: object {row['object_cm']:.2f}  hand {row['hand_cm']:.2f}  "
              f"(object moved {row['object_moved_cm']:.2f} on average; {row['starts']} starts)")
    print(f"closed loop, {args.task}, zoo {args.zoo!r}, {args.episodes} episodes per policy:")
    rows = closed_loop(model, args.task, args.zoo, args.episodes, args.floor)
    sim, dyn = [r["sim"] for r in rows], [r["dynamics"] for r in rows]
    summary = {"pearson": pearson(sim, dyn), "mmrv": mmrv(sim, dyn), "mae": mean_abs_error(sim, dyn)}
    print(f"across {len(rows)} policies: Pearson {summary['pearson']:.3f}  MMRV {summary['mmrv']:.3f}  "
          f"mean |sim - dynamics| {summary['mae']:.3f}")
    if args.floor:
        again = [r["sim_resampled"] for r in rows]
        summary["floor"] = {"pearson": pearson(sim, again), "mmrv": mmrv(sim, again), "mae": mean_abs_error(sim, again)}
        print(f"sampling-noise floor (simulator vs simulator on other seeds): Pearson {summary['floor']['pearson']:.3f}"
              f"  MMRV {summary['floor']['mmrv']:.3f}  mean |difference| {summary['floor']['mae']:.3f}")
    result = {"run": args.run, "task": args.task, "episodes": args.episodes, "open_loop": ol,
              "closed_loop": rows, **summary}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
