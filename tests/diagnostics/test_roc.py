"""ROC curve, AUC, partial AUC and threshold choice against scikit-learn and brute force."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from bayeslogreg.metrics import (
    bayes_threshold,
    confusion_matrix,
    min_cost_threshold,
    partial_auc,
    roc_auc,
    roc_curve,
    youden_threshold,
)

# AUCs from midranks and from scikit-learn's trapezoids differ only by rounding in a
# handful of float operations on numbers in [0, 1]: 1e-12 leaves a factor ~1e4 of room.
AUC_TOL = 1e-12


def tied_data(seed: int, n: int = 300, n_draws: int | None = None):
    """Labels and scores rounded to 1 decimal, so that many scores are tied."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:2] = [True, False]
    shape = (n,) if n_draws is None else (n_draws, n)
    return y.astype(int), np.round(rng.normal(0.8 * y, 1.0, size=shape), 1)


def tied_probabilities(seed: int, n: int = 300, n_draws: int | None = None):
    """Labels and probabilities on a grid of 0.05 (ties, and values equal to 0 and 1)."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    y[:2] = [True, False]
    shape = (n,) if n_draws is None else (n_draws, n)
    return y.astype(int), np.round(np.clip(rng.normal(0.3 + 0.3 * y, 0.25, shape), 0, 1), 2)


SPECIAL_CASES = {
    "constant score": ([0, 1, 0, 1, 1], [0.3] * 5),
    "perfect": ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]),
    "reversed": ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),
    "bool labels": (np.array([True, False, True, False]), [2, 1, 1, -3]),
    "one case": ([0, 0, 0, 1, 0], [0.5, 0.1, 0.5, 0.5, 0.9]),
}


@pytest.mark.parametrize("seed", range(5))
def test_roc_curve_equals_sklearn_exactly(seed):
    y, score = tied_data(seed)
    expected = skm.roc_curve(y, score, drop_intermediate=False)
    for ours, theirs in zip(roc_curve(y, score), expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)  # exact: same counts, same division


@pytest.mark.parametrize("name", SPECIAL_CASES)
def test_roc_curve_and_auc_special_cases(name):
    y, score = SPECIAL_CASES[name]
    expected = skm.roc_curve(y, score, drop_intermediate=False)
    for ours, theirs in zip(roc_curve(y, score), expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score), abs=AUC_TOL)


def test_roc_curve_2d_rows_are_padded_sklearn_curves():
    y, scores = tied_data(1, n=60, n_draws=7)
    fpr, tpr, thresholds = roc_curve(y, scores)
    assert fpr.shape == tpr.shape == thresholds.shape == (7, 61)
    for d in range(7):
        expected = skm.roc_curve(y, scores[d], drop_intermediate=False)
        k = 1 + np.argmax(thresholds[d] == thresholds[d, -1])  # documented point count
        assert k == len(expected[0])
        for ours, theirs in zip((fpr[d], tpr[d], thresholds[d]), expected, strict=True):
            np.testing.assert_array_equal(ours[:k], theirs)
            np.testing.assert_array_equal(ours[k:], theirs[-1])  # padding repeats the end


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_sklearn_and_pair_count(seed):
    y, score = tied_data(seed)
    auc = roc_auc(y, score)
    assert isinstance(auc, float)
    assert auc == pytest.approx(skm.roc_auc_score(y, score), abs=AUC_TOL)
    cases, controls = score[y == 1], score[y == 0]
    pairs = (cases[:, None] > controls) + 0.5 * (cases[:, None] == controls)
    assert auc == pytest.approx(pairs.mean(), abs=AUC_TOL)


def test_roc_auc_2d_equals_row_by_row():
    y, scores = tied_data(2, n=200, n_draws=25)
    aucs = roc_auc(y, scores)
    assert aucs.shape == (25,)
    # Same arithmetic on the same row, so the values are identical, not just close.
    np.testing.assert_array_equal(aucs, [roc_auc(y, row) for row in scores])


@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.25, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("seed", range(3))
def test_partial_auc_matches_sklearn_mcclish(seed, max_fpr):
    y, score = tied_data(seed, n=150)
    expected = skm.roc_auc_score(y, score, max_fpr=max_fpr)
    assert partial_auc(y, score, max_fpr) == pytest.approx(expected, abs=AUC_TOL)
    raw = partial_auc(y, score, max_fpr, standardized=False)
    min_area = max_fpr**2 / 2
    # Undo McClish's affine map; the map divides by (max_fpr - min_area), so scale the tol.
    assert raw == pytest.approx(min_area + (2 * expected - 1) * (max_fpr - min_area), abs=1e-11)


def test_partial_auc_at_an_fpr_of_the_curve_and_in_2d():
    y, scores = tied_data(4, n=80, n_draws=6)
    n_controls = np.count_nonzero(y == 0)
    max_fpr = 7 / n_controls  # exactly an fpr of every curve: no interpolation needed
    ours = partial_auc(y, scores, max_fpr)
    expected = [skm.roc_auc_score(y, row, max_fpr=max_fpr) for row in scores]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=AUC_TOL)
    assert partial_auc(y, scores, 1.0) == pytest.approx(roc_auc(y, scores), abs=AUC_TOL)


def strict_rule_points(y, score):
    """Every distinct rule 'score > t' by brute force: (t, fp, tp), highest t first."""
    y = np.asarray(y, dtype=bool)
    candidates = np.unique(np.append(score, -np.inf))[::-1]
    return [
        (t, np.count_nonzero((score > t) & ~y), np.count_nonzero((score > t) & y))
        for t in candidates
    ]


@pytest.mark.parametrize("seed", range(4))
def test_youden_threshold_matches_brute_force(seed):
    y, score = tied_data(seed, n=120)
    n1, n0 = np.count_nonzero(y), np.count_nonzero(y == 0)
    points = strict_rule_points(y, score)
    j = [tp / n1 - fp / n0 for _, fp, tp in points]
    best = int(np.argmax(j))  # the first maximum: the highest threshold, as documented
    result = youden_threshold(y, score)
    assert result.threshold == points[best][0]
    assert result.j == j[best]  # the same float operations: exact
    assert (result.fpr, result.tpr) == (points[best][1] / n0, points[best][2] / n1)
    fpr, tpr, _ = roc_curve(y, score)
    assert result.j == np.max(tpr - fpr)


def test_youden_threshold_reproduces_its_confusion_matrix_and_2d():
    y, probs = tied_probabilities(3, n=150, n_draws=5)
    result = youden_threshold(y, probs)
    for d in range(5):
        row = youden_threshold(y, probs[d])
        assert (row.threshold, row.j, row.fpr, row.tpr) == tuple(r[d] for r in result)
        tn, fp, fn, tp = confusion_matrix(y, probs[d], row.threshold)
        assert (fp / (fp + tn), tp / (tp + fn)) == (row.fpr, row.tpr)


def test_youden_threshold_useless_score_predicts_nothing():
    result = youden_threshold([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
    assert result == (0.9, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("costs", [(1, 1), (1, 19), (19, 1), (3, 7), (0, 1), (1, 0)])
@pytest.mark.parametrize("seed", range(3))
def test_min_cost_threshold_matches_brute_force(seed, costs):
    cost_fp, cost_fn = costs
    y, probs = tied_probabilities(seed, n=120)
    n1 = np.count_nonzero(y)
    # Brute force over 0 and every observed probability with the package's strict rule.
    candidates = np.unique(np.append(probs, 0.0))[::-1]
    totals = []
    for t in candidates:
        _, fp, fn, _ = confusion_matrix(y, probs, t)
        totals.append(cost_fp * fp + cost_fn * fn)
    best = int(np.argmin(totals))  # ties: the highest threshold, as documented
    result = min_cost_threshold(y, probs, cost_fp, cost_fn)
    assert (result.threshold, result.cost) == (candidates[best], totals[best])
    tn, fp, fn, tp = confusion_matrix(y, probs, result.threshold)
    assert (result.fpr, result.tpr) == (fp / (fp + tn), tp / n1)


def test_min_cost_threshold_2d_and_all_positive_end():
    y, probs = tied_probabilities(5, n=100, n_draws=4)
    result = min_cost_threshold(y, probs, 1, 50)
    for d in range(4):
        assert tuple(min_cost_threshold(y, probs[d], 1, 50)) == tuple(r[d] for r in result)
    # A miss costs far more than a false alarm: call everything positive (t = 0 works
    # because no probability is exactly 0).
    assert min_cost_threshold([0, 1, 0], [0.4, 0.2, 0.3], 1, 100) == (0.0, 2.0, 1.0, 1.0)
    # A case with probability exactly 0 can never be called positive, so it stays a miss.
    assert min_cost_threshold([1, 0], [0.0, 0.5], 1, 100) == (0.5, 100.0, 0.0, 0.0)


def test_bayes_threshold_is_the_cost_ratio():
    assert bayes_threshold(1, 19) == 0.05  # cheap follow-up test
    assert bayes_threshold(1, 1) == 0.5  # e.g. surgery: false alarm as bad as a miss
    assert bayes_threshold(3, 1) == 0.75
    assert bayes_threshold(0, 1) == 0.0
    assert bayes_threshold(1, 0) == 1.0


def test_bayes_threshold_is_optimal_for_calibrated_probabilities():
    # With y ~ Bernoulli(p), the expected cost on the data is minimised near t*.
    rng = np.random.default_rng(0)
    probs = rng.random(200_000)
    y = (rng.random(probs.size) < probs).astype(int)
    empirical = min_cost_threshold(y, probs, 1, 19).threshold
    # The cost curve is flat near its minimum, so its argmin wanders by about n**(-1/3)
    # (~0.01 here); 0.02 is about two of those.
    assert empirical == pytest.approx(bayes_threshold(1, 19), abs=0.02)


# --- Properties ----------------------------------------------------------------------

labelled_integers = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(-30, 30), min_size=n, max_size=n),
    )
)


def with_both_classes(labels):
    return np.array([0, 1, *labels], dtype=int)


@settings(max_examples=60, deadline=None)
@given(labelled_integers)
def test_auc_invariant_to_increasing_transforms(data):
    labels, ints = data
    y, score = with_both_classes(labels), np.array([0, 1, *ints], dtype=float)
    auc = roc_auc(y, score)
    # Integers in [-30, 30] stay distinct under these maps, so the ranking is unchanged
    # and the AUC is the same number, exactly.
    for transform in (np.exp, lambda x: x**3 + 2 * x, np.arctan, lambda x: 5 * x - 7):
        assert roc_auc(y, transform(score)) == auc


@settings(max_examples=60, deadline=None)
@given(labelled_integers)
def test_auc_of_complement_and_of_flipped_labels(data):
    labels, ints = data
    y, score = with_both_classes(labels), (np.array([0, 1, *ints]) + 30) / 60
    auc = roc_auc(y, score)
    assert roc_auc(y, 1 - score) == pytest.approx(1 - auc, abs=AUC_TOL)
    assert roc_auc(1 - y, score) == pytest.approx(1 - auc, abs=AUC_TOL)


@settings(max_examples=60, deadline=None)
@given(labelled_integers)
def test_roc_runs_from_origin_to_one_and_never_decreases(data):
    labels, ints = data
    y, score = with_both_classes(labels), np.array([0, 1, *ints], dtype=float)
    fpr, tpr, thresholds = roc_curve(y, score)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(thresholds) < 0)
