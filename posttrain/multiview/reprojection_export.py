"""Export a driving reprojection run as the world-model folder ``worldsim/DrivingWorldModel-v0`` loads.

    python -m posttrain.multiview.reprojection_export --run runs/drive_reproj --out assets/world_models/driving_reprojection

``config.yaml``: the filler's config, the simulator it imitates (``sim``: env id, cameras in the
model's order, image size, spaces, as the dataset recorded them) and the training run's config;
``model.safetensors``: ``filler.*`` and ``ego.*``; ``metrics.json``: the run's held-out metrics.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from posttrain.multiview.reprojection_config import ARCHITECTURE


def export(run: str, out: str) -> Path:
    from omegaconf import OmegaConf

    from posttrain.common.bundle import sim_spec
    from posttrain.multiview.reprojection_config import DrivingReprojectionTrainConfig
    from posttrain.pixel_unet.train import CKPT
    from worldsim.config import load_config, to_dict
    from worldsim.io import read_json, read_tensors, write_tensors

    cfg = load_config(DrivingReprojectionTrainConfig, Path(run) / "config.yaml")
    cameras = read_json(Path(run) / "metrics.json")["cameras"]
    tensors = {f"filler.{k}": v for k, v in read_tensors(Path(run) / CKPT / "model.safetensors").items()}
    tensors |= {f"ego.{k}": v for k, v in read_tensors(Path(run) / "ego_motion.safetensors").items()}
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"architecture": ARCHITECTURE, "net": to_dict(cfg.net), "sim": sim_spec(cfg.data, cameras),
              "render_switch": True, "train": to_dict(cfg)}    # its state never comes from the views
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    write_tensors(folder / "model.safetensors", tensors)
    shutil.copy(Path(run) / "metrics.json", folder / "metrics.json")
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a python -m posttrain.multiview.reprojection_train run folder")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    print(export(args.run, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
