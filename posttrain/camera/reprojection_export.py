"""Export a trained reprojection run as a world-model folder (``config.yaml``, ``model.safetensors``,
``metrics.json``) that ``worldsim/CameraWorld-v0`` loads.

    python -m posttrain.camera.reprojection_export --run runs/camera_reproj --out assets/world_models/camera_reprojection

The folder keeps the network's config, the dataset's camera intrinsics and motion scale (the
env's action units), and the run's held-out metrics.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from posttrain.camera.reprojection_config import ARCHITECTURE


def export(run: str, out: str) -> Path:
    from omegaconf import OmegaConf

    from posttrain.camera.reprojection_train import load_filler
    from worldsim.config import to_dict
    from worldsim.data.lerobot_reader import LeRobotDatasetReader
    from worldsim.io import tensor_state, write_tensors

    filler, cfg = load_filler(run)
    reader = LeRobotDatasetReader(cfg.data)
    intrinsics = reader.read_episode(0)[f"observation.camera.{cfg.camera}.intrinsics"][0]
    motion = reader.info["worldsim"]["config"]["motion"]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"architecture": ARCHITECTURE, "net": to_dict(cfg.net), "intrinsics": [float(x) for x in intrinsics.ravel()],
              "motion": dict(motion), "trained_on": cfg.data, "train": to_dict(cfg)}
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    write_tensors(folder / "model.safetensors", tensor_state(filler))
    if (Path(run) / "metrics.json").is_file():
        shutil.copy(Path(run) / "metrics.json", folder / "metrics.json")
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a python -m posttrain.camera.reprojection_train run folder")
    p.add_argument("--out", required=True, help="the world-model folder to write")
    args = p.parse_args(argv)
    print(export(args.run, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
