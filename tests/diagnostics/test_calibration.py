"""Log-loss, Brier score and calibration against scikit-learn, statsmodels and loops."""

import numpy as np
import pytest
from sklearn import calibration as skc
from sklearn import metrics as skm
from statsmodels.stats.proportion import proportion_confint

from bayeslogreg.metrics import (
    brier_score,
    calibration_curve,
    expected_calibration_error,
    log_loss,
)


def probabilities(seed: int, n: int = 300, n_draws: int | None = None, grid: bool = True):
    """Labels drawn from the probabilities; on a 0.05 grid values hit the bin edges."""
    rng = np.random.default_rng(seed)
    shape = (n,) if n_draws is None else (n_draws, n)
    prob = rng.beta(2, 3, size=shape)
    if grid:
        prob = np.round(prob * 20) / 20
    y = (rng.random(n) < np.atleast_2d(prob)[0]).astype(int)
    y[:2] = [1, 0]
    return y, prob


@pytest.mark.parametrize("grid", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_log_loss_and_brier_match_sklearn(seed, grid):
    y, prob = probabilities(seed, grid=grid)
    # Means of n terms of size ~1 computed in a different order (and log1p vs log(1 - p)
    # in the last bit): agreement to 1e-12 is far above rounding.
    assert log_loss(y, prob) == pytest.approx(skm.log_loss(y, y_proba=prob), abs=1e-12)
    assert brier_score(y, prob) == pytest.approx(skm.brier_score_loss(y, prob), abs=1e-12)


def test_log_loss_clips_certain_mistakes_like_sklearn():
    y, prob = np.array([1, 0, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0])
    expected = skm.log_loss(y, y_proba=prob)
    assert log_loss(y, prob) == pytest.approx(expected, abs=1e-12)
    assert log_loss(y, prob) == pytest.approx(-np.log(np.finfo(float).eps) / 2, rel=1e-12)


def test_log_loss_and_brier_2d_equal_row_by_row():
    y, probs = probabilities(1, n=100, n_draws=8)
    for metric in (log_loss, brier_score):
        values = metric(y, probs)
        assert values.shape == (8,)
        np.testing.assert_array_equal(values, [metric(y, row) for row in probs])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 4, 10, 25])
@pytest.mark.parametrize("seed", range(2))
def test_calibration_curve_matches_sklearn(seed, n_bins, strategy):
    y, prob = probabilities(seed)
    curve = calibration_curve(y, prob, n_bins=n_bins, strategy=strategy)
    observed, mean_predicted = skc.calibration_curve(y, prob, n_bins=n_bins, strategy=strategy)
    # Same bins, same bincount sums, same division: identical numbers.
    np.testing.assert_array_equal(curve.observed, observed)
    np.testing.assert_array_equal(curve.mean_predicted, mean_predicted)
    assert curve.count.sum() == y.size and np.all(curve.count > 0)
    assert np.all(curve.bin_lower < curve.bin_upper)
    # Bins are right-closed, (lower, upper], except that the first edge belongs to bin 0.
    first_edge = 0.0 if strategy == "uniform" else prob.min()
    p, lower, upper = prob[:, None], curve.bin_lower, curve.bin_upper
    in_bin = ((p > lower) | ((lower == first_edge) & (p == first_edge))) & (p <= upper)
    np.testing.assert_array_equal(in_bin.sum(axis=0), curve.count)


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_calibration_interval_is_wilson(level):
    y, prob = probabilities(2)
    curve = calibration_curve(y, prob, n_bins=8, level=level)
    successes = np.round(curve.observed * curve.count)
    lower, upper = proportion_confint(successes, curve.count, alpha=1 - level, method="wilson")
    # Same formula arranged differently; both are O(1) numbers.
    np.testing.assert_allclose(curve.lower, lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.upper, upper, rtol=0, atol=1e-12)
    assert curve.level == level
    assert np.all((curve.lower <= curve.observed) & (curve.observed <= curve.upper))


def ece_by_loop(y, prob, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        low, high = edges[b], edges[b + 1]
        in_bin = (prob <= high) & ((prob > low) if b > 0 else (prob >= low))
        if in_bin.any():
            gap = abs(y[in_bin].mean() - prob[in_bin].mean())
            total += in_bin.sum() / y.size * gap
    return total


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("grid", [True, False])
def test_expected_calibration_error_matches_a_loop(n_bins, grid):
    y, prob = probabilities(3, grid=grid)
    # Different summation order of ~n_bins terms below 1.
    assert expected_calibration_error(y, prob, n_bins) == pytest.approx(
        ece_by_loop(y, prob, n_bins), abs=1e-12
    )


def test_expected_calibration_error_2d_and_perfect_calibration():
    y, probs = probabilities(4, n=120, n_draws=5)
    values = expected_calibration_error(y, probs)
    assert values.shape == (5,)
    np.testing.assert_allclose(values, [ece_by_loop(y, row, 10) for row in probs], atol=1e-12)
    # A bin whose mean probability equals its frequency of 1s contributes nothing.
    assert expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.0
