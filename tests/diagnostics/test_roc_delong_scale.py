"""The sorted-classes DeLong path against a frozen copy of the pooled-midrank formulas.

``auc_ci`` and ``delong_test`` on 1-D scores sort cases and controls apart
(``metrics/_placements.py``); until then they ranked the pooled scores. The copy below
is that earlier code (``_tie_bounds``, ``_outscored``, ``_delong_placements``,
``_covariance`` as of commit 6674c2a), so the change is checked against what it replaced,
on data with many ties, with weights and for 2-D scores. The brute-force and pROC
checks of ``test_roc_delong.py`` stay the independent references.
"""

import numpy as np
import pytest
from scipy import special

from bayeslogreg.metrics import _placements, auc_ci, delong_test, roc_auc

# Both paths count with exact integers and half-integers, so AUCs are equal bit for bit.
# The variances sum the same terms in another order (per distinct score, weighted by
# its rows, instead of per row): rounding of sums of ~1e3 terms in [0, 1], ~1e-15.
REL_TOL = 1e-12


def frozen_tie_bounds(sorted_scores):
    n = sorted_scores.shape[-1]
    index = np.arange(n)
    starts = np.ones(sorted_scores.shape, dtype=bool)
    starts[..., 1:] = sorted_scores[..., 1:] != sorted_scores[..., :-1]
    ends = np.ones(sorted_scores.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=-1)
    last = np.minimum.accumulate(np.where(ends, index, n - 1)[..., ::-1], axis=-1)[..., ::-1]
    return first, last


def frozen_delong_placements(y, scores, weight):
    if weight is None:
        weight = np.ones(y.shape[0], dtype=np.int64)
    order = np.argsort(scores, axis=-1)
    first, last = frozen_tie_bounds(np.take_along_axis(scores, order, axis=-1))
    y_sorted, weight_sorted = y[order], weight[order]
    case_weight = np.where(y_sorted, weight_sorted, 0)
    control_weight = weight_sorted - case_weight

    def below_and_tied(own):
        so_far = np.cumsum(own, axis=-1)
        below = np.take_along_axis(so_far - own, first, axis=-1)
        return below, np.take_along_axis(so_far, last, axis=-1) - below

    cases_below, cases_tied = below_and_tied(case_weight)
    controls_below, controls_tied = below_and_tied(control_weight)
    n_positive, n_negative = weight[y].sum().item(), weight[~y].sum().item()
    controls_outscored = controls_below + controls_tied / 2
    cases_above = n_positive - cases_below - cases_tied / 2
    u = np.sum(weight_sorted * controls_outscored, axis=-1, where=y_sorted)
    auc = u / (n_positive * n_negative)
    placement = np.where(y_sorted, controls_outscored / n_negative, cases_above / n_positive)
    unsorted = np.empty_like(placement)
    np.put_along_axis(unsorted, order, placement, axis=-1)
    return auc, unsorted[..., y], unsorted[..., ~y], n_positive, n_negative


def frozen_covariance(a, b, weight):
    if weight is None:
        a = a - a.mean(axis=-1, keepdims=True)
        b = b - b.mean(axis=-1, keepdims=True)
        return np.sum(a * b, axis=-1) / (a.shape[-1] - 1)
    total = weight.sum()
    a = a - (a @ weight / total)[..., None]
    b = b - (b @ weight / total)[..., None]
    return (a * b) @ weight / (total - 1)


def frozen_auc_ci(y, score, weight, level):
    auc, v10, v01, n1, n0 = frozen_delong_placements(y, score, weight)
    w1, w0 = (None, None) if weight is None else (weight[y], weight[~y])
    se = np.sqrt(frozen_covariance(v10, v10, w1) / n1 + frozen_covariance(v01, v01, w0) / n0)
    z = special.ndtri(0.5 + level / 2)
    return auc, np.clip(auc - z * se, 0, 1), np.clip(auc + z * se, 0, 1), se


def frozen_delong_test(y, a, b, weight):
    auc_a, v10_a, v01_a, n1, n0 = frozen_delong_placements(y, a, weight)
    auc_b, v10_b, v01_b, _, _ = frozen_delong_placements(y, b, weight)
    w1, w0 = (None, None) if weight is None else (weight[y], weight[~y])

    def cov(u10, u01, t10, t01):
        return frozen_covariance(u10, t10, w1) / n1 + frozen_covariance(u01, t01, w0) / n0

    var_a, var_b = cov(v10_a, v01_a, v10_a, v01_a), cov(v10_b, v01_b, v10_b, v01_b)
    cov_ab = cov(v10_a, v01_a, v10_b, v01_b)
    se = np.sqrt(np.maximum(var_a + var_b - 2 * cov_ab, 0.0))
    z = (auc_a - auc_b) / se
    return auc_a, auc_b, se, z, 2 * special.ndtr(-np.abs(z)), cov_ab / np.sqrt(var_a * var_b)


def tied_scores(seed, n=2000, n_draws=None, decimals=2):
    """~53% positives (as HIGGS) and two correlated scores rounded to ``decimals``."""
    rng = np.random.default_rng(seed)
    shape = (n,) if n_draws is None else (n_draws, n)
    eta = rng.normal(0.1, 1.0, size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    a = np.round(eta + rng.normal(0, 0.5, size=shape), decimals)
    b = np.round(0.7 * a + rng.normal(0, 0.6, size=shape), decimals)
    weight = rng.integers(0, 4, size=n)  # 0 drops a row, as the public functions do
    return y, a, b, weight


def positive_rows(y, weight, *scores):
    keep = np.ones(y.shape, bool) if weight is None else weight > 0
    kept_weight = None if weight is None else weight[keep]
    return y[keep], kept_weight, *(s[..., keep] for s in scores)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("decimals", "n_draws"), [(0, None), (1, None), (2, None), (12, None), (1, 5)]
)
def test_auc_ci_equals_the_pooled_midrank_formulas(weighted, decimals, n_draws):
    y, a, _, weight = tied_scores(0, n_draws=n_draws, decimals=decimals)
    weight = weight if weighted else None
    result = auc_ci(y, a, level=0.9, sample_weight=weight)
    y_kept, w_kept, a_kept = positive_rows(y, weight, a)
    expected = frozen_auc_ci(y_kept, a_kept, w_kept, level=0.9)
    np.testing.assert_array_equal(result.auc, expected[0])
    for got, want in zip(result[1:4], expected[1:], strict=True):
        np.testing.assert_allclose(got, want, rtol=REL_TOL, atol=0)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("decimals", "n_draws"), [(0, None), (1, None), (2, None), (12, None), (1, 4)]
)
def test_delong_test_equals_the_pooled_midrank_formulas(weighted, decimals, n_draws):
    y, a, b, weight = tied_scores(1, n_draws=n_draws, decimals=decimals)
    weight = weight if weighted else None
    result = delong_test(y, a, b, sample_weight=weight)
    y_kept, w_kept, a_kept, b_kept = positive_rows(y, weight, a, b)
    auc_a, auc_b, se, z, p_value, correlation = frozen_delong_test(y_kept, a_kept, b_kept, w_kept)
    np.testing.assert_array_equal(result.auc_a, auc_a)
    np.testing.assert_array_equal(result.auc_b, auc_b)
    np.testing.assert_array_equal(result.difference, auc_a - auc_b)
    got = [result.se, result.z, result.p_value, result.correlation]
    for got_value, want in zip(got, [se, z, p_value, correlation], strict=True):
        np.testing.assert_allclose(got_value, want, rtol=REL_TOL, atol=0)


def test_a_score_with_one_value_has_auc_one_half_and_zero_se():
    y, _, _, _ = tied_scores(2, n=50)
    result = auc_ci(y, np.full(50, 0.3))
    assert (result.auc, result.se, result.lower, result.upper) == (0.5, 0.0, 0.5, 0.5)


def test_classes_sorted_in_two_threads_give_the_same_numbers(monkeypatch):
    y, a, b, weight = tied_scores(3, n=600)
    weight = weight.astype(np.uint8)
    monkeypatch.setattr(_placements, "THREAD_MIN_ROWS", 1)
    y_kept, w_kept, a_kept, b_kept = positive_rows(y, weight, a, b)
    interval = auc_ci(y, a, sample_weight=weight)
    np.testing.assert_allclose(
        interval[:4], frozen_auc_ci(y_kept, a_kept, w_kept, 0.95), rtol=REL_TOL, atol=0
    )
    test = delong_test(y, a, b)
    expected = frozen_delong_test(y, a, b, None)
    np.testing.assert_allclose(
        [test.auc_a, test.auc_b, test.se, test.z], expected[:4], rtol=REL_TOL, atol=0
    )


@pytest.mark.parametrize("decimals", [1, 3, 12])
def test_roc_auc_of_one_score_equals_the_pooled_midrank_auc(decimals):
    y, a, _, _ = tied_scores(4, decimals=decimals)
    assert roc_auc(y, a) == frozen_delong_placements(y, a, None)[0]
