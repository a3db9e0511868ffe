"""Batched, seeded rollouts of policies in any gymnasium vector env, one record per episode.

    from evaluation.runner import Job, run_jobs
    jobs = [Job(policy="expert", episode=k, seed=1000 + k) for k in range(20)]
    run_jobs(vec_env, jobs, policy_for=lambda job: make_policy(job.policy, ...), on_episode=print)

Each job is one episode: the env slot is reset with ``job.seed`` and the slot's own instance of
the job's policy (made by ``policy_for`` the first time the slot runs that policy, or for every
episode with ``reuse_policies=False``) is reset with ``reset(1, job.seed)``. An episode's
outcome so depends only on (policy, seed), as long as ``reset`` clears the policy's state: a
simulator run and a world-model run pair up episode by episode, and the result does not depend
on ``num_envs`` or on which jobs ran before (a resumed evaluation gives the same records).

Scheduling follows the env's autoreset mode. ``DISABLED`` (our ``SyncVectorEnv`` of simulators):
a slot that finishes is reset at once with the next job's seed (``options={"reset_mask": ...}``).
``SAME_STEP`` / ``NEXT_STEP`` (a native world-model vector env): jobs run in waves of
``num_envs``; a slot's autoreset episode is ignored until the wave ends.

A job's ``render`` (None: the env's default) goes to the slot's reset as ``options={"render":
...}``: a simulator with the render switch (``envs.camera_rendering``) then steps physics alone
for an episode whose policy reads no pixels and whose frames are not kept. Slots are reset in
one call per render setting; the episode is the same either way.

A policy whose ``act`` raises, returns NaN/inf or the wrong shape ends that episode as a failure
with a reason (``record["failure"]``); out-of-bounds actions are clipped and counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from gymnasium.vector import AutoresetMode


@dataclass(frozen=True)
class Job:
    policy: str                    # the policy spec (also the key ``policy_for`` reads)
    episode: int                   # index within the policy's episodes
    seed: int                      # env reset seed and policy seed
    record_frames: bool = False    # keep every frame and action of this episode
    max_steps: int | None = None   # end the episode after this many steps (open-loop replay)
    render: bool | None = None     # reset option "render" of the episode; None: the env's default


def autoreset_mode(env) -> AutoresetMode:
    mode = getattr(env, "autoreset_mode", None) or env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    return mode if isinstance(mode, AutoresetMode) else AutoresetMode(mode)


def slice_obs(obs, i: int):
    """Env ``i``'s observation from a batched one, keeping a batch axis of 1."""
    if isinstance(obs, dict):
        return {k: slice_obs(v, i) for k, v in obs.items()}
    return np.asarray(obs)[i:i + 1]


def single_obs(obs, i: int):
    if isinstance(obs, dict):
        return {k: single_obs(v, i) for k, v in obs.items()}
    return np.array(np.asarray(obs)[i])


def _flag(info: dict, key: str, i: int) -> bool:
    values, mask = info.get(key), info.get("_" + key)
    if values is None or (mask is not None and not mask[i]):
        return False
    return bool(values[i])


class Episode:
    """What one slot has seen so far of its current job."""

    def __init__(self, job: Job, policy, first_obs: dict):
        self.job, self.policy = job, policy
        self.length, self.total, self.max_reward, self.clipped = 0, 0.0, -np.inf, 0
        self.success_any = self.success_end = self.terminated = self.truncated = False
        self.frames = {cam: [img] for cam, img in first_obs["pixels"].items()} if job.record_frames else None
        self.actions: list[np.ndarray] = []

    def add(self, action, reward: float, terminated: bool, truncated: bool, success: bool, obs: dict) -> None:
        self.length += 1
        self.total += float(reward)
        self.max_reward = max(self.max_reward, float(reward))
        self.success_any |= success
        self.success_end, self.terminated, self.truncated = success, terminated, truncated
        if self.frames is not None:
            self.actions.append(np.asarray(action, np.float32))
            for cam, img in obs["pixels"].items():
                self.frames[cam].append(img)

    def over(self) -> bool:
        return self.terminated or self.truncated or (self.job.max_steps is not None and self.length >= self.job.max_steps)

    def record(self, failure: str | None) -> dict:
        job = self.job
        return {"policy": job.policy, "episode": job.episode, "seed": job.seed, "return": self.total,
                "max_reward": self.max_reward if self.length else 0.0, "length": self.length,
                "success_any": bool(self.success_any and failure is None),
                "success_end": bool(self.success_end and failure is None),
                "terminated": self.terminated, "truncated": self.truncated,
                "clipped_steps": self.clipped, "failure": failure}

    def recording(self) -> dict | None:
        if self.frames is None:
            return None
        actions = np.stack(self.actions) if self.actions else np.zeros((0,), np.float32)
        return {"frames": {cam: np.stack(v) for cam, v in self.frames.items()}, "actions": actions}


def check_action(raw, space) -> tuple[np.ndarray | None, bool, str | None]:
    """(action of the single space's shape, whether it was clipped, failure reason or None)."""
    try:
        a = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError):
        return None, False, f"act returned a non-numeric {type(raw).__name__}"
    want = (1,) + tuple(space.shape)
    if a.shape != want:
        return None, False, f"act returned shape {a.shape}, expected {want}"
    if not np.all(np.isfinite(a)):
        return None, False, "act returned NaN or inf"
    clipped = bool(np.any(a < space.low - 1e-6) or np.any(a > space.high + 1e-6))
    return np.clip(a[0], space.low, space.high).astype(np.float32), clipped, None


class Rollout:
    """Slots of a vector env, each running one job at a time."""

    def __init__(self, env, policy_for: Callable[[Job], Any], on_episode: Callable[[dict, dict | None], None],
                 reuse_policies: bool = True):
        self.env, self.policy_for, self.on_episode = env, policy_for, on_episode
        self.reuse = reuse_policies
        self.instances: dict[tuple[int, str], Any] = {}
        self.space = env.single_action_space
        self.neutral = np.clip(np.zeros(self.space.shape, np.float32), self.space.low, self.space.high)
        self.slots: list[Episode | None] = [None] * env.num_envs
        self.last_seed = [0] * env.num_envs
        self.last_render: list[bool | None] = [None] * env.num_envs

    def active(self) -> bool:
        return any(s is not None for s in self.slots)

    def start(self, i: int, job: Job, obs) -> None:
        policy = self.instances.get((i, job.policy)) if self.reuse else None
        if policy is None:
            policy = self.policy_for(job)
            if self.reuse:
                self.instances[(i, job.policy)] = policy
        policy.reset(1, job.seed)
        self.slots[i] = Episode(job, policy, single_obs(obs, i))
        self.last_seed[i], self.last_render[i] = job.seed, job.render

    def finish(self, i: int, failure: str | None = None) -> None:
        episode, self.slots[i] = self.slots[i], None
        self.on_episode(episode.record(failure), episode.recording() if failure is None else None)

    def actions(self, obs) -> np.ndarray:
        """(N, A) actions for every slot (neutral for idle ones and for failed policies)."""
        out = np.repeat(self.neutral[None], len(self.slots), axis=0)
        for i, episode in enumerate(self.slots):
            if episode is None:
                continue
            try:
                raw = episode.policy.act(slice_obs(obs, i))
            except Exception as err:  # a broken policy is that policy's failure, not the evaluation's
                raw, reason = None, f"act raised {type(err).__name__}: {err}"
            else:
                raw, clipped, reason = check_action(raw, self.space)
                episode.clipped += clipped
            if reason is not None:
                self.finish(i, f"{reason} at step {episode.length}")
            else:
                out[i] = raw
        return out

    def observe(self, actions, obs, rewards, terminated, truncated, info) -> None:
        same_step = autoreset_mode(self.env) == AutoresetMode.SAME_STEP
        for i, episode in enumerate(self.slots):
            if episode is None:
                continue
            ended = bool(terminated[i] or truncated[i])
            if same_step and ended:
                now_obs, success = info["final_obs"][i], _flag(info["final_info"], "is_success", i)
            else:
                now_obs, success = single_obs(obs, i), _flag(info, "is_success", i)
            episode.add(actions[i], rewards[i], bool(terminated[i]), bool(truncated[i]), success, now_obs)
            if episode.over():
                self.finish(i)


def run_jobs(env, jobs: list[Job], policy_for: Callable[[Job], Any],
             on_episode: Callable[[dict, dict | None], None], reuse_policies: bool = True) -> None:
    """Run every job in ``env``; ``on_episode(record, recording)`` is called as each one ends
    (``recording`` holds frames and actions for jobs with ``record_frames``, else None)."""
    rollout = Rollout(env, policy_for, on_episode, reuse_policies)
    queue = deque(jobs)
    refill = autoreset_mode(env) == AutoresetMode.DISABLED
    obs = _reset_all(env, rollout, queue, refill)
    while rollout.active():
        actions = rollout.actions(obs)
        obs, rewards, terminated, truncated, info = env.step(actions)
        rollout.observe(actions, obs, rewards, terminated, truncated, info)
        if refill:
            obs = _refill(env, rollout, queue, np.logical_or(terminated, truncated), obs)
        elif not rollout.active() and queue:
            obs = _reset_all(env, rollout, queue, refill)


def _options(render: bool | None) -> dict:
    return {} if render is None else {"render": render}


def _reset_all(env, rollout: Rollout, queue: deque, refill: bool):
    """Reset every slot; the first ``num_envs`` queued jobs start, other slots idle. With ``refill``
    (DISABLED autoreset) slots whose job asks for another render setting than slot 0's are reset
    again with theirs; a wave renders unless none of its jobs needs frames."""
    wave = [queue.popleft() if queue else None for _ in range(env.num_envs)]
    seeds = [job.seed if job else rollout.last_seed[i] for i, job in enumerate(wave)]
    renders = [job.render if job else rollout.last_render[i] for i, job in enumerate(wave)]
    obs, _ = env.reset(seed=seeds, options=_options(renders[0] if refill else wave_render(renders)))
    if refill:
        obs = _reset_groups(env, seeds, renders, [r != renders[0] for r in renders], obs)
    for i, job in enumerate(wave):
        if job is not None:
            rollout.start(i, job, obs)
    return obs


def wave_render(renders: list) -> bool | None:
    """One render setting for a wave of slots: off only if every slot's job asks for it off."""
    if all(r is None for r in renders):
        return None
    return not all(r is False for r in renders)


def _reset_groups(env, seeds: list, renders: list, mask: list[bool], obs):
    """Reset the slots in ``mask`` with their seeds, one ``reset`` call per render setting."""
    for render in dict.fromkeys(r for r, m in zip(renders, mask) if m):
        group = np.array([m and r == render for r, m in zip(renders, mask)])
        obs, _ = env.reset(seed=[s if g else None for s, g in zip(seeds, group)],
                           options={"reset_mask": group, **_options(render)})
    return obs


def _refill(env, rollout: Rollout, queue: deque, done: np.ndarray, obs):
    """Reset (DISABLED autoreset) free slots while jobs remain, giving them the next jobs, and
    every slot whose env is done: one without a job idles on a repeat of its last seed."""
    free = [i for i, s in enumerate(rollout.slots) if s is None]
    assign = {i: queue.popleft() for i in free if queue}
    mask = [bool(done[i]) or i in assign for i in range(env.num_envs)]
    if not any(mask):
        return obs
    seeds = [assign[i].seed if i in assign else rollout.last_seed[i] for i in range(env.num_envs)]
    renders = [assign[i].render if i in assign else rollout.last_render[i] for i in range(env.num_envs)]
    obs = _reset_groups(env, seeds, renders, mask, obs)
    for i, job in assign.items():
        rollout.start(i, job, obs)
    return obs
