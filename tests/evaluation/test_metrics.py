"""Evaluation metrics against values worked out by hand (the working is in the comments)."""

import math

import numpy as np
import pytest

from evaluation.metrics import (agreement, bootstrap_agreement, bootstrap_samples, fidelity_curve, fit_line,
                                mean_abs_error, mmrv, pearson, percentile_interval, ranks, spearman, success_rate,
                                wilson_interval)


def test_wilson_interval_7_of_10():
    # p = 0.7, n = 10, z = 1.959964 (95%), z^2 = 3.841459
    # denom  = 1 + z^2/n                        = 1.3841459
    # centre = (p + z^2/(2n)) / denom           = (0.7 + 0.1920729) / 1.3841459 = 0.644490
    # half   = z sqrt(p(1-p)/n + z^2/(4n^2)) / denom
    #        = 1.959964 * sqrt(0.021 + 0.0096036) / 1.3841459 = 0.247715
    # -> (0.396775, 0.892205)
    lo, hi = wilson_interval(7, 10)
    assert lo == pytest.approx(0.396775, abs=1e-5) and hi == pytest.approx(0.892205, abs=1e-5)


def test_wilson_interval_edges():
    # 0/10: centre = z^2/(2n) / denom = 0.1920729 / 1.3841459 = 0.138767 = half -> lower bound exactly 0
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(2 * 0.138767, abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo99, hi99 = wilson_interval(7, 10, confidence=0.99)
    assert lo99 < 0.396775 and hi99 > 0.892205          # a wider interval at 99%
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(11, 10)


def test_success_rate_summary():
    s = success_rate([True] * 7 + [False] * 3)
    assert (s["n"], s["successes"], s["rate"]) == (10, 7, 0.7)
    assert s["ci_low"] == pytest.approx(0.396775, abs=1e-5)


def test_pearson_by_hand():
    # x = [0, 1, 2], y = [0, 1, 3]: dx = [-1, 0, 1], dy = [-4/3, -1/3, 5/3]
    # sum dx dy = 3, sum dx^2 = 2, sum dy^2 = 42/9 -> r = 3 / sqrt(2 * 42/9) = 0.981981
    assert pearson([0, 1, 2], [0, 1, 3]) == pytest.approx(0.981981, abs=1e-6)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(pearson([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]))   # constant input: undefined


def test_spearman_with_ties_by_hand():
    # x = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4] (the tie shares ranks 2 and 3); y = [1, 3, 2, 4] -> [1, 3, 2, 4]
    # dx = [-1.5, 0, 0, 1.5], dy = [-1.5, 0.5, -0.5, 1.5]: sum dx dy = 4.5, sum dx^2 = 4.5, sum dy^2 = 5
    # rho = 4.5 / sqrt(4.5 * 5) = 0.948683
    assert ranks([1, 2, 2, 3]).tolist() == [1, 2.5, 2.5, 4]
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(0.948683, abs=1e-6)
    assert spearman([0.1, 0.5, 0.9], [0.2, 0.3, 0.99]) == pytest.approx(1.0)   # monotone: rho 1


def test_mmrv_three_policies_by_hand():
    # R (simulator) = [0.9, 0.5, 0.2], S (world model) = [0.6, 0.7, 0.1]
    # i=0: j=1: R0<R1 False, S0<S1 True  -> violated, |0.9-0.5| = 0.4; j=2: False/False -> ok   => 0.4
    # i=1: j=0: R1<R0 True,  S1<S0 False -> violated, 0.4;            j=2: False/False -> ok   => 0.4
    # i=2: j=0: True/True ok; j=1: True/True ok                                                 => 0
    # MMRV = (0.4 + 0.4 + 0) / 3 = 0.266667
    assert mmrv([0.9, 0.5, 0.2], [0.6, 0.7, 0.1]) == pytest.approx(0.8 / 3)
    # the order is pinned: swapped, the magnitudes come from S: (0.1 + 0.1 + 0) / 3
    assert mmrv([0.6, 0.7, 0.1], [0.9, 0.5, 0.2]) == pytest.approx(0.2 / 3)
    assert mmrv([0.9, 0.5, 0.2], [0.8, 0.4, 0.3]) == 0.0    # same ranking, different values
    # a tie in S where R differs counts as a violation (the indicator compares strict orders):
    # i=1 (R 0.2): j=0 R1<R0 True, S1<S0 False -> 0.6; i=0: R0<R1 False, S0<S1 False -> ok  => 0.3
    assert mmrv([0.8, 0.2], [0.5, 0.5]) == pytest.approx(0.3)


def test_mean_abs_error_and_fit():
    # |0.9-0.6| + |0.5-0.7| + |0.2-0.1| = 0.3 + 0.2 + 0.1 -> 0.2
    assert mean_abs_error([0.9, 0.5, 0.2], [0.6, 0.7, 0.1]) == pytest.approx(0.2)
    slope, intercept = fit_line([0, 1, 2], [1, 3, 5])        # y = 2x + 1
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0)


def test_fidelity_curve_by_hand():
    rng = np.random.default_rng(0)
    sim = rng.integers(0, 245, (4, 16, 16, 3), dtype=np.uint8)
    # identical frames: PSNR capped at 100 dB, SSIM 1
    same = fidelity_curve([sim], [sim.copy()])
    assert same["psnr"] == [100.0] * 4 and np.allclose(same["ssim"], 1.0)
    # every pixel off by 10: MSE = (10/255)^2 -> PSNR = 20 log10(25.5) = 28.1308 dB at every step
    off = fidelity_curve([sim], [sim + 10])
    assert np.allclose(off["psnr"], 28.1308, atol=1e-3)
    # two episodes of lengths 4 and 2: steps 0-1 average both, steps 2-3 only the first
    both = fidelity_curve([sim, sim[:2]], [sim, sim[:2] + 10])
    assert both["count"] == [2, 2, 1, 1]
    assert both["psnr"][0] == pytest.approx((100 + 28.1308) / 2, abs=1e-3) and both["psnr"][3] == 100.0


def test_bootstrap_of_policies_whose_episodes_all_agree_is_the_point_estimate():
    # every episode of a policy has the same outcome, so every resample has the same rates:
    # simulator [1, 0, 1, 0], other [1, 0, 0, 0]. Pearson by hand: dx = [.5, -.5, .5, -.5],
    # dy = [.75, -.25, -.25, -.25], sum dx dy = .5, sum dx^2 = 1, sum dy^2 = .75 -> r = .5 / sqrt(.75)
    sim = [[1] * 4, [0] * 4, [1] * 4, [0] * 4]
    other = [[1] * 4, [0] * 4, [0] * 4, [0] * 4]
    point = agreement([1, 0, 1, 0], [1, 0, 0, 0])
    assert point["pearson"] == pytest.approx(0.5 / math.sqrt(0.75))
    for paired in (True, False):
        ci = bootstrap_agreement(sim, other, paired, resamples=200)
        for name in ("pearson", "spearman", "mmrv"):
            assert ci[f"{name}_ci"] == (point[name], point[name]), (name, paired)


def test_paired_resampling_keeps_identical_columns_in_perfect_agreement():
    # the other column has exactly the simulator's outcomes, episode by episode: drawn jointly,
    # every resample has equal rates in both (Pearson and Spearman 1, MMRV 0); drawn
    # independently, the columns drift apart and the intervals widen
    outcomes = [[1] * 9 + [0], [1] * 6 + [0] * 4, [1] * 3 + [0] * 7]
    paired = bootstrap_agreement(outcomes, outcomes, paired=True)
    assert paired["pearson_ci"] == pytest.approx((1.0, 1.0)) and paired["spearman_ci"] == pytest.approx((1.0, 1.0))
    assert paired["mmrv_ci"] == (0.0, 0.0)
    apart = bootstrap_agreement(outcomes, outcomes, paired=False)
    assert apart["pearson_ci"][0] < 0.9 and apart["mmrv_ci"][1] > 0.0
    assert bootstrap_agreement(outcomes, outcomes, paired=False) == apart      # fixed seed: reproducible


def test_bootstrap_mmrv_distribution_by_hand():
    # simulator: policy A always succeeds, B never (R = [1, 0] in every resample). Other column,
    # paired: A's episodes [1, 0], B's [0, 1]. A resample's S_A is 1, .5, 0 with probability
    # 1/4, 1/2, 1/4 and S_B likewise, independently. MMRV = (1[S_A < S_B] + 1[S_B >= S_A]) / 2:
    # 1 if S_A < S_B (prob (1 - P(equal)) / 2 = (1 - .375) / 2 = .3125), .5 if equal (.375),
    # 0 if S_A > S_B (.3125). The point estimate (S_A = S_B = .5) is .5; the 95% interval [0, 1].
    sim, other = [[1, 1], [0, 0]], [[1, 0], [0, 1]]
    assert mmrv([1, 0], [0.5, 0.5]) == 0.5
    values = bootstrap_samples(sim, other, paired=True, resamples=4000)[:, 2]
    for v, p in ((0.0, 0.3125), (0.5, 0.375), (1.0, 0.3125)):
        assert np.mean(values == v) == pytest.approx(p, abs=0.03)
    assert bootstrap_agreement(sim, other, paired=True)["mmrv_ci"] == (0.0, 1.0)


def test_percentile_interval_ignores_undefined_resamples():
    assert all(math.isnan(v) for v in percentile_interval([float("nan")] * 3))
    assert percentile_interval([0.0, float("nan"), 1.0, 0.5], confidence=0.5) == (0.25, 0.75)
    with pytest.raises(ValueError, match="paired columns need one outcome per episode"):
        bootstrap_agreement([[1, 0]], [[1, 0, 1]], paired=True)
