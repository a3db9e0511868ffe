"""``reads_pixels``: every policy that says it reads no frames acts the same on blank frames,
wrappers forward the inner policy's answer, and a policy that does not say gets frames."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from envs.simulators import simulator
from policies import make_policy
from policies.base import reads_pixels
from policies.bc import BCConfig, BCNet
from policies.bc_policy import BCPolicy
from policies.wrappers import WRAPPERS

SPACE = spaces.Box(-1.0, 1.0, (2,), np.float32)
TABLETOP = "worldsim/TabletopPush-v0"


def observation(rng, n=3, agent_dim=2, env_dim=4, blank=False) -> dict:
    pixels = np.zeros((n, 64, 64, 3), np.uint8) if blank else rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    return {"pixels": {"top": pixels}, "agent_pos": rng.uniform(-0.2, 0.2, (n, agent_dim)).astype(np.float32),
            "environment_state": rng.uniform(-0.2, 0.2, (n, env_dim)).astype(np.float32)}


def actions(policy, blank: bool) -> np.ndarray:
    policy.reset(3, seed=7)
    rng = np.random.default_rng(0)          # the same low-dim observations in both runs
    out = []
    for _ in range(4):
        obs = observation(rng)
        if blank:
            obs["pixels"]["top"] = np.zeros_like(obs["pixels"]["top"])
        out.append(policy.act(obs))
    return np.stack(out)


SCRIPTED = [spec for spec in simulator(TABLETOP).zoos["default"] if not spec.startswith("bc:")]


@pytest.mark.parametrize("spec", SCRIPTED + ["play", "play+noise:0.3"])
def test_scripted_zoo_policies_read_no_pixels_and_act_the_same_on_blank_frames(spec):
    policy = make_policy(spec, TABLETOP, SPACE)
    assert reads_pixels(policy) is False
    np.testing.assert_array_equal(actions(make_policy(spec, TABLETOP, SPACE), True), actions(policy, False))


def bc(use_image: bool) -> BCPolicy:
    torch.manual_seed(0)
    return BCPolicy(BCNet(BCConfig(camera="top", image_size=64, use_image=use_image)), SPACE)


def test_bc_reads_pixels_exactly_when_it_has_an_image_encoder():
    with_image, state_only = bc(True), bc(False)
    assert reads_pixels(with_image) and not reads_pixels(state_only)
    assert not np.array_equal(actions(with_image, True), actions(with_image, False))
    np.testing.assert_array_equal(actions(state_only, True), actions(state_only, False))


def test_wrappers_forward_the_inner_policys_answer():
    for name, wrapper in WRAPPERS.items():
        assert reads_pixels(wrapper(bc(True), 0.1)) is True, name
        assert reads_pixels(wrapper(bc(False), 0.1)) is False, name
    nested = WRAPPERS["noise"](WRAPPERS["delay"](bc(True), 1), 0.1)
    assert reads_pixels(nested) is True


def test_a_policy_that_does_not_say_is_given_frames():
    class Silent:
        action_space = SPACE

    assert reads_pixels(Silent()) is True


def test_the_lerobot_adapter_reads_pixels():
    from policies.lerobot_adapter import LeRobotPolicy

    assert LeRobotPolicy.reads_pixels is True
