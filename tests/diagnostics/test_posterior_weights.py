"""predictive_metrics and roc_band with sample_weight and offset.

References: each column against the bayeslogreg.metrics function of that draw's
probabilities with the same sample_weight (themselves checked against scikit-learn in
test_metrics_weights.py), and integer weights against the repeated rows. Tolerance
1e-12: the same sums in another order (weighted sums against repeated rows, matmul
against pairwise summation); AUCs and ROC rates of integer weights are exact.
"""

import numpy as np
import pytest
from scipy import special

from bayeslogreg.diagnostics import predictive_metrics, roc_band
from bayeslogreg.metrics import brier_score, log_loss, rates, roc_auc, roc_curve

TOL = 1e-12


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 2))
    y = (rng.random(40) < special.expit(X @ [1.0, -0.5])).astype(float)
    draws = np.column_stack([rng.normal(0, 0.3, 9), rng.normal([1.0, -0.5], 0.3, (9, 2))])
    return {
        "X": X,
        "y": y,
        "draws": draws,
        "counts": rng.integers(0, 4, 40),
        "fractions": rng.uniform(0.0, 3.0, 40),
        "offset": rng.normal(0.0, 0.5, 40),
    }


def _probabilities(rows):
    return special.expit(rows["draws"][:, :1] + rows["draws"][:, 1:] @ rows["X"].T + rows["offset"])


@pytest.mark.parametrize("kind", ["counts", "fractions"])
def test_each_column_is_the_weighted_metric_of_that_draws_probabilities(rows, kind):
    weight = rows[kind]
    table = predictive_metrics(
        rows["draws"], rows["X"], rows["y"], sample_weight=weight, offset=rows["offset"]
    )
    prob, y = _probabilities(rows), rows["y"]
    at_half = rates(y, prob, sample_weight=weight)
    expected = {
        "auc": roc_auc(y, prob, sample_weight=weight),
        "log_loss": log_loss(y, prob, sample_weight=weight),
        "brier": brier_score(y, prob, sample_weight=weight),
        **{name: at_half[name] for name in ("accuracy", "precision", "recall", "specificity")},
    }
    for name, values in expected.items():
        np.testing.assert_allclose(table[name], values, rtol=0, atol=TOL, err_msg=name)


def test_integer_weights_give_the_metrics_and_band_of_the_repeated_rows(rows):
    weight, offset = rows["counts"], rows["offset"]
    given = {"sample_weight": weight, "offset": offset}
    repeated = [np.repeat(rows[key], weight, axis=0) for key in ("X", "y")]
    repeated_offset = {"offset": np.repeat(offset, weight)}
    np.testing.assert_allclose(
        predictive_metrics(rows["draws"], rows["X"], rows["y"], **given),
        predictive_metrics(rows["draws"], *repeated, **repeated_offset),
        rtol=0,
        atol=TOL,
    )
    band = roc_band(rows["draws"], rows["X"], rows["y"], **given)
    reference = roc_band(rows["draws"], *repeated, **repeated_offset)
    for ours, theirs in zip(band[:4], reference[:4], strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_the_weighted_band_steps_along_each_draws_weighted_roc_curve(rows):
    weight, y = rows["fractions"], rows["y"]
    grid = np.linspace(0.0, 1.0, 11)
    band = roc_band(
        rows["draws"], rows["X"], y, sample_weight=weight, offset=rows["offset"], fpr_grid=grid
    )
    steps = []
    for prob in _probabilities(rows):  # brute force: every ROC point with fpr <= f
        fpr, tpr, _ = roc_curve(y, prob, sample_weight=weight)
        steps.append([tpr[fpr <= f].max() for f in grid])
    lower, median, upper = np.quantile(steps, [0.025, 0.5, 0.975], axis=0)
    np.testing.assert_allclose(band.median, median, rtol=0, atol=TOL)
    np.testing.assert_allclose(band.lower, lower, rtol=0, atol=TOL)
    np.testing.assert_allclose(band.upper, upper, rtol=0, atol=TOL)


def test_rows_of_weight_zero_are_left_out_and_both_classes_must_remain(rows):
    X, y, draws = rows["X"], rows["y"], rows["draws"]
    weight = np.where(y == 1, 0, 1)
    with pytest.raises(ValueError, match=r"among the rows of positive sample_weight"):
        predictive_metrics(draws, X, y, sample_weight=weight)
    with pytest.raises(ValueError, match=r"among the rows of positive sample_weight"):
        roc_band(draws, X, y, sample_weight=weight)
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0"):
        predictive_metrics(draws, X, y, sample_weight=-np.ones(40))
    with pytest.raises(ValueError, match=r"offset must be 1-D with one entry per row"):
        roc_band(draws, X, y, offset=np.zeros(3))
