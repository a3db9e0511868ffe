"""Configuration of ``worldsim generate``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenerateConfig:
    env: str = "worldsim/TabletopPush-v0"
    policy: str = "expert"                # a mix: comma-separated specs, assigned to episodes in turn
    episodes: int = 10
    out: str = "runs/dataset"
    seed: int = 0                         # episode i is reset with seed + i
    workers: int = 2                      # worker processes (each runs its own simulator)
    cameras: list[str] | None = None      # None: the env's own default cameras
    image_size: int = 64
    task: str | None = None               # Meta-World task, e.g. push-v3
    max_steps: int | None = None          # None: the env's registered max_episode_steps
    depth: bool = True
    segmentation: bool = True
    camera_params: bool = True
    sim_state: bool = False               # also record the env's whole physical state (observation.sim_state)
    render: bool = True                   # false: state-only dataset, no camera is rendered or recorded
    #                                       (every policy of the mix must read no pixels)
    video_crf: int = 18                   # video quality (lower is better; 0 with yuv444p: lossless)
    video_pix_fmt: str = "yuv420p"        # yuv444p keeps full-resolution colour (small objects)

    def env_kwargs(self) -> dict:
        kwargs = {"image_size": self.image_size}
        if self.cameras is not None:
            kwargs["cameras"] = tuple(self.cameras)
        if self.task is not None:
            kwargs["task"] = self.task
        if self.max_steps is not None:
            kwargs["max_episode_steps"] = self.max_steps
        return kwargs

    def modalities(self) -> tuple[str, ...]:
        if not self.render:
            return ()
        return ("rgb",) + ("depth",) * self.depth + ("segmentation",) * self.segmentation

    def validate(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes={self.episodes}; need at least 1")
        if self.workers < 1:
            raise ValueError(f"workers={self.workers}; need at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps={self.max_steps}; need at least 1 or null")
        if self.video_pix_fmt not in ("yuv420p", "yuv444p"):
            raise ValueError(f"video_pix_fmt={self.video_pix_fmt!r}; allowed: yuv420p, yuv444p")
        if self.seed < 0:
            raise ValueError(f"seed={self.seed}; need 0 or more (episode i is reset with seed + i)")
        from worldsim.data.video import CRF_RANGE, VideoCodec

        low, high = CRF_RANGE[VideoCodec.vcodec]
        if not low <= self.video_crf <= high:
            raise ValueError(f"video_crf={self.video_crf}; allowed: {low}..{high} (lower is better quality; "
                             f"0 with video_pix_fmt=yuv444p is lossless)")
