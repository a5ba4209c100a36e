"""Uncertainty of the AUC: DeLong standard errors, bootstrap intervals, paired tests.

DeLong's variance uses the placement values of each case and control. They come from
the fast algorithm of Sun & Xu (2014), O(n log n) instead of the O(n1 * n0) comparison
matrix: for 2-D scores, midranks of the pooled scores, of the cases alone and of the
controls alone, all read off one sort of the pooled scores; for 1-D scores, the same
counts from the cases and the controls sorted apart (:mod:`._placements`).

``sample_weight`` must hold whole numbers here: a weight is a frequency, and both the
variance and the bootstrap count rows. DeLong's sums are then weighted (a case of
weight w enters every sum and mean w times, and n1 is the cases' total weight), and the
bootstrap draws from the repeated rows, so integer weights give the result of repeated
rows. Weights such as 0.5 are refused: the variance of a sample of 2.5 rows means
nothing.

References
----------
DeLong E. R., DeLong D. M., Clarke-Pearson D. L. (1988). Comparing the areas under two or
more correlated receiver operating characteristic curves: a nonparametric approach.
Biometrics 44(3), 837-845.
Sun X., Xu W. (2014). Fast implementation of DeLong's algorithm for comparing the areas
under correlated receiver operating characteristic curves. IEEE Signal Processing
Letters 21(11), 1389-1393.
"""

import warnings
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayeslogreg._validation import (
    check_both_classes,
    check_choice,
    check_frequency_weights,
    check_int,
    check_labels,
    check_level,
    check_sample_weight,
    check_scores,
    check_seed,
)
from bayeslogreg.metrics._classification import (
    UndefinedMetricWarning,
    _positive_weight_rows,
    _to_output,
)
from bayeslogreg.metrics._placements import Placements, delong_placements_1d
from bayeslogreg.metrics._roc import _auc, _check_ranking, _outscored

__all__ = ["AucInterval", "DelongTest", "auc_ci", "delong_test"]

CI_METHODS = ("delong", "bootstrap")

# Elements (resamples x rows) sorted per pass of the bootstrap, which bounds its memory.
_BOOTSTRAP_CHUNK = 2**22


class AucInterval(NamedTuple):
    """AUC with a confidence interval; floats, or (n_draws,) arrays for 2-D scores.

    ``se`` is DeLong's standard error, or for ``method="bootstrap"`` the standard
    deviation of the bootstrap AUCs.
    """

    auc: float | np.ndarray
    lower: float | np.ndarray
    upper: float | np.ndarray
    se: float | np.ndarray
    level: float
    method: str


class DelongTest(NamedTuple):
    """Paired DeLong test of AUC(a) = AUC(b); floats, or (n_draws,) arrays."""

    auc_a: float | np.ndarray
    auc_b: float | np.ndarray
    difference: float | np.ndarray
    se: float | np.ndarray
    z: float | np.ndarray
    p_value: float | np.ndarray
    correlation: float | np.ndarray


def _delong_placements(y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None = None):
    """AUC and DeLong placement values of each row of ``scores`` (Sun & Xu, 2014).

    Returns ``auc`` of shape scores.shape[:-1], ``v10`` of shape (..., n1): for each
    case, the fraction of controls it outscores (ties 1/2), and ``v01`` of shape
    (..., n0): for each control, the fraction of cases that outscore it. Cases and
    controls keep their order in ``y``, so placements of two scores pair up. With
    ``weight`` the fractions are of the controls' (cases') total weight.
    """
    # Sun & Xu's midrank differences are _outscored's counts; unit weights count rows.
    if weight is None:
        weight = np.ones(y.shape[0], dtype=np.int64)
    counts = _outscored(y, scores, weight)
    placement = np.where(
        counts.y_sorted,
        counts.controls_outscored / counts.n_negative,
        counts.cases_above / counts.n_positive,
    )
    unsorted = np.empty_like(placement)
    np.put_along_axis(unsorted, counts.order, placement, axis=-1)
    return counts.auc, unsorted[..., y], unsorted[..., ~y]


def _placements(
    y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None, *, per_row: bool
) -> Placements:
    """AUC and DeLong placements of 1-D or 2-D ``scores`` (see :class:`Placements`).

    1-D scores take the sorted-classes path of :mod:`._placements`: one placement per
    distinct score, which is all a variance needs, and with ``per_row=True`` each row's
    run, to pair two scores. 2-D scores take one vectorised pooled sort, per row.
    """
    if scores.ndim == 1:
        return delong_placements_1d(y, scores, weight, per_row=per_row)
    auc, v10, v01 = _delong_placements(y, scores, weight)
    return Placements(auc, v10, v01, *((None, None) if weight is None else (weight[y], weight[~y])))


def _of_rows(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Each row's placement: ``values`` per run indexed by ``rows``, or already per row."""
    return values if rows is None else values[rows]


def _centered(values: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """``values`` minus their mean along the last axis (weighted by frequency ``weight``)."""
    if weight is None:
        return values - values.mean(axis=-1, keepdims=True)
    return values - (values @ weight / weight.sum())[..., None]


def _centered_covariance(a: np.ndarray, b: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Sample covariance (ddof 1) along the last axis of two :func:`_centered` arrays.

    With frequency ``weight`` (shape (n,)), that of the rows repeated ``weight`` times:
    ``sum w (a - mean_a)(b - mean_b) / (sum w - 1)``.
    """
    if weight is None:
        return np.vecdot(a, b) / (a.shape[-1] - 1)
    return (a * b) @ weight / (weight.sum() - 1)


def _covariance(a: np.ndarray, b: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Sample covariance (ddof 1) along the last axis; see :func:`_centered_covariance`."""
    return _centered_covariance(_centered(a, weight), _centered(b, weight), weight)


def _check_delong_sizes(n_positive: int, n_negative: int) -> None:
    if n_positive < 2 or n_negative < 2:
        raise ValueError(
            "DeLong's variance needs at least 2 cases (y = 1) and 2 controls (y = 0); got "
            f"{n_positive} and {n_negative}. Use method='bootstrap' or more data."
        )


def _bootstrap_aucs(
    y: np.ndarray, scores: np.ndarray, n_bootstrap: int, seed, weight: np.ndarray | None = None
) -> np.ndarray:
    """Stratified bootstrap AUCs, shape (n_rows, n_bootstrap) for 2-D ``scores``.

    Cases and controls are resampled separately, as pROC does, so every resample keeps
    n1 cases and n0 controls. Each group draws from its own child of
    ``default_rng(seed)``, so the resamples depend only on ``seed`` and y, not on the
    chunking, and every row of ``scores`` uses the same ones. Integer ``weight``
    resamples the rows repeated ``weight`` times (n1 and n0 are then total weights)
    through an index, so it costs what the repeated rows cost but never copies scores.
    """
    case_rng, control_rng = np.random.default_rng(check_seed(seed)).spawn(2)
    cases, controls = scores[:, y], scores[:, ~y]
    if weight is None:
        case_rows, control_rows = np.arange(cases.shape[1]), np.arange(controls.shape[1])
    else:
        case_rows = np.repeat(np.arange(cases.shape[1]), weight[y])
        control_rows = np.repeat(np.arange(controls.shape[1]), weight[~y])
    n_rows = scores.shape[0]
    n_positive, n_negative = case_rows.shape[0], control_rows.shape[0]
    n_samples = n_positive + n_negative
    y_resampled = np.arange(n_samples) < n_positive
    per_chunk = max(1, _BOOTSTRAP_CHUNK // n_samples)
    aucs = np.empty((n_rows, n_bootstrap))
    for start in range(0, n_bootstrap, per_chunk):
        size = min(per_chunk, n_bootstrap - start)
        take_cases = case_rows[case_rng.integers(0, n_positive, size=(size, n_positive))]
        take_controls = control_rows[control_rng.integers(0, n_negative, size=(size, n_negative))]
        rows_per_pass = max(1, _BOOTSTRAP_CHUNK // (size * n_samples))
        for row in range(0, n_rows, rows_per_pass):
            rows = slice(row, row + rows_per_pass)
            resampled = np.concatenate(
                [cases[rows][:, take_cases], controls[rows][:, take_controls]], axis=-1
            )
            block = _auc(y_resampled, resampled.reshape(-1, n_samples))
            aucs[rows, start : start + size] = block.reshape(-1, size)
    return aucs


def auc_ci(
    y: ArrayLike,
    y_score: ArrayLike,
    level: float = 0.95,
    method: str = "delong",
    *,
    n_bootstrap: int = 2000,
    seed: int | None = 0,
    sample_weight: ArrayLike | None = None,
) -> AucInterval:
    """AUC with a confidence interval, by DeLong's method or a stratified bootstrap.

    ``method="delong"`` gives ``auc ± z * se`` with z the normal quantile for ``level``
    and DeLong's se, clipped to [0, 1], as pROC's ``ci.auc``. ``method="bootstrap"``
    resamples cases and controls separately (as pROC does) and takes the percentile
    interval of the bootstrap AUCs (quantiles as R's default type 7).

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1; DeLong needs at least two of each.
    y_score : array of shape (n_samples,) or (n_draws, n_samples)
        Scores, higher meaning more likely 1.
    level : float, default 0.95
        Coverage of the interval, in (0, 1).
    method : {"delong", "bootstrap"}
    n_bootstrap : int, default 2000
        Bootstrap resamples (at least 2), drawn in vectorised chunks.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng`` for the bootstrap; the same seed gives the
        same interval, and every row of a 2-D ``y_score`` uses the same resamples.
    sample_weight : array of shape (n_samples,), optional
        Whole-number frequency of each row, >= 0: a row of weight 3 counts as three
        identical rows (the interval, bootstrap resamples included, is that of the
        repeated rows, and the bootstrap costs what they cost) and rows of weight 0 are
        left out. Weights that are not whole
        numbers raise a ``ValueError``: the variance counts rows. None weighs every row 1.

    Returns
    -------
    AucInterval
        ``(auc, lower, upper, se, level, method)``; the first four are floats, or arrays
        of shape (n_draws,) for 2-D ``y_score``.

    Examples
    --------
    >>> result = auc_ci([0, 0, 0, 1, 1, 1], [0.1, 0.3, 0.6, 0.4, 0.8, 0.9])
    >>> round(result.auc, 4), round(result.se, 4)
    (0.8889, 0.1571)
    """
    y, scores, weight, n_positive, n_negative = _check_ranking(
        y, y_score, "auc_ci", sample_weight=sample_weight, whole=True
    )
    level = check_level(level)
    method = check_choice(method, "method", CI_METHODS)
    if method == "delong":
        _check_delong_sizes(n_positive, n_negative)
        auc, v10, v01, case_weight, control_weight, _, _ = _placements(
            y, scores, weight, per_row=False
        )
        se = np.sqrt(
            _covariance(v10, v10, case_weight) / n_positive
            + _covariance(v01, v01, control_weight) / n_negative
        )
        z = special.ndtri(0.5 + level / 2)
        lower, upper = np.clip(auc - z * se, 0, 1), np.clip(auc + z * se, 0, 1)
    else:
        n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=2)
        auc = _auc(y, scores, weight)
        aucs = _bootstrap_aucs(y, np.atleast_2d(scores), n_bootstrap, seed, weight)
        lower, upper = np.quantile(aucs, [0.5 - level / 2, 0.5 + level / 2], axis=-1)
        se = np.std(aucs, axis=-1, ddof=1)
        if scores.ndim == 1:
            lower, upper, se = lower[0], upper[0], se[0]
    values = (_to_output(v) for v in (auc, lower, upper, se))
    return AucInterval(*values, level=level, method=method)


def delong_test(
    y: ArrayLike,
    y_score_a: ArrayLike,
    y_score_b: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> DelongTest:
    """Paired DeLong test that two scores of the same rows have equal AUC.

    ``z = (auc_a - auc_b) / se`` with se from DeLong's covariance of the two AUCs (as
    pROC's ``roc.test(..., method = "delong", paired = TRUE)``); the p-value is
    two-sided, from the normal distribution. When se is 0 (for example identical
    rankings), z is 0 for equal AUCs and +-inf otherwise.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels, 0 or 1; at least two of each.
    y_score_a, y_score_b : arrays of shape (n_samples,) or (n_draws, n_samples)
        The two scores. A 1-D score is compared with every row of a 2-D one; two 2-D
        scores must have the same number of rows and are compared row by row.
    sample_weight : array of shape (n_samples,), optional
        Whole-number frequency of each row, as in :func:`auc_ci`.

    Returns
    -------
    DelongTest
        ``(auc_a, auc_b, difference, se, z, p_value, correlation)``: floats, or arrays
        of shape (n_draws,). ``difference`` is ``auc_a - auc_b``; ``correlation`` is
        that of the two AUC estimates, NaN with an :class:`UndefinedMetricWarning`
        when either has zero variance.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> result = delong_test(y, [0.1, 0.3, 0.6, 0.4, 0.8, 0.9], [0.2, 0.1, 0.5, 0.3, 0.4, 0.6])
    >>> round(result.difference, 4), round(result.p_value, 4)
    (0.1111, 0.4795)
    """
    y = check_labels(y)
    score_a = check_scores(y_score_a, y.shape[0], "y_score_a")
    score_b = check_scores(y_score_b, y.shape[0], "y_score_b")
    if score_a.ndim == score_b.ndim == 2 and score_a.shape[0] != score_b.shape[0]:
        raise ValueError(
            f"y_score_a has {score_a.shape[0]} rows but y_score_b has {score_b.shape[0]}; "
            "give both the same number of draws, or one of them 1-D."
        )
    weight = check_sample_weight(sample_weight, y.shape[0])
    weight = check_frequency_weights(weight, "delong_test")
    score_a, score_b = np.broadcast_arrays(score_a, score_b)
    _, score_b, _ = _positive_weight_rows(y, score_b, weight)
    y, score_a, weight = _positive_weight_rows(y, score_a, weight)
    among = "" if weight is None else " among the rows of positive sample_weight"
    n_positive, n_negative = check_both_classes(y, "delong_test", among=among)
    case_weight, control_weight = None, None
    if weight is not None:
        case_weight, control_weight = weight[y], weight[~y]
        n_positive, n_negative = case_weight.sum().item(), control_weight.sum().item()
    _check_delong_sizes(n_positive, n_negative)
    a = _placements(y, score_a, weight, per_row=True)
    b = _placements(y, score_b, weight, per_row=True)

    def centered_rows(p):
        # Placements centred per run (cheap), then spread over the rows; the variances
        # and the covariance share these arrays, so equal scores give equal numbers.
        return (
            _of_rows(_centered(p.v10, p.case_weight), p.case_rows),
            _of_rows(_centered(p.v01, p.control_weight), p.control_rows),
        )

    def auc_covariance(u10, u01, w10, w01):
        return (
            _centered_covariance(u10, w10, case_weight) / n_positive
            + _centered_covariance(u01, w01, control_weight) / n_negative
        )

    rows_a, rows_b = centered_rows(a), centered_rows(b)
    auc_a, auc_b = a.auc, b.auc
    var_a = auc_covariance(*rows_a, *rows_a)
    var_b = auc_covariance(*rows_b, *rows_b)
    cov_ab = auc_covariance(*rows_a, *rows_b)
    difference = auc_a - auc_b
    # Rounding can leave a tiny negative variance when the two rankings nearly agree.
    se = np.sqrt(np.maximum(var_a + var_b - 2 * cov_ab, 0.0))
    degenerate = se == 0
    z = np.where(difference == 0, 0.0, np.copysign(np.inf, difference))
    z = np.divide(difference, se, out=z, where=~degenerate)
    p_value = 2 * special.ndtr(-np.abs(z))
    undefined = (var_a == 0) | (var_b == 0)
    correlation = np.divide(
        cov_ab, np.sqrt(var_a * var_b), out=np.full(se.shape, np.nan), where=~undefined
    )
    if undefined.any():
        warnings.warn(
            "the correlation of the two AUCs is undefined (NaN) because one of them has "
            "zero variance, e.g. a score that separates the classes perfectly.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    values = (auc_a, auc_b, difference, se, z, p_value, correlation)
    return DelongTest(*(_to_output(v) for v in values))
