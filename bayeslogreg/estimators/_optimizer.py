"""What every optimizer of the point estimators shares: its outcome and its status codes.

Status codes: 0 converged, 1 iteration limit, 2 line search failed, 3 non-finite value
(-1 while running).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = [
    "ARMIJO",
    "CONVERGED",
    "LINE_SEARCH_FAILED",
    "MAX_HALVINGS",
    "MAX_ITER",
    "NOT_FINITE",
    "RUNNING",
    "STATUS_MESSAGES",
    "OptimizeResult",
    "initial_status",
    "next_status",
    "slack",
]

RUNNING, CONVERGED, MAX_ITER, LINE_SEARCH_FAILED, NOT_FINITE = -1, 0, 1, 2, 3
#: What each final status means, as the result's ``message`` says it.
STATUS_MESSAGES = {
    CONVERGED: "converged",
    MAX_ITER: "stopped at the iteration limit before reaching tol",
    LINE_SEARCH_FAILED: "the line search found no step that increases the objective",
    NOT_FINITE: "the objective became non-finite (overflow or divergence)",
}
#: Armijo sufficient-decrease constant, and the most halvings of a step before giving up.
ARMIJO = 1e-4
MAX_HALVINGS = 60


class OptimizeResult(NamedTuple):
    """Outcome of one optimizer run.

    params : (p + 1,) final parameters; value : F at params (per row);
    optimality : largest minimum-norm subgradient entry at params (unit-scale
    coordinates); n_iter : iterations (epochs for stochastic methods); n_passes : full
    passes over the data; status : a status code; history : (max_iter + 1,) F at the
    start and after each iteration, NaN past ``n_iter``.
    """

    params: jax.Array
    value: jax.Array
    optimality: jax.Array
    n_iter: jax.Array
    n_passes: jax.Array
    status: jax.Array
    history: jax.Array


def next_status(it, value, opt, tol, max_iter, accepted=True, *, xp=jnp):
    """Status after iteration ``it``: failed step, else non-finite, else converged, else limit.

    ``xp`` is the array module, ``jax.numpy`` (traceable) or ``numpy`` (eager).
    """
    status = xp.where(it >= max_iter, MAX_ITER, RUNNING)
    status = xp.where(opt <= tol, CONVERGED, status)
    status = xp.where(xp.isfinite(value), status, NOT_FINITE)
    return xp.where(accepted, status, LINE_SEARCH_FAILED)


def initial_status(value, opt, tol):
    """Status at the starting point (iteration 0)."""
    return next_status(0, value, opt, tol, max_iter=1)


def slack(value, *, xp=jnp):
    """Return the rounding allowance of a sufficient-decrease test at ``value``.

    So that a step at the optimum, where F changes by less than its own rounding error,
    is not declared a failure.
    """
    return 16 * xp.finfo(value.dtype).eps * (1.0 + xp.abs(value))
