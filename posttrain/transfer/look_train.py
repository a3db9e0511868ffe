"""Train the look renderer on renders of the same layouts in random looks, resumably.

    python -m posttrain.transfer.data --out runs/look/train episodes=160 looks=4 max_steps=40
    python -m posttrain.transfer.look_train data=runs/look/train out=runs/look/renderer steps=3000

A sample is one frame of one look: the canonical render of the look's (offset) camera, its depth and
segmentation, the look's vector (``observation.look``) and, as the target, the frame rendered in that
look (``observation.images.<cam>``, sensor noise and all; the loss is the absolute error, so the noise
averages out). With ``input_looks`` a share of the samples start from the same moment in another
look instead of the canonical frame, so a frame in any look (a real photo, a Replicator render) can be
redrawn. The last ``holdout_layouts`` layouts, every look of them, are kept out for
``metrics.json``: PSNR of the rendered looks against the true ones, and of the canonical frame (what
the renderer starts from). Checkpoints (safetensors) as ``posttrain.pixel_unet.train`` writes them;
rerunning resumes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posttrain.transfer.look_config import LookRendererConfig, LookTrainConfig
from posttrain.transfer.look_renderer import LookRenderer, class_indices


@dataclass
class LookFrames:
    canonical: torch.Tensor   # (N, 3, H, W) uint8
    target: torch.Tensor      # (N, 3, H, W) uint8: the frame in its look
    depth: torch.Tensor       # (N, H, W) float16 metres
    classes: torch.Tensor     # (N, H, W) uint8 class index
    look: torch.Tensor        # (N, D) float32
    layout: np.ndarray        # (N,) the layout (policy episode) each frame belongs to
    siblings: np.ndarray      # (N, looks) the rows of the same moment of the layout in each of its looks


def renderer_config(reader, cfg: LookTrainConfig) -> LookRendererConfig:
    """The network config with the dataset's classes, its scene's looks and their vector layout filled in."""
    from worldsim.conditioning.control_sources import dataset_labels
    from worldsim.looks.randomize import SceneLooks
    from worldsim.looks.vector import LookSpace

    snapshot = reader.info.get("worldsim", {}).get("scene_looks")
    dim = reader.features.get("observation.look", {}).get("shape", [None])[0]
    if snapshot is None or dim is None:
        raise ValueError(f"{reader.root} has no looks (observation.look and the scene_looks of its info.json); "
                         "make the data with `python -m posttrain.transfer.data`")
    space, labels = LookSpace.of(SceneLooks.from_dict(snapshot)), dataset_labels(reader)
    if dim != space.dim:
        raise ValueError(f"{reader.root} has observation.look of length {dim}; its scene's looks give {space.dim}")
    classes = [labels[k] for k in sorted(labels)]
    return LookRendererConfig(**{**vars(cfg.net), "classes": classes, "look_dim": space.dim, "scene_looks": snapshot,
                                 "palette": [space.colour_index(c) for c in classes]})


def load_look_frames(reader, camera: str, classes: list[str]) -> LookFrames:
    from worldsim.conditioning.control_sources import dataset_labels

    labels, looks = dataset_labels(reader), int(reader.info.get("worldsim", {}).get("randomized_looks", 1))
    parts: dict[str, list] = {k: [] for k in ("canonical", "target", "depth", "classes", "look", "layout")}
    lengths = np.asarray(reader.episode_lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for e in range(reader.num_episodes):
        ep = reader.read_episode(e)
        parts["canonical"].append(ep[f"observation.canonical.{camera}"])
        parts["target"].append(ep[f"observation.images.{camera}"])
        parts["depth"].append(np.asarray(ep[f"observation.depth.{camera}"], np.float16)[..., 0])
        parts["classes"].append(class_indices(ep[f"observation.segmentation.{camera}"][..., 0], labels,
                                              classes).astype(np.uint8))
        parts["look"].append(np.asarray(ep["observation.look"], np.float32))
        parts["layout"].append(np.full(len(ep["observation.look"]), e // looks))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    image = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    first = starts[(cat["layout"] * looks)[:, None] + np.arange(looks)]          # (N, looks) episode starts
    moment = np.arange(len(cat["layout"])) - np.repeat(starts, lengths)          # each row's frame index
    return LookFrames(image(cat["canonical"]), image(cat["target"]), torch.from_numpy(cat["depth"]),
                      torch.from_numpy(cat["classes"]), torch.from_numpy(cat["look"]), cat["layout"],
                      first + moment[:, None])


def render(renderer: LookRenderer, frames: LookFrames, rows, source=None) -> torch.Tensor:
    """Frames ``rows`` in their looks, drawn from their canonical frames (or ``source``, uint8 images)."""
    source = frames.canonical[rows] if source is None else source
    return renderer(source.float() / 127.5 - 1, frames.depth[rows].float(), frames.classes[rows].long(),
                    frames.look[rows])


def sources(frames: LookFrames, rows: np.ndarray, share: float, rng) -> torch.Tensor:
    """The images ``rows`` are drawn from: their canonical frames, except for a ``share`` of them the same
    moment in another look of the layout."""
    out = frames.canonical[rows].clone()
    if share > 0 and frames.siblings.shape[1] > 1:
        pick = frames.siblings[rows, rng.integers(0, frames.siblings.shape[1], len(rows))]
        swap = (rng.random(len(rows)) < share) & (pick != rows)
        out[torch.from_numpy(swap)] = frames.target[pick[swap]]
    return out


@torch.no_grad()
def held_out_psnr(renderer: LookRenderer, frames: LookFrames, rows: np.ndarray, n: int = 512) -> dict:
    from posttrain.pixel_unet.export import psnr

    rows = np.random.default_rng(0).choice(rows, min(n, len(rows)), replace=False)
    out = torch.cat([render(renderer, frames, rows[i:i + 64]).clamp(-1, 1) for i in range(0, len(rows), 64)])
    target = frames.target[rows].float() / 127.5 - 1
    return {"rendered_psnr": psnr(out, target), "canonical_psnr": psnr(frames.canonical[rows].float() / 127.5 - 1,
                                                                         target), "frames": len(rows)}


def train(cfg: LookTrainConfig) -> Path:
    from posttrain.common.fit_loop import fit
    from posttrain.pixel_unet.train import lr_at, start_run
    from worldsim.data.lerobot_reader import LeRobotDatasetReader
    from worldsim.io import write_json

    reader = LeRobotDatasetReader(cfg.data)
    cfg.net = renderer_config(reader, cfg)
    out = start_run(cfg)
    frames = load_look_frames(reader, cfg.camera, cfg.net.classes)
    if frames.canonical.shape[-1] != cfg.net.image_size:
        raise ValueError(f"{cfg.data} has {frames.canonical.shape[-1]} px frames; net.image_size={cfg.net.image_size}")
    last = frames.layout.max() + 1 - cfg.holdout_layouts
    if last < 1:
        raise ValueError(f"{cfg.data} has {frames.layout.max() + 1} layouts; holdout_layouts={cfg.holdout_layouts} "
                         "leaves none to train on")
    train_rows, held = np.flatnonzero(frames.layout < last), np.flatnonzero(frames.layout >= last)
    torch.manual_seed(cfg.seed)
    renderer = LookRenderer(cfg.net)

    def batch_loss(step: int, rng, gen):
        rows = rng.choice(train_rows, cfg.batch_size)
        out = render(renderer, frames, rows, sources(frames, rows, cfg.input_looks, rng))
        return (out - (frames.target[rows].float() / 127.5 - 1)).abs().mean(), ""

    ckpt = fit(renderer, cfg, batch_loss, lr_at, "train look renderer")
    write_json(out / "metrics.json", held_out_psnr(renderer.eval(), frames, held), indent=2)
    return ckpt


def load_renderer(run: str) -> tuple[LookRenderer, LookTrainConfig]:
    """A trained run folder's renderer, eval mode, and its config."""
    from posttrain.common.fit_loop import load_trained

    return load_trained(run, LookTrainConfig, lambda cfg: LookRenderer(cfg.net))


def main(argv: list[str] | None = None) -> None:
    from worldsim.config import load_config
    from worldsim.io.lock import hold_folder

    cfg = load_config(LookTrainConfig, overrides=list(sys.argv[1:] if argv is None else argv))
    with hold_folder(cfg.out, "python -m posttrain.transfer.look_train"):   # one run per folder
        print(f"checkpoint in {train(cfg)}")


if __name__ == "__main__":
    main()
