"""The dynamics ensemble: every env is stepped by its own member, members are drawn per episode
from its generator (the same seed, the same member), and mismatched members are refused."""

import pytest
import torch

from posttrain.sawyer.config import STATE_DIM, SawyerDynamicsConfig
from posttrain.sawyer.dynamics import SawyerDynamics
from posttrain.sawyer.ensemble import DynamicsEnsemble


def members(n: int, width: int = 16) -> list[SawyerDynamics]:
    out = []
    for i in range(n):
        torch.manual_seed(i)
        dyn = SawyerDynamics(SawyerDynamicsConfig(width=width))
        torch.nn.init.normal_(dyn.linear.weight, std=0.1)   # members that disagree
        out.append(dyn.eval())
    return out


def test_each_env_is_stepped_by_its_own_member():
    parts = members(3)
    ens = DynamicsEnsemble(parts)
    states, actions = torch.randn(5, 3, STATE_DIM), torch.randn(5, 3, 4)
    member = torch.tensor([2, 0, 1, 2, 0])
    with torch.no_grad():
        got = ens(states, actions, member)
        alone = torch.stack([m(states, actions) for m in parts])       # (3, 5, 44)
    assert not torch.allclose(alone[0], alone[1])
    for i, m in enumerate(member.tolist()):
        assert torch.allclose(got[i], alone[m, i], atol=1e-6)


def test_a_member_is_drawn_per_episode_seed_and_every_member_is_drawn():
    ens = DynamicsEnsemble(members(4))
    draw = lambda seeds: ens.draw([torch.Generator().manual_seed(s) for s in seeds])   # noqa: E731
    assert torch.equal(draw(range(50)), draw(range(50)))
    counts = torch.bincount(draw(range(2000)), minlength=4)
    # uniform over 4 members: 500 each, binomial sd about 19
    assert counts.min() > 400 and counts.max() < 600, counts


def test_one_member_is_the_plain_dynamics():
    (dyn,) = members(1)
    ens = DynamicsEnsemble([dyn])
    states, actions = torch.randn(4, 3, STATE_DIM), torch.randn(4, 3, 4)
    member = ens.draw([torch.Generator().manual_seed(s) for s in range(4)])
    assert member.tolist() == [0, 0, 0, 0]
    with torch.no_grad():
        assert torch.equal(ens(states, actions, member), dyn(states, actions))


def test_members_of_different_networks_and_bad_member_shapes_are_refused():
    with pytest.raises(ValueError, match="share one network config"):
        DynamicsEnsemble(members(1, width=16) + members(1, width=8))
    with pytest.raises(ValueError, match="at least one member"):
        DynamicsEnsemble([])
    with pytest.raises(ValueError, match="one index per env"):
        DynamicsEnsemble(members(2))(torch.randn(3, 3, STATE_DIM), torch.randn(3, 3, 4), torch.zeros(2, dtype=torch.long))
