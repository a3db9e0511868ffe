"""Episodes of a LeRobotDataset in memory, and the context windows the pixel world model trains on.

    episodes = load_episodes("runs/push_wm", camera="top")         # Episodes
    batch = sample_windows(episodes, idx, context=4, horizon=4, rng=rng)
    batch.frames   # float (B, K + k, 3, H, W) in [-1, 1]: K context frames then k targets
    batch.actions  # float (B, K + k - 1, A): action i leads from frame i to frame i + 1

A window that starts before an episode's first frame repeats that frame with zero actions, as
a world-model env does right after ``reset`` (it has one frame of history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm


@dataclass
class Episodes:
    frames: torch.Tensor       # uint8 (F, 3, H, W), all episodes back to back
    actions: torch.Tensor      # float (F, A): the action taken at each frame
    states: torch.Tensor       # float (F, D + E): agent_pos then environment_state at each frame
    starts: np.ndarray         # (num_episodes,) first frame index of each episode
    lengths: np.ndarray        # (num_episodes,)
    policies: list[str]        # the policy spec of each episode (from the dataset's info)
    sim_states: torch.Tensor | None = None   # float (F, S): the simulator's whole state, where recorded

    def subset(self, keep: np.ndarray) -> "Episodes":
        return Episodes(self.frames, self.actions, self.states, self.starts[keep], self.lengths[keep],
                        [self.policies[i] for i in keep], self.sim_states)


@dataclass
class Windows:
    frames: torch.Tensor   # (B, T, 3, H, W) float in [-1, 1]
    actions: torch.Tensor  # (B, T - 1, A)
    states: torch.Tensor   # (B, T, D + E)
    anchor: torch.Tensor   # (B, 3, H, W) the episode's first frame
    sim_states: torch.Tensor | None = None  # (B, T, S) where the dataset has observation.sim_state


def load_episodes(root: str, camera: str = "top", progress: bool = True, sim_state: bool = False) -> Episodes:
    """Every episode of dataset ``root`` (camera ``camera``) as one block of tensors; with
    ``sim_state`` also its ``observation.sim_state`` (``worldsim generate ... sim_state=true``)."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(root)
    key = f"observation.images.{camera}"
    need = [key, "action", "observation.state", "observation.environment_state"] + \
        ["observation.sim_state"] * sim_state
    missing = [k for k in need if k not in reader.features]
    if missing:
        raise ValueError(f"{root} lacks {missing} that the pixel world model trains on; it has "
                         f"{sorted(reader.features)}")
    frames, actions, states, lengths, sims = [], [], [], [], []
    for i in tqdm(range(reader.num_episodes), desc="loading episodes", unit="ep", disable=not progress):
        ep = reader.read_episode(i)
        frames.append(torch.from_numpy(np.ascontiguousarray(ep[key])).permute(0, 3, 1, 2))
        actions.append(torch.from_numpy(ep["action"].astype(np.float32)))
        states.append(torch.from_numpy(np.concatenate([ep["observation.state"], ep["observation.environment_state"]],
                                                      axis=1).astype(np.float32)))
        lengths.append(len(ep["action"]))
        if sim_state:
            sims.append(torch.from_numpy(ep["observation.sim_state"].astype(np.float32)))
    lengths = np.asarray(lengths)
    policies = list(reader.info.get("worldsim", {}).get("episode_policy") or ["?"] * len(lengths))
    return Episodes(torch.cat(frames), torch.cat(actions), torch.cat(states),
                    np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths, policies,
                    torch.cat(sims) if sim_state else None)


def check_context(episodes: Episodes, context: int, horizon: int) -> None:
    if episodes.lengths.max(initial=0) < horizon + 1:
        raise ValueError(f"no episode is long enough for {horizon} predicted frames (longest: "
                         f"{episodes.lengths.max(initial=0)} frames); lower rollout_k")
    if context > episodes.lengths.max():
        raise ValueError(f"net.context={context} frames is longer than every episode "
                         f"(longest {episodes.lengths.max()}); use a shorter context")


def network_context(windows: Windows, context: int, anchor: bool) -> torch.Tensor:
    """The first ``context`` frames of each window as the network takes them: (B, K [+ 1], 3, H, W)."""
    frames = windows.frames[:, :context]
    return torch.cat([windows.anchor[:, None], frames], dim=1) if anchor else frames


def sample_windows(episodes: Episodes, count: int, context: int, horizon: int, rng: np.random.Generator) -> Windows:
    """``count`` random windows of ``context`` frames followed by ``horizon`` target frames."""
    ok = np.flatnonzero(episodes.lengths > horizon)
    ep = rng.choice(ok, count)
    first_target = rng.integers(1, episodes.lengths[ep] - horizon + 1)  # (B,): targets t..t+k-1 <= T-1
    offsets = np.arange(-context, horizon)[None] + first_target[:, None]  # (B, K + k) frame indices
    frame_idx = episodes.starts[ep][:, None] + np.maximum(offsets, 0)
    action_idx = episodes.starts[ep][:, None] + np.maximum(offsets[:, :-1], 0)
    frames = episodes.frames[torch.from_numpy(frame_idx)].float() / 127.5 - 1.0
    actions = episodes.actions[torch.from_numpy(action_idx)] * torch.from_numpy(offsets[:, :-1] >= 0)[..., None]
    states = episodes.states[torch.from_numpy(frame_idx)]
    anchor = episodes.frames[torch.from_numpy(episodes.starts[ep])].float() / 127.5 - 1.0
    sims = None if episodes.sim_states is None else episodes.sim_states[torch.from_numpy(frame_idx)]
    return Windows(frames, actions.float(), states, anchor, sims)
