"""Data kept on the host and visited in row chunks: the source of fits at HIGGS scale.

Newton on a device copy of X (:func:`._newton.minimize_in_memory`) builds the Hessian by
autodiff; at 11M x 28 that copy, the autodiff temporaries and the compiled loop cost time
and memory (measured: see ``benchmarks/bench_higgs_fit.py``). Here X stays where it is (a
NumPy array or a memory map, float32 or float64) and one pass over its row chunks gives
the log-likelihood, its gradient and its Hessian together, each chunk by one jitted
function, accumulated in float64 whatever the dtype of X. The Hessian is
``-X~^T diag(w) X~`` (``X~ = [1, X]``, never built) with ``w = sigmoid(eta) sigmoid(-eta)``,
a matrix product per chunk rather than autodiff. Only one chunk of float64 temporaries
exists at a time, so the peak memory is the data plus a few chunks.

The same Newton iteration runs over these passes, driven from the host
(:func:`._newton.minimize_on_host`); :func:`warm_start` gives it a subsample's optimum
and Hessian to start from.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayeslogreg import _interrupt, model
from bayeslogreg.estimators._newton import minimize_on_host
from bayeslogreg.estimators._objective import HostObjective
from bayeslogreg.estimators._optimizer import CONVERGED
from bayeslogreg.priors import Prior

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


def _as_float64(X, y):
    # float32 data are widened chunk by chunk, so sums accumulate in float64.
    return X.astype(jnp.float64), jax.tree.map(lambda v: v.astype(jnp.float64), y)


def _eta_loglik(params, X, y):
    """``eta`` (with the offset of Counts) and each row's log-likelihood, shapes (n,).

    For Counts, ``a log sigmoid(eta) + b log sigmoid(-eta)`` is written
    ``a eta - (a + b) softplus(eta)``: one transcendental per row, as for labels.
    """
    eta = model.linear_predictor(params, X)
    if isinstance(y, model.Counts):
        eta = eta + y.offset
        return eta, y.successes * eta - (y.successes + y.failures) * jax.nn.softplus(eta)
    return eta, jax.nn.log_sigmoid((2.0 * y - 1.0) * eta)


def _value_grad_terms(params, X, y, mask):
    """X in float64, ``eta``, the log-likelihood and gradient of the rows with mask 1.

    Also each row's weight in the Hessian: the mask, times ``a + b`` for Counts.
    """
    X, y = _as_float64(X, y)
    eta, loglik_rows = _eta_loglik(params, X, y)
    loglik = jnp.sum(mask * loglik_rows)
    if isinstance(y, model.Counts):
        trials = y.successes + y.failures
        residual = mask * (y.successes - trials * jax.nn.sigmoid(eta))
        mask = mask * trials
    else:
        residual = mask * (y - jax.nn.sigmoid(eta))
    grad = jnp.concatenate([jnp.sum(residual)[None], residual @ X])
    return X, eta, loglik, grad, mask


@jax.jit
def _add_value_grad_hess(total, params, X, y, mask):
    """``total`` plus the log-likelihood, gradient and Hessian of the rows with mask 1."""
    X, eta, loglik, grad, mask = _value_grad_terms(params, X, y, mask)
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
    _, _, loglik, grad, _ = _value_grad_terms(params, X, y, mask)
    return total[0] + loglik, total[1] + grad


@jax.jit
def _add_value(total, params, X, y, mask):
    """``total`` plus the log-likelihood of the rows with mask 1."""
    X, y = _as_float64(X, y)
    return total + jnp.sum(mask * _eta_loglik(params, X, y)[1])


class ChunkedData(NamedTuple):
    """X (n, p) and y on the host, visited ``chunk_rows`` rows at a time.

    ``y`` is 0/1 labels (n,) or the rows' weighted successes, failures and offsets
    (:class:`~bayeslogreg.model.Counts` of NumPy arrays), chunked like X.
    ``row_weight`` multiplies every row's contribution: a subsample of m rows with
    weight n / m stands for n rows (``n_rows``).
    """

    X: np.ndarray
    y: np.ndarray | model.Counts
    chunk_rows: int = CHUNK_ROWS
    row_weight: float = 1.0

    @property
    def n_rows(self) -> float:
        """Number of rows represented (rows x ``row_weight``); Bernoulli trials for counts."""
        if isinstance(self.y, model.Counts):
            total = np.sum(self.y.successes) + np.sum(self.y.failures)
            return float(total) * self.row_weight
        return self.X.shape[0] * self.row_weight

    def take(self, rows) -> tuple[np.ndarray, "np.ndarray | model.Counts"]:
        """Return ``X[rows]`` and y's rows (every array of Counts alike)."""
        return self.X[rows], jax.tree.map(lambda values: values[rows], self.y)

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
            yield *self.take(slice(stop - size, stop)), mask.astype(np.float64)

    def _sum(self, add_chunk, total, params):
        """``total`` plus every chunk's terms, ``add_chunk(total, params, *chunk)``."""
        params = np.asarray(params, dtype=np.float64)
        for index, chunk in enumerate(self._chunks()):
            _interrupt.check()
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


def warm_start(
    data: ChunkedData, intercept_prior: Prior, prior: Prior, scale, params0, max_iter: int
):
    """Newton optimum on a seeded random subsample standing for all rows, or ``params0``.

    ``max_iter`` is the full fit's, so that both runs share one compiled Newton step.

    Returns the starting point and the subsample's per-row Hessian there (for
    :func:`~._newton.minimize_on_host`'s ``hess0``), or ``params0`` and None when the data
    are too small for it to pay or the subsample fit does not converge.
    """
    n_rows = data.X.shape[0]
    if n_rows < WARM_START_MIN_ROWS:
        return params0, None
    rows = np.sort(np.random.default_rng(0).choice(n_rows, WARM_START_ROWS, replace=False))
    subsample = ChunkedData(*data.take(rows), data.chunk_rows, n_rows / len(rows))
    objective = HostObjective(subsample, intercept_prior, prior, scale)
    outcome, hess = minimize_on_host(objective, params0, _WARM_START_TOL, max_iter)
    if outcome.status != CONVERGED:
        return params0, None
    return outcome.params, hess
