"""Posterior predictive diagnostics: per-draw metrics, ROC bands, checks, LOO and WAIC.

Functions take posterior ``draws`` of shape (n_draws, p + 1), intercept first (for a
:class:`~bayeslogreg.Posterior`, ``posterior.flat_draws``), data ``X`` of shape
(n_rows, p) and labels ``y`` of shape (n_rows,). Draw s predicts
``P(y = 1) = sigmoid(draws[s, 0] + X @ draws[s, 1:])``. The (n_draws, n_rows) matrix of
predictions is never built whole: it is computed in blocks of ``chunk_size`` draws (rows
for :func:`heldout_lpd`), by default about 32 MB of float64 each, so memory stays at a
few such blocks however many draws and rows there are.

:func:`loo` and :func:`waic` read the pointwise log-likelihood that
:func:`~bayeslogreg.sample_posterior` stores; :func:`heldout_lpd` scores new data and
needs nothing stored.
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from bayeslogreg import _arviz
from bayeslogreg._arviz import ElpdEstimate
from bayeslogreg._validation import (
    check_both_classes,
    check_finite,
    check_level,
    check_offset,
    check_positive_int,
    check_real_dtype,
    check_sample_weight,
    check_seed,
    check_threshold,
    check_unit_values,
    check_X,
    check_y,
)
from bayeslogreg.metrics._calibration import _bin_ids, _mean
from bayeslogreg.metrics._classification import _ratio
from bayeslogreg.metrics._roc import SORT_EACH_ROW, _auc, _descending_counts, _roc_points

#: Columns of :func:`predictive_metrics`.
METRIC_COLUMNS = ("auc", "log_loss", "brier", "accuracy", "precision", "recall", "specificity")
#: :func:`loo` and :func:`waic` refuse more draws x rows log-likelihood values than this
#: (512 MB per float64 copy; PSIS holds several copies).
MAX_LOO_ELEMENTS = 2**26
_BLOCK_BYTES = 32 * 2**20


# ---------------------------------------------------------------------------------------
# Checks and blocks.


def _check_draws(draws, n_features: int) -> np.ndarray:
    draws = check_real_dtype(draws, "draws")
    if draws.ndim != 2:
        hint = " For a Posterior pass posterior.flat_draws." if draws.ndim == 3 else ""
        raise ValueError(f"draws must be 2-D (n_draws, p + 1); got shape {draws.shape}.{hint}")
    if draws.shape[0] == 0:
        raise ValueError("draws is empty: it has 0 rows.")
    if draws.shape[1] != n_features + 1:
        raise ValueError(
            f"draws has {draws.shape[1]} columns but X has {n_features} features; each draw "
            f"needs p + 1 = {n_features + 1} values, intercept first."
        )
    draws = draws.astype(np.float64)
    check_finite(draws, "draws", "Check the sampler output.")
    return draws


def _check_inputs(draws, X, y, what: str | None = None):
    """Validate; ``what`` names a function that needs both classes in y."""
    X = check_X(X).astype(np.float64, copy=False)
    y = check_y(y, n_samples=X.shape[0], require_both_classes=False)
    if what is not None:
        check_both_classes(y, what)
    return _check_draws(draws, X.shape[1]), X, y


def _check_weighted_inputs(draws, X, y, what: str, sample_weight, offset):
    """:func:`_check_inputs` with per-row weights and offsets: ``(draws, X, y, weight, offset)``.

    Rows of weight 0 are dropped, as the metrics drop them, and both classes must occur
    among the rows left. ``weight`` is None without ``sample_weight``; ``offset`` is
    zeros of shape (n_rows,) without one.
    """
    raw_X = X
    draws, X, y = _check_inputs(draws, X, y)
    weight = check_sample_weight(sample_weight, X.shape[0], raw_X)
    offset = np.zeros(X.shape[0]) if offset is None else check_offset(offset, raw_X, X.shape[0])
    if weight is not None and not weight.all():
        keep = weight > 0
        X, y, weight, offset = X[keep], y[keep], weight[keep], offset[keep]
    among = "" if weight is None else " among the rows of positive sample_weight"
    check_both_classes(y, what, among=among)
    return draws, X, y, weight, offset


def _block_size(chunk_size, other_size: int) -> int:
    if chunk_size is None:
        return max(1, _BLOCK_BYTES // (8 * other_size))
    return check_positive_int(chunk_size, "chunk_size")


def _blocks(draws: np.ndarray, size: int):
    return (draws[start : start + size] for start in range(0, len(draws), size))


def _linear_predictor(draws: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Log-odds of every row under every draw, shape (n_draws, n_rows)."""
    return draws[:, :1] + draws[:, 1:] @ X.T


# ---------------------------------------------------------------------------------------
# Per-draw metrics.


def predictive_metrics(
    draws: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    threshold: float = 0.5,
    zero_division: float | str = "warn",
    chunk_size: int | None = None,
    sample_weight: ArrayLike | None = None,
    offset: ArrayLike | None = None,
) -> pd.DataFrame:
    """Classification metrics of each posterior draw's predictions.

    The log-loss uses ``log_sigmoid`` of the log-odds, exact where probabilities round
    to 0 or 1 (:func:`~bayeslogreg.metrics.log_loss` clips them at 2.2e-16), and the AUC
    ranks by log-odds, which avoids the ties of saturated probabilities. Otherwise each
    column equals the :mod:`bayeslogreg.metrics` function of that draw's probabilities,
    with the same ``sample_weight``.

    Parameters
    ----------
    draws : array of shape (n_draws, p + 1)
        Posterior draws, intercept first.
    X : array of shape (n_rows, p)
    y : array of shape (n_rows,)
        Labels 0/1; both must occur (among the rows of positive weight).
    threshold : float, default 0.5
        A row is predicted 1 when its probability is strictly greater.
    zero_division : {"warn", 0.0, 1.0}
        Precision of a draw that predicts no 1 (see :func:`~bayeslogreg.metrics.precision`).
    chunk_size : int, optional
        Draws per block; by default a block of (chunk_size, n_rows) float64 is ~32 MB.
    sample_weight : array of shape (n_rows,), optional
        Frequency of each row, >= 0, as the metrics' ``sample_weight``: a row of weight 3
        counts as three identical rows, one of weight 0 as none. Any weights >= 0 (no
        column here counts rows for a variance). None weighs every row 1.
    offset : array of shape (n_rows,), optional
        Known term added to each row's log-odds, as a fit's ``offset``.

    Returns
    -------
    DataFrame of shape (n_draws, 7)
        Columns :data:`METRIC_COLUMNS`: auc, log_loss (nats per row, or per unit of
        weight), brier, accuracy, precision, recall, specificity; one row per draw.

    Examples
    --------
    >>> draws = np.array([[0.0, 1.0], [0.2, 1.5]])
    >>> table = predictive_metrics(draws, [[-1.0], [0.5], [2.0]], [0, 1, 1])
    >>> table["auc"].tolist()
    [1.0, 1.0]
    """
    draws, X, y, weight, offset = _check_weighted_inputs(
        draws, X, y, "predictive_metrics", sample_weight, offset
    )
    threshold = check_threshold(threshold)
    is_one = y == 1
    sign = 2.0 * y - 1.0
    columns = {name: [] for name in ("auc", "log_loss", "brier", "tp", "fp")}
    for block in _blocks(draws, _block_size(chunk_size, X.shape[0])):
        eta = _linear_predictor(block, X) + offset
        prob = special.expit(eta)
        predicted = prob > threshold
        columns["auc"].append(_auc(is_one, eta, weight))
        columns["log_loss"].append(-_mean(special.log_expit(sign * eta), weight))
        columns["brier"].append(_mean((prob - y) ** 2, weight))
        columns["tp"].append(_weighted_count(predicted & is_one, weight))
        columns["fp"].append(_weighted_count(predicted & ~is_one, weight))
    values = {name: np.concatenate(parts) for name, parts in columns.items()}
    tp, fp = values.pop("tp"), values.pop("fp")
    n_positive = _weighted_count(is_one, weight)
    n_all = len(y) if weight is None else weight.sum()
    n_negative = n_all - n_positive
    values["accuracy"] = (tp + n_negative - fp) / n_all
    values["precision"] = np.asarray(
        _ratio(tp, tp + fp, zero_division, "precision", "no row is predicted positive")
    )
    values["recall"] = tp / n_positive
    values["specificity"] = (n_negative - fp) / n_negative
    return pd.DataFrame(values, columns=list(METRIC_COLUMNS)).rename_axis("draw")


def _weighted_count(mask: np.ndarray, weight: np.ndarray | None):
    """Rows (or their total weight) where ``mask`` holds, along the last axis."""
    return np.count_nonzero(mask, axis=-1) if weight is None else mask @ weight


def summarize_draws(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and equal-tailed interval of each column.

    Parameters
    ----------
    table : DataFrame of shape (n_draws, k)
        One row per draw, e.g. from :func:`predictive_metrics`; at least 2 rows.
    level : float, default 0.95
        Probability of the interval [ci_lower, ci_upper].

    Returns
    -------
    DataFrame of shape (k, 4)
        One row per column of ``table``; columns mean, sd, ci_lower, ci_upper.
    """
    table = pd.DataFrame(table)
    level = check_level(level)
    if len(table) < 2:
        raise ValueError(f"summarize_draws needs at least 2 draws; got {len(table)}.")
    values = table.to_numpy(dtype=np.float64)
    tail = (1.0 - level) / 2
    lower, upper = np.quantile(values, [tail, 1.0 - tail], axis=0)
    summary = {"mean": values.mean(axis=0), "sd": values.std(axis=0, ddof=1)}
    return pd.DataFrame({**summary, "ci_lower": lower, "ci_upper": upper}, index=table.columns)


# ---------------------------------------------------------------------------------------
# ROC band.


class RocBand(NamedTuple):
    """Pointwise equal-tailed band of the posterior's ROC curves.

    ``fpr``, ``lower``, ``median``, ``upper`` have shape (n_grid,): at false positive rate
    ``fpr[j]``, the quantiles (1 - level) / 2, 1/2 and (1 + level) / 2 over draws of the
    true positive rate.
    """

    fpr: np.ndarray
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray
    level: float


def _check_fpr_grid(fpr_grid) -> np.ndarray:
    if fpr_grid is None:
        return np.linspace(0.0, 1.0, 101)
    grid = np.asarray(fpr_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"fpr_grid must be a non-empty 1-D array; got shape {grid.shape}.")
    check_unit_values(grid, "fpr_grid", "false positive rates")
    if np.any(np.diff(grid) <= 0):
        raise ValueError("fpr_grid must be strictly increasing, e.g. np.linspace(0, 1, 101).")
    return grid


def _allowed_false_positives(grid: np.ndarray, n_negative: int) -> np.ndarray:
    """Largest k with ``k / n_negative <= grid`` in float64, per grid point."""
    k = np.floor(grid * n_negative).astype(np.int64)
    # grid * n can round across an integer; fix it to agree with the division test.
    k += (k + 1) / n_negative <= grid
    k -= k / n_negative > grid
    return k


def _step_true_positives(is_one, scores, allowed_fp) -> np.ndarray:
    """Max true positives over ROC points with fp <= allowed, shape (n_draws, n_grid)."""
    if scores.shape[-1] >= SORT_EACH_ROW:
        return np.stack([_row_step_true_positives(is_one, row, allowed_fp) for row in scores])
    _, tps, fps, ends = _descending_counts(is_one, scores)
    n_negative = len(is_one) - np.count_nonzero(is_one)
    rows, cols = np.nonzero(ends)
    best = np.zeros(len(scores) * (n_negative + 1), dtype=np.int64)
    np.maximum.at(best, rows * (n_negative + 1) + fps[rows, cols], tps[rows, cols])
    best = np.maximum.accumulate(best.reshape(len(scores), n_negative + 1), axis=1)
    return best[:, allowed_fp]


def _row_step_true_positives(is_one, scores, allowed_fp) -> np.ndarray:
    """:func:`_step_true_positives` of one draw's scores (n_rows,), from the classes' sorts.

    A threshold keeps at most k false positives when it lies above the (k + 1)-th largest
    control score c; the lowest such threshold among the scores counts every case above c.
    """
    cases, controls = np.sort(scores[is_one]), np.sort(scores[~is_one])
    inside = allowed_fp < len(controls)
    true_positives = np.full(len(allowed_fp), len(cases))
    above = controls[len(controls) - 1 - allowed_fp[inside]]
    true_positives[inside] = len(cases) - np.searchsorted(cases, above, side="right")
    return true_positives


def roc_band(
    draws: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    level: float = 0.95,
    fpr_grid: ArrayLike | None = None,
    chunk_size: int | None = None,
    sample_weight: ArrayLike | None = None,
    offset: ArrayLike | None = None,
) -> RocBand:
    """Posterior band of ROC curves on a common false-positive-rate grid.

    Each draw's ROC curve is a step function: its true positive rate at ``f`` is the
    largest TPR of its ROC points with FPR <= f (the rates reachable by a threshold
    without exceeding ``f``). Rows are ranked by log-odds, as in :func:`predictive_metrics`.

    Parameters
    ----------
    draws, X, y, sample_weight, offset
        As in :func:`predictive_metrics`. With ``sample_weight`` each draw's curve is
        :func:`~bayeslogreg.metrics.roc_curve` with those weights (rates are shares of
        the classes' total weights).
    level : float, default 0.95
        Probability of the pointwise band.
    fpr_grid : array of shape (n_grid,), optional
        Strictly increasing rates in [0, 1]; default 101 points from 0 to 1.
    chunk_size : int, optional
        Draws per block, as in :func:`predictive_metrics`.

    Returns
    -------
    RocBand

    Examples
    --------
    >>> band = roc_band([[0.0, 1.0], [0.5, 2.0]], [[-1.0], [0.5], [2.0]], [0, 1, 1])
    >>> band.median[[0, -1]].tolist()
    [1.0, 1.0]
    """
    draws, X, y, weight, offset = _check_weighted_inputs(
        draws, X, y, "roc_band", sample_weight, offset
    )
    level = check_level(level)
    grid = _check_fpr_grid(fpr_grid)
    is_one = y == 1
    size = _block_size(chunk_size, X.shape[0])
    blocks = (_linear_predictor(block, X) + offset for block in _blocks(draws, size))
    if weight is None:
        n_positive = np.count_nonzero(is_one)
        allowed_fp = _allowed_false_positives(grid, len(y) - n_positive)
        counts = [_step_true_positives(is_one, eta, allowed_fp) for eta in blocks]
        tpr = np.concatenate(counts) / n_positive
    else:
        tpr = np.concatenate([_weighted_step_rates(is_one, eta, weight, grid) for eta in blocks])
    tail = (1.0 - level) / 2
    lower, median, upper = np.quantile(tpr, [tail, 0.5, 1.0 - tail], axis=0)
    return RocBand(grid, lower, median, upper, level)


def _weighted_step_rates(is_one, scores, weight, grid) -> np.ndarray:
    """Largest TPR of each row's weighted ROC points with FPR <= grid, (n_draws, n_grid).

    The points are :func:`~bayeslogreg.metrics.roc_curve`'s; their FPRs increase along
    each row (the padding repeats the last point), so one search per row finds them.
    """
    fpr, tpr, _ = _roc_points(is_one, scores, weight)
    last = [np.searchsorted(row, grid, side="right") - 1 for row in fpr]
    return np.take_along_axis(tpr, np.stack(last), axis=-1)


# ---------------------------------------------------------------------------------------
# Posterior predictive check.


class PredictiveCheck(NamedTuple):
    """Replicated statistics T(y_rep), one per draw, against the observed T(y).

    Each ``p_value_*`` is the Bayesian p-value P(T(y_rep) >= T(y)): near 0 or 1 means the
    model rarely reproduces the data. Counts are discrete, so T(y) = 0 (a bin without
    observed 1s) always gives 1. Bins cut the posterior-mean probability into
    ``n_bins`` equal widths of [0, 1], (``bin_lower``, ``bin_upper``], the first including
    0; only non-empty bins are kept, so bin arrays have shape (n_bins_used,).

    Attributes
    ----------
    observed_positives : int
    replicated_positives : ndarray of shape (n_draws,)
    p_value_positives : float
    bin_lower, bin_upper : ndarray of shape (n_bins_used,)
    bin_count : ndarray of shape (n_bins_used,)
        Rows in each bin.
    observed_bin_positives : ndarray of shape (n_bins_used,)
    replicated_bin_positives : ndarray of shape (n_draws, n_bins_used)
    p_value_bins : ndarray of shape (n_bins_used,)
    seed : int
    """

    observed_positives: int
    replicated_positives: np.ndarray
    p_value_positives: float
    bin_lower: np.ndarray
    bin_upper: np.ndarray
    bin_count: np.ndarray
    observed_bin_positives: np.ndarray
    replicated_bin_positives: np.ndarray
    p_value_bins: np.ndarray
    seed: int


def posterior_predictive_check(
    draws: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    seed: int = 0,
    n_bins: int = 10,
    chunk_size: int | None = None,
) -> PredictiveCheck:
    """Replicate y once per draw and compare positives, in total and per probability bin.

    Replicate s is ``y_rep[s, i] = u[s, i] < p[s, i]``, with ``u`` uniform from
    ``numpy.random.default_rng(seed)`` filled draw by draw, so the numbers depend on
    ``seed`` only, not on ``chunk_size``.

    Parameters
    ----------
    draws, X, y, chunk_size
        As in :func:`predictive_metrics` (both classes need not occur).
    seed : int, default 0
        Non-negative; the same seed gives the same replicates.
    n_bins : int, default 10
        Equal-width bins of the posterior-mean probability.

    Returns
    -------
    PredictiveCheck

    Examples
    --------
    >>> check = posterior_predictive_check([[0.0, 1.0]], [[-1.0], [0.5], [2.0]], [0, 1, 1])
    >>> check.observed_positives, check.replicated_positives.shape
    (2, (1,))
    """
    draws, X, y = _check_inputs(draws, X, y)
    n_bins = check_positive_int(n_bins, "n_bins")
    seed = check_seed(seed)
    size = _block_size(chunk_size, X.shape[0])
    mean_prob = np.zeros(X.shape[0])
    for block in _blocks(draws, size):
        mean_prob += special.expit(_linear_predictor(block, X)).sum(axis=0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = _bin_ids(mean_prob / len(draws), edges)
    # Rows sorted by bin, so each bin's positives are one np.add.reduceat segment.
    order = np.argsort(bins, kind="stable")
    used, starts, counts = np.unique(bins[order], return_index=True, return_counts=True)
    X, y = X[order], y[order]
    rng = np.random.default_rng(seed)
    replicated = []
    for block in _blocks(draws, size):
        y_rep = rng.random((len(block), X.shape[0])) < special.expit(_linear_predictor(block, X))
        replicated.append(np.add.reduceat(y_rep, starts, axis=1, dtype=np.int64))
    replicated_bins = np.concatenate(replicated)
    replicated_total = replicated_bins.sum(axis=1)
    observed_bins = np.add.reduceat(y, starts).astype(np.int64)
    observed_total = int(observed_bins.sum())
    return PredictiveCheck(
        observed_positives=observed_total,
        replicated_positives=replicated_total,
        p_value_positives=float(np.mean(replicated_total >= observed_total)),
        bin_lower=edges[used],
        bin_upper=edges[used + 1],
        bin_count=counts,
        observed_bin_positives=observed_bins,
        replicated_bin_positives=replicated_bins,
        p_value_bins=np.mean(replicated_bins >= observed_bins, axis=0),
        seed=int(seed),
    )


# ---------------------------------------------------------------------------------------
# Predictive density: held-out data, LOO and WAIC.


def heldout_lpd_pointwise(
    draws: ArrayLike, X: ArrayLike, y: ArrayLike, *, chunk_size: int | None = None
) -> np.ndarray:
    """Log posterior predictive probability of each row, ``log mean_s p(y_i | theta_s)``.

    Computed as ``logsumexp_s log_sigmoid((2 y_i - 1) eta_si) - log(n_draws)``, which is
    finite and accurate for any log-odds (|eta| of 1e4 included).

    Parameters
    ----------
    draws, X, y
        As in :func:`predictive_metrics` (both classes need not occur).
    chunk_size : int, optional
        Rows per block; by default a (n_draws, chunk_size) float64 block is ~32 MB.

    Returns
    -------
    ndarray of shape (n_rows,)
        Values <= 0, in nats.
    """
    draws, X, y = _check_inputs(draws, X, y)
    size = _block_size(chunk_size, len(draws))
    sign = 2.0 * y - 1.0
    lpd = np.empty(len(y))
    for start in range(0, len(y), size):
        rows = slice(start, start + size)
        log_lik = special.log_expit(sign[rows] * _linear_predictor(draws, X[rows]))
        lpd[rows] = special.logsumexp(log_lik, axis=0)
    return lpd - np.log(len(draws))


def heldout_lpd(
    draws: ArrayLike, X: ArrayLike, y: ArrayLike, *, chunk_size: int | None = None
) -> float:
    """Log pointwise predictive density of new data, ``sum_i log mean_s p(y_i | theta_s)``.

    The sum of :func:`heldout_lpd_pointwise` (same arguments), in nats; higher is better.
    On a held-out set it estimates what :func:`loo` estimates from the training data,
    and it scales to any size: nothing is stored, rows are processed in blocks.

    Examples
    --------
    >>> round(heldout_lpd([[0.0, 1.0], [0.0, 3.0]], [[-1.0], [2.0]], [0, 1]), 4)
    -0.235
    """
    return float(np.sum(heldout_lpd_pointwise(draws, X, y, chunk_size=chunk_size)))


def _log_likelihood_data(posterior, what: str):
    idata = getattr(posterior, "idata", None)
    if idata is None:
        raise ValueError(
            f"{what} needs a Posterior from sample_posterior; got {type(posterior).__name__}."
        )
    fallback = "score a held-out set with heldout_lpd(posterior.flat_draws, X_test, y_test)"
    if not _arviz.has_group(idata, "log_likelihood"):
        raise ValueError(
            f"{what} needs the per-row log-likelihood, which this posterior does not store "
            "(sample_posterior(..., store_log_likelihood=False)). Sample with "
            f"store_log_likelihood=True, or {fallback}."
        )
    n_values = posterior.flat_draws.shape[0] * posterior.n_rows
    if n_values > MAX_LOO_ELEMENTS:
        raise ValueError(
            f"exact {what} is too large for this data: {posterior.flat_draws.shape[0]} draws "
            f"x {posterior.n_rows} rows = {n_values} log-likelihood values, over the limit "
            f"MAX_LOO_ELEMENTS = {MAX_LOO_ELEMENTS}. Instead {fallback}."
        )
    return idata


def loo(posterior) -> ElpdEstimate:
    """Pareto-smoothed importance-sampling leave-one-out estimate of the elpd (ArviZ).

    Parameters
    ----------
    posterior : Posterior
        From :func:`~bayeslogreg.sample_posterior` with ``store_log_likelihood=True``,
        and at most :data:`MAX_LOO_ELEMENTS` draws x rows.

    Returns
    -------
    ElpdEstimate
        ``kind="loo"``; ``elpd`` (nats), ``se``, ``p`` (effective number of parameters),
        pointwise values and Pareto k of shape (n_rows,). A ``UserWarning`` is issued,
        and ``warning`` is True, when some Pareto k exceeds ``good_k``.
    """
    result = _arviz.loo(_log_likelihood_data(posterior, "loo"))
    if result.warning:
        count = int(np.sum(result.pareto_k > result.good_k))
        warnings.warn(
            f"PSIS-LOO may be unreliable: Pareto k up to {result.max_pareto_k:.2f} > "
            f"{result.good_k:.2f} for {count} rows (influential observations). Check those "
            "rows, or score held-out data with heldout_lpd.",
            UserWarning,
            stacklevel=2,
        )
    return result


def waic(posterior) -> ElpdEstimate:
    """Widely applicable information criterion, as an elpd estimate (log scale).

    ``elpd = lppd - p_waic``, with ``p_waic`` the summed posterior variances of each row's
    log-likelihood. Arguments as in :func:`loo`; PSIS-LOO is the more robust estimate.

    Returns
    -------
    ElpdEstimate
        ``kind="waic"``; Pareto fields are None. A ``UserWarning`` is issued, and
        ``warning`` is True, when some row's log-likelihood variance exceeds 0.4.
    """
    result = _arviz.waic(_log_likelihood_data(posterior, "waic"))
    if result.warning:
        warnings.warn(
            "WAIC may be unreliable: the posterior variance of some rows' log-likelihood "
            "exceeds 0.4. Prefer loo.",
            UserWarning,
            stacklevel=2,
        )
    return result
