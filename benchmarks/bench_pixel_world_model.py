"""The pixel world model (posttrain.pixel_unet): stepping speed and open-loop fidelity, in one run.

    OMP_NUM_THREADS=1 MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_pixel_world_model \
        [--checkpoint assets/world_models/tabletop_push] [--episodes 30] [--json benchmarks/results/pixel_world_model.json]

1. Speed: env steps per second of the native vector env at N = 1 and N = 16 for each predictor
   of the folder (diffusion ones at 1, 2 and 3 Euler steps), with torch on 1 and on 2 threads, against the
   simulator rendering the same camera (a sync vector env) in the same run.
2. Open loop under the expert's actions: the expert runs in the simulator (termination off, 40
   steps) from seeds 50,000 + k; its actions are replayed in the world model from the same first
   frame; reported per step are the frames' PSNR and the block / pusher position error (the
   world model's reading of its own frames against the simulator's true positions), and the
   position error of the reader on the simulator's own frames (perception alone), and how far
   the positions read from the world model's own frames are from the state it gives the policy
   (a grounded model carries that state in its dynamics; the frames must show it).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from benchmarks.rates import vector_rate
from policies import make_policy

SIM = "worldsim/TabletopPush-v0"
WM = "worldsim/WorldModel-v0"


def predictors_of(checkpoint: str) -> dict[str, str]:
    """{predictor name: kind} of a world-model folder."""
    from posttrain.common.bundle import read_bundle

    return {name: piece["kind"] for name, piece in read_bundle(checkpoint)[0]["predictors"].items()}


def variants_of(checkpoint: str) -> list[tuple[str, str, dict]]:
    """(label, predictor, env kwargs): each predictor; diffusion ones at 1, 2 and 3 Euler steps."""
    out = []
    for name, kind in predictors_of(checkpoint).items():
        steps = (1, 2, 3) if kind.endswith("diffusion") else (None,)
        out += [(name if k is None else f"{name}_{k}", name, {} if k is None else {"sample_steps": k}) for k in steps]
    return out


def speed(checkpoint: str, steps: int) -> dict:
    out = {}
    variants = variants_of(checkpoint)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for n in (1, 16):
            sim = lambda k: gym.make_vec(SIM, num_envs=k, vectorization_mode="sync", cameras=("top",),  # noqa: E731
                                         image_size=64)
            row = {"simulator_rendering": vector_rate(sim, n, steps)}
            for name, pred, kwargs in variants:
                vec = lambda k, p=pred, kw=kwargs: gym.make_vec(  # noqa: E731
                    WM, num_envs=k, vectorization_mode="vector_entry_point", checkpoint=checkpoint, predictor=p, **kw)
                row[name] = vector_rate(vec, n, steps)
                row[f"{name}_vs_simulator"] = row[name] / row["simulator_rendering"]
            out[f"threads{threads}_n{n}"] = row
            print(threads, n, {k: round(v, 1) for k, v in row.items()})
    return out


def expert_episode(seed: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(frames (T+1, H, W, 3), actions (T, 2), true states (T+1, 6), first obs) of the expert, termination off."""
    env = gym.make(SIM, cameras=("top",), image_size=64, terminate_on_success=False)
    expert = make_policy("expert", SIM, env.action_space)
    obs, _ = env.reset(seed=seed)
    frames, actions, states = [obs["pixels"]["top"]], [], [np.concatenate([obs["agent_pos"], obs["environment_state"]])]
    for _ in range(horizon):
        a = expert.act({k: v[None] for k, v in obs.items() if k != "pixels"})[0]
        obs, *_ = env.step(a)
        actions.append(a)
        frames.append(obs["pixels"]["top"])
        states.append(np.concatenate([obs["agent_pos"], obs["environment_state"]]))
    env.close()
    return np.stack(frames), np.stack(actions), np.stack(states)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """uint8 (..., H, W, 3) x2 -> PSNR in dB per frame; like ``posttrain.camera.evaluate.frame_psnr`` but
    floored on the 0-255 MSE (about 148 dB for identical frames), kept so published numbers stay comparable."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(-3, -2, -1))
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def open_loop(checkpoint: str, predictor: str, episodes: int, horizon: int) -> dict:
    from envs.world_model.session import load_for_env
    from posttrain.pixel_unet.frames import to_float

    torch.set_num_threads(1)
    wm = load_for_env(checkpoint, predictor=predictor)
    runs = [expert_episode(50_000 + k, horizon) for k in range(episodes)]
    frames = np.stack([r[0] for r in runs])  # (B, T+1, H, W, 3)
    actions, states = np.stack([r[1] for r in runs]), np.stack([r[2] for r in runs])
    state = wm.start({"top": frames[:, :1]}, None, {"agent_pos": states[:, 0, :2], "environment_state": states[:, 0, 2:]},
                     seeds=list(range(episodes)))
    made, read = [frames[:, 0]], [states[:, 0]]
    for t in range(horizon):
        state, out, extras = wm.step(state, actions[:, t])
        made.append(out["top"])
        read.append(np.concatenate([extras["agent_pos"], extras["environment_state"]], 1))
    made, read = np.stack(made, 1), np.stack(read, 1)
    with torch.no_grad():
        sim_read = wm.reader(to_float(frames.reshape(-1, *frames.shape[2:]))).reshape(episodes, horizon + 1, 3, 2)
        own_read = wm.reader(to_float(made.reshape(-1, *made.shape[2:]))).reshape(episodes, horizon + 1, 3, 2).numpy()
    err = lambda a, b: np.linalg.norm(a - b, axis=-1) * 100  # noqa: E731  cm
    return {"psnr": psnr(made, frames).mean(0).tolist(),
            "pusher_cm": err(read[..., :2], states[..., :2]).mean(0).tolist(),
            "block_cm": err(read[..., 2:4], states[..., 2:4]).mean(0).tolist(),
            "reader_on_sim_block_cm": err(sim_read[:, :, 1].numpy(), states[..., 2:4]).mean(0).tolist(),
            "reader_on_sim_pusher_cm": err(sim_read[:, :, 0].numpy(), states[..., :2]).mean(0).tolist(),
            # do the frames show the state the model gives the policy? (0 for a frames-only model by definition)
            "frames_vs_state_block_cm": err(own_read[:, :, 1], read[..., 2:4]).mean(0).tolist(),
            "frames_vs_state_pusher_cm": err(own_read[:, :, 0], read[..., :2]).mean(0).tolist()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="assets/world_models/tabletop_push")
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--horizon", type=int, default=40)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--json", default="benchmarks/results/pixel_world_model.json")
    args = p.parse_args(argv)
    result = {"machine": platform.processor() or platform.machine(), "checkpoint": args.checkpoint,
              "open_loop": {}}
    for predictor in predictors_of(args.checkpoint):
        ol = open_loop(args.checkpoint, predictor, args.episodes, args.horizon)
        result["open_loop"][predictor] = ol
        shown = sorted({1, min(10, args.horizon), args.horizon})
        print(predictor, f"steps {shown}: PSNR", [round(ol["psnr"][t], 1) for t in shown],
              "block cm", [round(ol["block_cm"][t], 2) for t in shown],
              "pusher cm", [round(ol["pusher_cm"][t], 2) for t in shown])
    if not args.skip_speed:
        result["speed_steps_per_s"] = speed(args.checkpoint, args.steps)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"results in {args.json}")


if __name__ == "__main__":
    main()
