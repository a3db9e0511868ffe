"""Assemble an evaluation folder's records into the report: numbers, fidelity replays, videos.

    index = build_report(cfg, columns, specs, store, described)   # called by run_evaluation

Fidelity: the simulator episodes that kept their frames are replayed open loop (the same
actions from the same seed) in every paired non-simulator column, and the frames compared step
by step. Videos: one per policy and recorded episode, the paired columns side by side
(simulator left), cameras stacked within a panel.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from evaluation.records import RecordStore, policy_slug
from evaluation.results import column_agreement, lerobot_eval_info, paired_outcome_agreement, policy_table, select
from evaluation.runner import Job, run_jobs

VIDEO_SCALE = 3


class ReplayPolicy:
    """Plays back a recorded action sequence, whatever it observes."""

    def __init__(self, actions: np.ndarray):
        self.actions, self.t = np.asarray(actions, np.float32), 0

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.t = 0

    def act(self, obs: dict) -> np.ndarray:
        action = self.actions[min(self.t, len(self.actions) - 1)]
        self.t += 1
        return action[None]


def recorded(store: RecordStore, records: list[dict], specs: list[str], episodes: int) -> dict:
    """{(policy, episode): (record, recording)} of the records whose frames were kept."""
    out = {}
    for spec in specs:
        for r in select(records, spec, episodes):
            data = store.load_frames(r)
            if data is not None and len(data["actions"]):
                out[(spec, r["episode"])] = (r, data)
    return out


def replay(column, items: dict, num_envs: int) -> dict:
    """Replay each recording's actions in ``column``'s env from the record's seed: {key: frames}."""
    from evaluation.vector import make_vector_env

    keys = list(items)
    jobs = [Job(k[0], k[1], items[k][0]["seed"], record_frames=True, max_steps=len(items[k][1]["actions"]))
            for k in keys]
    got: dict = {}
    env = make_vector_env(column.env_id, min(num_envs, len(jobs)), column.env_kwargs)
    try:
        run_jobs(env, jobs, lambda job: ReplayPolicy(items[(job.policy, job.episode)][1]["actions"]),
                 lambda rec, recording: got.__setitem__((rec["policy"], rec["episode"]), recording),
                 reuse_policies=False)
    finally:
        env.close()
    return {k: v["frames"] for k, v in got.items() if v is not None}


def fidelity_for(column, items: dict, num_envs: int) -> dict:
    """{camera: {"psnr": [...], "ssim": [...], "count": [...]}} of ``column`` against the simulator."""
    from evaluation.metrics import fidelity_curve

    if not items:
        return {}
    replays = replay(column, items, num_envs)
    keys = [k for k in items if k in replays]
    cams = list(items[keys[0]][1]["frames"]) if keys else []
    return {cam: fidelity_curve([items[k][1]["frames"][cam] for k in keys], [replays[k][cam] for k in keys])
            for cam in cams}


def make_videos(cfg, columns, specs, store, records, out: Path, fps: int) -> list[dict]:
    from evaluation.video import png, side_by_side, stack_cameras, upscale, write_mp4

    paired = [c for i, c in enumerate(columns) if c.paired and (i == 0 or c.own_frames)]
    videos = []
    for spec in specs:
        for k in range(min(cfg.video_episodes, cfg.episodes)):
            panels, parts = [], []
            for c in paired:
                rec = next(iter(select([r for r in records[c.name] if r["episode"] == k], spec, cfg.episodes)), None)
                data = store.load_frames(rec) if rec else None
                if data is not None:
                    panels.append(stack_cameras(data["frames"]))
                    outcome = "success" if rec[f"success_{cfg.success}"] else "failure"
                    parts.append(f"{c.label}: {outcome} after {rec['length']} steps")
            if not panels:
                continue
            strip = upscale(side_by_side(panels), VIDEO_SCALE)
            name = f"videos/{policy_slug(spec)}-ep{k:03d}"
            write_mp4(strip, out / f"{name}.mp4", fps)
            (out / f"{name}.png").write_bytes(png(strip[0]))
            seed = cfg.seed + k
            caption = f"{spec}, episode {k} (seed {seed}); left to right: " + "; ".join(parts)
            videos.append({"policy": spec, "episode": k, "seed": seed, "file": f"{name}.mp4", "poster": f"{name}.png",
                           "caption": caption, "width": int(strip.shape[2])})
    return videos


def notes(columns) -> list[str]:
    names = [c.name for c in columns]
    out = []
    if "world_model" not in names:
        out.append("No world-model column: this report holds the simulator (ground truth) only. Agreement, "
                   "fidelity and side-by-side videos fill in when the evaluation runs with world_model=CKPT.")
    if "simulator_perceived" in names:
        out.append("'simulator, world model's perception' is the simulator with the world model's state head "
                   "reading its frames for the policies and the world model's judge scoring success: its gap to "
                   "the simulator is perception error alone; the world-model column adds dynamics error.")
    if "simulator_resampled" in names:
        out.append("'simulator, other seeds' is the same simulator reset with other seeds: it is NOT a world model. "
                   "Its agreement with the simulator is what sampling noise alone allows with this many episodes.")
    return out


def timing(store: RecordStore, column: str) -> dict:
    rows = [t for t in store.timing() if t["column"] == column]
    seconds, episodes = sum(t["seconds"] for t in rows), sum(t["episodes"] for t in rows)
    return {"eval_s": seconds, "episodes_run": episodes, "eval_ep_s": seconds / max(1, episodes)}


def build_report(cfg, columns, specs: list[str], store: RecordStore, described: dict) -> Path:
    from evaluation.report import write_json, write_report
    from worldsim.config import to_dict

    out = Path(cfg.out)
    records = {c.name: store.records(c.name) for c in columns}
    table = {c.name: policy_table(records[c.name], specs, cfg.episodes, cfg.success, cfg.confidence) for c in columns}
    ref = columns[0].name
    items = recorded(store, records[ref], specs, cfg.episodes)
    agreement, fidelity = {}, {}
    for c in columns[1:]:
        agreement[c.name] = {**column_agreement(table[ref], table[c.name]), "paired_outcome_agreement":
                             paired_outcome_agreement(records[ref], records[c.name], cfg.success) if c.paired else None}
        if c.paired and c.own_frames:
            fidelity[c.name] = fidelity_for(c, items, cfg.num_envs)
    videos = make_videos(cfg, columns, specs, store, records, out, described["fps"])
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "env": cfg.env, "task": described["task"],
        "episodes_per_policy": cfg.episodes, "seed": cfg.seed, "success_mode": cfg.success,
        "confidence": cfg.confidence, "policies": specs, "config": to_dict(cfg),
        "columns": [{"name": c.name, "label": c.label, "env": c.env_id, "seed_offset": c.seed_offset,
                     "paired": c.paired} for c in columns],
        "per_policy": table, "agreement": agreement, "fidelity": fidelity, "videos": videos,
        "timing": timing(store, ref), "timing_per_column": {c.name: timing(store, c.name) for c in columns},
        "notes": notes(columns),
    }
    video_paths = {}
    for v in videos:
        video_paths.setdefault(v["policy"], []).append(v["file"])
    for c in columns[1:]:
        write_json(out / f"eval_info_{c.name}.json", lerobot_eval_info(
            records[c.name], specs, cfg.episodes, cfg.success, timing(store, c.name)["eval_s"]))
    info = lerobot_eval_info(records[ref], specs, cfg.episodes, cfg.success, timing(store, ref)["eval_s"], video_paths)
    return write_report(results, out, info)
