"""ROC curve, AUC, partial AUC and threshold choice, in NumPy, for one score or many.

Every function sorts each row of scores once (``argsort`` along the last axis) and works
on cumulative counts, so an (n_draws, n_samples) array of posterior scores costs one
vectorised sort, not a Python loop over draws. Tied scores are one ROC point, as in
scikit-learn, and count 1/2 in the AUC, as in the Mann-Whitney statistic.

With ``sample_weight`` (shape (n_samples,), >= 0) a row of weight w counts as w
identical rows, as scikit-learn's ``sample_weight``: counts become sums of weights and
the AUC is the weighted share of case-control pairs, ``sum w_i w_j [s_i > s_j]`` (ties
1/2) over ``W1 * W0``. Rows of weight 0 are dropped first, so they add no ROC point.
"""

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bayeslogreg._validation import (
    check_both_classes,
    check_costs,
    check_frequency_weights,
    check_labels,
    check_probabilities,
    check_sample_weight,
    check_scores,
    check_unit_interval,
)
from bayeslogreg.metrics._classification import _positive_weight_rows, _to_output
from bayeslogreg.metrics._placements import delong_placements_1d

#: From this many columns on, a 2-D array of scores is ranked a row at a time, each class
#: sorted apart (SIMD sorts of values), rather than by one pooled argsort of all rows.
SORT_EACH_ROW = 2**14

__all__ = [
    "CostThreshold",
    "YoudenThreshold",
    "min_cost_threshold",
    "partial_auc",
    "roc_auc",
    "roc_curve",
    "youden_threshold",
]


def _check_ranking(
    y, y_score, what: str, check=check_scores, sample_weight=None, *, whole: bool = False
):
    """Labels as booleans, checked scores (or probabilities), weights, the class totals.

    Rows of weight 0 are dropped. The totals ``n_positive, n_negative`` are row counts,
    or with weights the summed weights of each class. ``whole=True`` refuses weights
    that are not whole numbers (for ``what``'s variance, which counts rows).
    """
    y = check_labels(y)
    scores = check(y_score, y.shape[0])
    weight = check_sample_weight(sample_weight, y.shape[0])
    if weight is None:
        return y, scores, None, *check_both_classes(y, what)
    if whole:
        weight = check_frequency_weights(weight, what)
    y, scores, weight = _positive_weight_rows(y, scores, weight)
    check_both_classes(y, what, among=" among the rows of positive sample_weight")
    return y, scores, weight, weight[y].sum().item(), weight[~y].sum().item()


def _tie_bounds(sorted_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each element's run of equal values, along the last axis."""
    n = sorted_scores.shape[-1]
    index = np.arange(n)
    starts = np.ones(sorted_scores.shape, dtype=bool)
    starts[..., 1:] = sorted_scores[..., 1:] != sorted_scores[..., :-1]
    ends = np.ones(sorted_scores.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=-1)
    last = np.minimum.accumulate(np.where(ends, index, n - 1)[..., ::-1], axis=-1)[..., ::-1]
    return first, last


def _ascending_ranks(y: np.ndarray, scores: np.ndarray):
    """Sort each row ascending; return the order, labels in that order and tie bounds."""
    order = np.argsort(scores, axis=-1)
    first, last = _tie_bounds(np.take_along_axis(scores, order, axis=-1))
    return order, y[order], first, last


class _Outscored(NamedTuple):
    """Weighted Mann-Whitney counts of :func:`_outscored`, in ascending score order."""

    auc: np.ndarray
    order: np.ndarray
    y_sorted: np.ndarray
    controls_outscored: np.ndarray
    cases_above: np.ndarray
    n_positive: int | float
    n_negative: int | float


def _outscored(y: np.ndarray, scores: np.ndarray, weight: np.ndarray) -> _Outscored:
    """Weighted AUC and Mann-Whitney counts of each row, in ascending score order.

    Per row, ``controls_outscored`` is the weight of the controls it outscores and
    ``cases_above`` that of the cases outscoring it, ties counting 1/2. Weights are
    sorted with the scores; their sums below and within each run of ties follow from
    cumulative sums read at the run's ends. Integer weights keep every sum exact
    (half-integers below 2**52), so the result equals that of repeated rows. Float
    weights are divided by their largest first, and the totals are in those units.
    """
    if weight.dtype.kind == "f":
        # The AUC does not depend on the weights' scale; this keeps W1 * W0 in range.
        weight = weight / weight.max()
    # Sorting the pooled scores also sorts the cases among themselves (and the controls),
    # so Sun & Xu's midranks follow from sums below and within each tie run: pooled
    # T = first + (last - first) / 2 + 1, among cases T_X = cases_below + (cases_tied + 1) / 2,
    # hence T - T_X = controls_below + controls_tied / 2 for a case, and for a control
    # T - T_Y = cases_below + cases_tied / 2 (with unit weights; other weights weigh them).
    order, y_sorted, first, last = _ascending_ranks(y, scores)
    weight_sorted = weight[order]
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
    return _Outscored(auc, order, y_sorted, controls_outscored, cases_above, n_positive, n_negative)


def _auc(y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Mann-Whitney AUC of each row from pooled midranks; shape scores.shape[:-1].

    ``weight`` (positive, shape (n_samples,)) weighs the pairs as repeated rows would.
    """
    if weight is not None:
        return _outscored(y, scores, weight).auc
    if scores.ndim == 1:  # two smaller sorts, no pooled ranks; the same exact sums
        return np.float64(delong_placements_1d(y, scores, None, per_row=False).auc)
    if scores.shape[-1] >= SORT_EACH_ROW:  # a row at a time: 3x faster at 500,000 rows
        return np.array([_auc(y, row) for row in scores.reshape(-1, scores.shape[-1])]).reshape(
            scores.shape[:-1]
        )
    _, y_sorted, first, last = _ascending_ranks(y, scores)
    n_positive = np.count_nonzero(y)
    n_negative = y.shape[0] - n_positive
    # Sums of half-integers below 2**52 are exact, so the only rounding is the division.
    rank_sum = np.sum((first + last) / 2 + 1, axis=-1, where=y_sorted)
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def _descending_counts(y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None = None):
    """Sort each row by decreasing score: scores, cumulative tp and fp, ends of ties.

    With ``weight``, tp and fp are cumulative sums of the weights of cases and controls.
    """
    order = np.argsort(scores, axis=-1)[..., ::-1]
    sorted_scores = np.take_along_axis(scores, order, axis=-1)
    if weight is None:
        tps = np.cumsum(y[order], axis=-1)
        fps = np.arange(1, y.shape[0] + 1) - tps
    else:
        weight_sorted = weight[order]
        tps = np.cumsum(np.where(y[order], weight_sorted, 0), axis=-1)
        fps = np.cumsum(np.where(y[order], 0, weight_sorted), axis=-1)
    ends = np.ones(sorted_scores.shape, dtype=bool)
    ends[..., :-1] = sorted_scores[..., :-1] != sorted_scores[..., 1:]
    return sorted_scores, tps, fps, ends


def _compact_rows(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Move each row's kept entries to its front; pad with the row's last entry."""
    rows, cols = np.nonzero(keep)
    slots = np.cumsum(keep, axis=-1)[rows, cols] - 1
    out = np.repeat(values[:, -1:], values.shape[1], axis=1)
    out[rows, slots] = values[rows, cols]
    return out


def _roc_points(y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None = None):
    """fpr, tpr, thresholds for validated input (see :func:`roc_curve`)."""
    sorted_scores, tps, fps, ends = _descending_counts(y, scores, weight)
    if scores.ndim == 1:
        points = [sorted_scores[ends], tps[ends], fps[ends]]
    else:
        points = [_compact_rows(a, ends) for a in (sorted_scores, tps, fps)]
    start = np.zeros(scores.shape[:-1] + (1,))
    thresholds = np.concatenate([start + np.inf, points[0]], axis=-1)
    tps = np.concatenate([start, points[1]], axis=-1)
    fps = np.concatenate([start, points[2]], axis=-1)
    return fps / fps[..., -1:], tps / tps[..., -1:], thresholds


def roc_curve(
    y: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: every (fpr, tpr) point, ties handled exactly.

    Point i counts rows with ``y_score >= thresholds[i]`` as positive (scikit-learn's
    convention). The first point is (0, 0) with threshold +inf; tied scores form one
    point. For 1-D input the result equals scikit-learn's
    ``roc_curve(y, y_score, drop_intermediate=False)`` exactly (with ``sample_weight``,
    to rounding).

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1; both must occur (among rows of positive weight).
    y_score : array of shape (n_samples,) or (n_draws, n_samples)
        Scores, higher meaning more likely 1 (probabilities, log-odds, ...).
    sample_weight : array of shape (n_samples,), optional
        Frequency of each row, >= 0 (scikit-learn's ``sample_weight``): a row of weight
        2 counts as two identical rows; rows of weight 0 are left out (k counts only the
        scores of the others). None weighs every row 1.

    Returns
    -------
    fpr, tpr, thresholds : arrays of shape (k + 1,)
        False and true positive rates, increasing, and the decreasing thresholds, for the
        k distinct scores. For 2-D ``y_score`` all three have shape
        (n_draws, n_samples + 1): row d holds its k_d + 1 points, then copies of its last
        point (1, 1, min score) as padding, which adds no area and draws nothing. The
        number of points of row d is ``1 + argmax(thresholds[d] == thresholds[d, -1])``.

    Examples
    --------
    >>> fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0])
    >>> thresholds.tolist()
    [inf, 0.8, 0.4, 0.1]
    """
    y, scores, weight, _, _ = _check_ranking(y, y_score, "roc_curve", sample_weight=sample_weight)
    return _roc_points(y, scores, weight)


def roc_auc(
    y: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Area under the ROC curve: P(score of a random 1 > score of a random 0).

    Ties count 1/2 (the Mann-Whitney U statistic divided by n1 * n0), computed from
    midranks after one sort; it equals scikit-learn's ``roc_auc_score`` to rounding.
    There is no automatic direction: a score that ranks 0s above 1s has AUC < 0.5.
    With ``sample_weight`` each case-control pair counts the product of their weights.

    Parameters
    ----------
    y, y_score, sample_weight
        As in :func:`roc_curve`.

    Returns
    -------
    float or array of shape (n_draws,)
        AUC in [0, 1], one per row of a 2-D ``y_score``.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8])
    0.875
    """
    y, scores, weight, _, _ = _check_ranking(y, y_score, "roc_auc", sample_weight=sample_weight)
    return _to_output(_auc(y, scores, weight))


def partial_auc(
    y: ArrayLike,
    y_score: ArrayLike,
    max_fpr: float,
    *,
    standardized: bool = True,
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Area under the ROC curve for false positive rates from 0 to ``max_fpr``.

    The curve is cut at ``max_fpr`` by linear interpolation. With ``standardized=True``
    (the default) the area A gets McClish's correction
    ``(1 + (A - max_fpr**2 / 2) / (max_fpr - max_fpr**2 / 2)) / 2``, which maps a useless
    score to 0.5 and a perfect one to 1, and equals scikit-learn's
    ``roc_auc_score(y, y_score, max_fpr=max_fpr)``. With ``standardized=False`` it returns
    the raw area, in [0, max_fpr].

    Parameters
    ----------
    y, y_score, sample_weight
        As in :func:`roc_curve`.
    max_fpr : float
        Upper end of the false positive rate range, in (0, 1].
    standardized : bool, default True
        Apply McClish's standardisation.

    Returns
    -------
    float or array of shape (n_draws,)

    Examples
    --------
    >>> partial_auc([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8], max_fpr=0.5, standardized=False)
    0.375
    """
    y, scores, weight, _, _ = _check_ranking(y, y_score, "partial_auc", sample_weight=sample_weight)
    max_fpr = check_unit_interval(max_fpr, "max_fpr", open_low=True)
    fpr, tpr, _ = _roc_points(y, scores, weight)
    left, right = fpr[..., :-1], fpr[..., 1:]
    bottom, top = tpr[..., :-1], tpr[..., 1:]
    width = right - left
    slope = np.divide(top - bottom, width, out=np.zeros_like(width), where=width > 0)
    cut_left, cut_right = np.minimum(left, max_fpr), np.minimum(right, max_fpr)
    # Segments wholly left of max_fpr keep their exact end; only the one across it is cut.
    top = np.where(right <= max_fpr, top, bottom + slope * (cut_right - left))
    area = np.sum((cut_right - cut_left) * (bottom + top) / 2, axis=-1)
    if standardized:
        min_area, max_area = max_fpr**2 / 2, max_fpr
        area = (1 + (area - min_area) / (max_area - min_area)) / 2
    return _to_output(area)


class YoudenThreshold(NamedTuple):
    """Threshold maximising Youden's J = tpr - fpr; floats, or (n_draws,) arrays."""

    threshold: float | np.ndarray
    j: float | np.ndarray
    fpr: float | np.ndarray
    tpr: float | np.ndarray


class CostThreshold(NamedTuple):
    """Threshold minimising the total cost on the data; floats, or (n_draws,) arrays."""

    threshold: float | np.ndarray
    cost: float | np.ndarray
    fpr: float | np.ndarray
    tpr: float | np.ndarray


def _operating_points(y: np.ndarray, scores: np.ndarray, weight, lowest: float):
    """Every rule ``score > t`` that splits the data differently, highest t first.

    Returns thresholds, tp and fp counts with shape (..., n_samples + 1) and a mask of
    the columns that are real points. Column 0 is t = max score (nothing positive);
    the column after the last of each run of ties uses the next lower score as t, and
    the final column (everything positive) uses ``lowest``.
    """
    sorted_scores, tps, fps, ends = _descending_counts(y, scores, weight)
    zeros = np.zeros(scores.shape[:-1] + (1,), dtype=tps.dtype)
    # Column i + 1 (after sorted position i) uses the next score down, sorted position i + 1.
    thresholds = np.concatenate([sorted_scores, zeros + lowest], axis=-1)
    valid = np.concatenate([zeros == 0, ends], axis=-1)
    return thresholds, np.concatenate([zeros, tps], -1), np.concatenate([zeros, fps], -1), valid


def _pick(index: np.ndarray, *columns: np.ndarray) -> list:
    return [_to_output(np.take_along_axis(c, index[..., None], axis=-1)[..., 0]) for c in columns]


def youden_threshold(
    y: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> YoudenThreshold:
    """Threshold that maximises Youden's J = sensitivity + specificity - 1 = tpr - fpr.

    The threshold follows this package's rule ``y_score > threshold`` and is one of the
    observed scores (the next one below the best ROC point), so
    :func:`~bayeslogreg.metrics.confusion_matrix` with it reproduces ``fpr`` and
    ``tpr``. Among equally good points the highest threshold wins; when no point beats
    J = 0 that is the maximum score (predict nothing positive).

    Parameters
    ----------
    y, y_score, sample_weight
        As in :func:`roc_curve` (rates are weighted, and rows of weight 0 give no
        threshold).

    Returns
    -------
    YoudenThreshold
        ``(threshold, j, fpr, tpr)``: floats, or arrays of shape (n_draws,).

    Examples
    --------
    >>> youden_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    YoudenThreshold(threshold=0.4, j=0.5, fpr=0.0, tpr=0.5)
    """
    y, scores, weight, n_positive, n_negative = _check_ranking(
        y, y_score, "youden_threshold", sample_weight=sample_weight
    )
    # The all-positive end gets threshold -inf; it has J = 0 and column 0 wins that tie.
    thresholds, tps, fps, valid = _operating_points(y, scores, weight, -np.inf)
    tpr, fpr = tps / n_positive, fps / n_negative
    best = np.argmax(np.where(valid, tpr - fpr, -np.inf), axis=-1)
    threshold, fpr, tpr = _pick(best, thresholds, fpr, tpr)
    return YoudenThreshold(threshold, _to_output(np.subtract(tpr, fpr)), fpr, tpr)


def min_cost_threshold(
    y: ArrayLike,
    y_prob: ArrayLike,
    cost_fp: float,
    cost_fn: float,
    *,
    sample_weight: ArrayLike | None = None,
) -> CostThreshold:
    """Threshold t in [0, 1] whose rule ``y_prob > t`` has the least total cost on the data.

    Total cost is ``cost_fp * fp + cost_fn * fn`` (with ``sample_weight``, fp and fn
    are sums of weights). Candidates are 0 and every observed
    probability, which covers every distinct split of the data (a row with probability
    exactly 0 is never predicted positive). Ties go to the highest threshold. This is the
    empirical counterpart of :func:`~bayeslogreg.metrics.bayes_threshold`, which assumes
    calibrated probabilities instead of looking at y.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1; both must occur.
    y_prob : array of shape (n_samples,) or (n_draws, n_samples)
        Probabilities that y = 1.
    cost_fp, cost_fn : float
        Costs (>= 0, not both 0) of one false positive and one false negative.
    sample_weight : array of shape (n_samples,), optional
        As in :func:`roc_curve`.

    Returns
    -------
    CostThreshold
        ``(threshold, cost, fpr, tpr)``: floats, or arrays of shape (n_draws,).

    Examples
    --------
    >>> min_cost_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], cost_fp=1, cost_fn=1)
    CostThreshold(threshold=0.4, cost=1.0, fpr=0.0, tpr=0.5)
    """
    cost_fp, cost_fn = check_costs(cost_fp, cost_fn)
    y, probs, weight, n_positive, n_negative = _check_ranking(
        y, y_prob, "min_cost_threshold", check_probabilities, sample_weight
    )
    thresholds, tps, fps, valid = _operating_points(y, probs, weight, 0.0)
    # Under the strict rule, nothing can call a row with probability 0 positive.
    valid[..., -1] &= probs.min(axis=-1) > 0
    cost = np.where(valid, cost_fp * fps + cost_fn * (n_positive - tps), np.inf)
    best = np.argmin(cost, axis=-1)
    return CostThreshold(*_pick(best, thresholds, cost, fps / n_negative, tps / n_positive))
