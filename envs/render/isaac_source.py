"""Render source for Isaac Sim: Replicator renders a USD stage headless, we read its folder back.

Isaac Sim is an optional extra (``pip install 'worldsim[isaac]'``, Python 3.11, an RTX GPU).
The source starts ``SimulationApp({"headless": True})`` before any ``omni`` import, opens the
stage, creates one Replicator camera and render product per ``IsaacCameraConfig``, and attaches
a ``BasicWriter`` (rgb, distance_to_image_plane, colourized semantic_segmentation,
camera_params). Each ``render()`` steps the orchestrator once and returns the new frame read
back from the writer's folder by ``ReplicatorFolder``, so frames come in our conventions
(``worldsim.data.frames``) exactly as a recorded Isaac folder would. Semantic classes are the
``class`` semantics already authored on the stage's prims.

    cfg = IsaacSourceConfig(scene_usd="scene.usd", out_dir="isaac_out",
                            cameras=(IsaacCameraConfig("top", position=(0, 0, 2), look_at=(0, 0, 0)),))
    source = IsaacSimRenderSource(cfg)        # MissingExtraError without the isaac extra
    frames = source.render(("rgb", "depth", "segmentation"))   # {camera: CameraFrame}
    source.close()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from worldsim.data.frames import CameraFrame, check_modalities
from worldsim.data.replicator import ReplicatorFolder
from worldsim.optional import require


@dataclass
class IsaacCameraConfig:
    """One pinhole camera; lengths in stage units, focal length and aperture in mm (USD)."""

    name: str
    position: tuple[float, float, float]
    look_at: tuple[float, float, float]
    focal_length: float = 24.0
    horizontal_aperture: float = 20.955
    clipping_range: tuple[float, float] = (0.01, 1_000_000.0)


@dataclass
class IsaacSourceConfig:
    scene_usd: str
    out_dir: str
    cameras: tuple[IsaacCameraConfig, ...] = field(default_factory=tuple)
    height: int = 64
    width: int = 64
    rt_subframes: int = 4


def start_app(headless: bool = True):
    """``SimulationApp`` (must exist before any ``omni`` import); MissingExtraError without Isaac."""
    isaacsim = require("isaacsim", extra="isaac")
    return isaacsim.SimulationApp({"headless": headless})


def _check_config(cfg: IsaacSourceConfig) -> None:
    if not cfg.cameras:
        raise ValueError("IsaacSourceConfig.cameras is empty; give at least one IsaacCameraConfig")
    names = [c.name for c in cfg.cameras]
    if len(set(names)) != len(names):
        raise ValueError(f"IsaacSourceConfig.cameras has repeated names {names}; names must be distinct")
    out_dir = Path(cfg.out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"IsaacSourceConfig.out_dir {out_dir} is not empty; BasicWriter restarts at frame 0")


class IsaacSimRenderSource:
    """Renders a USD stage through Replicator's BasicWriter and reads the frames back."""

    def __init__(self, cfg: IsaacSourceConfig):
        _check_config(cfg)
        self.cfg = cfg
        self.cameras = tuple(c.name for c in cfg.cameras)
        self._app = start_app()
        self._rep = require("omni.replicator.core", extra="isaac")
        self._open_stage(cfg.scene_usd)
        self._render_products = [self._render_product(c) for c in cfg.cameras]
        self._writer = self._attach_writer(Path(cfg.out_dir))

    def _open_stage(self, scene_usd: str) -> None:
        omni_usd = require("omni.usd", extra="isaac")
        if not omni_usd.get_context().open_stage(str(scene_usd)):
            raise ValueError(f"Isaac Sim could not open the USD stage {scene_usd!r}")
        self._app.update()
        self._rep.orchestrator.set_capture_on_play(False)

    def _render_product(self, cam: IsaacCameraConfig):
        camera = self._rep.create.camera(
            position=tuple(cam.position), look_at=tuple(cam.look_at), focal_length=cam.focal_length,
            horizontal_aperture=cam.horizontal_aperture, clipping_range=tuple(cam.clipping_range))
        return self._rep.create.render_product(camera, (self.cfg.width, self.cfg.height), name=cam.name)

    def _attach_writer(self, out_dir: Path):
        out_dir.mkdir(parents=True, exist_ok=True)
        writer = self._rep.WriterRegistry.get("BasicWriter")
        writer.initialize(
            output_dir=str(out_dir), rgb=True, distance_to_image_plane=True,
            semantic_segmentation=True, colorize_semantic_segmentation=True, camera_params=True)
        writer.attach(self._render_products)
        return writer

    def render(self, modalities=("rgb",)) -> dict[str, CameraFrame]:
        """Step Replicator once; the new frame of every camera, with the requested modalities."""
        modalities = check_modalities(modalities)
        self._rep.orchestrator.step(rt_subframes=self.cfg.rt_subframes)
        self._rep.orchestrator.wait_until_complete()
        frames = self._read_last()
        for frame in frames.values():
            frame.depth = frame.depth if "depth" in modalities else None
            if "segmentation" not in modalities:
                frame.segmentation, frame.labels = None, {}
        return frames

    def _read_last(self) -> dict[str, CameraFrame]:
        """The newest frame in the writer's folder (re-scanned each call: O(frames written))."""
        # One render product writes flat, so its camera is named here; several write one folder
        # per render product, named by the ``name=`` given to ``rep.create.render_product``.
        folder = ReplicatorFolder(self.cfg.out_dir, single_camera_name=self.cameras[0])
        if sorted(folder.cameras) != sorted(self.cameras):
            raise ValueError(
                f"BasicWriter wrote cameras {sorted(folder.cameras)} under {self.cfg.out_dir}; "
                f"expected {sorted(self.cameras)} (is out_dir shared with another writer?)")
        return folder.read(folder.num_frames - 1)

    def close(self) -> None:
        self._writer.detach()
        self._app.close()
