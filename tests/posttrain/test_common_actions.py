"""posttrain.common.actions: the action batch every world model's ``step`` checks."""

import numpy as np
import pytest
import torch

from posttrain.common.actions import batch_actions

LOW, HIGH = np.array([-1.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32)


def test_a_good_batch_comes_back_as_float_tensor():
    a = batch_actions([[0.5, -1.0], [1.0, 0.0]], 2, LOW, HIGH)
    assert a.dtype == torch.float32 and torch.equal(a, torch.tensor([[0.5, -1.0], [1.0, 0.0]]))


@pytest.mark.parametrize("bad, match", [
    ([[0.0, 0.0]], r"\(N, A\) = \(2, 2\), got \(1, 2\)"),
    ([[0.0, np.nan], [0.0, 0.0]], "NaN or inf"),
    ([[0.0, 1.5], [0.0, 0.0]], r"out of bounds \[\[-1.0, -1.0\], \[1.0, 1.0\]\]"),
])
def test_a_bad_batch_is_refused_with_what_is_wrong(bad, match):
    with pytest.raises(ValueError, match=match):
        batch_actions(bad, 2, LOW, HIGH)
