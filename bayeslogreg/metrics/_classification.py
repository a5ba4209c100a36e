"""Thresholded classification metrics, in NumPy, for one score vector or many.

Labels ``y`` are 1-D, shape (n_samples,), with values 0 and 1 (booleans are fine).
Probabilities ``y_prob`` have shape (n_samples,), or (n_draws, n_samples) with one row
per posterior draw; 2-D input gives one result per row, computed without a Python loop
over rows.

Conventions:

- A row is predicted positive when ``y_prob > threshold`` (strictly), as in
  scikit-learn's ``predict`` (``p > 0.5``).
- A rate whose denominator is 0 (precision with no predicted positives, say) is
  undefined. It never becomes NaN: ``zero_division`` chooses the value, and the default
  ``"warn"`` returns 0.0 with an :class:`UndefinedMetricWarning`, like scikit-learn.
- ``sample_weight`` (shape (n_samples,), >= 0) weighs rows as scikit-learn does: a row
  of weight 2 counts as two identical rows, a row of weight 0 as none, and the counts
  become sums of weights (ints for integer weights, floats otherwise).

Input is checked by :mod:`bayeslogreg._validation`. The ROC/AUC functions live in
``_roc.py`` and ``_roc_delong.py``, calibration in ``_calibration.py``;
:mod:`bayeslogreg.metrics` gathers them all.
"""

import warnings
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bayeslogreg._validation import (
    check_costs,
    check_labels,
    check_probabilities,
    check_sample_weight,
    check_threshold,
    check_zero_division,
)

__all__ = [
    "ConfusionMatrix",
    "UndefinedMetricWarning",
    "accuracy",
    "balanced_accuracy",
    "bayes_threshold",
    "confusion_matrix",
    "f1_score",
    "matthews_corrcoef",
    "precision",
    "rates",
    "recall",
    "specificity",
]


class UndefinedMetricWarning(UserWarning):
    """A metric was 0/0 and was replaced by the ``zero_division`` value."""


def _to_output(values: np.ndarray):
    """Return a 0-d result as a Python scalar, anything else as an array."""
    values = np.asarray(values)
    return values.item() if values.ndim == 0 else values


# ---------------------------------------------------------------------------------------
# Confusion matrix and rates.


class ConfusionMatrix(NamedTuple):
    """Counts of a thresholded classifier; ints, or (n_draws,) arrays for 2-D input."""

    tn: int | np.ndarray
    fp: int | np.ndarray
    fn: int | np.ndarray
    tp: int | np.ndarray

    def to_array(self) -> np.ndarray:
        """Scikit-learn's layout ``[[tn, fp], [fn, tp]]``: shape (2, 2) or (n_draws, 2, 2)."""
        table = np.array([[self.tn, self.fp], [self.fn, self.tp]])
        return np.moveaxis(table, (0, 1), (-2, -1))


def _positive_weight_rows(y: np.ndarray, values: np.ndarray, weight: np.ndarray | None):
    """Keep the rows of weight > 0 (of ``y`` and the last axis of ``values``).

    A row of weight 0 is the same as no row, also where rows are ranked or binned.
    """
    if weight is None or weight.all():
        return y, values, weight
    keep = weight > 0
    return y[keep], values[..., keep], weight[keep]


def _counts(y, y_prob, threshold, sample_weight=None) -> ConfusionMatrix:
    y = check_labels(y)
    y_prob = check_probabilities(y_prob, y.shape[0])
    weight = check_sample_weight(sample_weight, y.shape[0])
    predicted = y_prob > check_threshold(threshold)
    if weight is not None:
        # Sums of weights per cell; int64 weights give int64 counts, as in scikit-learn.
        cells = (~predicted & ~y, predicted & ~y, ~predicted & y, predicted & y)
        return ConfusionMatrix(*(_to_output(cell @ weight) for cell in cells))
    tp = np.count_nonzero(predicted & y, axis=-1)
    fp = np.count_nonzero(predicted & ~y, axis=-1)
    n_positive = np.count_nonzero(y)
    n_negative = y.shape[0] - n_positive
    return ConfusionMatrix(*(_to_output(c) for c in (n_negative - fp, fp, n_positive - tp, tp)))


def confusion_matrix(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    sample_weight: ArrayLike | None = None,
) -> ConfusionMatrix:
    """Count true/false negatives and positives when ``y_prob > threshold`` predicts 1.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Observed labels, 0 or 1.
    y_prob : array of shape (n_samples,) or (n_draws, n_samples)
        Predicted probabilities that y = 1, in [0, 1].
    threshold : float, default 0.5
        A row is predicted positive when its probability is strictly greater.
    sample_weight : array of shape (n_samples,), optional
        Frequency of each row, >= 0 (scikit-learn's ``sample_weight``): a row of weight
        2 counts as two identical rows, one of weight 0 as none. None weighs every row 1.

    Returns
    -------
    ConfusionMatrix
        ``(tn, fp, fn, tp)``: ints, or arrays of shape (n_draws,) for 2-D ``y_prob``;
        with ``sample_weight``, sums of weights (floats unless the weights are integers).
        ``.to_array()`` gives scikit-learn's ``[[tn, fp], [fn, tp]]``.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 1], [0.2, 0.7, 0.5, 0.9])
    ConfusionMatrix(tn=1, fp=1, fn=1, tp=1)
    >>> confusion_matrix([0, 0, 1, 1], [0.2, 0.7, 0.5, 0.9], sample_weight=[1, 3, 1, 2])
    ConfusionMatrix(tn=1, fp=3, fn=1, tp=2)
    """
    return _counts(y, y_prob, threshold, sample_weight)


def _ratio(numerator, denominator, zero_division, metric: str, reason: str):
    """Divide, using ``zero_division`` where the denominator is 0 (and maybe warning)."""
    zero_division = check_zero_division(zero_division)
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    undefined = denominator == 0
    fill = 0.0 if zero_division == "warn" else zero_division
    value = np.divide(numerator, denominator, out=np.full(undefined.shape, fill), where=~undefined)
    if zero_division == "warn" and undefined.any():
        where = (
            "" if undefined.ndim == 0 else f" in {int(undefined.sum())} of {undefined.size} rows"
        )
        warnings.warn(
            f"{metric} is undefined because {reason}{where}; returning 0.0. Pass "
            "zero_division=0.0 or 1.0 to choose the value and silence this warning.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return _to_output(value)


def accuracy(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Fraction of rows classified correctly, ``(tp + tn) / n``.

    Takes ``y`` of shape (n_samples,) and ``y_prob`` of shape (n_samples,) or
    (n_draws, n_samples); a row is predicted 1 when ``y_prob > threshold``. Returns a
    float, or an array of shape (n_draws,). Never undefined, as n >= 1.
    ``sample_weight`` as in :func:`confusion_matrix` (the weighted fraction).

    Examples
    --------
    >>> accuracy([0, 0, 1, 1], [0.2, 0.7, 0.5, 0.9])
    0.5
    """
    tn, fp, fn, tp = _counts(y, y_prob, threshold, sample_weight)
    return _to_output((np.asarray(tp) + tn) / (np.asarray(tp) + tn + fp + fn))


def precision(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Positive predictive value, ``tp / (tp + fp)``.

    Shapes, ``threshold`` and ``sample_weight`` as in :func:`accuracy`. Undefined
    (``zero_division``) when no row is predicted positive.

    Examples
    --------
    >>> precision([0, 0, 1, 1], [0.2, 0.7, 0.6, 0.9])
    0.6666666666666666
    """
    _, fp, _, tp = _counts(y, y_prob, threshold, sample_weight)
    reason = "no row is predicted positive"
    return _ratio(tp, np.asarray(tp) + fp, zero_division, "precision", reason)


def recall(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Sensitivity (true positive rate), ``tp / (tp + fn)``.

    Shapes, ``threshold`` and ``sample_weight`` as in :func:`accuracy`. Undefined
    (``zero_division``) when y has no 1s.

    Examples
    --------
    >>> recall([0, 0, 1, 1], [0.2, 0.7, 0.5, 0.9])
    0.5
    """
    _, _, fn, tp = _counts(y, y_prob, threshold, sample_weight)
    return _ratio(tp, np.asarray(tp) + fn, zero_division, "recall", "y has no positives")


def specificity(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Compute the true negative rate, ``tn / (tn + fp)``, which is 1 - false positive rate.

    Shapes, ``threshold`` and ``sample_weight`` as in :func:`accuracy`. Undefined
    (``zero_division``) when y has no 0s.

    Examples
    --------
    >>> specificity([0, 0, 0, 1], [0.2, 0.3, 0.7, 0.9])
    0.6666666666666666
    """
    tn, fp, _, _ = _counts(y, y_prob, threshold, sample_weight)
    return _ratio(tn, np.asarray(tn) + fp, zero_division, "specificity", "y has no negatives")


def f1_score(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Harmonic mean of precision and recall, ``2 tp / (2 tp + fp + fn)``.

    Shapes, ``threshold`` and ``sample_weight`` as in :func:`accuracy`. Undefined
    (``zero_division``) only when y has no 1s and no row is predicted positive, as in
    scikit-learn.

    Examples
    --------
    >>> f1_score([0, 0, 1, 1], [0.2, 0.7, 0.5, 0.9])
    0.5
    """
    _, fp, fn, tp = _counts(y, y_prob, threshold, sample_weight)
    reason = "y has no positives and no row is predicted positive"
    return _ratio(2 * np.asarray(tp), 2 * np.asarray(tp) + fp + fn, zero_division, "f1", reason)


def balanced_accuracy(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Mean of recall and specificity, ``(tp / (tp + fn) + tn / (tn + fp)) / 2``.

    Shapes, ``threshold`` and ``sample_weight`` as in :func:`accuracy`. When y lacks a
    class, the rate of that class is replaced by ``zero_division`` (scikit-learn instead
    averages only the classes present).

    Examples
    --------
    >>> balanced_accuracy([0, 0, 0, 1], [0.2, 0.3, 0.7, 0.9])
    0.8333333333333333
    """
    tn, fp, fn, tp = _counts(y, y_prob, threshold, sample_weight)
    sensitivity = _ratio(tp, np.asarray(tp) + fn, zero_division, "recall", "y has no positives")
    true_negative_rate = _ratio(
        tn, np.asarray(tn) + fp, zero_division, "specificity", "y has no negatives"
    )
    return _to_output((np.asarray(sensitivity) + true_negative_rate) / 2)


def matthews_corrcoef(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Matthews correlation between labels and predictions, in [-1, 1].

    ``(tp tn - fp fn) / sqrt((tp + fp)(tp + fn)(tn + fp)(tn + fn))``. Shapes,
    ``threshold`` and ``sample_weight`` as in :func:`accuracy`. Undefined
    (``zero_division``) when y or the predictions hold a single class (scikit-learn
    returns 0.0 there without a warning).

    Examples
    --------
    >>> round(matthews_corrcoef([0, 0, 1, 1], [0.2, 0.7, 0.6, 0.9]), 6)
    0.57735
    """
    tn, fp, fn, tp = (
        np.asarray(c, dtype=np.float64) for c in _counts(y, y_prob, threshold, sample_weight)
    )
    if sample_weight is not None:
        # Scale-free, so take shares of the total: products of weighted counts could
        # leave float64's range for weights such as 1e-200 or 1e200.
        total = tn + fp + fn + tp
        tn, fp, fn, tp = tn / total, fp / total, fn / total, tp / total
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    reason = "y or the predictions contain a single class"
    return _ratio(tp * tn - fp * fn, denominator, zero_division, "matthews_corrcoef", reason)


def rates(
    y: ArrayLike,
    y_prob: ArrayLike,
    threshold: float = 0.5,
    *,
    zero_division: float | str = "warn",
    sample_weight: ArrayLike | None = None,
) -> dict[str, float | np.ndarray]:
    """All the thresholded metrics of this module at once, keyed by function name.

    Keys: ``accuracy``, ``precision``, ``recall``, ``specificity``, ``f1_score``,
    ``balanced_accuracy``, ``matthews_corrcoef``. Values are floats, or arrays of shape
    (n_draws,) for 2-D ``y_prob``; arguments as in :func:`precision`.

    Examples
    --------
    >>> rates([0, 0, 1, 1], [0.2, 0.7, 0.6, 0.9])["recall"]
    1.0
    """
    metrics = (precision, recall, specificity, f1_score, balanced_accuracy, matthews_corrcoef)
    table = {"accuracy": accuracy(y, y_prob, threshold, sample_weight=sample_weight)}
    for metric in metrics:
        table[metric.__name__] = metric(
            y, y_prob, threshold, zero_division=zero_division, sample_weight=sample_weight
        )
    return table


def bayes_threshold(cost_fp: float, cost_fn: float) -> float:
    """Bayes-optimal decision threshold for calibrated probabilities.

    Predicting 1 costs ``(1 - p) * cost_fp`` in expectation and predicting 0 costs
    ``p * cost_fn``, so predict 1 when ``p > cost_fp / (cost_fp + cost_fn)``. Equal costs
    give 0.5 (e.g. choosing invasive surgery, where a false alarm is as bad as a miss); a
    cheap follow-up test whose false alarm costs 1 against 19 for a miss gives 0.05.

    Parameters
    ----------
    cost_fp, cost_fn : float
        Costs (>= 0, not both 0) of a false positive and of a false negative.

    Returns
    -------
    float
        The threshold t in [0, 1]; use it as ``y_prob > t``.

    Examples
    --------
    >>> bayes_threshold(1, 19)
    0.05
    """
    cost_fp, cost_fn = check_costs(cost_fp, cost_fn)
    return cost_fp / (cost_fp + cost_fn)
