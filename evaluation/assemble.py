"""Assemble an evaluation folder's stored records into the report: numbers, intervals, fidelity, videos.

    index = build_report(cfg, columns, specs, store, described)   # called by run_evaluation

Only stored records are read; nothing is rolled out here, so rebuilding the report of a
finished evaluation takes seconds. Agreement of each column with the simulator comes with
bootstrap intervals, and again over the policies the world model did not see in training
(``evaluation.unseen``). Fidelity: the simulator's recorded episodes against their open-loop
replays in each paired column that renders frames of its own (records of ``<column>_replay``,
stored by that column's worker), compared step by step. Videos: one per policy and recorded
episode, the paired columns side by side (simulator left), cameras stacked within a panel.
"""

from __future__ import annotations

import time
from pathlib import Path

from evaluation.records import RecordStore, policy_slug
from evaluation.replay import replay_name
from evaluation.results import compare_columns, lerobot_eval_info, policy_table, select
from evaluation.unseen import MIN_POLICIES, train_policies, unseen_policies

VIDEO_SCALE = 3
WALL = "wall"   # timing.jsonl rows of whole runs (all lanes at once)


def recorded(store: RecordStore, records: list[dict], specs: list[str], episodes: int) -> dict:
    """{(policy, episode): {cam: frames}} of the records whose frames were kept."""
    out = {}
    for spec in specs:
        for r in select(records, spec, episodes):
            data = store.load_frames(r)
            if data is not None and len(data["actions"]):
                out[(spec, r["episode"])] = data["frames"]
    return out


def fidelity_for(store: RecordStore, sim: list[dict], replays: list[dict], specs: list[str], episodes: int) -> dict:
    """{camera: {"psnr": [...], "ssim": [...], "count": [...]}} of the replays against the simulator."""
    from evaluation.metrics import fidelity_curve

    truth, replayed = recorded(store, sim, specs, episodes), recorded(store, replays, specs, episodes)
    keys = [k for k in truth if k in replayed]
    if not keys:
        return {}
    return {cam: fidelity_curve([truth[k][cam] for k in keys], [replayed[k][cam] for k in keys])
            for cam in truth[keys[0]]}


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


def compare(cfg, columns, specs: list[str], records: dict) -> dict:
    """{column: compare_columns(...)} of every column after the simulator, over ``specs``."""
    ref = records[columns[0].name]
    return {c.name: compare_columns(ref, records[c.name], specs, cfg.episodes, cfg.success, c.paired,
                                    cfg.confidence, cfg.bootstrap, cfg.seed) for c in columns[1:]}


def unseen_section(cfg, columns, specs: list[str], records: dict) -> dict | None:
    """Agreement over the policies the world model did not see in training (None: no world model)."""
    folder = next((c.env_kwargs.get("checkpoint") for c in columns if c.name == "world_model"), None)
    if folder is None:
        return None
    train = train_policies(folder)
    if train is None:
        return {"train_policies": None, "policies": [], "agreement": {},
                "note": "the world-model folder does not list its training policies (provenance.train_policies)"}
    unseen = unseen_policies(specs, train)
    out = {"train_policies": train, "policies": unseen, "agreement": {}, "note": ""}
    if len(unseen) < MIN_POLICIES:
        out["note"] = f"{len(unseen)} unseen policies; agreement over them needs at least {MIN_POLICIES}"
    else:
        out["agreement"] = compare(cfg, columns, unseen, records)
    return out


def build_report(cfg, columns, specs: list[str], store: RecordStore, described: dict) -> Path:
    from evaluation.report import write_json, write_report
    from worldsim.config import to_dict

    out = Path(cfg.out)
    records = {c.name: store.records(c.name) for c in columns}
    table = {c.name: policy_table(records[c.name], specs, cfg.episodes, cfg.success, cfg.confidence) for c in columns}
    ref = columns[0].name
    fidelity = {c.name: fidelity_for(store, records[ref], store.records(replay_name(c.name)), specs, cfg.episodes)
                for c in columns[1:] if c.paired and c.own_frames}
    videos = make_videos(cfg, columns, specs, store, records, out, described["fps"])
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "env": cfg.env, "task": described["task"],
        "episodes_per_policy": cfg.episodes, "seed": cfg.seed, "success_mode": cfg.success,
        "confidence": cfg.confidence, "bootstrap_resamples": cfg.bootstrap, "policies": specs, "config": to_dict(cfg),
        "columns": [{"name": c.name, "label": c.label, "env": c.env_id, "seed_offset": c.seed_offset,
                     "paired": c.paired} for c in columns],
        "per_policy": table, "agreement": compare(cfg, columns, specs, records),
        "unseen": unseen_section(cfg, columns, specs, records), "fidelity": fidelity, "videos": videos,
        "wall_s": timing(store, WALL)["eval_s"], "timing": timing(store, ref), "timing_per_column": {c.name: timing(store, c.name) for c in columns},
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
