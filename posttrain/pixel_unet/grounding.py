"""State grounding of the pixel world model: learned dynamics carry the physical state, frames follow it.

    grounding = StateGrounding(dynamics, yaw_reader, layout)
    sim = grounding.start(frames, xy)          # (N, T, 3, H, W) context frames, (N, objects, 2) read positions -> (N, 10)
    nxt, maps = grounding.advance(sim, acts)   # (N, K, 10) state history, (N, K, A) actions -> (N, 10), (N, 2, H, W)

A frames-only world model must infer contact physics from a few pixels per object, and its
small per-step errors grow in closed loop into blocks that smear or stop. A grounded one splits
the work: ``StateDynamics`` (an MLP over the simulator's whole physical state, trained on its
own rollouts) steps the state, and the layout-conditioned U-Net paints the next frame with the
pusher and block where that state puts them (``layout``). The observation a policy gets
(``agent_pos``, ``environment_state``) is that state, and the frames agree with it by
construction; pixels far from every object keep their last value (``keep_static``; ``margin`` -1
turns that off). An episode starts from what the first frame shows: positions from the state
reader, the block's yaw from the yaw reader, velocities from the frames' differences (zero with
one frame, as after a reset).
"""

from __future__ import annotations

import torch
from torch import Tensor

from posttrain.pixel_unet.dynamics import STATE_DIM, StateDynamics
from posttrain.pixel_unet.layout import Layout
from posttrain.pixel_unet.yaw_reader import YawReader


class StateGrounding:
    def __init__(self, dynamics: StateDynamics, yaw_reader: YawReader, layout: Layout, block_index: int,
                 dt: float, margin: int = 2):
        self.dynamics, self.yaw_reader, self.layout = dynamics, yaw_reader, layout
        self.block, self.dt, self.margin = block_index, dt, margin
        self.context = dynamics.cfg.context

    @torch.no_grad()
    def start(self, frames: Tensor, xy: Tensor, uv: Tensor, xy_before: Tensor | None = None) -> Tensor:
        """(N, 10) state from the last context frame ``frames`` (N, 3, H, W), its read positions
        ``xy`` (N, objects, 2) and block centroid ``uv`` (N, 2); ``xy_before``: the previous frame's
        positions, for velocities."""
        n = frames.shape[0]
        yaw = self.yaw_reader(frames, uv)
        vel = torch.zeros(n, 5)
        if xy_before is not None:
            vel[:, :2] = (xy[:, 0] - xy_before[:, 0]) / self.dt
            vel[:, 2:4] = (xy[:, self.block] - xy_before[:, self.block]) / self.dt
        state = torch.cat([xy[:, 0], xy[:, self.block], yaw[:, None], vel], dim=1)
        assert state.shape[1] == STATE_DIM
        return state

    @torch.no_grad()
    def keep_static(self, last: Tensor, nxt: Tensor, state: Tensor, next_maps: Tensor) -> Tensor:
        """``nxt`` where an object is, was or will be (the layouts of the state before and after
        the step, widened by ``margin`` pixels), ``last`` elsewhere: where no object is, nothing
        moves, so the generator's small errors cannot pile up over the static scene."""
        if self.margin < 0:
            return nxt
        near = torch.maximum(self.layout(state), next_maps).amax(dim=1, keepdim=True) > 0.05
        k = 2 * self.margin + 1
        near = torch.nn.functional.max_pool2d(near.float(), k, stride=1, padding=self.margin) > 0
        return torch.where(near, nxt, last)

    @torch.no_grad()
    def advance(self, states: Tensor, actions: Tensor, maps: bool = True) -> tuple[Tensor, Tensor | None]:
        """The next state (N, 10) and its layout maps (N, C, H, W); no maps with ``maps=False``
        (nothing will be painted)."""
        nxt = self.dynamics(states, actions)
        return nxt, self.layout(nxt) if maps else None
