"""``worldsim augment``: re-render a dataset (or Replicator folder) through a transfer model.

    worldsim augment --model assets/world_models/transfer_tabletop --data runs/push --out runs/push_aug looks=3
    worldsim augment --model M --source replicator:renders/ --out runs/aug controls.names=[edge,depth] \
        controls.edge.where=[pusher] controls.edge.elsewhere=0

For every source episode and every look (a seed), new frames are generated and an episode is
written with the original actions, states, rewards, success flags and length, only
``observation.images.<cam>`` replaced. Episode ``e * looks + k`` is look ``k`` of source episode
``e`` (with ``include_source=true`` each source episode comes first, unchanged: episode
``e * (looks + 1)`` is the source and ``e * (looks + 1) + 1 + k`` its look ``k``). A look's seed is
``seed + k`` (``shared_looks=true``, the default) or a draw of its own (``shared_looks=false``:
every episode in looks no other episode has). Two kinds of model:
- a transfer DiT (``worldsim posttrain transfer``): control maps are computed from the source's
  frames, depth and segmentation (worldsim/conditioning/) and the clip is sampled from noise
  (posttrain/transfer/sample.py); the control settings start from the model's own (``controls.*``
  overrides change names, presets, weights and ``where`` masks);
- a look renderer (``posttrain/transfer/look_model.py``): the source's frames, depth and
  segmentation are redrawn in the look the seed draws (materials, lights, gain, sensor noise);
  it takes all three, unweighted.

Resumable: finished episodes are staged under ``<out>/.worldsim/``; rerunning the same command
continues, and a finished ``--out`` is returned as is. An ``--out`` holding anything else (another
model, source or config) is refused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from posttrain.augment.generators import Generator, look_seed
from worldsim.config import to_dict
from worldsim.io.files import remove_partial
from worldsim.io.lock import contents, hold_folder

STATE = ".worldsim"
SOURCE = -1   # the "look" that is the source's own frames (include_source=true)


def _file_hash(path: Path) -> str:
    from worldsim.io import MODEL, resolve_checkpoint

    return hashlib.sha256((resolve_checkpoint(path) / MODEL).read_bytes()).hexdigest()[:16]


def _claim(out: Path, manifest: dict) -> bool:
    """True if ``out`` is already a finished run of this manifest; creates the staging folder."""
    state = out / STATE
    saved = json.loads((state / "augment.json").read_text()) if (state / "augment.json").is_file() else None
    if saved is None and contents(out):
        raise ValueError(f"--out {out} already holds files that are not a `worldsim augment` run; give a new folder")
    if saved is not None and saved["run"] != manifest["run"]:
        changed = [k for k in manifest["run"] if saved["run"].get(k) != manifest["run"][k]]
        raise ValueError(f"--out {out} holds an augment run with another {', '.join(changed)}; give a new folder")
    (state / "episodes").mkdir(parents=True, exist_ok=True)
    remove_partial(state / "episodes", "*.tmp.npy")   # looks a kill cut short (generated again)
    if saved is None:
        (state / "augment.json").write_text(json.dumps(manifest, indent=2))
    return bool(saved and saved.get("status") == "complete")


def augment_command(model, data, source, out, config_yaml=None, overrides=()) -> Path:
    """Run (or resume) ``worldsim augment`` into ``out``, holding its lock (one run per folder)."""
    from worldsim.io.lock import check_folder_path

    check_folder_path(out)
    with hold_folder(out, "worldsim augment"):
        return _augment(model, data, source, out, config_yaml, overrides)


def _augment(model, data, source, out, config_yaml=None, overrides=()) -> Path:
    from posttrain.augment.sources import open_source

    gen = Generator(model, config_yaml, overrides)
    cfg = gen.cfg
    src = open_source(data, source, cfg.camera or gen.camera, cfg.controls.names)
    if gen.image_hw and tuple(gen.image_hw) != tuple(src.image_hw):
        raise ValueError(f"the model was trained on {gen.image_hw[0]}x{gen.image_hw[1]} frames; the source's "
                         f"{src.image_key} is {src.image_hw[0]}x{src.image_hw[1]}; use a model for that size")
    episodes = list(cfg.episodes) or list(range(src.num_episodes))
    bad = [e for e in episodes if not 0 <= e < src.num_episodes]
    if bad:
        raise ValueError(f"episodes {bad} out of range: the source has {src.num_episodes}")
    out = Path(out)
    manifest = {"run": {"model": _file_hash(Path(model)), "source": src.fingerprint, "config": to_dict(cfg)}}
    if _claim(out, manifest):
        return out
    looks = ([SOURCE] if cfg.include_source else []) + list(range(cfg.looks))
    jobs = [(e, k) for e in episodes for k in looks]
    staged = out / STATE / "episodes"
    with torch.no_grad():
        for e, k in tqdm(jobs, desc="augmenting", unit="episode", dynamic_ncols=True):
            path = staged / f"ep{e:06d}_look{k:03d}.npy"
            if k != SOURCE and not path.is_file():
                frames = gen(src.episode(e)[1], look_seed(cfg, e, k))
                np.save(path.with_suffix(".tmp.npy"), frames, allow_pickle=False)
                path.with_suffix(".tmp.npy").replace(path)
    _assemble(src, jobs, out, manifest, staged)
    return out


def _assemble(src, jobs, out: Path, manifest: dict, staged: Path) -> None:
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

    tmp = out / STATE / "assembling"
    shutil.rmtree(tmp, ignore_errors=True)
    extra = {"worldsim": {"augmented_from": manifest["run"]["source"], "augment_model": manifest["run"]["model"],
                          "segmentation_labels": {str(k): v for k, v in src.labels.items()}}}
    writer = LeRobotWriter(tmp, WriterConfig(fps=src.fps, features=src.features, robot_type=src.robot_type,
                                             extra_info=extra))
    for e, k in tqdm(jobs, desc="writing dataset", unit="episode", dynamic_ncols=True):
        arrays, _, task = src.episode(e)
        if k != SOURCE:
            arrays[src.image_key] = np.load(staged / f"ep{e:06d}_look{k:03d}.npy", allow_pickle=False)
        writer.add_episode(arrays, task=task)
    writer.finalize()
    for part in tmp.iterdir():
        target = out / part.name
        shutil.rmtree(target, ignore_errors=True)
        part.rename(target)
    shutil.rmtree(staged, ignore_errors=True)
    (out / STATE / "augment.json").write_text(json.dumps({**manifest, "status": "complete"}, indent=2))
