"""Results in the analyst's vocabulary: average marginal effects and the null model.

The NumPy layer under ``marginal_effects`` of both result types, and the log-likelihood
of the intercept-only model that :func:`~._point_estimate.build` records for the
likelihood-ratio test and McFadden's pseudo-R².
"""

import numpy as np
from scipy import special

from bayeslogreg._validation import check_sample_weight

__all__ = [
    "average_marginal_effects",
    "dummy_columns",
    "marginal_effect_jacobian",
    "null_log_likelihood",
    "row_weights",
]


def null_log_likelihood(successes: float, n_rows: int, observations=None) -> float:
    """Log-likelihood of the intercept-only model on the fit's data, in nats.

    A plain fit (``observations`` None) has ``successes`` 1s in ``n_rows`` 0/1 labels.
    Otherwise the :class:`~._observations.Observations` give successes ``a``, failures
    ``b`` and the offsets. Without an offset the null model's probability is
    ``sum a / sum (a + b)``; with one its intercept is fitted (Newton's method on one
    parameter), as statsmodels' ``llnull`` does. The constant
    ``sum_i w_i log C(n_i, k_i)`` is included, as in the fit's ``log_likelihood``.
    """
    if observations is None:
        failures, mean = n_rows - successes, successes / n_rows
        return float(special.xlogy(successes, mean) + special.xlogy(failures, 1 - mean))
    a, b, offset = observations.successes, observations.failures, observations.offset
    total_a, total_b = a.sum(), b.sum()
    mean = total_a / (total_a + total_b)
    if not observations.has_offset:  # one probability for every row: no pass over them
        value = special.xlogy(total_a, mean) + special.xlogy(total_b, 1 - mean)
        return float(value + observations.log_binomial)
    intercept = _null_intercept(a, b, offset, special.logit(mean))
    eta = intercept + offset
    value = a @ special.log_expit(eta) + b @ special.log_expit(-eta)
    return float(value + observations.log_binomial)


def _null_intercept(a: np.ndarray, b: np.ndarray, offset: np.ndarray, start: float) -> float:
    """Maximise ``sum a log s(c + o) + b log s(-c - o)`` over ``c`` (concave): Newton.

    Steps are halved until the log-likelihood does not fall, so the iteration cannot
    diverge; it stops at a relative step below 1e-14 or after 100 iterations.
    """

    def value(c: float) -> float:
        return float(a @ special.log_expit(c + offset) + b @ special.log_expit(-c - offset))

    intercept, current = start, value(start)
    for _ in range(100):
        p = special.expit(intercept + offset)
        gradient, curvature = float(np.sum(a - (a + b) * p)), float(np.sum((a + b) * p * (1 - p)))
        step = gradient / curvature
        while value(intercept + step) < current and abs(step) > 1e-300:
            step /= 2
        intercept += step
        current = value(intercept)
        if abs(step) <= 1e-14 * max(1.0, abs(intercept)):
            break
    return intercept


def dummy_columns(X: np.ndarray) -> np.ndarray:
    """Return the columns of X (n, p) whose values are all 0 or 1 and include both.

    statsmodels' rule (``discrete_margins._isdummy``): whole numbers from 0 to 1.
    """
    is_dummy = (X.min(axis=0) == 0) & (X.max(axis=0) == 1) & np.all(X % 1 == 0, axis=0)
    return np.flatnonzero(is_dummy)


def row_weights(sample_weight, n_rows: int, X) -> np.ndarray:
    """Averaging weights of the rows, (n_rows,) float64 summing to 1 (equal for None)."""
    weights = check_sample_weight(sample_weight, n_rows, X)
    if weights is None:
        return np.full(n_rows, 1.0 / n_rows)
    weights = weights.astype(np.float64)
    return weights / weights.sum()


def average_marginal_effects(
    params: np.ndarray, X: np.ndarray, offset, weights: np.ndarray, dummies: np.ndarray
) -> np.ndarray:
    """Average marginal effects per draw, shape (n_draws, p).

    ``params`` (n_draws, p + 1), intercept first; ``X`` (n, p); ``offset`` (n,) or None;
    ``weights`` (n,) summing to 1. Column ``j`` gets the weighted mean over rows of
    ``dP/dx_j = p (1 - p) beta_j``, or, for ``j`` in ``dummies``, of the discrete change
    ``P(x_j = 1) - P(x_j = 0)``. Units: probability per unit of ``x_j`` (per switch for
    dummies).
    """
    eta = params[:, :1] + params[:, 1:] @ X.T  # (n_draws, n)
    if offset is not None:
        eta = eta + offset
    prob = special.expit(eta)
    effects = (prob * (1 - prob)) @ weights
    effects = effects[:, None] * params[:, 1:]
    for j in dummies:
        beta = params[:, 1 + j, None]
        at_one = special.expit(eta + (1 - X[:, j]) * beta)
        at_zero = special.expit(eta - X[:, j] * beta)
        effects[:, j] = (at_one - at_zero) @ weights
    return effects


def marginal_effect_jacobian(
    params: np.ndarray, X: np.ndarray, offset, weights: np.ndarray, dummies: np.ndarray
) -> np.ndarray:
    """Return the derivative of :func:`average_marginal_effects` at ``params``, (p, p + 1).

    For the delta method: ``cov(effects) = J cov(params) J^T``. A continuous column
    ``j``: ``d/dtheta_k = [j = k - 1] mean(s) + beta_j mean(s (1 - 2 P) x~_k)``, with
    ``s = P (1 - P)`` and ``x~ = (1, x)``; a dummy: ``mean(s1 x~1_k - s0 x~0_k)`` at
    ``x_j`` set to 1 and to 0.
    """
    design = np.column_stack([np.ones(len(X)), X])
    eta = design @ params + (0.0 if offset is None else offset)
    prob = special.expit(eta)
    slope = prob * (1 - prob)
    beta = params[1:]
    jacobian = np.outer(beta, (slope * (1 - 2 * prob) * weights) @ design)
    jacobian[:, 1:] += np.eye(len(beta)) * (slope @ weights)
    for j in dummies:
        change = []
        for value in (1.0, 0.0):
            shifted = design.copy()
            shifted[:, 1 + j] = value
            p = special.expit(eta + (value - X[:, j]) * beta[j])
            change.append((p * (1 - p) * weights) @ shifted)
        jacobian[j] = change[0] - change[1]
    return jacobian
