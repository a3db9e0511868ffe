"""Policy spec strings and the factory; experts and their degradations rank as they should."""

import pytest

import envs  # noqa: F401
from policies import parse_mix, parse_spec


def test_spec_round_trip():
    for text in ("expert", "random", "expert+noise:0.3", "expert+eps:0.2+delay:2", "expert+bias:-0.5"):
        assert str(parse_spec(text)) == text


def test_mix_splits_on_commas():
    assert [str(s) for s in parse_mix("expert, expert+noise:0.5 ,random")] == ["expert", "expert+noise:0.5", "random"]


@pytest.mark.parametrize("text, message", [
    ("expret", "unknown policy 'expret'"),
    ("expert+zap:1", "unknown degradation 'zap'"),
    ("expert+noise", "noise.*needs a number"),
    ("expert+eps:1.5", r"needs a number in \[0.0, 1.0\]"),
    ("expert+delay:0.5", "needs an integer"),
    ("", "unknown policy ''"),
])
def test_bad_specs_name_the_value_and_the_allowed(text, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(text)


def test_empty_mix():
    with pytest.raises(ValueError, match="empty"):
        parse_mix(" , ")


def test_tabletop_expert_nearly_always_succeeds_and_degradations_rank(success_rate):
    push = {"cameras": ("top",), "image_size": 16}
    expert, noisy, random = (success_rate("worldsim/TabletopPush-v0", spec, range(12), **push)
                             for spec in ("expert", "expert+eps:0.6", "random"))
    assert expert >= 0.9
    assert expert > noisy > random or (noisy == random == 0.0 and expert > noisy)
    assert random <= 0.25
