"""Train the driving reprojection model's U-Net: all six views of one moment lifted into one point
cloud by their depth, seen by one camera some steps later, completed into that camera's view.

    worldsim generate --env worldsim/DrivingMultiView-v0 --policy expert,expert+noise:0.3,expert+eps:0.3 \
        --episodes 48 --out runs/drive_depth64 "cameras=[front,front_left,front_right,back_left,back,back_right]" \
        image_size=64 depth=true segmentation=false camera_params=true workers=1 max_steps=60
    python -m posttrain.multiview.reprojection_train data=runs/drive_depth64 out=runs/drive_reproj steps=3000

A sample: an episode, a frame j, a later frame t (1 <= t - j <= ``max_gap``) and one camera; the
input is the rig's six views at j reprojected into that camera's pose at t plus that camera's own
view at j, the target its view at t (squared error). With ``net.views=6`` every camera of the moment
is a sample and the six are completed together (joint attention across the views); ``batch_size``
counts views. The net is the camera model's
(``posttrain.camera.reprojection.ViewFiller``). The last ``holdout_episodes`` are kept out for
``metrics.json`` (completed, bare reprojection and held-frame PSNR). Resumable checkpoints as
``posttrain.pixel_unet.train`` writes them. The ego-motion model (``ego_motion.py``) is fitted on
the same episodes at the end and saved beside the weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from posttrain.camera.reprojection import ViewFiller
from posttrain.multiview.reprojection_config import DrivingReprojectionTrainConfig
from posttrain.multiview.rig_data import RigEpisodes, load_rig


def samples(rig: RigEpisodes, eps: np.ndarray, n: int, max_gap: int, rng: np.random.Generator, views: int = 1):
    """(rows j, rows t, camera indices) of ``n`` random samples within episodes ``eps``; with
    ``views`` > 1, ``n // views`` moments whose every camera is a sample, rig-major."""
    m = n // views if views > 1 else n
    ep = rng.choice(eps, m)
    gap = np.minimum(rng.integers(1, max_gap + 1, m), rig.lengths[ep] - 1)
    j = rig.starts[ep] + rng.integers(0, rig.lengths[ep] - gap)
    if views == 1:
        return j, j + gap, rng.integers(0, len(rig.cameras), m)
    return np.repeat(j, views), np.repeat(j + gap, views), np.tile(np.arange(views), m)


def predict(filler: ViewFiller, rig: RigEpisodes, j: np.ndarray, t: np.ndarray, cam: np.ndarray, bare: bool = False):
    idx = torch.arange(len(j))
    view = filler.reproject_views(rig.frames[j], rig.depth[j], rig.intrinsics[j], rig.poses[j],
                                  rig.intrinsics[t, cam], rig.poses[t, cam])
    if bare:
        return view.rgb.float()
    return filler.complete(rig.frames[j, cam], view, rig.poses[j, cam], rig.poses[t, cam][idx])


@torch.no_grad()
def held_out_psnr(filler: ViewFiller, rig: RigEpisodes, held: np.ndarray, max_gap: int, n: int = 192) -> dict:
    from posttrain.pixel_unet.export import psnr

    views = filler.cfg.views
    j, t, cam = samples(rig, held, n, max_gap, np.random.default_rng(0), views)
    out, chunk = {"completed": [], "bare": []}, 6 * views if views > 1 else 32
    for i in range(0, len(j), chunk):
        s = slice(i, i + chunk)
        out["completed"].append(predict(filler, rig, j[s], t[s], cam[s]))
        out["bare"].append(predict(filler, rig, j[s], t[s], cam[s], bare=True))
    target = rig.frames[t, cam]
    return {"completed_psnr": psnr(torch.cat(out["completed"]), target), "reprojection_psnr": psnr(torch.cat(out["bare"]), target),
            "held_frame_psnr": psnr(rig.frames[j, cam], target), "samples": n, "max_gap": max_gap}


def train(cfg: DrivingReprojectionTrainConfig) -> Path:
    from posttrain.common.fit_loop import fit
    from posttrain.multiview.ego_motion import fit_ego_motion
    from posttrain.pixel_unet.train import lr_at, start_run
    from worldsim.io import write_json, write_tensors

    out = start_run(cfg)
    rig = load_rig(cfg.data, list(cfg.cameras) or None)
    if cfg.net.views not in (1, len(rig.cameras)):
        raise ValueError(f"net.views={cfg.net.views}: 1 (each view alone) or the rig's {len(rig.cameras)} cameras")
    episodes = np.arange(len(rig.lengths))
    if len(episodes) <= cfg.holdout_episodes:
        raise ValueError(f"{cfg.data} has {len(episodes)} episodes; holdout_episodes={cfg.holdout_episodes} leaves none")
    train_eps, held = episodes[:len(episodes) - cfg.holdout_episodes], episodes[len(episodes) - cfg.holdout_episodes:]
    torch.manual_seed(cfg.seed)
    filler = ViewFiller(cfg.net)

    def batch_loss(step: int, rng, gen):
        j, t, cam = samples(rig, train_eps, cfg.batch_size, cfg.max_gap, rng, cfg.net.views)
        return ((predict(filler, rig, j, t, cam) - rig.frames[t, cam]) ** 2).mean(), ""

    ckpt = fit(filler, cfg, batch_loss, lr_at, "train driving view filler")
    ego, ego_metrics = fit_ego_motion(rig, train_eps, held, cfg.seed)
    write_tensors(out / "ego_motion.safetensors", {k: v.contiguous() for k, v in ego.state_dict().items()})
    write_json(out / "metrics.json", {**held_out_psnr(filler.eval(), rig, held, cfg.max_gap), **ego_metrics,
                                      "cameras": rig.cameras}, indent=2)
    return ckpt


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config
    from worldsim.io.lock import hold_folder

    cfg = load_config(DrivingReprojectionTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    with hold_folder(cfg.out, "python -m posttrain.multiview.reprojection_train"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
