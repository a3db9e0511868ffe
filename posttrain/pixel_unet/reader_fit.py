"""Fit the state reader (and, where the data has the simulator's state, the yaw reader) once, to a folder.

    python -m posttrain.pixel_unet.reader_fit --data runs/push_wm --seg-data runs/push_seg --out runs/reader

The colour classes come from ``--seg-data`` (a dataset with ``observation.segmentation.<camera>``),
the centroid-to-metres map from the training episodes of ``--data`` (every 4th frame), and the
yaw reader from the same frames when ``--data`` has ``observation.sim_state``. The held-out
episodes (the last ``--holdout``) give the errors in ``reader.json``. A layout-conditioned
generator trains with this folder (``PixelTrainConfig.reader``) and export packs it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from posttrain.pixel_unet.data import Episodes, load_episodes
from posttrain.pixel_unet.reader import OBJECTS, ReaderConfig, StateReader, class_targets, fit_pixels, fit_positions
from posttrain.pixel_unet.yaw_reader import YawReader, YawReaderConfig, fit_yaw, yaw_error_deg

YAW = 4  # index of the block's yaw in the TabletopPush sim_state


def seg_frames(root: str, camera: str, objects: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    labels = reader.info.get("worldsim", {}).get("segmentation_labels")
    key = f"observation.segmentation.{camera}"
    if not labels or key not in reader.features:
        raise ValueError(f"{root} has no {key}: make it with `worldsim generate ... segmentation=true`")
    frames, classes = [], []
    for i in range(reader.num_episodes):
        ep = reader.read_episode(i)
        frames.append(torch.from_numpy(ep[f"observation.images.{camera}"]).permute(0, 3, 1, 2).float() / 127.5 - 1)
        classes.append(torch.from_numpy(class_targets(ep[key], labels, objects)))
    return torch.cat(frames), torch.cat(classes)


def frames_of(episodes: Episodes, idx: np.ndarray) -> torch.Tensor:
    return episodes.frames[torch.from_numpy(idx)].float() / 127.5 - 1.0


def frame_split(episodes: Episodes, holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the training episodes (every 4th frame) and of the held-out episodes."""
    cut = episodes.starts[-holdout]
    return np.arange(0, cut, 4), np.arange(cut, len(episodes.frames))


@torch.no_grad()
def reader_error(reader: StateReader, frames: torch.Tensor, positions: torch.Tensor) -> dict:
    err = (reader(frames) - positions).norm(dim=-1) * 100  # (F, objects) cm
    return {f"{name}_cm_mean": float(err[:, i].mean()) for i, name in enumerate(reader.cfg.objects)} | \
        {f"{name}_cm_p95": float(err[:, i].quantile(0.95)) for i, name in enumerate(reader.cfg.objects)}


def fit_state_reader(episodes: Episodes, seg_root: str, camera: str, train_idx, test_idx) -> tuple[StateReader, dict]:
    reader = StateReader(ReaderConfig())
    frames, classes = seg_frames(seg_root, camera, list(OBJECTS))
    fit_pixels(reader, frames, classes)
    fit_positions(reader, frames_of(episodes, train_idx), episodes.states[torch.from_numpy(train_idx)].view(-1, 3, 2))
    reader.eval().requires_grad_(False)
    return reader, reader_error(reader, frames_of(episodes, test_idx),
                                episodes.states[torch.from_numpy(test_idx)].view(-1, 3, 2))


def fit_yaw_reader(reader: StateReader, episodes: Episodes, train_idx, test_idx) -> tuple[YawReader, dict]:
    block = reader.cfg.objects.index("block")
    yaw_reader = YawReader(YawReaderConfig())
    with torch.no_grad():
        uv_train = reader.centroids(frames_of(episodes, train_idx))[0][:, block]
        test_frames = frames_of(episodes, test_idx)
        uv_test = reader.centroids(test_frames)[0][:, block]
    loss = fit_yaw(yaw_reader, frames_of(episodes, train_idx), uv_train,
                   episodes.sim_states[torch.from_numpy(train_idx), YAW])
    yaw_reader.eval().requires_grad_(False)
    with torch.no_grad():
        err = yaw_error_deg(yaw_reader(test_frames, uv_test), episodes.sim_states[torch.from_numpy(test_idx), YAW])
    return yaw_reader, {"yaw_deg_mean": float(err.mean()), "yaw_deg_p95": float(err.quantile(0.95)),
                        "yaw_fit_loss": loss}


def save_readers(out: str, reader: StateReader, yaw_reader: YawReader | None, metrics: dict) -> Path:
    from worldsim.config import to_dict
    from worldsim.io import tensor_state, write_json, write_tensors

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"reader.{k}": v for k, v in tensor_state(reader).items()}
    if yaw_reader is not None:
        tensors.update({f"yaw_reader.{k}": v for k, v in tensor_state(yaw_reader).items()})
    write_tensors(folder / "readers.safetensors", tensors)
    write_json(folder / "readers.json", {"reader": to_dict(reader.cfg), "metrics": metrics,
                                         "yaw_reader": to_dict(yaw_reader.cfg) if yaw_reader is not None else None})
    return folder


def load_readers(folder: str) -> tuple[StateReader, YawReader | None, dict]:
    """(state reader, yaw reader or None, metrics) from a folder ``save_readers`` wrote."""
    from posttrain.common.bundle import prefixed
    from worldsim.config import structured
    from worldsim.io import load_tensor_state, read_json, read_tensors

    path = Path(folder)
    if not (path / "readers.json").is_file():
        raise ValueError(f"{folder} has no readers.json; make it with python -m posttrain.pixel_unet.reader_fit")
    meta, tensors = read_json(path / "readers.json"), read_tensors(path / "readers.safetensors")
    reader = StateReader(structured(ReaderConfig, meta["reader"]))
    load_tensor_state(reader, prefixed(tensors, "reader."))
    yaw_reader = None
    if meta.get("yaw_reader"):
        yaw_reader = YawReader(structured(YawReaderConfig, meta["yaw_reader"]))
        load_tensor_state(yaw_reader, prefixed(tensors, "yaw_reader."))
        yaw_reader.eval().requires_grad_(False)
    return reader.eval().requires_grad_(False), yaw_reader, meta["metrics"]


def fit(data: str, seg_data: str, out: str, camera: str = "top", holdout: int = 16) -> Path:
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    has_sim = "observation.sim_state" in LeRobotDatasetReader(data).features
    episodes = load_episodes(data, camera, sim_state=has_sim)
    if not 0 < holdout < len(episodes.lengths):
        raise ValueError(f"holdout={holdout}; need 1..{len(episodes.lengths) - 1} episodes of {data}")
    train_idx, test_idx = frame_split(episodes, holdout)
    reader, metrics = fit_state_reader(episodes, seg_data, camera, train_idx, test_idx)
    yaw_reader = None
    if has_sim:
        yaw_reader, yaw_metrics = fit_yaw_reader(reader, episodes, train_idx, test_idx)
        metrics.update(yaw_metrics)
    print({k: round(v, 3) for k, v in metrics.items()})
    return save_readers(out, reader, yaw_reader, metrics)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--seg-data", required=True)
    p.add_argument("--camera", default="top")
    p.add_argument("--holdout", type=int, default=16, help="last episodes of --data kept out of the fit")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    print(f"readers in {fit(args.data, args.seg_data, args.out, args.camera, args.holdout)}")


if __name__ == "__main__":
    main()
