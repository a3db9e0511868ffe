"""Export a trained look renderer as a model folder ``worldsim augment`` loads (``look_model.LookModel``).

    python -m posttrain.transfer.look_export --run runs/look/renderer --out assets/world_models/look_tabletop

The folder holds ``config.yaml`` (architecture ``look_renderer``, the network with the snapshot of
the scene whose looks it draws, the camera), ``model.safetensors`` and the run's ``metrics.json``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from posttrain.transfer.look_config import ARCHITECTURE


def export(run: str, out: str) -> Path:
    from omegaconf import OmegaConf

    from posttrain.transfer.look_train import load_renderer
    from worldsim.config import to_dict
    from worldsim.io import tensor_state, write_tensors

    renderer, cfg = load_renderer(run)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"architecture": ARCHITECTURE, "net": to_dict(cfg.net), "camera": cfg.camera,
              "trained_on": cfg.data, "train": to_dict(cfg)}
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    write_tensors(folder / "model.safetensors", tensor_state(renderer))
    if (Path(run) / "metrics.json").is_file():
        shutil.copy(Path(run) / "metrics.json", folder / "metrics.json")
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a python -m posttrain.transfer.look_train run folder")
    p.add_argument("--out", required=True, help="the model folder to write")
    args = p.parse_args(argv)
    print(export(args.run, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
