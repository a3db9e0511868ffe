"""Training windows over a ``LatentDataset``: deterministic, resumable, sharded batches.

    windows = LatentWindows(cache, episodes=train_eps, context_frames=1, kind="dynamics")
    loader = WindowLoader(windows, batch_size=32, rank=0, world=1, seed=0)
    batch = next(loader)
    batch["context"]      # (B, C, K, h, w) latents of frames t-K+1 .. t (the episode's first frame
                          #  repeated before its start, as a world model started from one frame sees)
    batch["action"]       # (B, A) action of step t
    batch["state"]        # (B, D + E) agent_pos ++ environment_state at frame t
    batch["reward"], batch["success"]      # (B,) labels of step t (next.reward / next.success)
    batch["target"], batch["next_state"]   # (B, C, h, w), (B, D + E) at frame t+1 ("dynamics" only)
    windows = LatentWindows(cache, train_eps, 1, "dynamics", horizon=4)   # multi-step rollouts:
    batch["actions"], batch["targets"], batch["next_states"]   # (B, H, A), (B, H, C, h, w), (B, H, D + E)

``kind="dynamics"`` visits every step whose next ``horizon`` frames are stored (t <= len - 1 - horizon); ``kind="judge"``
every step (t <= len - 1: the final, often successful, step has labels but no stored next frame).
Latents are raw tokenizer output; tasks scale them.
"""

from __future__ import annotations

import numpy as np
import torch

from posttrain.common.latents import LatentDataset

KINDS = ("dynamics", "judge")


class LatentWindows:
    def __init__(self, cache: LatentDataset, episodes: list[int], context_frames: int, kind: str, horizon: int = 1):
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}; allowed: {', '.join(KINDS)}")
        if context_frames < 1:
            raise ValueError(f"context_frames={context_frames} must be >= 1")
        if horizon < 1 or (kind == "judge" and horizon != 1):
            raise ValueError(f"horizon={horizon} must be >= 1 (and 1 for kind='judge')")
        self.cache, self.context_frames, self.kind, self.horizon = cache, context_frames, kind, horizon
        last = 1 + horizon if kind == "dynamics" else 1
        rows = [(int(cache.starts[e]), t) for e in episodes
                for t in range(int(cache.starts[e]), int(cache.starts[e + 1]) - last + 1)]
        self.rows = np.asarray(rows, dtype=np.int64).reshape(-1, 2)  # (N, 2): episode start row, row t

    def __len__(self) -> int:
        return len(self.rows)

    def gather(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        c = self.cache
        start, t = (torch.from_numpy(self.rows[index, i]) for i in (0, 1))  # (B,) each
        offsets = torch.arange(-self.context_frames + 1, 1)  # (K,)
        ctx_rows = torch.maximum(t[:, None] + offsets, start[:, None])  # (B, K)
        state = torch.cat([c.state, c.env_state], dim=-1)  # (N, D + E)
        batch = {
            "context": c.latents[ctx_rows].permute(0, 2, 1, 3, 4),  # (B, C, K, h, w)
            "action": c.action[t], "state": state[t], "reward": c.reward[t], "success": c.success[t].float(),
        }
        if self.kind == "dynamics":
            steps = t[:, None] + torch.arange(self.horizon)  # (B, H) rows t .. t+H-1
            batch.update(target=c.latents[t + 1], next_state=state[t + 1], actions=c.action[steps],
                         targets=c.latents[steps + 1], next_states=state[steps + 1])
        return batch


class WindowLoader:
    """Endless batches of windows; each epoch a permutation drawn from (seed, epoch)."""

    def __init__(self, windows: LatentWindows, batch_size: int, rank: int = 0, world: int = 1, seed: int = 0,
                 fingerprint: str | None = None):
        self.windows, self.batch_size, self.rank, self.world, self.seed = windows, batch_size, rank, world, seed
        self.batches_per_epoch = len(windows) // world // batch_size
        if self.batches_per_epoch < 1:
            raise ValueError(f"{len(windows)} training windows, fewer than batch_size * world = "
                             f"{batch_size} * {world}; use a smaller batch or more episodes")
        self.fingerprint = fingerprint
        self.epoch, self.index = 0, 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict) -> None:
        epoch, index = state.get("epoch"), state.get("index")
        if not (isinstance(epoch, int) and isinstance(index, int) and epoch >= 0
                and 0 <= index <= self.batches_per_epoch):
            raise ValueError(f"bad window loader position {state!r}")
        self.epoch, self.index = epoch, index

    def __iter__(self) -> "WindowLoader":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self.index >= self.batches_per_epoch:
            self.epoch, self.index = self.epoch + 1, 0
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.windows))
        mine = order[self.rank::self.world][: self.batches_per_epoch * self.batch_size]
        take = mine[self.index * self.batch_size:(self.index + 1) * self.batch_size]
        self.index += 1
        return self.windows.gather(take)
