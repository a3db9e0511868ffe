"""Where world-model episodes start: the simulator's own initial frames and state for a seed.

    source = make_reset_source(wm.sim, "sim")                 # live: the simulator is reset, then left
    source = make_reset_source(wm.sim, "dataset", "runs/push")  # the dataset episode made with that seed
    start = source.initial(seed, rng)   # Start(frames {cam: uint8 (H, W, 3)}, agent_pos, environment_state, is_success)

``sim``: one simulator per env index, reset with the same seed a paired simulator env gets (and,
unseeded, from its own continuing RNG, as the paired simulator would), so sim and world-model
episodes pair up one by one. It is never stepped. ``dataset``: the episode ``worldsim generate``
reset with that seed (``meta/info.json`` records each episode's seed), or, when no episode has
that seed or no seed is given, one drawn with the env's RNG.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SOURCES = ("sim", "dataset")


@dataclass
class Start:
    frames: dict
    agent_pos: np.ndarray
    environment_state: np.ndarray
    is_success: bool = False
    cameras: dict | None = None    # with depth: {"depth"|"intrinsics"|"poses": {camera: array}} at reset


class SimResets:
    def __init__(self, sim: dict, depth: bool = False):
        self.sim, self.env, self.depth = sim, None, depth

    def initial(self, seed, rng) -> Start:
        if self.env is None:
            import gymnasium as gym

            import envs  # noqa: F401

            kwargs = dict(self.sim["env_kwargs"], cameras=tuple(self.sim["cameras"]))
            self.env = gym.make(self.sim["env_id"], **kwargs).unwrapped
        obs, info = self.env.reset(seed=seed)
        cameras = None
        if self.depth:   # what a reprojection model lifts: each camera's depth, intrinsics and pose
            frames = self.env.capture(("rgb", "depth"))
            cameras = {"depth": {c: f.depth for c, f in frames.items()},
                       "intrinsics": {c: f.intrinsics for c, f in frames.items()},
                       "poses": {c: f.extrinsics for c, f in frames.items()}}
        return Start(dict(obs["pixels"]), obs["agent_pos"], obs["environment_state"], bool(info.get("is_success")),
                     cameras)

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


class DatasetResets:
    def __init__(self, sim: dict, root: str):
        from worldsim.data.lerobot_reader import LeRobotDatasetReader

        self.reader, self.cameras = LeRobotDatasetReader(root), list(sim["cameras"])
        missing = [c for c in self.cameras if f"observation.images.{c}" not in self.reader.features]
        if missing:
            raise ValueError(f"{root} has no camera(s) {missing} that the world model renders")
        seeds = self.reader.info.get("worldsim", {}).get("episode_seed") or []
        self.episode_of_seed = {int(s): i for i, s in enumerate(seeds)}

    def initial(self, seed, rng) -> Start:
        episode = self.episode_of_seed.get(seed) if seed is not None else None
        if episode is None:
            episode = int(rng.integers(self.reader.num_episodes))
        data = self.reader.read_episode(episode)
        frames = {c: data[f"observation.images.{c}"][0] for c in self.cameras}
        return Start(frames, data["observation.state"][0].astype(np.float32),
                     data["observation.environment_state"][0].astype(np.float32))

    def close(self) -> None:
        pass


def make_reset_source(sim: dict, kind: str, dataset: str | None = None, fallback_dataset: str | None = None,
                      depth: bool = False):
    if kind == "sim":
        return SimResets(sim, depth)
    if depth:
        raise ValueError(f"reset_source={kind!r} cannot give the depth and cameras this world model starts from; "
                         "use reset_source='sim'")
    if kind == "dataset":
        root = dataset or fallback_dataset
        if not root:
            raise ValueError("reset_source='dataset' needs dataset=FOLDER (a LeRobotDataset from worldsim generate)")
        return DatasetResets(sim, root)
    raise ValueError(f"reset_source={kind!r}; allowed: {', '.join(SOURCES)}")


def start_one(model, start, model_seed: int) -> tuple[object, dict]:
    """Start a world model for one env from a reset source's ``start`` (its frames and state):
    (the model's state, the first observation)."""
    context = {"agent_pos": np.asarray(start.agent_pos)[None], "environment_state": np.asarray(start.environment_state)[None]}
    for key, per_camera in (start.cameras or {}).items():
        context[key] = {c: np.asarray(v)[None] for c, v in per_camera.items()}
    state = model.start({c: f[None, None] for c, f in start.frames.items()}, None, context, seeds=[model_seed])
    obs = {"pixels": {c: np.array(f) for c, f in start.frames.items()},
           "agent_pos": np.asarray(start.agent_pos, np.float32).copy(),
           "environment_state": np.asarray(start.environment_state, np.float32).copy()}
    return state, obs
