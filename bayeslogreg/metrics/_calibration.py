"""Probability scores: log-loss, Brier score, calibration curve and calibration error.

These judge the probabilities themselves, not just their ranking: a model can have a
high AUC and still be badly calibrated.

``sample_weight`` (shape (n_samples,), >= 0) weighs rows as scikit-learn does: a row of
weight 2 counts as two identical rows, so means become weighted means. The Wilson
intervals of :func:`calibration_curve` count rows, so there it must hold whole numbers.
"""

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayeslogreg._validation import (
    check_choice,
    check_frequency_weights,
    check_labels,
    check_level,
    check_positive_int,
    check_probabilities,
    check_sample_weight,
)
from bayeslogreg.metrics._classification import _positive_weight_rows, _to_output

__all__ = [
    "CalibrationCurve",
    "brier_score",
    "calibration_curve",
    "expected_calibration_error",
    "log_loss",
]

BIN_STRATEGIES = ("uniform", "quantile")

# scikit-learn's clipping: float64 machine epsilon keeps -log(p) finite (at most 36.04).
_EPS = np.finfo(np.float64).eps


def _mean(values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Mean along the last axis, weighted by ``weight`` (shape (n_samples,)) if given."""
    if weight is None:
        return np.mean(values, axis=-1)
    return values @ weight / weight.sum()


def log_loss(
    y: ArrayLike, y_prob: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Mean negative log-likelihood of the labels, in nats (cross-entropy).

    ``-mean(y * log(p) + (1 - y) * log(1 - p))``, with ``log1p(-p)`` for the second
    term. Probabilities are first clipped to [eps, 1 - eps], eps = 2.2e-16 (float64
    machine epsilon, as scikit-learn's ``log_loss``), so a confident mistake costs at
    most 36.04 instead of infinity.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1.
    y_prob : array of shape (n_samples,) or (n_draws, n_samples)
        Probabilities that y = 1, in [0, 1].
    sample_weight : array of shape (n_samples,), optional
        Frequency of each row, >= 0 (scikit-learn's ``sample_weight``): the loss is the
        weighted mean, so a row of weight 2 counts as two identical rows and one of
        weight 0 as none. None weighs every row 1.

    Returns
    -------
    float or array of shape (n_draws,)

    Examples
    --------
    >>> round(log_loss([0, 1], [0.2, 0.9]), 6)
    0.164252
    """
    y = check_labels(y)
    probs = np.clip(check_probabilities(y_prob, y.shape[0]), _EPS, 1 - _EPS)
    weight = check_sample_weight(sample_weight, y.shape[0])
    return _to_output(-_mean(np.where(y, np.log(probs), np.log1p(-probs)), weight))


def brier_score(
    y: ArrayLike, y_prob: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Mean squared difference between probability and label, ``mean((p - y) ** 2)``.

    Equals scikit-learn's ``brier_score_loss``; 0 is perfect, 0.25 is a constant 0.5.
    Shapes and ``sample_weight`` (a weighted mean) as in :func:`log_loss`.

    Examples
    --------
    >>> round(brier_score([0, 1], [0.2, 0.9]), 6)
    0.025
    """
    y = check_labels(y)
    probs = check_probabilities(y_prob, y.shape[0])
    weight = check_sample_weight(sample_weight, y.shape[0])
    return _to_output(_mean((probs - y) ** 2, weight))


class CalibrationCurve(NamedTuple):
    """Reliability diagram data: one entry per non-empty bin, arrays of shape (n_bins_used,).

    ``observed`` is the fraction of 1s in the bin, with a Wilson score interval
    [``lower``, ``upper``] at ``level``; ``mean_predicted`` is the bin's mean probability;
    ``count`` its number of rows (with weights, their total weight); the bin covers
    (``bin_lower``, ``bin_upper``], the first one including 0.
    """

    observed: np.ndarray
    mean_predicted: np.ndarray
    count: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    bin_lower: np.ndarray
    bin_upper: np.ndarray
    level: float


def _bin_ids(probs: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # Right-closed bins (edge values fall in the lower bin), as scikit-learn's searchsorted.
    return np.searchsorted(edges[1:-1], probs)


def _wilson_interval(successes: np.ndarray, count: np.ndarray, level: float):
    """Wilson score interval for a binomial proportion, clipped against rounding."""
    z = special.ndtri(0.5 + level / 2)
    z2 = z * z
    centre = (successes + z2 / 2) / (count + z2)
    half = z / (count + z2) * np.sqrt(successes * (count - successes) / count + z2 / 4)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _repeated_percentiles(values: np.ndarray, weight: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.percentile(np.repeat(values, weight), q)`` without building the repeat.

    ``weight`` holds whole numbers. Position k of the sorted repeat is the sorted value
    whose cumulative weight first exceeds k; the interpolation is NumPy's "linear"
    method step by step (virtual index (n - 1) q, ``_lerp``), so the edges are NumPy's.
    """
    order = np.argsort(values, kind="stable")
    sorted_values, cumulative = values[order], np.cumsum(weight[order])
    n = cumulative[-1]
    position = (n - 1) * (np.true_divide(q, 100))
    below = np.floor(position)
    above = below + 1
    below[position >= n - 1] = above[position >= n - 1] = n - 1
    gamma = position - below

    def at(k):
        return sorted_values[np.searchsorted(cumulative, k, side="right")]

    a, b = at(below), at(above)
    difference = b - a
    return np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)


def calibration_curve(
    y: ArrayLike,
    y_prob: ArrayLike,
    n_bins: int = 10,
    strategy: str = "uniform",
    level: float = 0.95,
    *,
    sample_weight: ArrayLike | None = None,
) -> CalibrationCurve:
    """Observed frequency of 1s against mean predicted probability, per probability bin.

    Bins and their means are those of scikit-learn's ``calibration_curve`` (which
    returns ``observed`` and ``mean_predicted``); empty bins are left out, as there.
    ``strategy="uniform"`` cuts [0, 1] into ``n_bins`` equal widths; ``"quantile"``
    puts about n / n_bins rows in each bin (tied quantiles can leave some bins empty).

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1.
    y_prob : array of shape (n_samples,)
        Probabilities that y = 1, in [0, 1]. One row only: which bins are empty differs
        between posterior draws, so call it once per draw, or on the posterior mean
        probability; :func:`expected_calibration_error` takes 2-D input.
    n_bins : int, default 10
    strategy : {"uniform", "quantile"}
    level : float, default 0.95
        Coverage of each bin's Wilson interval for its observed frequency.
    sample_weight : array of shape (n_samples,), optional
        Whole-number frequency of each row, >= 0: the curve, the quantile bins and the
        intervals are those of the rows repeated ``sample_weight`` times, and ``count``
        holds total weights. Weights that are not whole numbers raise a ``ValueError``:
        a Wilson interval counts rows. None weighs every row 1.

    Returns
    -------
    CalibrationCurve

    Examples
    --------
    >>> curve = calibration_curve([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2)
    >>> curve.observed.tolist(), curve.mean_predicted.tolist(), curve.count.tolist()
    ([0.0, 1.0], [0.2, 0.8], [2, 2])
    """
    y = check_labels(y)
    probs = check_probabilities(y_prob, y.shape[0], allow_2d=False)
    weight = check_sample_weight(sample_weight, y.shape[0])
    weight = check_frequency_weights(weight, "calibration_curve")
    n_bins = check_positive_int(n_bins, "n_bins")
    strategy = check_choice(strategy, "strategy", BIN_STRATEGIES)
    level = check_level(level)
    y, probs, weight = _positive_weight_rows(y, probs, weight)
    percentiles = np.linspace(0, 1, n_bins + 1) * 100
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif weight is None:
        edges = np.percentile(probs, percentiles)
    else:
        edges = _repeated_percentiles(probs, weight, percentiles)
    ids = _bin_ids(probs, edges)
    if weight is None:
        count = np.bincount(ids, minlength=n_bins)
        sum_prob = np.bincount(ids, weights=probs, minlength=n_bins)
        successes = np.bincount(ids, weights=y, minlength=n_bins)
    else:
        # Integer weights: their float64 sums are exact, and count stays an integer.
        count = np.bincount(ids, weights=weight, minlength=n_bins).astype(np.int64)
        sum_prob = np.bincount(ids, weights=weight * probs, minlength=n_bins)
        successes = np.bincount(ids, weights=weight * y, minlength=n_bins)
    used = count > 0
    count, sum_prob, successes = count[used], sum_prob[used], successes[used]
    lower, upper = _wilson_interval(successes, count, level)
    return CalibrationCurve(
        observed=successes / count,
        mean_predicted=sum_prob / count,
        count=count,
        lower=lower,
        upper=upper,
        bin_lower=edges[:-1][used],
        bin_upper=edges[1:][used],
        level=level,
    )


def expected_calibration_error(
    y: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, *, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Count-weighted mean gap between observed frequency and mean probability, per bin.

    ``sum_b (n_b / n) * |observed_b - mean_predicted_b|`` over ``n_bins`` equal-width bins
    of [0, 1], binned as :func:`calibration_curve` with ``strategy="uniform"``; empty bins
    have weight 0. 0 means perfectly calibrated on these bins. With ``sample_weight``,
    n_b, n and the bin means are weighted (any weights >= 0, not only whole numbers).

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1.
    y_prob : array of shape (n_samples,) or (n_draws, n_samples)
        Probabilities that y = 1, in [0, 1].
    n_bins : int, default 10
    sample_weight : array of shape (n_samples,), optional
        Frequency of each row, >= 0, as in :func:`log_loss`.

    Returns
    -------
    float or array of shape (n_draws,)

    Examples
    --------
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2), 6)
    0.2
    """
    y = check_labels(y)
    probs = check_probabilities(y_prob, y.shape[0])
    weight = check_sample_weight(sample_weight, y.shape[0])
    n_bins = check_positive_int(n_bins, "n_bins")
    rows = np.atleast_2d(probs)
    ids = _bin_ids(rows, np.linspace(0.0, 1.0, n_bins + 1))
    # One bincount over all rows: row r's bin b becomes bin r * n_bins + b.
    ids = ids + n_bins * np.arange(rows.shape[0])[:, None]
    size = rows.shape[0] * n_bins
    labels = np.broadcast_to(y, rows.shape)
    if weight is None:
        total = y.shape[0]
    else:
        total = weight.sum()
        rows, labels = rows * weight, labels * weight
    sum_prob = np.bincount(ids.ravel(), weights=rows.ravel(), minlength=size)
    successes = np.bincount(ids.ravel(), weights=labels.ravel(), minlength=size)
    gaps = np.abs(successes - sum_prob).reshape(rows.shape[0], n_bins)
    ece = gaps.sum(axis=-1) / total
    return _to_output(ece[0] if probs.ndim == 1 else ece)
