"""Observation weights, binomial counts and offsets: checked, and turned into row terms.

Every estimator sees a row ``i`` as ``a_i`` successes and ``b_i`` failures with the known
term ``offset_i`` in its linear predictor: ``a_i = w_i k_i`` and ``b_i = w_i (n_i - k_i)``
for ``k_i`` successes in ``n_i`` trials (``n_i = 1`` and ``k_i = y_i`` for 0/1 labels) with
frequency weight ``w_i`` (1 without ``sample_weight``). A weight of 3 is the row three
times, so log-likelihood, gradient, Hessian and standard errors are those of the
repeated rows. Fits without any of the three keep the plain 0/1 path
(:func:`check_fit_data` returns None for them), whose numbers do not change.
"""

from typing import NamedTuple

import numpy as np
from scipy.special import xlogy

from bayeslogreg import model
from bayeslogreg._validation import (
    check_counts,
    check_offset,
    check_sample_weight,
    check_X_y,
)

__all__ = ["Observations", "RowSelection", "check_fit_data"]


class RowSelection:
    """The rows ``X[rows]`` of a 2-D array, gathered only when indexed, shape (len(rows), p).

    Indexing by a slice or an index array returns those rows as a new array, as
    ``X[rows][index]`` would, without ever materialising ``X[rows]``.
    """

    def __init__(self, X: np.ndarray, rows: np.ndarray):
        self.X, self.rows = X, rows
        self.shape, self.dtype = (len(rows), X.shape[1]), X.dtype

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index) -> np.ndarray:
        return self.X[self.rows[index]]


class Observations(NamedTuple):
    """Row terms of weighted or binomial data, as NumPy float64 arrays of shape (n,).

    successes, failures : ``a = w k`` and ``b = w (n - k)``; offset : zeros for none;
    weights, trials : ``w`` (ones for none) and ``n`` (ones for 0/1 labels); weighted,
    binomial, has_offset : which of ``sample_weight``, ``trials`` and ``offset`` were
    given; log_binomial : ``sum_i w_i log C(n_i, k_i)`` (0 for 0/1 labels), the
    constant that the reported log-likelihood includes, as statsmodels' GLM ``llf`` and
    R's ``logLik`` do; saturated : the log-likelihood of the saturated model (each
    row's own proportion), that constant included, for the deviance.
    """

    successes: np.ndarray
    failures: np.ndarray
    offset: np.ndarray
    weights: np.ndarray
    trials: np.ndarray
    weighted: bool
    binomial: bool
    has_offset: bool
    log_binomial: float
    saturated: float

    @property
    def total(self) -> float:
        """Bernoulli trials the data stand for, ``sum_i w_i n_i`` (float)."""
        return float(np.sum(self.successes) + np.sum(self.failures))

    def counts(self, dtype) -> model.Counts:
        """Return the row terms as :class:`~bayeslogreg.model.Counts` of arrays in ``dtype``."""
        return model.Counts(*(part.astype(dtype) for part in self[:3]))

    def take(self, rows) -> "Observations":
        """Return the same terms for a subset of the rows (an index array or a slice)."""
        return self._replace(**{name: getattr(self, name)[rows] for name in self._fields[:5]})

    def arguments(self) -> dict:
        """``sample_weight``, ``trials`` and ``offset`` as a fit takes them (None: not given)."""
        return {
            "sample_weight": self.weights if self.weighted else None,
            "trials": self.trials if self.binomial else None,
            "offset": self.offset if self.has_offset else None,
        }

    def binary_rows(self, X: np.ndarray) -> tuple["np.ndarray | RowSelection", np.ndarray]:
        """0/1 rows with the same separation as the data: ``(X', y')``.

        A row with successes appears as a 1, a row with failures as a 0 (a row with
        both, as both: it can never be separated); rows of weight 0 are left out. ``X'``
        is ``X`` itself when that keeps every row once, else a :class:`RowSelection` of
        it: the rows are never copied (a copy cost 1.7 s and a design's memory at 1M x
        47).
        """
        positive, negative = self.successes > 0, self.failures > 0
        if not (positive & negative).any() and (positive | negative).all():
            return X, positive.astype(X.dtype)  # every row once: X as it is
        rows = np.concatenate([np.flatnonzero(positive), np.flatnonzero(negative)])
        y_binary = np.concatenate([np.ones(positive.sum()), np.zeros(negative.sum())])
        return RowSelection(X, rows), y_binary.astype(X.dtype)

    def pins_every_direction(self, X: np.ndarray, intercept_free: bool, origin=None) -> bool:
        """Whether rows holding both successes and failures rule out any separation.

        A separating direction ``d`` needs ``x~_i d = 0`` on every such row (it must
        raise the successes and lower the failures), so when some of them already span
        the free parameters (``[1, X]``, or ``X`` when the intercept is not free) no
        direction separates, and the linear programs of the separation check can be
        skipped. Tested on at most ``max(1024, 8 (p + 1))`` of them, evenly spread:
        True when their column-scaled matrix has full rank (smallest singular value
        above 1e-8 of the largest); False leaves the decision to the full check. With
        ``origin`` (p,) and the intercept not free, rows are measured from it (see
        :func:`~bayeslogreg.separation.detect_separation_validated`).
        """
        mixed = np.flatnonzero((self.successes > 0) & (self.failures > 0))
        n_params = X.shape[1] + intercept_free
        if len(mixed) < n_params:
            return False
        size = min(len(mixed), max(1024, 8 * n_params))
        rows = np.asarray(X[mixed[np.linspace(0, len(mixed) - 1, size).astype(int)]], float)
        if origin is not None and not intercept_free:
            rows = rows - origin
        if intercept_free:
            rows = np.column_stack([np.ones(size), rows])
        norms = np.linalg.norm(rows, axis=0)
        if not (norms > 0).all():
            return False
        singular = np.linalg.svd(rows / norms, compute_uv=False)
        return bool(singular[-1] > 1e-8 * singular[0])

    def weighted_rows(self) -> np.ndarray:
        """Return ``a + b`` per row, shape (n,): each row's weight in sums over the data."""
        return self.successes + self.failures


def check_fit_data(X, y, feature_names, *, sample_weight=None, trials=None, offset=None):
    """Validate a fit's data: ``(X, y, feature_names, observations)``.

    ``observations`` is None where ``sample_weight``, ``trials`` and ``offset`` are all
    None: ``X``, ``y`` and the names are then exactly :func:`check_X_y`'s. Otherwise ``y``
    holds the labels (0/1) or, with ``trials``, the successes, in the dtype of X, and
    ``observations`` the :class:`Observations`. Each of the three is an array_like (a
    NumPy array, a list, a pandas Series matched to a data frame X by index) of one
    number per row.

    Raises ``ValueError`` naming the argument for successes outside ``[0, trials]``,
    non-whole successes or trials, trials below 1, weights that are negative or all 0,
    a wrong length, or non-finite values; and when the rows of positive weight hold only
    successes or only failures.
    """
    if sample_weight is None and trials is None and offset is None:
        return (*check_X_y(X, y, feature_names), None)
    raw_X = X
    X, y, names = check_X_y(X, y, feature_names, labels=trials is None)
    n_rows = X.shape[0]
    weights = np.ones(n_rows)
    if sample_weight is not None:
        weights = check_sample_weight(sample_weight, n_rows, raw_X).astype(np.float64)
    if trials is None:
        successes, n_trials = y.astype(np.float64), np.ones(n_rows)
    else:
        successes, n_trials = check_counts(y, trials, raw_X, n_rows)
        y = successes.astype(X.dtype)
    offsets = np.zeros(n_rows) if offset is None else check_offset(offset, raw_X, n_rows)
    a, b = weights * successes, weights * (n_trials - successes)
    if not (a.sum() > 0 and b.sum() > 0):
        only = "successes (1s)" if a.sum() > 0 else "failures (0s)"
        raise ValueError(
            f"the rows of positive weight hold only {only}; logistic regression needs both "
            "successes and failures."
        )
    # For 0/1 labels both constants are 0: C(1, k) = 1, and a row's own proportion is 0 or 1.
    log_binomial = saturated = 0.0
    if trials is not None:
        log_binomial = float(weights @ model.log_binomial_coefficients(successes, n_trials))
        failures = n_trials - successes
        own = xlogy(successes, successes / n_trials) + xlogy(failures, failures / n_trials)
        saturated = float(weights @ own)
    observations = Observations(
        successes=a,
        failures=b,
        offset=offsets,
        weights=weights,
        trials=n_trials,
        weighted=sample_weight is not None,
        binomial=trials is not None,
        has_offset=offset is not None,
        log_binomial=log_binomial,
        saturated=saturated + log_binomial,
    )
    return X, y, names, observations
