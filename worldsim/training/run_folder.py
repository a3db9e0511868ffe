"""The run folder ``<out>`` a training run owns: refused when it holds another run or other data.

    check_run_folder(Path("runs/tok"), run_config, defaults)   # ValueError naming every differing setting

Rerunning the same command on the same ``<out>`` resumes; only ``RESUMABLE_KEYS`` may differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

RUN_CONFIG = "config.yaml"
# settings that may change between a run and its resumption without making it another run
RESUMABLE_KEYS = {"trainer.steps", "trainer.log_every", "trainer.ckpt_every", "trainer.keep_last", "trainer.out",
                  "trainer.progress"}


def check_same_data(ckpt_dir: Path, saved: str | None, now: str | None) -> None:
    if saved and now and saved != now:
        raise ValueError(
            f"{ckpt_dir} was trained on data with fingerprint {saved}, the loader now reads {now}: the dataset "
            f"changed, so the saved loader position means nothing; train into a new out"
        )


def _flatten_keys(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(_flatten_keys(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree}


def check_run_folder(out: Path, config: dict, defaults: dict | None = None) -> None:
    """ValueError unless ``out`` is absent, empty, or a run of the same config (modulo RESUMABLE_KEYS).

    A setting the folder's config lacks (added to the code after the run started) counts as the same
    when it is at its default in ``defaults``, the value that keeps the behaviour the run had."""
    from worldsim.io.lock import contents

    if not out.exists() or (out.is_dir() and not contents(out)):
        return
    saved_path = out / RUN_CONFIG
    if not saved_path.is_file():
        raise ValueError(f"{out} is not empty and has no {RUN_CONFIG}: not a training run folder; choose another out")
    saved = _flatten_keys(OmegaConf.to_container(OmegaConf.load(saved_path), resolve=True))
    now = _flatten_keys(config)
    default = _flatten_keys(defaults) if defaults else {}
    added_at_default = {k for k in set(now) - set(saved) if k in default and now[k] == default[k]}
    diffs = [f"{k}: {saved.get(k, '<absent>')!r} in the folder, {now.get(k, '<absent>')!r} now"
             for k in sorted(set(saved) | set(now))
             if k not in RESUMABLE_KEYS and k not in added_at_default and saved.get(k) != now.get(k)]
    if diffs:
        raise ValueError(f"{out} holds another run (config differs: {'; '.join(diffs)}); "
                         f"use another out, or rerun with the same settings to resume")
