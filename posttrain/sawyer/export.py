"""Make a Sawyer (Meta-World) world-model folder: trained dynamics, painter, optional reader, the simulator's spec.

    python -m posttrain.sawyer.export --data runs/mw_push_c4 --dynamics runs/mw_push_dyn \
        --painter runs/mw_push_painter --out assets/world_models/metaworld_push [--reader runs/mw_push_reader]
    python -m posttrain.sawyer.export --from assets/world_models/metaworld_drawer_open \
        --dynamics runs/mw_drawer_dyn2_s1 --out runs/wm_drawer_s1      # other dynamics, the same painter and reader
    python -m posttrain.sawyer.export --from ... --dynamics runs/dyn_s0,runs/dyn_s1,runs/dyn_s2 --out ...   # an ensemble
    python -m posttrain.sawyer.export --from ... --reader runs/mw_drawer_reader5 --out ...   # another reader

``--data`` is the rendered dataset the painter trained on: it gives the simulator's spec (env id,
task, camera, spaces) and ``reset_state``, the mean first state of its episodes (every Meta-World
reset leaves the arm in the same pose; only the object and the goal differ, and ``start`` takes
those from the first observation). The folder (posttrain.common.bundle layout: ``model.safetensors``
with ``dynamics.*``, ``painter.*`` and ``reader.*``; ``config.yaml`` saying ``family: sawyer``;
``meta.json`` with the runs' held-out metrics) loads with ``gym.make("worldsim/WorldModel-v0",
checkpoint=...)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from posttrain.sawyer.config import GOAL, OBJ, OBJ_QUAT, STATE_NAMES
from posttrain.sawyer.world_model import FAMILY

VARYING = set(range(OBJ.start, OBJ_QUAT.stop)) | set(range(GOAL.start, GOAL.stop))   # what a reset draws


def reset_state(data: str) -> list[float]:
    """The mean first state of the dataset's episodes; ValueError if anything a reset should not
    change (the arm, hand, mocap, fingers) differs between them by more than 1 mm / 0.01 rad."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(data)
    if "observation.sim_state" not in reader.features:
        raise ValueError(f"{data} has no observation.sim_state: make it with `worldsim generate ... sim_state=true`")
    first = np.stack([reader.read_episode(i)["observation.sim_state"][0] for i in range(reader.num_episodes)])
    spread = first.std(0)
    moving = [f"{STATE_NAMES[i]} ({spread[i]:.4f})" for i in range(len(STATE_NAMES))
              if i not in VARYING and spread[i] > 1e-3]
    if moving:
        raise ValueError(f"{data}: the episodes do not start from one arm pose; these vary: {', '.join(moving)}")
    return [float(v) for v in first.mean(0)]


def policies_of(datasets: list[str]) -> list[str]:
    """The policy specs whose episodes make up ``datasets`` (``worldsim generate`` records each episode's)."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    specs = set()
    for root in datasets:
        specs.update(LeRobotDatasetReader(root).info.get("worldsim", {}).get("episode_policy") or [])
    return sorted(specs)


def dynamics_part(dynamics: str) -> tuple[dict, dict, list[str]]:
    """A dynamics run, or several comma-separated (an ensemble: ``ensemble.py``) -> their tensors
    (``dynamics.*``, or ``dynamics.<i>.*`` per member), the folder's ``dynamics`` section and the
    datasets they trained on."""
    from posttrain.sawyer.dynamics_train import load_dynamics
    from posttrain.sawyer.ensemble import DynamicsEnsemble
    from worldsim.config import to_dict
    from worldsim.io import tensor_state

    runs = [r.strip() for r in dynamics.split(",") if r.strip()]
    if not runs:
        raise ValueError(f"--dynamics {dynamics!r} names no run: give a dynamics_train run folder, or several "
                         "comma-separated")
    loaded = [load_dynamics(r) for r in runs]
    DynamicsEnsemble([dyn for dyn, _ in loaded])   # refuses members whose network configs differ
    first = loaded[0][1]
    section = {"net": to_dict(first.net), "train": to_dict(first)}
    if len(runs) == 1:
        tensors = {f"dynamics.{k}": v for k, v in tensor_state(loaded[0][0]).items()}
        return tensors, section, first.data.split(",")
    tensors = {f"dynamics.{i}.{k}": v for i, (dyn, _) in enumerate(loaded) for k, v in tensor_state(dyn).items()}
    section.update(members=len(runs), runs=runs, seeds=[cfg.seed for _, cfg in loaded])
    data = sorted({d for _, cfg in loaded for d in cfg.data.split(",")})
    return tensors, section, data


def export(data: str, dynamics: str, painter: str, out: str, reader: str | None = None) -> Path:
    from posttrain.common.bundle import sim_spec, write_bundle
    from posttrain.sawyer.painter_train import load_painter
    from worldsim.config import to_dict
    from worldsim.io import read_json, tensor_state

    tensors, section, dyn_data = dynamics_part(dynamics)
    paint, paint_cfg = load_painter(painter)
    sim = sim_spec(data, [paint_cfg.camera])
    if (sim["height"], sim["width"]) != (paint_cfg.net.height, paint_cfg.net.width):
        raise ValueError(f"painter {painter} paints {paint_cfg.net.height}x{paint_cfg.net.width}; {data} is "
                         f"{sim['height']}x{sim['width']}")
    tensors.update({f"painter.{k}": v for k, v in tensor_state(paint).items()})
    metrics = {"painter": read_json(Path(painter) / "metrics.json")}
    config = {"family": FAMILY, "sim": sim, "default_predictor": "painter", "predictors": {"painter": {"kind": "painter"}},
              "dynamics": section,
              "painter": {"net": to_dict(paint_cfg.net), "train": to_dict(paint_cfg)},
              "reset_state": reset_state(data),
              "provenance": {"data": str(data), "dynamics": str(dynamics), "painter": str(painter),
                             "reader": str(reader),
                             "train_policies": policies_of([data, *dyn_data])}}
    if reader:
        new, config["reader"], metrics["reader"] = reader_part(reader)
        tensors.update(new)
    return write_bundle(out, config, {k: torch.as_tensor(v) for k, v in tensors.items()}, metrics)


def reader_part(reader: str) -> tuple[dict, dict, dict]:
    """A reader run -> its tensors (``reader.*``), the folder's ``reader`` section and its held-out metrics."""
    from posttrain.sawyer.reader_fit import load_reader_run
    from worldsim.io import read_json, tensor_state

    model, section = load_reader_run(reader)
    return {f"reader.{k}": v for k, v in tensor_state(model).items()}, section, read_json(Path(reader) / "metrics.json")


def with_parts(folder: str, out: str, dynamics: str | None = None, reader: str | None = None) -> Path:
    """A copy of the Sawyer folder ``folder`` with the run ``dynamics`` and/or ``reader`` in place of
    its own (the painter, the other part and the simulator's spec kept): new parts without rendering
    the painter's data again."""
    from posttrain.common.bundle import read_bundle, write_bundle

    config, tensors, meta = read_bundle(folder)
    if config.get("family") != FAMILY:
        raise ValueError(f"{folder} is a {config.get('family')!r} folder; --from takes a {FAMILY!r} one")
    metrics = dict(meta.get("metrics", {}))
    while "architecture" in metrics and "metrics" in metrics:   # copies made before 2026-12-06 nested the whole meta
        metrics = dict(metrics["metrics"])
    provenance = dict(config["provenance"])
    if dynamics:
        new, config["dynamics"], dyn_data = dynamics_part(dynamics)
        tensors = {**{k: v for k, v in tensors.items() if not k.startswith("dynamics.")}, **new}
        provenance.update(dynamics=str(dynamics), dynamics_from=str(folder), train_policies=sorted(
            set(provenance["train_policies"]) | set(policies_of(dyn_data))))
    if reader:
        new, config["reader"], metrics["reader"] = reader_part(reader)
        tensors = {**{k: v for k, v in tensors.items() if not k.startswith("reader.")}, **new}
        provenance.update(reader=str(reader), reader_from=str(folder))
    config["provenance"] = provenance
    return write_bundle(out, config, {k: torch.as_tensor(v) for k, v in tensors.items()}, metrics)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="the rendered dataset the painter trained on")
    p.add_argument("--from", dest="source", default=None, help="a Sawyer folder whose painter to keep, and its "
                   "dynamics or reader where --dynamics or --reader does not replace them (then no --data, --painter)")
    p.add_argument("--dynamics", default=None, help="run folder of python -m posttrain.sawyer.dynamics_train, or "
                   "several comma-separated: an ensemble whose episodes each follow one member")
    p.add_argument("--painter", default=None, help="run folder of python -m posttrain.sawyer.painter_train")
    p.add_argument("--reader", default=None, help="run folder of python -m posttrain.sawyer.reader_fit (perception)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.source:
        if args.data or args.painter:
            p.error("--from keeps the folder's painter: give --dynamics and/or --reader, and --out, with it")
        if not (args.dynamics or args.reader):
            p.error("--from FOLDER needs --dynamics or --reader (or both): the part(s) to replace")
        print(f"world model in {with_parts(args.source, args.out, args.dynamics, args.reader)}")
    elif not (args.data and args.painter and args.dynamics):
        p.error("--data, --dynamics and --painter are required (or --from FOLDER to keep an existing folder's)")
    else:
        print(f"world model in {export(args.data, args.dynamics, args.painter, args.out, args.reader)}")


if __name__ == "__main__":
    main()
