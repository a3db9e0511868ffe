"""Configuration of ``worldsim eval`` (``evaluation.pipeline.run_evaluation``).

    cfg = load_config(EvalConfig, overrides=["episodes=50", "policies=[expert,random]"])

The defaults are the embedded default evaluation: TabletopPush seen by its 64 px top camera, the
policy zoo, 100 episodes per policy, three columns (simulator, the shipped world model, the
simulator read through the world model's perception) run in two worker processes at once.
Settings that change what an episode is (env and its arguments, seed, world model) make another
evaluation; the rest (episodes, policies, num_envs, videos, report settings) may change between
a run and its resumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUCCESS_MODES = ("any", "end")
# fields that may differ between an evaluation folder and a rerun that resumes it
RESUMABLE = ("out", "tasks", "episodes", "num_envs", "policies", "zoo", "bc", "bc_per_run", "video_episodes", "success",
             "confidence", "progress", "resampled_sim", "perception", "parallel", "render_all", "bootstrap")


@dataclass
class EvalConfig:
    env: str = "worldsim/TabletopPush-v0"
    task: str | None = None                 # Meta-World task, e.g. push-v3
    tasks: list[str] = field(default_factory=list)             # several tasks in one run (evaluation.multitask)
    cameras: list[str] | None = None        # None: the world model's cameras, else the simulator's own defaults
    image_size: int = 64
    max_steps: int | None = None            # None: the env's registered max_episode_steps
    env_kwargs: dict[str, Any] = field(default_factory=dict)   # any other env argument
    policies: list[str] = field(default_factory=list)          # policy specs; empty: the zoo
    zoo: str = "default"                    # evaluation.zoo name, used when policies is empty
    bc: list[str] = field(default_factory=list)                # BC runs/checkpoints added to the zoo
    bc_per_run: int = 3                     # checkpoints taken from each BC run (0: all), first to last
    episodes: int = 100                     # per policy; episode k is reset with seed + k
    seed: int = 0
    num_envs: int = 16                      # env slots per column (the world model steps them in one batch),
                                            # clamped to the episodes the column has left
    success: str = "any"                    # success at any step ("any") or at the episode's end ("end")
    confidence: float = 0.95                # of the Wilson and bootstrap intervals
    bootstrap: int = 1000                   # resamples of the agreement intervals (0: none)
    world_model: str | None = "default"     # world-model folder, "default" (shipped for env) or "none"
    world_model_env: str = "worldsim/WorldModel-v0"
    world_model_kwargs: dict[str, Any] = field(default_factory=dict)
    perception: bool = True                 # with a world model: the simulator read through its state head and judge
    resampled_sim: bool = False             # adds the simulator on independent seeds: the sampling-noise floor
    video_episodes: int = 1                 # episodes 0..k-1 of each policy keep their frames (videos, fidelity)
    out: str = "runs/eval"
    progress: bool = True
    parallel: bool = True                   # simulator-side and world-model columns in two worker processes at once
    render_all: bool = False                # render every simulator episode, read or not (same results, slower)

    def validate(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes={self.episodes}: need at least 1 episode per policy")
        if self.num_envs < 1:
            raise ValueError(f"num_envs={self.num_envs}: need at least 1")
        if self.bootstrap < 0:
            raise ValueError(f"bootstrap={self.bootstrap}: need 0 (no intervals) or more resamples")
        if self.video_episodes < 0:
            raise ValueError(f"video_episodes={self.video_episodes}: need 0 or more")
        if self.success not in SUCCESS_MODES:
            raise ValueError(f"success={self.success!r}; allowed: {', '.join(SUCCESS_MODES)}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence={self.confidence}: must be in (0, 1)")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps={self.max_steps}: need at least 1 or null")
        if self.seed < 0:
            raise ValueError(f"seed={self.seed}: need 0 or more (episode k is reset with seed + k)")
        if not self.out:
            raise ValueError("out is empty: name the evaluation folder (out=runs/NAME)")

    def cameras_resolved(self) -> list[str] | None:
        """``cameras``, or when unset: the world model's (``world_model``), else the simulator's defaults
        (``envs.simulators``); None for an env without a record."""
        if self.cameras is not None:
            return list(self.cameras)
        from evaluation.world_model_folder import default_cameras

        return default_cameras(self)

    def env_kwargs_resolved(self) -> dict:
        cameras = self.cameras_resolved()
        kwargs = {"image_size": self.image_size, **self.env_kwargs}
        if cameras is not None:
            kwargs = {"cameras": tuple(cameras), **kwargs}
        if self.task is not None:
            kwargs["task"] = self.task
        if self.max_steps is not None:
            kwargs["max_episode_steps"] = self.max_steps
        return kwargs
