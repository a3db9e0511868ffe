"""Judge metrics on hand-made labels, and the judge network's interface."""

import numpy as np
import pytest
import torch

from posttrain.action.judge_metrics import binary_metrics, reward_mae
from posttrain.action.judges import JudgeConfig, Judges


def test_binary_metrics_on_hand_made_labels():
    predicted = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    actual = np.array([1, 0, 1, 0, 1, 0, 0, 0])
    m = binary_metrics(predicted, actual)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(2 / 3)   # tp 2, fp 1
    assert m["recall"] == pytest.approx(2 / 3)      # tp 2, fn 1
    assert m["f1"] == pytest.approx(2 / 3)
    assert (m["positives"], m["predicted_positives"], m["count"]) == (3, 3, 8)


def test_undefined_precision_and_recall_are_zero_with_their_counts():
    m = binary_metrics(np.zeros(4, bool), np.zeros(4, bool))
    assert m["accuracy"] == 1.0 and m["precision"] == 0.0 and m["recall"] == 0.0 and m["positives"] == 0
    with pytest.raises(ValueError, match="same non-empty shape"):
        binary_metrics([1, 0], [1, 0, 1])


def test_reward_mae():
    assert reward_mae([0.5, 1.0, 0.0], [0.0, 1.0, 0.3]) == pytest.approx(0.8 / 3)
    with pytest.raises(ValueError, match="same non-empty shape"):
        reward_mae([], [])


def test_judges_read_latent_state_and_action():
    torch.manual_seed(0)
    judges = Judges(JudgeConfig(latent_channels=4, latent_hw=(4, 4), state_dim=6, action_dim=2, channels=8, hidden=16))
    judges.set_normalization(torch.full((6,), 2.0), torch.full((6,), 0.5))
    latent, state, action = torch.randn(5, 4, 4, 4), torch.randn(5, 6), torch.zeros(5, 2)
    logit, reward = judges(latent, state, action)
    assert logit.shape == (5,) and reward.shape == (5,) and bool(((reward >= 0) & (reward <= 1)).all())
    assert torch.equal(judges.success(torch.tensor([-1.0, 1.0])), torch.tensor([False, True]))

    # the state and the action of step i move both outputs of step i, and only those
    for changed in ((latent, state.clone().index_fill_(0, torch.tensor([2]), 3.0), action),
                    (latent, state, action.clone().index_fill_(0, torch.tensor([2]), 1.0))):
        logit_2, reward_2 = judges(*changed)
        assert not torch.isclose(logit_2[2], logit[2]) and not torch.isclose(reward_2[2], reward[2])
        keep = torch.tensor([0, 1, 3, 4])
        assert torch.equal(logit_2[keep], logit[keep]) and torch.equal(reward_2[keep], reward[keep])

    # the state is read normalized by the training labels' statistics: the same weights without
    # normalization give the same outputs on (state - mean) / std
    plain = Judges(judges.cfg)
    plain.load_state_dict({k: v for k, v in judges.state_dict().items() if k not in ("mean", "std")}, strict=False)
    plain_logit, plain_reward = plain(latent, (state - 2.0) / 0.5, action)
    assert torch.allclose(plain_logit, logit, atol=1e-6) and torch.allclose(plain_reward, reward, atol=1e-6)
    assert not torch.allclose(plain(latent, state, action)[0], logit, atol=1e-3)
