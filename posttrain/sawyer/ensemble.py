"""Several Sawyer dynamics trained alike (seeds), stepped as one model whose episodes each follow one member.

    ens = DynamicsEnsemble([dyn_a, dyn_b, dyn_c])
    member = ens.draw(generators)              # (N,) one member per episode, from each episode's generator
    nxt = ens(states, actions, member)         # each env stepped by its own member

Where contact decides an outcome on a knife edge (a finger resting on a handle bar slides off in
time, or not), networks trained on the same data from different seeds disagree, and each is
confident. Following one member for a whole episode (trajectory sampling over an ensemble, as in
PETS) turns that disagreement into a spread of outcomes: the model's success rate is then the
share of members under which the episode succeeds, instead of one seed's guess. A one-member
ensemble is the plain dynamics.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from posttrain.sawyer.dynamics import SawyerDynamics


class DynamicsEnsemble(nn.Module):
    def __init__(self, members: Sequence[SawyerDynamics]):
        super().__init__()
        if not members:
            raise ValueError("a dynamics ensemble needs at least one member")
        cfgs = {repr(m.cfg) for m in members}
        if len(cfgs) > 1:
            raise ValueError(f"ensemble members must share one network config; got {sorted(cfgs)}")
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def __len__(self) -> int:
        return len(self.members)

    def draw(self, generators: Sequence[torch.Generator]) -> Tensor:
        """(N,) long: each episode's member, drawn from its own generator (reproducible per seed)."""
        if len(self) == 1:
            return torch.zeros(len(generators), dtype=torch.long)
        return torch.cat([torch.randint(len(self), (1,), generator=g) for g in generators])

    def forward(self, states: Tensor, actions: Tensor, member: Tensor) -> Tensor:
        """(N, K, 44), (N, K, 4), (N,) member per env -> (N, 44)."""
        if member.shape != (states.shape[0],):
            raise ValueError(f"member must be ({states.shape[0]},) one index per env, got {tuple(member.shape)}")
        if len(self) == 1:
            return self.members[0](states, actions)
        out = states.new_empty(states.shape[0], states.shape[2])
        for m in member.unique().tolist():
            rows = (member == m).nonzero().squeeze(1)
            out[rows] = self.members[m](states[rows], actions[rows])
        return out
