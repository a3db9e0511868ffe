"""The evaluation report folder: ``index.html`` (self-contained), ``results.json``, ``eval_info.json``.

    write_report(results, "runs/eval")      # results: the dict evaluation.pipeline assembles

``index.html`` has inline CSS, a few lines of inline JS (sortable table), inline SVG plots and
the videos as base64 mp4 with a PNG poster, so it opens offline from anywhere. Sections:
agreement between each compared column and the simulator (Pearson, Spearman, MMRV with
bootstrap intervals, mean absolute error, paired-episode outcome agreement, the same over the
policies the world model did not see in training, scatter with fitted line), per-policy success with Wilson intervals (table and
bars), fidelity over the horizon, videos, failures.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path

from evaluation.plots import Line, Series, bars_svg, lines_svg, scatter_svg
from evaluation.results import json_safe
from worldsim.io import files

CSS = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4;cursor:pointer;white-space:normal}td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;margin:10px 0;font-size:14px}
.meta{color:#555;font-size:13px}.plots{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
figure{margin:0 0 16px 0}figcaption{font-size:12px;color:#444;max-width:640px}
video{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}
.ci{color:#666;font-size:12px}h3{font-size:15px;margin-top:20px}
"""

JS = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.asc !== '1';
    th.dataset.asc = asc ? '1' : '0';
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v || a.cells[col].textContent, y = b.cells[col].dataset.v || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
document.querySelectorAll('video').forEach(function (v) {
  v.addEventListener('error', function () { console.error('video failed to load: ' + v.dataset.name); });
});
document.body.setAttribute('data-ready', '1');
"""


def _f(v) -> float:
    return float("nan") if v is None else float(v)


def _num(v, digits: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def _pct(summary: dict) -> str:
    if not summary.get("n"):
        return "n/a"
    return f"{100 * summary['rate']:.0f}% [{100 * summary['ci_low']:.0f}, {100 * summary['ci_high']:.0f}]"


def header(results: dict) -> str:
    cols = ", ".join(escape(c["label"]) for c in results["columns"])
    t = results.get("timing", {})
    parts = [f"<h1>Policy evaluation: {escape(results['env'])}</h1>",
             f"<p class='meta'>task: {escape(str(results.get('task', '')))}<br>columns: {cols}<br>"
             f"{results['episodes_per_policy']} episodes per policy (episode k reset with seed "
             f"{results['seed']} + k), success counted {'at any step' if results['success_mode'] == 'any' else 'at the end'}, "
             f"{int(100 * results['confidence'])}% Wilson intervals; {len(results['policies'])} policies; "
             f"evaluation wall time {_num(results.get('wall_s'), 1)} s (simulator column {_num(t.get('eval_s'), 1)} s); "
             f"generated {escape(results.get('generated_at', ''))}</p>"]
    parts += [f"<div class='note'>{escape(n)}</div>" for n in results.get("notes", [])]
    return "\n".join(parts)


def _with_ci(a: dict, name: str) -> str:
    ci = a.get(f"{name}_ci")
    if not ci or ci[0] is None:
        return _num(a.get(name))
    return f"{_num(a.get(name))} <span class='ci'>[{_num(ci[0])}, {_num(ci[1])}]</span>"


def agreement_table(results: dict, agreement: dict) -> str:
    rows = []
    for col in results["columns"][1:]:
        a = agreement.get(col["name"])
        if a is None:
            continue
        rows.append(f"<tr><td>{escape(col['label'])}</td><td>{a['n_policies']}</td><td>{_with_ci(a, 'pearson')}</td>"
                    f"<td>{_with_ci(a, 'spearman')}</td><td>{_with_ci(a, 'mmrv')}</td><td>{_num(a['mean_abs_error'])}</td>"
                    f"<td>{_num(a.get('paired_outcome_agreement'))}</td></tr>")
    return ("<table><thead><tr><th>column vs simulator</th><th>policies</th><th>Pearson r</th><th>Spearman &rho;</th>"
            "<th>MMRV</th><th>mean |error|</th><th>same outcome per paired episode</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def interval_note(results: dict) -> str:
    n = results.get("bootstrap_resamples") or 0
    if not n:
        return ""
    return (f"<p class='meta'>In brackets: {int(100 * results['confidence'])}% percentile-bootstrap intervals "
            f"({n} resamples, seed {results['seed']}): episodes drawn with replacement within each policy, the "
            f"same draws in both columns where episodes pair up (same seeds).</p>")


def unseen_part(results: dict) -> str:
    unseen = results.get("unseen")
    if not unseen:
        return ""
    head = "<h3>Policies the world model did not see in training</h3>"
    if unseen["train_policies"] is None:
        return head + f"<p class='meta'>Not known: {escape(unseen['note'])}.</p>"
    listed = ", ".join(escape(s) for s in unseen["policies"]) or "none"
    intro = (f"<p class='meta'>Trained on: {', '.join(escape(s) for s in unseen['train_policies'])}. Unseen (a base "
             f"or degradation absent from training): {listed}.</p>")
    if not unseen["agreement"]:
        return head + intro + f"<p class='meta'>{escape(unseen['note'])}.</p>"
    return head + intro + agreement_table(results, unseen["agreement"])


def agreement_section(results: dict) -> str:
    ref = results["columns"][0]
    others = results["columns"][1:]
    out = ["<h2>Agreement with the simulator</h2>"]
    if not others:
        return out[0] + "<p>Only the simulator column was run: nothing to compare yet (set <code>world_model=CKPT</code>).</p>"
    out += [agreement_table(results, results["agreement"]), interval_note(results), unseen_part(results)]
    out.append("<div class='plots'>" + "".join(_scatter(results, ref, col) for col in others) + "</div>")
    return "\n".join(out)


def _scatter(results: dict, ref: dict, col: dict) -> str:
    table, a = results["per_policy"], results["agreement"][col["name"]]
    points = [(table[ref["name"]][s]["rate"], table[col["name"]][s]["rate"], s) for s in a["policies"]]
    note = f"r = {_num(a['pearson'])}, MMRV = {_num(a['mmrv'])}"
    svg = scatter_svg(points, (_f(a["slope"]), _f(a["intercept"])), xlabel=f"{ref['label']} success rate",
                      ylabel=f"{col['label']}: success rate", note=note)
    return (f"<figure>{svg}<figcaption>Success rate per policy; dashed: y = x; red: least-squares fit. "
            f"{escape(col['label'])}.</figcaption></figure>")


def policy_section(results: dict) -> str:
    cols = results["columns"]
    heads = "".join(f"<th>{escape(c['label'])}</th>" for c in cols)
    rows = []
    for spec in results["policies"]:
        ref = results["per_policy"][cols[0]["name"]][spec]
        cells = "".join(f"<td data-v='{_num(results['per_policy'][c['name']][spec]['rate'])}'>"
                        f"{_pct(results['per_policy'][c['name']][spec])}</td>" for c in cols)
        rows.append(f"<tr><td>{escape(spec)}</td>{cells}<td>{_num(ref['mean_return'], 2)}</td>"
                    f"<td>{_num(ref['mean_length'], 1)}</td><td>{ref['failures']}</td></tr>")
    table = ("<table class='sortable'><thead><tr><th>policy</th>" + heads +
             "<th>mean return (sim)</th><th>mean length (sim)</th><th>policy failures (sim)</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>")
    series = [Series(c["label"], *[[_f(results["per_policy"][c["name"]][s][k]) for s in results["policies"]]
                                   for k in ("rate", "ci_low", "ci_high")]) for c in cols]
    bars = bars_svg(results["policies"], series)
    return (f"<h2>Success per policy</h2><p class='meta'>Click a column head to sort.</p>{table}"
            f"<figure>{bars}<figcaption>Success rate with {int(100 * results['confidence'])}% Wilson intervals."
            f"</figcaption></figure>")


def fidelity_section(results: dict) -> str:
    fidelity = results.get("fidelity", {})
    out = ["<h2>Fidelity over the horizon</h2>"]
    if not fidelity:
        out.append("<p>No world-model frames to compare yet: fidelity (per-step PSNR and SSIM of world-model frames "
                   "against the simulator's under the same actions) appears once a world-model column is run.</p>")
        return "\n".join(out)
    for name, per_camera in fidelity.items():
        label = next(c["label"] for c in results["columns"] if c["name"] == name)
        psnr = [Line(cam, list(range(len(c["psnr"]))), [_f(v) for v in c["psnr"]]) for cam, c in per_camera.items()]
        ssim = [Line(cam, list(range(len(c["ssim"]))), [_f(v) for v in c["ssim"]]) for cam, c in per_camera.items()]
        out.append(f"<p class='meta'>{escape(label)}: open-loop replay of the simulator's actions from the same "
                   f"initial state; PSNR capped at 100 dB for identical frames.</p><div class='plots'>"
                   f"<figure>{lines_svg(psnr, 'step', 'PSNR (dB)')}</figure>"
                   f"<figure>{lines_svg(ssim, 'step', 'SSIM')}</figure></div>")
    return "\n".join(out)


def video_section(results: dict, out: Path) -> str:
    videos = results.get("videos", [])
    parts = ["<h2>Videos</h2><div class='plots'>"]
    if not videos:
        return "<h2>Videos</h2><p>No recorded episodes (video_episodes=0).</p>"
    for v in videos:
        data = base64.b64encode((out / v["file"]).read_bytes()).decode()
        poster = base64.b64encode((out / v["poster"]).read_bytes()).decode() if v.get("poster") else ""
        parts.append(f"<figure><video controls loop muted playsinline width='{v.get('width', 384)}' "
                     f"data-name='{escape(v['file'])}' "
                     f"poster='data:image/png;base64,{poster}' src='data:video/mp4;base64,{data}'></video>"
                     f"<figcaption>{escape(v['caption'])}</figcaption></figure>")
    return "\n".join(parts) + "</div>"


def failure_section(results: dict) -> str:
    rows = []
    for col in results["columns"]:
        for spec, s in results["per_policy"][col["name"]].items():
            for reason, count in s["failure_reasons"].items():
                rows.append(f"<tr><td>{escape(spec)}</td><td>{escape(col['label'])}</td><td>{count}</td>"
                            f"<td>{escape(reason)}</td></tr>")
    if not rows:
        return "<h2>Policy failures</h2><p>None: every policy returned finite actions of the right shape.</p>"
    return ("<h2>Policy failures</h2><p class='meta'>Episodes ended by the policy (counted as failed).</p><table>"
            "<thead><tr><th>policy</th><th>column</th><th>episodes</th><th>reason</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_html(results: dict, out: Path) -> str:
    body = [header(results), agreement_section(results), policy_section(results), fidelity_section(results),
            video_section(results, out), failure_section(results)]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>worldsim evaluation</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}<script>{JS}</script></body></html>")


def write_json(path: Path, obj) -> None:
    """``obj`` made JSON-safe (NaN, numpy scalars), written atomically by ``worldsim.io.files``."""
    files.write_json(path, json_safe(obj), indent=2)


def write_report(results: dict, out: str | Path, eval_info: dict | None = None) -> Path:
    """Write index.html, results.json and (given) eval_info.json into ``out``; returns index.html."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", results)
    if eval_info is not None:
        write_json(out / "eval_info.json", eval_info)
    index = out / "index.html"
    tmp = out / "index.html.tmp"
    tmp.write_text(render_html(json_safe(results), out))
    tmp.replace(index)
    return index
