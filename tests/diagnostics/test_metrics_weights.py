"""Observation weights in every metric: scikit-learn, repeated rows and brute force agree.

A weight is a frequency (scikit-learn's ``sample_weight``): a row of weight w counts as w
identical rows. The references are scikit-learn with the same ``sample_weight`` where it
has the metric, and otherwise the unweighted function on the rows repeated ``w`` times
(integer weights) or a brute-force loop (any weights).
"""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve as sk_calibration_curve

from bayeslogreg import metrics
from bayeslogreg.metrics import (
    auc_ci,
    calibration_curve,
    confusion_matrix,
    delong_test,
    expected_calibration_error,
    min_cost_threshold,
    partial_auc,
    roc_auc,
    roc_curve,
    youden_threshold,
)

# The same sums of the same weights, taken in another order (a matrix product here,
# bincount or a cumulative sum in scikit-learn): they differ by a few ulps of numbers
# of order 1, far below 1e-12.
TOL = 1e-12

THRESHOLDED = (
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "f1_score",
    "balanced_accuracy",
    "matthews_corrcoef",
)


def sklearn_rate(name, y, predicted, weight):
    """scikit-learn's value of the thresholded metric ``name`` with ``sample_weight``."""
    if name == "specificity":
        return skm.recall_score(y, predicted, pos_label=0, sample_weight=weight)
    function = {
        "accuracy": skm.accuracy_score,
        "precision": skm.precision_score,
        "recall": skm.recall_score,
        "f1_score": skm.f1_score,
        "balanced_accuracy": skm.balanced_accuracy_score,
        "matthews_corrcoef": skm.matthews_corrcoef,
    }[name]
    return function(y, predicted, sample_weight=weight)


def weighted_data(seed: int, n: int = 80, n_draws: int | None = None, integer: bool = True):
    """Labels, probabilities rounded to 0.05 (many ties) and weights with some zeros."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:6] = [True, True, True, False, False, False]
    shape = (n,) if n_draws is None else (n_draws, n)
    prob = np.round(np.clip(rng.normal(0.3 + 0.35 * y, 0.25, size=shape), 0, 1) * 20) / 20
    weight = rng.integers(0, 4, size=n) if integer else rng.gamma(0.7, 1.5, size=n)
    weight[:6] = [1, 2, 3, 1, 2, 3]
    weight[6:9] = 0
    return y.astype(int), prob, weight


def repeated(y, score, weight):
    """The rows repeated ``weight`` times: what integer weights stand for."""
    return np.repeat(y, weight), np.repeat(score, weight, axis=-1)


# ---------------------------------------------------------------------------------------
# Thresholded metrics against scikit-learn.


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_weighted_confusion_matrix_equals_sklearn(seed, integer):
    y, prob, weight = weighted_data(seed, integer=integer)
    table = confusion_matrix(y, prob, 0.4, sample_weight=weight).to_array()
    expected = skm.confusion_matrix(y, prob > 0.4, sample_weight=weight)
    if integer:  # integer weights give integer counts in both, and exactly the same ones
        assert table.dtype.kind == expected.dtype.kind == "i"
        np.testing.assert_array_equal(table, expected)
    else:
        np.testing.assert_allclose(table, expected, rtol=TOL, atol=0)


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("name", THRESHOLDED)
def test_weighted_rates_equal_sklearn_for_one_score_and_for_draws(name, integer):
    y, prob, weight = weighted_data(1, n_draws=4, integer=integer)
    function = getattr(metrics, name)
    per_draw = function(y, prob, 0.5, sample_weight=weight)
    for d in range(prob.shape[0]):
        expected = sklearn_rate(name, y, prob[d] > 0.5, weight)
        assert function(y, prob[d], 0.5, sample_weight=weight) == pytest.approx(expected, abs=TOL)
        assert per_draw[d] == pytest.approx(expected, abs=TOL)


def test_rates_pass_the_weights_to_every_metric():
    y, prob, weight = weighted_data(2, integer=False)
    table = metrics.rates(y, prob, 0.5, sample_weight=weight)
    for name in THRESHOLDED:
        assert table[name] == pytest.approx(sklearn_rate(name, y, prob > 0.5, weight), abs=TOL)


# ---------------------------------------------------------------------------------------
# Ranking: ROC, AUC, partial AUC and thresholds.


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_weighted_roc_curve_and_auc_equal_sklearn(seed, integer):
    y, prob, weight = weighted_data(seed, integer=integer)
    fpr, tpr, thresholds = roc_curve(y, prob, sample_weight=weight)
    sk_fpr, sk_tpr, sk_thresholds = skm.roc_curve(
        y, prob, sample_weight=weight, drop_intermediate=False
    )
    np.testing.assert_array_equal(thresholds, sk_thresholds)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=0, atol=TOL)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=0, atol=TOL)
    expected = skm.roc_auc_score(y, prob, sample_weight=weight)
    assert roc_auc(y, prob, sample_weight=weight) == pytest.approx(expected, abs=TOL)
    for max_fpr in (0.1, 0.35):
        expected = skm.roc_auc_score(y, prob, sample_weight=weight, max_fpr=max_fpr)
        got = partial_auc(y, prob, max_fpr, sample_weight=weight)
        assert got == pytest.approx(expected, abs=TOL)


def test_weighted_ranking_of_draws_is_that_of_each_draw():
    y, prob, weight = weighted_data(4, n_draws=3, integer=False)
    aucs = roc_auc(y, prob, sample_weight=weight)
    fpr, tpr, _ = roc_curve(y, prob, sample_weight=weight)
    for d in range(3):
        assert aucs[d] == roc_auc(y, prob[d], sample_weight=weight)
        one_fpr, one_tpr, _ = roc_curve(y, prob[d], sample_weight=weight)
        np.testing.assert_array_equal(fpr[d, : one_fpr.size], one_fpr)
        np.testing.assert_array_equal(tpr[d, : one_tpr.size], one_tpr)


def brute_force_best_threshold(y, prob, weight, cost):
    """Search every observed score (and 0) as t for the rule ``prob > t``: least cost wins,
    the highest t among ties. ``cost(fp, fn, fpr, tpr)`` is minimised."""
    kept = weight > 0
    candidates = np.unique(np.concatenate([[0.0], prob[kept]]))[::-1]
    best = None
    for t in candidates:
        if t == 0 and prob[kept].min() == 0:
            continue
        (tn, fp), (fn, tp) = skm.confusion_matrix(y, prob > t, sample_weight=weight)
        value = cost(fp, fn, fp / (fp + tn), tp / (tp + fn))
        if best is None or value < best[1] - 1e-9:
            best = (t, value)
    return best


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_weighted_thresholds_equal_a_brute_force_search(seed, integer):
    y, prob, weight = weighted_data(seed, integer=integer)
    threshold, cost = brute_force_best_threshold(
        y, prob, weight, lambda fp, fn, fpr, tpr: 2 * fp + 5 * fn
    )
    result = min_cost_threshold(y, prob, 2, 5, sample_weight=weight)
    assert result.threshold == threshold
    assert result.cost == pytest.approx(cost, abs=TOL)
    threshold, minus_j = brute_force_best_threshold(
        y, prob, weight, lambda fp, fn, fpr, tpr: fpr - tpr
    )
    result = youden_threshold(y, prob, sample_weight=weight)
    assert result.threshold == threshold
    assert result.j == pytest.approx(-minus_j, abs=TOL)


# ---------------------------------------------------------------------------------------
# Probability scores.


@pytest.mark.parametrize("integer", [True, False])
def test_weighted_log_loss_and_brier_equal_sklearn(integer):
    y, prob, weight = weighted_data(5, n_draws=3, integer=integer)
    prob[0, :3] = [0.0, 1.0, 1.0]  # confident mistakes: clipped the same way
    losses = metrics.log_loss(y, prob, sample_weight=weight)
    briers = metrics.brier_score(y, prob, sample_weight=weight)
    for d in range(3):
        expected = skm.log_loss(y, prob[d], sample_weight=weight, labels=[0, 1])
        assert losses[d] == pytest.approx(expected, abs=TOL)
        expected = skm.brier_score_loss(y, prob[d], sample_weight=weight)
        assert briers[d] == pytest.approx(expected, abs=TOL)


def brute_force_ece(y, prob, weight, n_bins):
    """Weighted ECE bin by bin: bins (k / n_bins, (k + 1) / n_bins], the first from 0."""
    total = 0.0
    for k in range(n_bins):
        low, high = k / n_bins, (k + 1) / n_bins
        inside = (prob > low) & (prob <= high) if k else (prob <= high)
        bin_weight = weight[inside].sum()
        if bin_weight > 0:
            observed = np.sum(weight[inside] * y[inside]) / bin_weight
            predicted = np.sum(weight[inside] * prob[inside]) / bin_weight
            total += bin_weight * abs(observed - predicted)
    return total / weight.sum()


@pytest.mark.parametrize("integer", [True, False])
def test_weighted_ece_equals_a_bin_by_bin_loop(integer):
    y, prob, weight = weighted_data(6, n_draws=2, integer=integer)
    ece = expected_calibration_error(y, prob, n_bins=7, sample_weight=weight)
    for d in range(2):
        assert ece[d] == pytest.approx(brute_force_ece(y, prob[d], weight, 7), abs=TOL)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("seed", range(3))
def test_weighted_calibration_curve_is_that_of_the_repeated_rows(seed, strategy):
    y, prob, weight = weighted_data(seed, n=120)
    prob = np.random.default_rng(seed).random(120)  # also untied, for quantile edges
    curve = calibration_curve(y, prob, n_bins=6, strategy=strategy, sample_weight=weight)
    expected = calibration_curve(*repeated(y, prob, weight), n_bins=6, strategy=strategy)
    # Same bins and counts; the bin sums w * p against p + p + ... differ by ulps.
    np.testing.assert_array_equal(curve.count, expected.count)
    assert curve.count.dtype.kind == "i"
    for field in ("observed", "mean_predicted", "lower", "upper", "bin_lower", "bin_upper"):
        np.testing.assert_allclose(
            getattr(curve, field), getattr(expected, field), rtol=0, atol=TOL, err_msg=field
        )
    # And scikit-learn's curve of the repeated rows, which has no sample_weight.
    observed, predicted = sk_calibration_curve(
        *repeated(y, prob, weight), n_bins=6, strategy=strategy
    )
    np.testing.assert_allclose(curve.observed, observed, rtol=0, atol=TOL)
    np.testing.assert_allclose(curve.mean_predicted, predicted, rtol=0, atol=TOL)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_point_metrics_do_not_depend_on_the_scale_of_the_weights(scale):
    # Products of two weighted totals (the AUC's W1 * W0, MCC's tp * tn) would under- or
    # overflow at these scales; the metrics are ratios and must not notice.
    y, prob, weight = weighted_data(8, integer=False)
    scaled = weight * scale
    calls = {
        "roc_auc": lambda w: roc_auc(y, prob, sample_weight=w),
        "partial_auc": lambda w: partial_auc(y, prob, 0.3, sample_weight=w),
        "youden_j": lambda w: youden_threshold(y, prob, sample_weight=w).j,
        "ece": lambda w: expected_calibration_error(y, prob, sample_weight=w),
        "log_loss": lambda w: metrics.log_loss(y, prob, sample_weight=w),
        "brier": lambda w: metrics.brier_score(y, prob, sample_weight=w),
        **{n: lambda w, n=n: getattr(metrics, n)(y, prob, sample_weight=w) for n in THRESHOLDED},
    }
    for name, call in calls.items():
        assert call(scaled) == pytest.approx(call(weight), abs=TOL), name


# ---------------------------------------------------------------------------------------
# Zero weights drop rows, everywhere.


ZERO_WEIGHT_CASES = [
    ("confusion_matrix", lambda y, p, **kw: confusion_matrix(y, p, 0.4, **kw)),
    *[(n, lambda y, p, n=n, **kw: getattr(metrics, n)(y, p, 0.4, **kw)) for n in THRESHOLDED],
    ("roc_curve", roc_curve),
    ("roc_auc", roc_auc),
    ("partial_auc", lambda y, p, **kw: partial_auc(y, p, 0.3, **kw)),
    ("youden_threshold", youden_threshold),
    ("min_cost_threshold", lambda y, p, **kw: min_cost_threshold(y, p, 1, 3, **kw)),
    ("log_loss", metrics.log_loss),
    ("brier_score", metrics.brier_score),
    ("expected_calibration_error", expected_calibration_error),
    ("calibration_curve", lambda y, p, **kw: calibration_curve(y, p, 4, "quantile", **kw)),
    ("auc_ci delong", auc_ci),
    ("auc_ci bootstrap", lambda y, p, **kw: auc_ci(y, p, method="bootstrap", **kw)),
    ("delong_test", lambda y, p, **kw: delong_test(y, p, np.round(np.sin(7 * p), 1), **kw)),
]


@pytest.mark.parametrize(
    ("name", "function"), ZERO_WEIGHT_CASES, ids=[c[0] for c in ZERO_WEIGHT_CASES]
)
def test_rows_of_weight_zero_are_the_same_as_removed_rows(name, function):
    y, prob, weight = weighted_data(7, n=60)
    weight = (weight > 0).astype(int)  # 0 or 1: the kept rows, each once
    kept = weight > 0
    # A score far out of line on a dropped row would move every ranking if it counted.
    prob[~kept] = np.where(y[~kept], 0.0, 1.0)
    got = function(y, prob, sample_weight=weight)
    expected = function(y[kept], prob[kept])
    fields = (got, expected) if isinstance(got, tuple) else ((got,), (expected,))
    for g, e in zip(*fields, strict=True):
        if isinstance(g, str):
            assert g == e
        else:
            np.testing.assert_allclose(g, e, rtol=0, atol=TOL)


# ---------------------------------------------------------------------------------------
# Intervals and tests: integer weights are repeated rows; other weights are refused.


@pytest.mark.parametrize("seed", range(3))
def test_integer_weights_give_the_delong_interval_of_the_repeated_rows(seed):
    y, score, weight = weighted_data(seed, n_draws=2)
    for s in (score[0], score):
        got = auc_ci(y, s, level=0.9, sample_weight=weight)
        expected = auc_ci(*repeated(y, s, weight), level=0.9)
        # AUC and placements are sums of whole and half numbers: exact. DeLong's
        # variance takes weighted means where the repeated rows take plain ones, which
        # round differently by a few ulps.
        np.testing.assert_array_equal(got.auc, expected.auc)
        for field in ("se", "lower", "upper"):
            np.testing.assert_allclose(
                getattr(got, field), getattr(expected, field), rtol=0, atol=1e-14
            )
    # Whole numbers held as floats are the same counts.
    as_float = auc_ci(y, score[0], level=0.9, sample_weight=weight.astype(float))
    assert as_float == auc_ci(y, score[0], level=0.9, sample_weight=weight)


@pytest.mark.parametrize("seed", range(2))
def test_integer_weights_give_exactly_the_bootstrap_of_the_repeated_rows(seed):
    y, score, weight = weighted_data(seed, n=40, n_draws=2)
    for s in (score[0], score):
        got = auc_ci(y, s, method="bootstrap", n_bootstrap=300, seed=seed, sample_weight=weight)
        expected = auc_ci(*repeated(y, s, weight), method="bootstrap", n_bootstrap=300, seed=seed)
        # The same resamples of the same scores: identical AUCs, bit for bit.
        for field in ("auc", "lower", "upper", "se"):
            np.testing.assert_array_equal(getattr(got, field), getattr(expected, field))


def test_the_weighted_bootstrap_does_not_depend_on_the_chunking(monkeypatch):
    from bayeslogreg.metrics import _roc_delong

    y, score, weight = weighted_data(3, n=40)
    whole = auc_ci(y, score, method="bootstrap", n_bootstrap=50, sample_weight=weight)
    monkeypatch.setattr(_roc_delong, "_BOOTSTRAP_CHUNK", 97)
    chunked = auc_ci(y, score, method="bootstrap", n_bootstrap=50, sample_weight=weight)
    assert whole == chunked


@pytest.mark.parametrize("seed", range(3))
def test_integer_weights_give_the_delong_test_of_the_repeated_rows(seed):
    y, a, weight = weighted_data(seed, n_draws=2)
    b = np.round(0.5 * a[0] + np.random.default_rng(seed).normal(0, 0.2, y.size), 1)
    got = delong_test(y, a, b, sample_weight=weight)
    ya, ra = repeated(y, a, weight)
    expected = delong_test(ya, ra, np.repeat(b, weight))
    for field in ("auc_a", "auc_b", "difference"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field))
    # Weighted against plain means in the variances (see the interval test); z and the
    # p-value follow the se, which is of order 0.05 here.
    for field in ("se", "z", "p_value", "correlation"):
        np.testing.assert_allclose(
            getattr(got, field), getattr(expected, field), rtol=1e-12, atol=1e-14
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda y, p, w: auc_ci(y, p, sample_weight=w),
        lambda y, p, w: auc_ci(y, p, method="bootstrap", sample_weight=w),
        lambda y, p, w: delong_test(y, p, np.square(p), sample_weight=w),
        lambda y, p, w: calibration_curve(y, p, sample_weight=w),
    ],
    ids=["delong", "bootstrap", "delong_test", "calibration_curve"],
)
def test_intervals_refuse_weights_that_are_not_whole_numbers(call):
    y, prob, weight = weighted_data(0)
    weight = weight.astype(float)
    weight[10] = 2.5
    with pytest.raises(ValueError, match=r"needs whole-number sample_weight .* got 2\.5 at row 10"):
        call(y, prob, weight)


def test_point_metrics_take_weights_that_are_not_whole_numbers():
    y, prob, weight = weighted_data(0, integer=False)
    assert 0 < roc_auc(y, prob, sample_weight=weight) < 1
    assert 0 < expected_calibration_error(y, prob, sample_weight=weight) < 1


# ---------------------------------------------------------------------------------------
# Bad weights: one ValueError wording, at every entry point.


EVERY_METRIC = [
    lambda y, p, w: confusion_matrix(y, p, sample_weight=w),
    *[lambda y, p, w, n=n: getattr(metrics, n)(y, p, sample_weight=w) for n in THRESHOLDED],
    lambda y, p, w: metrics.rates(y, p, sample_weight=w),
    lambda y, p, w: roc_curve(y, p, sample_weight=w),
    lambda y, p, w: roc_auc(y, p, sample_weight=w),
    lambda y, p, w: partial_auc(y, p, 0.5, sample_weight=w),
    lambda y, p, w: youden_threshold(y, p, sample_weight=w),
    lambda y, p, w: min_cost_threshold(y, p, 1, 1, sample_weight=w),
    lambda y, p, w: auc_ci(y, p, sample_weight=w),
    lambda y, p, w: auc_ci(y, p, method="bootstrap", sample_weight=w),
    lambda y, p, w: delong_test(y, p, np.square(p), sample_weight=w),
    lambda y, p, w: metrics.log_loss(y, p, sample_weight=w),
    lambda y, p, w: metrics.brier_score(y, p, sample_weight=w),
    lambda y, p, w: calibration_curve(y, p, sample_weight=w),
    lambda y, p, w: expected_calibration_error(y, p, sample_weight=w),
]

BAD_WEIGHTS = [
    ([1, 1, -1, 1, 1, 1], r"sample_weight must be >= 0 .*got -1 at row 2 \(1 negative in all\)"),
    ([1, 1, np.nan, 1, 1, 1], r"sample_weight contains non-finite values .* NaN at row 2"),
    ([1, 1, 1, np.inf, 1, 1], r"sample_weight contains non-finite values .* inf at row 3"),
    ([0, 0, 0, 0, 0, 0], r"sample_weight is 0 in every row"),
    ([1, 1, 1, 1, 1], r"sample_weight must be 1-D with one entry per row \(6 rows\); .* \(5,\)"),
    ([[1, 1, 1, 1, 1, 1]], r"sample_weight must be 1-D with one entry .* got shape \(1, 6\)"),
    (["a"] * 6, r"sample_weight must hold real numbers"),
]


@pytest.mark.parametrize(("weight", "message"), BAD_WEIGHTS)
@pytest.mark.parametrize("call", EVERY_METRIC)
def test_bad_weights_raise_one_value_error_at_every_metric(call, weight, message):
    y = [0, 1, 0, 1, 0, 1]
    prob = [0.1, 0.8, 0.4, 0.35, 0.2, 0.9]
    with pytest.raises(ValueError, match=message):
        call(y, prob, weight)


def test_a_class_present_only_with_weight_zero_is_missing():
    y, prob = [0, 1, 0, 1, 0, 1], [0.1, 0.8, 0.4, 0.35, 0.2, 0.9]
    message = r"y contains only class 0 among the rows of positive sample_weight \(3 rows\)"
    for call in (roc_auc, roc_curve, auc_ci, lambda *a, **k: delong_test(y, prob, prob, **k)):
        with pytest.raises(ValueError, match=message):
            call(y, prob, sample_weight=[1, 0, 1, 0, 1, 0])


def test_delong_needs_two_of_each_class_counted_by_weight():
    y, prob = [0, 1, 0, 1], [0.1, 0.8, 0.4, 0.35]
    with pytest.raises(ValueError, match=r"at least 2 cases .* got 1 and 2"):
        auc_ci(y, prob, sample_weight=[1, 1, 1, 0])
    # A case of weight 2 is two cases.
    assert auc_ci(y, prob, sample_weight=[1, 2, 1, 0]).auc == 1.0
