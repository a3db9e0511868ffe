"""World-model env speed and fidelity, as ratios measured in one run.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_world_model [--checkpoint WM] [--steps 30]
        [--json benchmarks/results/world_model.json]

Reports (1) env steps per second of the native vector env (one batched forward for N envs) at
N = 1, 4, 16 against a ``SyncVectorEnv`` of N single ``WorldModelEnv``s, for each predictor;
(2) the world-model env against the MuJoCo simulator with rendering at the same image size
(single env, and N = 16 vector envs); (3) with a trained ``--checkpoint``: fidelity, the PSNR of
world-model frames against the simulator's under the same actions (the expert's, from the same
seeds), per step over the horizon, for the deterministic predictor and for diffusion at several
sampling steps. Without ``--checkpoint`` an untrained world model of the default sizes is timed
(speed does not depend on the weights). Rates are the best of ``--repeats`` alternating runs,
because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from benchmarks.rates import vector_rate

WM_ID = "worldsim/WorldModel-v0"


def register() -> None:
    if WM_ID not in gym.registry:
        gym.register(WM_ID, entry_point="envs.world_model.env:WorldModelEnv",
                     vector_entry_point="envs.world_model.vector_env:WorldModelVectorEnv", max_episode_steps=100)


def untrained_default(folder: str) -> str:
    from envs.sim_spec import sim_spec_of
    from posttrain.action.untrained import untrained_world_model
    from worldsim.diffusion.dit import DiTConfig

    dit = DiTConfig(hidden_size=192, num_layers=6, num_heads=4, spec="cpu")
    sim = sim_spec_of("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 64})
    return str(untrained_world_model(folder, sim,
                                     dit=dit, sample_steps=3, perturb=0.01))


def best(fns: dict, repeats: int) -> dict:
    """Best rate of each callable over ``repeats`` rounds, the callables alternating."""
    out = {k: 0.0 for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            out[k] = max(out[k], fn())
    return out


def speed(checkpoint: str, predictors: list[str], sim_kwargs: dict, steps: int, repeats: int) -> dict:
    results = {}
    sim_sync = lambda n: gym.make_vec("worldsim/TabletopPush-v0", num_envs=n, vectorization_mode="sync",  # noqa: E731
                                      **sim_kwargs)
    for predictor in predictors:
        kw = {"checkpoint": checkpoint, "predictor": predictor, "max_episode_steps": 1000}
        native = lambda n: gym.make_vec(WM_ID, num_envs=n, vectorization_mode="vector_entry_point", **kw)  # noqa: E731
        sync = lambda n: gym.make_vec(WM_ID, num_envs=n, vectorization_mode="sync", **kw)  # noqa: E731
        rows = {}
        for n in (1, 4, 16):
            fns = {"native": lambda n=n: vector_rate(native, n, max(4, steps // n)),
                   "sync_of_singles": lambda n=n: vector_rate(sync, n, max(4, steps // n)),
                   "simulator_sync": lambda n=n: vector_rate(sim_sync, n, max(4, steps // n))}
            rows[n] = best(fns, repeats)
            print(predictor, n, {k: round(v, 1) for k, v in rows[n].items()}, flush=True)
        single = rows[1]["sync_of_singles"]
        results[predictor] = {
            "env_steps_per_s": rows,
            "native_vs_sync_at_16": rows[16]["native"] / rows[16]["sync_of_singles"],
            "native_16_vs_single_env": rows[16]["native"] / single,
            "world_model_vs_simulator_single": rows[1]["native"] / rows[1]["simulator_sync"],
            "world_model_vs_simulator_16": rows[16]["native"] / rows[16]["simulator_sync"],
        }
    return results


@torch.no_grad()
def fidelity(checkpoint: str, sim_kwargs: dict, episodes: int, horizon: int, settings: list[dict]) -> dict:
    """PSNR (dB) of world-model frames vs the simulator's, same seeds and the expert's actions."""
    from policies import make_policy
    from worldsim.tokenizer.metrics import psnr

    sim = gym.vector.SyncVectorEnv([lambda: gym.make("worldsim/TabletopPush-v0", **sim_kwargs)] * episodes,
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    policy = make_policy("expert", "worldsim/TabletopPush-v0", sim.single_action_space)
    obs, _ = sim.reset(seed=1000)
    cam = sim_kwargs["cameras"][0]
    frames, actions = [obs["pixels"][cam]], []
    for _ in range(horizon):
        a = policy.act(obs)
        obs, *_ = sim.step(a)
        actions.append(a)
        frames.append(obs["pixels"][cam])
    out = {}
    for setting in settings:
        wm = gym.make_vec(WM_ID, num_envs=episodes, vectorization_mode="vector_entry_point", checkpoint=checkpoint,
                          max_episode_steps=10_000, **setting)
        wm.unwrapped.terminate_on_success = False
        wm.reset(seed=1000)
        curve = []
        for t, a in enumerate(actions):
            wobs, *_ = wm.step(a)
            to = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float()[:, :, None] / 127.5 - 1  # noqa: E731
            curve.append(float(psnr(to(wobs["pixels"][cam]), to(frames[t + 1])).mean()))
        name = setting["predictor"] + (f"_steps{setting['sample_steps']}" if "sample_steps" in setting else "")
        out[name] = {"psnr_per_step": curve, "psnr_step1": curve[0], f"psnr_mean_{horizon}": float(np.mean(curve))}
        print(name, round(curve[0], 2), round(float(np.mean(curve)), 2), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", help="a world-model folder (default: an untrained one of the default sizes)")
    ap.add_argument("--steps", type=int, default=32, help="env steps per measurement (per env at N=1)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=8, help="fidelity: episodes")
    ap.add_argument("--horizon", type=int, default=30, help="fidelity: steps")
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    torch.set_num_threads(1)
    register()
    checkpoint = args.checkpoint or untrained_default(tempfile.mkdtemp(prefix="bench_wm_"))
    from posttrain.common.bundle import read_bundle

    config = read_bundle(checkpoint)[0]
    sim_kwargs = {"cameras": tuple(config["sim"]["cameras"]), "image_size": config["sim"]["height"]}
    predictors = list(config["predictors"])
    results = {"machine": platform.machine(), "torch_threads": torch.get_num_threads(), "checkpoint": checkpoint,
               "trained": not config.get("provenance", {}).get("untrained", False),
               "speed": speed(checkpoint, predictors, sim_kwargs, args.steps, args.repeats)}
    if results["trained"]:
        settings = [{"predictor": p} for p in predictors if p != "diffusion"]
        if "diffusion" in predictors:
            settings += [{"predictor": "diffusion", "sample_steps": s} for s in (1, 2, 3, 4, 8)]
        results["fidelity"] = fidelity(checkpoint, sim_kwargs, args.episodes, args.horizon, settings)
    print(json.dumps({k: v for k, v in results.items() if k != "fidelity"}, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
