"""``worldsim generate``: roll out a policy mix in a simulator and write a LeRobotDataset v3.0.

    from worldsim.generation.pipeline import generate
    root = generate(GenerateConfig(env="worldsim/TabletopPush-v0", episodes=20, out="runs/push"))

Resumable: finished episodes are staged under ``<out>/.worldsim``; rerunning the same command
after a kill keeps them, runs the rest, then assembles the dataset.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from envs.sim_spec import generated_sim_spec
from policies.spec import parse_mix
from worldsim.config import to_dict
from worldsim.io.files import write_bytes
from worldsim.generation.config import GenerateConfig
from worldsim.generation.staging import RunFolder
from worldsim.io.lock import hold_folder


def episode_specs(cfg: GenerateConfig) -> list[str]:
    mix = [str(s) for s in parse_mix(cfg.policy)]
    return [mix[i % len(mix)] for i in range(cfg.episodes)]


def _check_env(cfg: GenerateConfig) -> dict:
    """Build the env once here to validate the config and read its spaces; returns its description."""
    import envs

    env = envs.make(cfg.env, **cfg.env_kwargs())
    try:
        env.reset(seed=cfg.seed)
        names = getattr(env.unwrapped, "sim_state_names", None)
        if cfg.sim_state and not names:
            raise ValueError(f"sim_state=true: {cfg.env} has no sim_state() to record; envs that expose "
                             f"their physical state: worldsim/TabletopPush-v0")
        return {"sim_state_names": tuple(names or ()),"observation_space": env.observation_space, "action_space": env.action_space,
                "fps": env.metadata.get("render_fps", 10), "task": getattr(env.unwrapped, "task", cfg.env),
                "labels": getattr(env.unwrapped.render_source, "labels", {}),
                "robot_type": cfg.env.split("/")[-1], "cameras": list(env.observation_space["pixels"].spaces)}
    finally:
        env.close()


def generate(cfg: GenerateConfig) -> Path:
    """Run (or resume) the generate run ``cfg`` describes, holding ``cfg.out``'s lock (one run per folder)."""
    cfg.validate()
    specs = episode_specs(cfg)
    with hold_folder(cfg.out, "worldsim generate"):
        return _generate(cfg, specs)


def _generate(cfg: GenerateConfig, specs: list[str]) -> Path:
    described = _check_env(cfg)
    described["sim"] = generated_sim_spec(cfg.env, described["cameras"], cfg.image_size, cfg.task)  # what recipes read
    run = RunFolder(cfg.out)
    manifest = run.open({"config": to_dict(cfg), "episode_policy": specs,
                         "episode_seed": [cfg.seed + i for i in range(cfg.episodes)]})
    if manifest.get("status") == "complete":
        _record_sim(run.out, described["sim"])
        print(f"dataset already complete: {run.out}", file=sys.stderr)
        return run.out
    jobs = [(i, specs[i]) for i in range(cfg.episodes) if i not in run.finished()]
    _run_episodes(cfg, run, jobs)
    _assemble(cfg, run, manifest, described)
    run.mark_complete(manifest)
    run.drop_episodes()
    return run.out


def _record_sim(root: Path, sim: dict) -> None:
    """Add the simulator record to a dataset that an older ``worldsim generate`` completed without it."""
    path = root / "meta" / "info.json"
    info = json.loads(path.read_text()) if path.is_file() else None
    if info is not None and "sim" not in info.get("worldsim", {}):
        info.setdefault("worldsim", {})["sim"] = sim
        write_bytes(path, json.dumps(info, indent=4, ensure_ascii=False).encode())


def _run_episodes(cfg: GenerateConfig, run: RunFolder, jobs: list) -> None:
    from worldsim.generation.workers import run_jobs

    done = cfg.episodes - len(jobs)
    bar = tqdm(total=cfg.episodes, initial=done, desc="episodes", unit="ep", dynamic_ncols=True)
    successes = 0
    with bar:
        for _, _, success in run_jobs(dataclasses.asdict(cfg), str(run.out), jobs, cfg.workers):
            successes += success
            bar.update(1)
            bar.set_postfix(success=f"{successes}/{bar.n - done}")


def _assemble(cfg: GenerateConfig, run: RunFolder, manifest: dict, described: dict) -> None:
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig
    from worldsim.generation.features import dataset_features

    run.clear_dataset_parts()
    staging = run.state / "assembling"
    features = dataset_features(described["observation_space"], described["action_space"], cfg,
                                sim_state_names=described["sim_state_names"])
    run_info = {k: v for k, v in manifest.items() if k != "status"}
    extra = {"worldsim": {**run_info, "segmentation_labels": {str(k): v for k, v in described["labels"].items()},
                          "sim": described["sim"]}}
    writer = LeRobotWriter(staging, WriterConfig(fps=described["fps"], robot_type=described["robot_type"],
                                                 features=features, extra_info=extra, crf=cfg.video_crf,
                                                 pix_fmt=cfg.video_pix_fmt))
    for i in tqdm(range(cfg.episodes), desc="writing dataset", unit="ep", dynamic_ncols=True):
        episode = run.load_episode(i)
        writer.add_episode({k: v for k, v in episode.items() if k in features}, task=described["task"])
    writer.finalize()
    run.publish(staging)
