"""Policies a world model did not see in training, from its folder's ``provenance.train_policies``."""

import pytest

from evaluation.unseen import spec_parts, train_policies, unseen_policies

ZOO = ["expert", "expert+noise:0.3", "expert+noise:1.5", "expert+eps:0.5", "expert+delay:1", "expert+eps:0.2+delay:2",
       "random", "bc:runs/bc/step_1+noise:0.1"]


def test_spec_parts():
    assert spec_parts("expert") == ("expert", set())
    assert spec_parts("expert+eps:0.2+delay:2") == ("expert", {"eps", "delay"})
    assert spec_parts("bc:runs/bc/step_1+noise:0.1") == ("bc:runs/bc/step_1", {"noise"})


def test_unseen_is_a_new_base_or_a_new_degradation_name_whatever_the_strength():
    train = ["expert", "expert+noise:0.3", "random+eps:0.1"]
    # seen: expert (base), both noise strengths (noise seen), eps:0.5 (eps seen with random)
    # unseen: delay (no training spec has it), eps+delay (delay), the BC checkpoint (its base)
    assert unseen_policies(ZOO, train) == ["expert+delay:1", "expert+eps:0.2+delay:2", "bc:runs/bc/step_1+noise:0.1"]
    assert unseen_policies(ZOO, ["expert"]) == ZOO[1:]          # every degradation and every other base is new
    assert unseen_policies(["expert", "random"], ["expert,random+noise:1"]) == []   # a mix lists both


@pytest.mark.parametrize("yaml_text, expected", [
    ("provenance:\n  train_policies: [expert, 'expert+noise:0.5,random']\n", ["expert", "expert+noise:0.5", "random"]),
    ("provenance:\n  data: runs/push\n", None),
    ("sim: {}\n", None),
])
def test_train_policies_from_the_folder(tmp_path, yaml_text, expected):
    (tmp_path / "config.yaml").write_text(yaml_text)
    assert train_policies(str(tmp_path)) == expected
    assert train_policies(None) is None
