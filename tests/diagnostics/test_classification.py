"""Confusion matrix and rates against scikit-learn; every bad input raises ValueError."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from bayeslogreg import metrics
from bayeslogreg.metrics import (
    ConfusionMatrix,
    UndefinedMetricWarning,
    _calibration,
    _classification,
    _roc,
    _roc_delong,
    accuracy,
    auc_ci,
    balanced_accuracy,
    calibration_curve,
    confusion_matrix,
    delong_test,
    expected_calibration_error,
    f1_score,
    log_loss,
    matthews_corrcoef,
    min_cost_threshold,
    partial_auc,
    precision,
    rates,
    recall,
    roc_auc,
    roc_curve,
    specificity,
)

# Rates are ratios of the same integer counts in both libraries; 1e-12 absorbs the
# different order of a few float operations (MCC's formula differs in form).
RATE_TOL = 1e-12

SKLEARN_RATES = {
    "accuracy": skm.accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1_score": skm.f1_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "matthews_corrcoef": skm.matthews_corrcoef,
}


def probabilities(seed: int, n: int = 200, n_draws: int | None = None):
    """Labels and probabilities on a 0.05 grid, so some equal the thresholds tested."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    y[:2] = [1, 0]
    shape = (n,) if n_draws is None else (n_draws, n)
    return y, np.round(np.clip(rng.normal(0.3 + 0.3 * y, 0.25, shape), 0, 1) * 20) / 20


@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.5, 0.65, 1.0])
@pytest.mark.parametrize("seed", range(3))
def test_confusion_matrix_matches_sklearn_with_strict_rule(seed, threshold):
    y, prob = probabilities(seed)
    assert np.any(prob == threshold)  # rows exactly at the threshold are predicted 0
    expected = skm.confusion_matrix(y, prob > threshold, labels=[0, 1])
    result = confusion_matrix(y, prob, threshold)
    np.testing.assert_array_equal(result.to_array(), expected)  # integer counts: exact
    assert all(isinstance(c, int) for c in result)


def test_prediction_is_strictly_greater_than_threshold():
    assert confusion_matrix([0, 1], [0.5, 0.5]) == ConfusionMatrix(tn=1, fp=0, fn=1, tp=0)
    assert confusion_matrix([0, 1], [0.5, 0.5], threshold=0.4999) == (0, 1, 0, 1)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("seed", range(3))
def test_rates_match_sklearn(seed, threshold):
    y, prob = probabilities(seed)
    y_pred = prob > threshold
    table = rates(y, prob, threshold)
    for name, sklearn_metric in SKLEARN_RATES.items():
        assert table[name] == pytest.approx(sklearn_metric(y, y_pred), abs=RATE_TOL), name
    expected_specificity = skm.recall_score(y, y_pred, pos_label=0)
    assert table["specificity"] == pytest.approx(expected_specificity, abs=RATE_TOL)
    assert list(table) == [
        "accuracy",
        "precision",
        "recall",
        "specificity",
        "f1_score",
        "balanced_accuracy",
        "matthews_corrcoef",
    ]
    assert table["recall"] == recall(y, prob, threshold)
    assert table["specificity"] == specificity(y, prob, threshold)


def test_rates_2d_equal_row_by_row():
    y, probs = probabilities(4, n=80, n_draws=9)
    confusion = confusion_matrix(y, probs, 0.45)
    assert confusion.to_array().shape == (9, 2, 2)
    table = rates(y, probs, 0.45)
    for d in range(9):
        assert tuple(c[d] for c in confusion) == confusion_matrix(y, probs[d], 0.45)
        row = rates(y, probs[d], 0.45)
        for name, values in table.items():
            assert values.shape == (9,)
            assert values[d] == row[name], name  # the same operations per row: exact


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_zero_division_values_match_sklearn(zero_division):
    y, nothing_positive = np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4])
    no_cases = np.zeros(4, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit zero_division never warns
        ours = [
            precision(y, nothing_positive, zero_division=zero_division),
            recall(no_cases, nothing_positive, zero_division=zero_division),
            f1_score(no_cases, nothing_positive, zero_division=zero_division),
            specificity(1 - no_cases, nothing_positive, zero_division=zero_division),
        ]
    pred = nothing_positive > 0.5
    expected = [
        skm.precision_score(y, pred, zero_division=zero_division),
        skm.recall_score(no_cases, pred, zero_division=zero_division),
        skm.f1_score(no_cases, pred, zero_division=zero_division),
        skm.recall_score(1 - no_cases, pred, pos_label=0, zero_division=zero_division),
    ]
    assert ours == expected == [zero_division] * 4


@pytest.mark.parametrize(
    ("metric", "y", "message"),
    [
        (precision, [0, 1, 1], "precision is undefined because no row is predicted positive"),
        (recall, [0, 0, 0], "recall is undefined because y has no positives"),
        (specificity, [1, 1, 1], "specificity is undefined because y has no negatives"),
        (f1_score, [0, 0, 0], "f1 is undefined because y has no positives and no row"),
        (balanced_accuracy, [0, 0, 0], "recall is undefined"),
        (matthews_corrcoef, [0, 1, 1], "matthews_corrcoef is undefined because y or"),
    ],
)
def test_undefined_rates_warn_and_return_zero(metric, y, message):
    with pytest.warns(UndefinedMetricWarning, match=message):
        value = metric(y, [0.1, 0.2, 0.3])
    assert value == (0.5 if metric is balanced_accuracy else 0.0)


def test_undefined_rate_in_some_draws_says_how_many():
    probs = np.array([[0.1, 0.2, 0.3], [0.9, 0.2, 0.8], [0.1, 0.1, 0.1]])
    with pytest.warns(UndefinedMetricWarning, match="in 2 of 3 rows; returning 0.0"):
        values = precision([0, 1, 1], probs)
    np.testing.assert_array_equal(values, [0.0, 0.5, 0.0])


def test_bool_labels_and_accuracy_example():
    y = np.array([False, False, True, True])
    assert accuracy(y, [0.2, 0.7, 0.5, 0.9]) == 0.5
    assert accuracy(y.astype(float), [0.2, 0.7, 0.5, 0.9]) == 0.5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=50),
    st.floats(0, 1),
)
def test_confusion_matrix_sums_to_n(rows, threshold):
    y, prob = (np.array(column) for column in zip(*rows, strict=True))
    counts = confusion_matrix(y, prob, threshold)
    assert sum(counts) == len(rows)
    assert counts.tp + counts.fn == y.sum()


# --- Bad input -------------------------------------------------------------------------

Y = np.array([0, 1, 0, 1, 1, 0])
P = np.array([0.1, 0.8, 0.4, 0.6, 0.9, 0.3])
NAN_P = np.where(np.arange(6) == 2, np.nan, P)

BAD_INPUTS = [
    ("y 2-D", lambda: roc_auc(Y[:, None], P), r"y must be 1-D \(n_samples,\); got shape \(6, 1\)"),
    ("y empty", lambda: accuracy([], []), "y is empty"),
    ("y 1/2", lambda: roc_auc(Y + 1, P), r"y must contain only 0 and 1; got values \[1, 2\]"),
    ("y -1/1", lambda: precision(2 * Y - 1, P), r"got values \[-1, 1\]"),
    ("y strings", lambda: log_loss(np.where(Y, "yes", "no"), P), r"got values \['no', 'yes'\]"),
    ("y NaN", lambda: roc_auc(np.where(Y, 1.0, np.nan), P), "y contains non-finite values"),
    (
        "one class",
        lambda: roc_auc(np.zeros(6), P),
        r"y contains only class 0 \(6 rows\); roc_auc needs both 0s and 1s",
    ),
    ("one class 1", lambda: roc_curve(np.ones(6), P), "only class 1 .*roc_curve needs both"),
    ("one class ci", lambda: auc_ci(np.ones(6), P), "auc_ci needs both 0s and 1s"),
    ("length", lambda: roc_auc(Y, P[:5]), "y_score has 5 entries per row but y has 6"),
    ("length 2-D", lambda: accuracy(Y, np.ones((3, 5)) / 2), "y_prob has 5 entries per row"),
    (
        "score NaN",
        lambda: roc_auc(Y, NAN_P),
        r"y_score contains non-finite values \(NaN or inf\) in 1 row; the first is NaN at row 2",
    ),
    ("score inf", lambda: roc_auc(Y, P + np.r_[np.inf, 0, 0, 0, 0, 0]), "inf at row 0"),
    ("prob NaN", lambda: log_loss(Y, NAN_P), "y_prob contains non-finite values"),
    (
        "draws NaN",
        lambda: roc_auc(Y, np.vstack([P, NAN_P])),
        "in 1 row; the first is NaN at row 1, column 2",
    ),
    ("score 3-D", lambda: roc_auc(Y, P[None, None]), r"1-D \(n_samples,\) or 2-D \(n_draws"),
    ("score str", lambda: roc_auc(Y, P.astype(str)), "y_score must hold real numbers; got dtype"),
    ("no draws", lambda: roc_auc(Y, np.empty((0, 6))), r"y_score has no rows: shape \(0, 6\)"),
    ("prob > 1", lambda: confusion_matrix(Y, P + 0.2), r"probabilities in \[0, 1\]; got values"),
    ("prob < 0", lambda: log_loss(Y, P - 0.2), r"y_prob must be probabilities in \[0, 1\]"),
    ("prob brier", lambda: metrics.brier_score(Y, 2 * P), r"probabilities in \[0, 1\]"),
    ("prob cost", lambda: min_cost_threshold(Y, -P, 1, 1), r"probabilities in \[0, 1\]"),
    (
        "threshold > 1",
        lambda: confusion_matrix(Y, P, 1.5),
        r"threshold must be .*\[0, 1\]; got 1.5",
    ),
    ("threshold < 0", lambda: recall(Y, P, -0.1), r"threshold must be a number in \[0, 1\]"),
    ("threshold NaN", lambda: precision(Y, P, np.nan), "threshold must be a number in"),
    ("threshold str", lambda: accuracy(Y, P, "0.5"), "threshold must be a single number"),
    ("threshold array", lambda: accuracy(Y, P, [0.5]), "threshold must be a single number"),
    ("level 0", lambda: auc_ci(Y, P, level=0), r"level must be a number in \(0, 1\), e.g. 0.95"),
    ("level 95", lambda: auc_ci(Y, P, level=95), r"level must be .*for 95%; got 95.0\."),
    ("level 1 cal", lambda: calibration_curve(Y, P, level=1.0), r"level must be a number in \("),
    ("level str", lambda: auc_ci(Y, P, level="0.9"), "level must be a single number; got '0.9'"),
    (
        "method",
        lambda: auc_ci(Y, P, method="wald"),
        r"method must be one of \['bootstrap', 'delong'\]; got 'wald'",
    ),
    (
        "strategy",
        lambda: calibration_curve(Y, P, strategy="kmeans"),
        r"strategy must be one of \['quantile', 'uniform'\]",
    ),
    ("n_bins 0", lambda: calibration_curve(Y, P, n_bins=0), "n_bins must be an integer >= 1"),
    ("n_bins float", lambda: expected_calibration_error(Y, P, n_bins=2.5), "n_bins must be"),
    ("n_bootstrap", lambda: auc_ci(Y, P, method="bootstrap", n_bootstrap=1), ">= 2; got 1"),
    ("max_fpr 0", lambda: partial_auc(Y, P, 0), r"max_fpr must be a number in \(0, 1\]; got 0.0"),
    ("max_fpr 1.5", lambda: partial_auc(Y, P, 1.5), r"max_fpr must be a number in \(0, 1\]"),
    ("zero_div", lambda: precision(Y, P, zero_division=np.nan), "zero_division must be 0.0, 1.0"),
    ("zero_div str", lambda: recall(Y, P, zero_division="nan"), "or 'warn'; got 'nan'"),
    ("cost < 0", lambda: metrics.bayes_threshold(-1, 1), "cost_fp must be a finite number >= 0"),
    ("cost inf", lambda: min_cost_threshold(Y, P, 1, np.inf), "cost_fn must be a finite"),
    ("costs 0", lambda: metrics.bayes_threshold(0, 0), "cost_fp and cost_fn are both 0"),
    ("delong 1 case", lambda: auc_ci([0, 0, 1], [0.1, 0.2, 0.3]), "at least 2 cases"),
    ("test 1 control", lambda: delong_test([0, 1, 1], P[:3], P[:3]), "at least 2 cases .* 2 contr"),
    ("test rows", lambda: delong_test(Y, np.ones((2, 6)), np.ones((3, 6))), "has 2 rows but"),
    ("test length", lambda: delong_test(Y, P, P[:4]), "y_score_b has 4 entries per row"),
    ("calibration 2-D", lambda: calibration_curve(Y, np.ones((2, 6)) / 2), r"1-D \(n_samples,\)"),
]


@pytest.mark.parametrize(
    ("call", "message"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_public_api_is_reexported():
    private = (_calibration, _classification, _roc, _roc_delong)
    assert set(metrics.__all__) == {name for module in private for name in module.__all__}
    for name in metrics.__all__:
        assert getattr(metrics, name).__doc__, name
    assert issubclass(UndefinedMetricWarning, UserWarning)
