"""Newton's method over data kept on the host, in row chunks: for fits at HIGGS scale.

:func:`bayeslogreg.estimators._ascent.newton` runs on a device copy of X and builds the
Hessian by autodiff; at 11M x 28 that copy, the autodiff temporaries and the compiled
loop cost time and memory (measured: see ``benchmarks/bench_higgs_fit.py``). Here X
stays where it is (a NumPy array or a memory map, float32 or float64) and one pass over
its row chunks gives the log-likelihood, its gradient and its Hessian together, each
chunk by one jitted function, accumulated in float64 whatever the dtype of X. The
Hessian is ``-X~^T diag(w) X~`` (``X~ = [1, X]``, never built) with
``w = sigmoid(eta) sigmoid(-eta)``, a matrix product per chunk rather than autodiff.
Only one chunk of float64 temporaries exists at a time, so the peak memory is the data
plus a few chunks.

The Newton iteration is :func:`~bayeslogreg.estimators._ascent.newton`'s, step for step
(same coordinates, directions, Armijo line search, stopping rule, status codes, history
and pass count), run by a host loop: its iterations are few and each is one pass. Given
an approximate Hessian to start from (a subsample's), it first takes quasi-Newton steps
on that matrix, BFGS-updated, with gradient passes only, and computes the full Hessian
when the next point should be the last or the steps stop shrinking the gradient fast:
the result always carries the Hessian at the optimum, for the standard errors.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayeslogreg import model
from bayeslogreg.estimators import _ascent
from bayeslogreg.estimators._objective import (
    l1_penalty,
    optimality,
    priors_l1_weights,
    priors_smooth_log_density,
)
from bayeslogreg.priors import Laplace, Prior

#: Rows per chunk: 2**13 rows x 29 float64 numbers is 1.9 MB, which stays in cache
#: between the products of a pass (measured at 11M x 28: 0.93 s per gradient pass and
#: 2.6 s per Hessian pass, against 1.15 s and 2.8 s with 2**15).
CHUNK_ROWS = 2**13
#: JAX dispatches asynchronously: without a wait, the host loop would queue every
#: chunk's device copy before the first is processed (up to a second copy of X).
_IN_FLIGHT_CHUNKS = 8
#: Fits with at least this many rows (and method "newton") take the chunked path.
MIN_ROWS = 2**19
#: Without ``init``, chunked fits of at least WARM_START_MIN_ROWS rows start from a Newton
#: fit on a random subsample of WARM_START_ROWS rows, and step with its Hessian: the full
#: data then need ~3 gradient passes and one Hessian pass (at 11M x 28 a Hessian pass
#: costs ~2.6 s, a gradient pass ~0.9 s) instead of ~5 Hessian passes (measured at
#: 1M x 28: 2.39 s with the warm start against 2.78 s without).
WARM_START_ROWS = 2**18
WARM_START_MIN_ROWS = 2**19
#: The subsample fit stops at this (per-row, unit-scale) gradient: its optimum is only
#: ~1/sqrt(WARM_START_ROWS) from the full data's anyway.
_WARM_START_TOL = 1e-4
#: Newton from a warm start keeps the subsample's Hessian while each step shrinks the
#: largest gradient entry at least this much (expected: by ~sqrt(p / WARM_START_ROWS)),
#: and takes this as the next step's factor when deciding whether to ask for the
#: Hessian: a pass with it costs ~3 gradient passes (measured at 11M x 28).
_FROZEN_CONTRACTION = 0.1


def _as_float64(X, y):
    # float32 data are widened chunk by chunk, so sums accumulate in float64.
    return X.astype(jnp.float64), y.astype(jnp.float64)


def _value_grad_terms(params, X, y, mask):
    """X in float64, ``eta`` and the log-likelihood and gradient of the rows with mask 1."""
    X, y = _as_float64(X, y)
    eta = model.linear_predictor(params, X)
    loglik = jnp.sum(mask * jax.nn.log_sigmoid((2.0 * y - 1.0) * eta))
    residual = mask * (y - jax.nn.sigmoid(eta))
    grad = jnp.concatenate([jnp.sum(residual)[None], residual @ X])
    return X, eta, loglik, grad


@jax.jit
def _add_value_grad_hess(total, params, X, y, mask):
    """``total`` plus the log-likelihood, gradient and Hessian of the rows with mask 1."""
    X, eta, loglik, grad = _value_grad_terms(params, X, y, mask)
    # sigmoid(eta) * sigmoid(-eta), not p * (1 - p), which cancels for large eta.
    weight = mask * jax.nn.sigmoid(eta) * jax.nn.sigmoid(-eta)
    # Z^T Z with Z = sqrt(w) X: exactly symmetric, and one matrix product per chunk.
    root_weighted = X * jnp.sqrt(weight)[:, None]
    column_sums = weight @ X
    information = jnp.block(
        [
            [jnp.sum(weight)[None, None], column_sums[None, :]],
            [column_sums[:, None], root_weighted.T @ root_weighted],
        ]
    )
    return total[0] + loglik, total[1] + grad, total[2] - information


@jax.jit
def _add_value_grad(total, params, X, y, mask):
    """``total`` plus the log-likelihood and gradient of the rows with mask 1."""
    _, _, loglik, grad = _value_grad_terms(params, X, y, mask)
    return total[0] + loglik, total[1] + grad


@jax.jit
def _add_value(total, params, X, y, mask):
    """``total`` plus the log-likelihood of the rows with mask 1."""
    X, y = _as_float64(X, y)
    return total + jnp.sum(mask * model.log_likelihood_rows(params, X, y))


class ChunkedData(NamedTuple):
    """X (n, p) and y (n,) on the host, visited ``chunk_rows`` rows at a time.

    ``row_weight`` multiplies every row's contribution: a subsample of m rows with
    weight n / m stands for n rows (``n_samples``).
    """

    X: np.ndarray
    y: np.ndarray
    chunk_rows: int = CHUNK_ROWS
    row_weight: float = 1.0

    @property
    def n_samples(self) -> float:
        """Number of rows represented (rows x ``row_weight``)."""
        return self.X.shape[0] * self.row_weight

    def _chunks(self):
        """``(X_chunk, y_chunk, mask)``, every chunk of the same shape (one compilation).

        The last chunk is the last ``chunk_rows`` rows, its rows already visited masked
        out: no padded copy, and no second shape to compile for the remainder.
        """
        n_rows, size = self.X.shape[0], min(self.chunk_rows, self.X.shape[0])
        ones = np.ones(size)
        for start in range(0, n_rows, size):
            stop = min(start + size, n_rows)
            mask = ones if stop - start == size else (np.arange(size) >= size - (stop - start))
            yield self.X[stop - size : stop], self.y[stop - size : stop], mask.astype(np.float64)

    def _sum(self, add_chunk, total, params):
        """``total`` plus every chunk's terms, ``add_chunk(total, params, *chunk)``."""
        params = np.asarray(params, dtype=np.float64)
        for index, chunk in enumerate(self._chunks()):
            total = add_chunk(total, params, *chunk)
            if index % _IN_FLIGHT_CHUNKS == _IN_FLIGHT_CHUNKS - 1:
                jax.block_until_ready(total)
        return total

    def loglik_grad_hess(self, params):
        """Log-likelihood, gradient (p + 1,) and Hessian (p + 1, p + 1) in one pass."""
        n_params = self.X.shape[1] + 1
        zeros = (np.zeros(()), np.zeros(n_params), np.zeros((n_params, n_params)))
        total = self._sum(_add_value_grad_hess, zeros, params)
        return tuple(self.row_weight * np.asarray(part) for part in total)

    def loglik_grad(self, params):
        """Log-likelihood and gradient (p + 1,) in one pass (no Hessian)."""
        zeros = (np.zeros(()), np.zeros(self.X.shape[1] + 1))
        total = self._sum(_add_value_grad, zeros, params)
        return tuple(self.row_weight * np.asarray(part) for part in total)

    def loglik(self, params) -> float:
        """Log-likelihood in one pass."""
        return self.row_weight * float(self._sum(_add_value, np.zeros(()), params))


@jax.jit
def _prior_value_grad_hess(params, intercept_prior: Prior, prior: Prior):
    value, grad = jax.value_and_grad(priors_smooth_log_density)(params, intercept_prior, prior)
    return value, grad, jax.hessian(priors_smooth_log_density)(params, intercept_prior, prior)


@jax.jit
def _prior_value(params, intercept_prior: Prior, prior: Prior):
    return priors_smooth_log_density(params, intercept_prior, prior)


_l1_weights = jax.jit(priors_l1_weights, static_argnums=2)
_l1_penalty = jax.jit(l1_penalty)
_optimality = jax.jit(optimality)


@jax.jit
def _l1_direction(params, grad, hess, weights, centres):
    return _ascent._l1_newton_point(params, grad, hess, weights, centres) - params


@jax.jit
def _smooth_direction(grad, hess):
    return -_ascent._psd_solve(hess, grad)


def _bfgs_update(hess: np.ndarray, step: np.ndarray, grad_change: np.ndarray) -> np.ndarray:
    """BFGS update of a Hessian approximation (p, p) by a step and its gradient change.

    Kept only where the curvature ``step . grad_change`` is positive (always, for the
    strictly convex ``f``), so the approximation stays positive definite.
    """
    curvature = step @ grad_change
    hess_step = hess @ step
    if curvature <= 0 or step @ hess_step <= 0:
        return hess
    return (
        hess
        + np.outer(grad_change, grad_change) / curvature
        - np.outer(hess_step, hess_step) / (step @ hess_step)
    )


class ChunkedResult(NamedTuple):
    """An ``OptimizeResult`` (NumPy) plus what the last pass computed at ``params``.

    hess : (p + 1, p + 1) Hessian of ``f`` (per row) with respect to ``params``;
    log_likelihood : float, in nats.
    """

    result: _ascent.OptimizeResult
    hess: np.ndarray
    log_likelihood: float


class _Objective:
    """``f`` of :mod:`~bayeslogreg.estimators._objective` in coordinates ``z = params * scale``."""

    def __init__(self, data: ChunkedData, intercept_prior: Prior, prior: Prior, scale):
        self.data, self.scale = data, np.asarray(scale, dtype=np.float64)
        self.priors = (intercept_prior, prior)
        self.last_loglik = np.nan

    def value(self, z) -> float:
        params = z / self.scale
        loglik = self.data.loglik(params)
        return -(loglik + float(_prior_value(params, *self.priors))) / self.data.n_samples

    def value_grad(self, z):
        params = z / self.scale
        loglik, grad = self.data.loglik_grad(params)
        prior_value, prior_grad, _ = _prior_value_grad_hess(params, *self.priors)
        n = self.data.n_samples
        value = -(loglik + float(prior_value)) / n
        return value, -(grad + np.asarray(prior_grad)) / n / self.scale

    def value_grad_hess(self, z):
        params = z / self.scale
        loglik, grad, hess = self.data.loglik_grad_hess(params)
        prior_value, prior_grad, prior_hess = _prior_value_grad_hess(params, *self.priors)
        self.last_loglik = float(loglik)
        n = self.data.n_samples
        value = -(loglik + float(prior_value)) / n
        grad = -(grad + np.asarray(prior_grad)) / n / self.scale
        hess = -(hess + np.asarray(prior_hess)) / n / np.outer(self.scale, self.scale)
        return value, grad, hess


def newton(
    data: ChunkedData,
    intercept_prior: Prior,
    prior: Prior,
    scale,
    params0,
    tol: float,
    max_iter: int,
    hess0=None,
) -> ChunkedResult:
    """Damped (proximal) Newton with a backtracking Armijo line search, pass by pass.

    Parameters
    ----------
    data : ChunkedData
    intercept_prior, prior : Prior
    scale : array_like of shape (p + 1,)
        Powers of two from :func:`~bayeslogreg.estimators._objective.parameter_scale`.
    params0 : array_like of shape (p + 1,)
    tol : float
        As in :func:`~bayeslogreg.estimators._ascent.newton`.
    max_iter : int
    hess0 : ndarray of shape (p + 1, p + 1), optional
        Approximation of the Hessian of ``f`` (per row, in ``params``) at ``params0``,
        e.g. a subsample's: passes skip the Hessian, the most expensive part, while
        quasi-Newton steps on it (BFGS-updated, kept safe by the line search) shrink
        the gradient at least ``1 / _FROZEN_CONTRACTION``-fold; the last pass always
        computes it.

    Returns
    -------
    ChunkedResult
    """
    objective = _Objective(data, intercept_prior, prior, scale)
    n_params = len(objective.scale)
    has_l1 = isinstance(intercept_prior, Laplace) or isinstance(prior, Laplace)
    # The small per-iteration quantities are computed on the host: op by op in JAX each
    # would compile once per fit (measured: ~3 s of a 1M-row fit on a busy machine).
    if has_l1:
        weights, centres = _l1_weights(intercept_prior, prior, n_params, data.n_samples)
        weights = np.asarray(weights) / objective.scale
        centres = np.asarray(centres) * objective.scale
    else:
        weights = centres = np.zeros(n_params)

    def penalty(z):
        return float(_l1_penalty(z, weights, centres)) if has_l1 else 0.0

    def opt_of(z, grad):
        if has_l1:
            return float(_optimality(z, grad, weights, centres))
        return float(np.max(np.abs(grad)))  # optimality() with zero weights

    def total(value, z):
        return value + penalty(z)

    def accepted(new_total, old_total, t, decrease):
        slack = 16 * np.finfo(np.float64).eps * (1.0 + abs(old_total))  # _ascent._slack
        return new_total <= old_total + _ascent._ARMIJO * t * decrease + slack

    def status_of(it, value, z, grad, ok=True):
        # _ascent._next_status, in Python.
        if not ok:
            return _ascent.LINE_SEARCH_FAILED
        if not np.isfinite(value):
            return _ascent.NOT_FINITE
        if opt_of(z, grad) <= tol:
            return _ascent.CONVERGED
        return _ascent.MAX_ITER if it >= max_iter else _ascent.RUNNING

    z = np.asarray(params0, dtype=np.float64) * objective.scale
    if hess0 is None:
        value, grad, hess = objective.value_grad_hess(z)
    else:
        value, grad = objective.value_grad(z)
        hess = hess0 / np.outer(objective.scale, objective.scale)
    exact = hess0 is None  # is ``hess`` the Hessian at z, or still hess0?
    status = status_of(0, value, z, grad)
    history = np.full(max_iter + 1, np.nan)
    history[0] = total(value, z)
    n_iter, n_passes = 0, 1
    contraction = _FROZEN_CONTRACTION
    while status == _ascent.RUNNING:
        # With hess0, iterate on it (gradient passes only) while each step shrinks the
        # gradient fast; the Hessian pass comes when the next point should be the last.
        opt = opt_of(z, grad)
        want_hess = exact or contraction > _FROZEN_CONTRACTION or opt * contraction <= tol
        if has_l1:
            direction = np.asarray(_l1_direction(z, grad, hess, weights, centres))
        else:
            direction = np.asarray(_smooth_direction(grad, hess))
        old = total(value, z)
        decrease = float(grad @ direction) + penalty(z + direction) - penalty(z)
        trial = z + direction
        if want_hess:
            trial_value, trial_grad, trial_hess = objective.value_grad_hess(trial)
        else:
            (trial_value, trial_grad), trial_hess = objective.value_grad(trial), hess
        ok, extra = True, 0
        if accepted(total(trial_value, trial), old, 1.0, decrease):
            if not want_hess:
                trial_hess = _bfgs_update(hess, trial - z, trial_grad - grad)
            z, value, grad, hess, exact = trial, trial_value, trial_grad, trial_hess, want_hess
            contraction = opt_of(z, grad) / opt if opt > 0 else 0.0
        else:
            t, new_total, halvings = 1.0, total(trial_value, trial), 0
            while not accepted(new_total, old, t, decrease) and halvings < _ascent._MAX_HALVINGS:
                point = z + 0.5 * t * direction
                t, new_total, halvings = 0.5 * t, total(objective.value(point), point), halvings + 1
            ok = accepted(new_total, old, t, decrease)
            if ok:
                z = z + t * direction
            value, grad, hess = objective.value_grad_hess(z)
            extra, exact = halvings + 1, True
        n_iter += 1
        n_passes += 1 + extra
        status = status_of(n_iter, value, z, grad, ok)
        history[n_iter] = total(value, z)
    if not exact:  # the standard errors need the Hessian at the optimum
        value, grad, hess = objective.value_grad_hess(z)
        n_passes += 1
    result = _ascent.OptimizeResult(
        params=z / objective.scale,
        value=np.float64(total(value, z)),
        optimality=np.float64(opt_of(z, grad)),
        n_iter=n_iter,
        n_passes=n_passes,
        status=status,
        history=history,
    )
    per_row_hess = hess * np.outer(objective.scale, objective.scale)
    return ChunkedResult(result, per_row_hess, objective.last_loglik)


def warm_start(data: ChunkedData, intercept_prior: Prior, prior: Prior, scale, params0):
    """Newton optimum on a seeded random subsample standing for all rows, or ``params0``.

    Returns the starting point and the subsample's per-row Hessian there (for
    :func:`newton`'s ``hess0``), or ``params0`` and None when the data are too small for
    it to pay or the subsample fit does not converge.
    """
    n_rows = data.X.shape[0]
    if n_rows < WARM_START_MIN_ROWS:
        return params0, None
    rows = np.sort(np.random.default_rng(0).choice(n_rows, WARM_START_ROWS, replace=False))
    subsample = ChunkedData(data.X[rows], data.y[rows], data.chunk_rows, n_rows / len(rows))
    fit = newton(subsample, intercept_prior, prior, scale, params0, _WARM_START_TOL, 50)
    if fit.result.status != _ascent.CONVERGED:
        return params0, None
    return fit.result.params, fit.hess
