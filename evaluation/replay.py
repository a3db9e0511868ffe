"""Open-loop replays: the simulator's recorded episodes, their actions played again from the same seed
in another column's env (the world model), so that frames can be compared step by step (fidelity).

    keys = recorded_keys(specs, episodes=100, video_episodes=1)        # [(policy, 0), ...]
    wait_for(store, "simulator", keys)                                 # another worker may write them
    jobs, actions = replay_jobs(store, "simulator", keys)              # Job(..., max_steps=len(actions))
    policy = ReplayPolicy(actions[(job.policy, job.episode)])

Replays are stored as the records (and frames) of column ``<column>_replay`` (``replay_name``),
so the report reads them and never rolls anything out.
"""

from __future__ import annotations

import time

import numpy as np

from evaluation.records import RecordStore
from evaluation.runner import Job

REPLAY_SUFFIX = "_replay"


def replay_name(column: str) -> str:
    return column + REPLAY_SUFFIX


def recorded_keys(specs: list[str], episodes: int, video_episodes: int) -> list[tuple[str, int]]:
    """The (policy, episode) pairs whose simulator frames are kept: episodes 0..video_episodes-1."""
    return [(spec, k) for spec in specs for k in range(min(episodes, video_episodes))]


class ReplayPolicy:
    """Plays back a recorded action sequence, whatever it observes."""

    reads_pixels = False

    def __init__(self, actions: np.ndarray):
        self.actions, self.t = np.asarray(actions, np.float32), 0

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.t = 0

    def act(self, obs: dict) -> np.ndarray:
        action = self.actions[min(self.t, len(self.actions) - 1)]
        self.t += 1
        return action[None]


def wait_for(store: RecordStore, column: str, keys, poll_s: float = 0.5, timeout_s: float | None = None) -> None:
    """Block until every (policy, episode) of ``keys`` has a record in ``column`` (read without repair:
    its writer may be appending)."""
    missing = set(keys)
    start = time.monotonic()
    while True:
        missing -= store.done(column, repair=False)
        if not missing:
            return
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TimeoutError(f"{len(missing)} recorded {column} episodes still missing after {timeout_s} s, "
                               f"e.g. {sorted(missing)[0]}")
        time.sleep(poll_s)


def replay_jobs(store: RecordStore, source: str, keys) -> tuple[list[Job], dict]:
    """Replay jobs of the ``source`` records in ``keys`` that kept frames and actions (an episode a
    policy ended by failing has none), and their actions: ([Job], {(policy, episode): actions})."""
    records = {(r["policy"], int(r["episode"])): r for r in store.records(source, repair=False)}
    jobs, actions = [], {}
    for key in keys:
        data = store.load_frames(records[key]) if key in records else None
        if data is None or not len(data["actions"]):
            continue
        actions[key] = data["actions"]
        jobs.append(Job(key[0], key[1], records[key]["seed"], record_frames=True, max_steps=len(data["actions"])))
    return jobs, actions
