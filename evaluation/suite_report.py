"""The report of a multi-task evaluation (``evaluation.multitask``), from its tasks' stored records.

    index = write_suite_report(cfg, ["push-v3", "drawer-open-v3"])

``results.json``: per task, every column's success rate per policy and its agreement with the
simulator (as each task's own report has them), and ``overall``: the agreement over every
(task, policy) pair at once. ``eval_info.json`` (the simulator) and ``eval_info_<column>.json``
follow lerobot-eval's multi-task layout: ``per_task`` has one entry per task and policy
(``task_group`` the task, ``task_id`` the policy's index in that task's list, ``policy`` its
spec), ``per_group`` one aggregate per task, ``overall`` one over everything. ``index.html``
shows the agreement table and links each task's own report.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from evaluation.assemble import timing
from evaluation.records import RecordStore
from evaluation.results import _aggregate, compare_columns, lerobot_eval_info


def task_parts(out: Path, task: str) -> tuple[dict, RecordStore]:
    """The task's own results.json and its record store."""
    folder = out / task
    return json.loads((folder / "results.json").read_text()), RecordStore.attach(folder)


def pooled(records: dict[str, dict[str, list[dict]]], specs_by_task: dict[str, list[str]], column: str) -> list[dict]:
    """``column``'s records of every task, each policy named ``task/spec`` so that pairs stay apart."""
    out = []
    for task, by_column in records.items():
        out += [{**r, "policy": f"{task}/{r['policy']}"} for r in by_column[column]
                if r["policy"] in specs_by_task[task]]
    return out


def overall_agreement(cfg, records, specs_by_task, columns: list[dict]) -> dict:
    """Every column against the simulator (the first) over every (task, policy) pair."""
    specs = [f"{t}/{s}" for t, specs in specs_by_task.items() for s in specs]
    ref = pooled(records, specs_by_task, columns[0]["name"])
    return {c["name"]: compare_columns(ref, pooled(records, specs_by_task, c["name"]), specs, cfg.episodes,
                                       cfg.success, c["paired"], cfg.confidence, cfg.bootstrap, cfg.seed)
            for c in columns[1:]}


def suite_eval_info(store_by_task, records, specs_by_task, column: str, cfg, videos: dict | None = None) -> dict:
    """lerobot-eval's multi-task eval_info of ``column``; ``videos``: {task: [results.json video entries]}."""
    per_task, per_group, everything = [], {}, {"sum_rewards": [], "max_rewards": [], "successes": [], "video_paths": []}
    eval_s = 0.0
    for task, store in store_by_task.items():
        seconds = timing(store, column)["eval_s"]
        paths: dict[str, list[str]] = {}
        for v in (videos or {}).get(task, []):
            paths.setdefault(v["policy"], []).append(f"{task}/{v['file']}")
        info = lerobot_eval_info(records[task][column], specs_by_task[task], cfg.episodes, cfg.success, seconds, paths)
        eval_s += seconds
        group = {k: [] for k in everything}
        for i, entry in enumerate(info["per_task"]):
            per_task.append({"task_group": task, "task_id": i, "policy": entry["task_group"],
                             "metrics": entry["metrics"]})
            for k in everything:
                group[k] += entry["metrics"][k]
                everything[k] += entry["metrics"][k]
        per_group[task] = _aggregate(group)
    n = len(everything["sum_rewards"])
    overall = {**_aggregate(everything), "eval_s": eval_s, "eval_ep_s": eval_s / max(1, n)}
    return {"per_task": per_task, "per_group": per_group, "overall": overall}


def write_suite_report(cfg, tasks: list[str]) -> Path:
    from evaluation.report import write_json

    out = Path(cfg.out)
    parts = {t: task_parts(out, t) for t in tasks}
    store_by_task = {t: store for t, (_, store) in parts.items()}
    specs_by_task = {t: results["policies"] for t, (results, _) in parts.items()}
    # columns every task has (a task without a world model has the simulator alone), simulator first
    columns = [c for c in parts[tasks[0]][0]["columns"]
               if all(c["name"] in {d["name"] for d in r["columns"]} for r, _ in parts.values())]
    records = {t: {c["name"]: store.records(c["name"]) for c in columns} for t, store in store_by_task.items()}
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "env": cfg.env, "tasks": tasks,
        "episodes_per_policy": cfg.episodes, "seed": cfg.seed, "success_mode": cfg.success,
        "per_task": {t: {"folder": t, "columns": [c["name"] for c in r["columns"]], "policies": r["policies"],
                         "per_policy": r["per_policy"], "agreement": r["agreement"]} for t, (r, _) in parts.items()},
        "overall": {"columns": [c["name"] for c in columns],
                    "agreement": overall_agreement(cfg, records, specs_by_task, columns)},
    }
    write_json(out / "results.json", results)
    for i, c in enumerate(column["name"] for column in columns):
        name = "eval_info.json" if i == 0 else f"eval_info_{c}.json"
        videos = {t: r.get("videos", []) for t, (r, _) in parts.items()} if i == 0 else None
        write_json(out / name, suite_eval_info(store_by_task, records, specs_by_task, c, cfg, videos))
    index = out / "index.html"
    index.write_text(suite_html(results))
    return index


METRICS = (("pearson", "Pearson"), ("spearman", "Spearman"), ("mmrv", "MMRV"), ("mean_abs_error", "MAE"))


def suite_html(results: dict) -> str:
    def row(name: str, agreement: dict, link: str | None) -> str:
        label = f'<a href="{link}/index.html">{html.escape(name)}</a>' if link else html.escape(name)
        cells = []
        for column, a in agreement.items():
            values = " ".join(f"{short} {_fmt(a.get(key))}" for key, short in METRICS)
            cells.append(f"<td>{html.escape(column)}: {values}</td>")
        return f"<tr><th>{label}</th>{''.join(cells) or '<td>simulator only (no world model for this task)</td>'}</tr>"

    rows = [row(t, p["agreement"], p["folder"]) for t, p in results["per_task"].items()]
    rows.append(row("overall (every task and policy)", results["overall"]["agreement"], None))
    return (f"<!doctype html><meta charset='utf-8'><title>worldsim eval: {html.escape(results['env'])}</title>"
            f"<h1>{html.escape(results['env'])}: {len(results['tasks'])} tasks</h1>"
            f"<p>{results['episodes_per_policy']} episodes per policy, seeds from {results['seed']}; "
            "each task's full report is linked; agreement of each column with the simulator:</p>"
            f"<table border='1' cellpadding='4'>{''.join(rows)}</table>")


def _fmt(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.3f}"
