"""The report folder: a comparison column exercised honestly, and index.html in headless Chromium.

The comparison code path runs with two stand-ins that are labelled as what they are: the
simulator on other seeds (``resampled_sim``) and the simulator's own records as a second column
whose open-loop replays run in the simulator through the world-model lane's replay task (a
self-check: agreement and fidelity must come out perfect). No world model is faked.
"""

import dataclasses
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from evaluation.assemble import build_report
from evaluation.columns import Column, make_columns
from evaluation.config import EvalConfig
from evaluation.lanes import Lane, Replays, run_lane
from evaluation.pipeline import describe_env, resolve_policies, run_evaluation
from evaluation.records import RecordStore
from evaluation.replay import recorded_keys
from worldsim.config import load_config

SETTINGS = ["cameras=[top]", "image_size=32", "max_steps=25", "progress=false", "episodes=3", "video_episodes=1",
            "policies=[expert,expert+noise:1.0,random]", "resampled_sim=true", "num_envs=3", "world_model=none"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "ev"
    cfg = load_config(EvalConfig, overrides=[*SETTINGS, f"out={out}"])
    run_evaluation(cfg)
    return cfg, out


@pytest.fixture(scope="module")
def self_check(report):
    """The simulator's records as a paired column, its replays run in the simulator: a perfect 'world model'."""
    cfg, out = report
    records = out / "records"
    shutil.copy(records / "simulator.jsonl", records / "simulator_selfcheck.jsonl")
    sim = make_columns(cfg)[0]
    column = Column("simulator_selfcheck", "simulator again (self-check, not a world model)", sim.env_id,
                    sim.env_kwargs)
    specs = resolve_policies(cfg)
    described = describe_env(cfg, specs)
    keys = tuple(recorded_keys(specs, cfg.episodes, cfg.video_episodes))
    run_lane(Lane("selfcheck", (Replays(column, "simulator", keys),)), cfg, described, notify=lambda event: None)
    store = RecordStore(out, json.loads((records / "evaluation.json").read_text())["identity"], {})
    index = build_report(cfg, [sim, column], specs, store, described)
    return json.loads((out / "results.json").read_text()), index


def test_resampled_column_is_compared_and_labelled(report):
    _, out = report
    results = json.loads((out / "results.json").read_text())
    names = [c["name"] for c in results["columns"]]
    assert names == ["simulator", "simulator_resampled"]
    assert "not a world model" in results["columns"][1]["label"]
    a = results["agreement"]["simulator_resampled"]
    assert set(a) >= {"pearson", "spearman", "mmrv", "mean_abs_error", "slope", "intercept"}
    assert 0.0 <= a["mmrv"] <= 1.0 and a["paired_outcome_agreement"] is None
    assert "NOT a world model" in (out / "index.html").read_text()
    seeds = {json.loads(x)["seed"] for x in (out / "records" / "simulator_resampled.jsonl").read_text().splitlines()}
    assert seeds == {1_000_000, 1_000_001, 1_000_002}


def test_self_check_column_agrees_perfectly(self_check):
    results, _ = self_check
    a = results["agreement"]["simulator_selfcheck"]
    assert a["pearson"] == pytest.approx(1.0) and a["spearman"] == pytest.approx(1.0)
    assert a["mmrv"] == 0.0 and a["mean_abs_error"] == 0.0 and a["paired_outcome_agreement"] == 1.0
    curve = results["fidelity"]["simulator_selfcheck"]["top"]
    assert len(curve["psnr"]) > 1 and set(curve["psnr"]) == {100.0} and np.allclose(curve["ssim"], 1.0)
    assert len(results["videos"]) == 3 and all("simulator again" in v["caption"] for v in results["videos"])


def copied_column_report(report, tmp_path_factory, train: list[str]) -> dict:
    """The report of a copy of the folder with a 'world_model' column that is the simulator's own
    records (not a world model), its folder listing ``train`` as its training policies."""
    cfg, out = report
    copy = tmp_path_factory.mktemp("copied") / "ev"
    shutil.copytree(out, copy)
    shutil.copy(copy / "records" / "simulator.jsonl", copy / "records" / "world_model.jsonl")
    folder = tmp_path_factory.mktemp("wm")
    (folder / "config.yaml").write_text("provenance:\n  train_policies: [" + ", ".join(train) + "]\n")
    sim, resampled = make_columns(cfg)
    column = Column("world_model", "simulator's records again (not a world model)", sim.env_id,
                    {"checkpoint": str(folder)}, own_frames=False)
    cfg = dataclasses.replace(cfg, out=str(copy))
    specs = resolve_policies(cfg)
    store = RecordStore(copy, json.loads((copy / "records" / "evaluation.json").read_text())["identity"], {})
    build_report(cfg, [sim, column, resampled], specs, store, describe_env(cfg, specs))
    return {"results": json.loads((copy / "results.json").read_text()), "html": (copy / "index.html").read_text()}


def test_agreement_has_bootstrap_intervals_and_an_unseen_policy_part(report, tmp_path_factory):
    got = copied_column_report(report, tmp_path_factory, ["play"])       # every evaluated policy is unseen
    results = got["results"]
    same = results["agreement"]["world_model"]
    assert same["paired"] is True and same["resamples"] == 1000 and same["paired_outcome_agreement"] == 1.0
    assert same["mmrv_ci"] == [0.0, 0.0]             # drawn jointly, identical columns agree in every resample
    resampled = results["agreement"]["simulator_resampled"]
    assert resampled["paired"] is False and resampled["mmrv_ci"][0] <= resampled["mmrv"] <= resampled["mmrv_ci"][1]
    unseen = results["unseen"]
    assert unseen["train_policies"] == ["play"] and unseen["policies"] == results["policies"]
    assert unseen["agreement"]["world_model"]["mmrv_ci"] == [0.0, 0.0]
    assert unseen["agreement"]["world_model"]["policies"] == results["policies"]
    assert "did not see in training" in got["html"] and "percentile-bootstrap intervals" in got["html"]
    assert f"<span class='ci'>[{same['mmrv_ci'][0]:.3f}, {same['mmrv_ci'][1]:.3f}]</span>" in got["html"]


def test_fewer_than_three_unseen_policies_get_a_note_not_numbers(report, tmp_path_factory):
    unseen = copied_column_report(report, tmp_path_factory, ["expert"])["results"]["unseen"]
    assert unseen["policies"] == ["expert+noise:1.0", "random"] and unseen["agreement"] == {}
    assert "needs at least 3" in unseen["note"]


def chromium(*args, timeout=90):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def console_lines(page: Path) -> tuple[list[str], str]:
    run = chromium("--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    return [x for x in run.stderr.splitlines() if ":CONSOLE" in x], run.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)")
def test_report_opens_in_chromium_without_console_errors(self_check, tmp_path):
    _, index = self_check
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")
    assert console_lines(bad)[0], "the console check must see a broken page's errors"
    messages, dom = console_lines(index)
    assert messages == []
    assert 'data-ready="1"' in dom                      # the inline script ran to its end
    assert dom.count("<video") == 3 and dom.count("<svg") >= 4


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)")
def test_report_screenshot_is_not_blank(self_check, tmp_path):
    from PIL import Image

    _, index = self_check
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1100,1600", "--hide-scrollbars", index.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB"), np.float32)
    ink = (pixels.min(axis=2) < 200).mean()              # share of pixels that are not near-white
    colour = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()   # plots and video posters are coloured
    assert pixels.shape[:2] == (1600, 1100) and ink > 0.01 and colour > 0.002
