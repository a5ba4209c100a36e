"""The quantity every point estimator minimises, split into a smooth and an L1 part.

``F(params) = f(params) + sum_j w_j |params_j - c_j|`` on the *per-row* scale (divided by
n, so tolerances and step sizes do not depend on the data size), where

* ``f = -(log-likelihood + log-density of the smooth priors) / n``, and
* the L1 part holds the Laplace priors (weights ``1 / (n scale)``, centres ``loc``),
  which proximal steps treat exactly.

For the MLE every prior is :class:`~bayeslogreg.priors.Flat` and the L1 part is empty.
Parameters are one vector ``[intercept, coef...]`` of shape (p + 1,).

The optimizers move in unit-scale coordinates ``z = params * scale`` (see
:func:`parameter_scale`): with features in different units (one column ~1e-6, another
~1e6) the Hessian in ``params`` has a condition number beyond float64's reach and a
gradient tolerance means different things for different coefficients; in ``z`` neither
depends on the units of X.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayeslogreg import model
from bayeslogreg.priors import Laplace, Prior

#: Rows per block of :func:`parameter_scale`'s sums of squares.
SCALE_BLOCK_ROWS = 2**16


class Problem(NamedTuple):
    """Data and priors of one fit (a JAX pytree: it is passed to jitted functions).

    X : (n, p) float32/float64; y : (n,) 0/1 in the dtype of X; scale : (p + 1,) the
    optimizers' coordinate scale from :func:`parameter_scale`, or None for none.
    """

    X: jax.Array
    y: jax.Array
    intercept_prior: Prior
    prior: Prior
    scale: jax.Array | None = None

    @property
    def n_samples(self) -> int:
        """Number of rows (static)."""
        return self.X.shape[0]

    @property
    def has_l1(self) -> bool:
        """Whether any prior is Laplace, so that the objective has an L1 part (static)."""
        return isinstance(self.intercept_prior, Laplace) or isinstance(self.prior, Laplace)


def parameter_scale(X) -> np.ndarray:
    """Scale of each parameter's optimizer coordinate, shape (p + 1,): powers of two.

    1 for the intercept and, for each column of X, the power of two nearest its root mean
    square (1 for an all-zero column). In ``z = params * scale`` the coefficients are
    those of columns rescaled to unit root mean square, so the Hessian is well-scaled
    (Jacobi preconditioning) and a tolerance on the gradient means the same for every
    column. Powers of two make the change of coordinates exact: ``z / scale`` gives
    ``params`` back bit for bit, and for features already on a unit scale ``scale`` is 1.
    """
    X = np.asarray(X)
    # In row blocks: einsum's float64 cast of float32 data would otherwise copy X whole.
    starts = range(0, max(X.shape[0], 1), SCALE_BLOCK_ROWS)
    blocks = (X[start : start + SCALE_BLOCK_ROWS] for start in starts)
    sum_squares = sum(np.einsum("ij,ij->j", block, block, dtype=np.float64) for block in blocks)
    return scale_from_sum_squares(sum_squares, X.shape[0])


def scale_from_sum_squares(sum_squares, n_rows: int) -> np.ndarray:
    """:func:`parameter_scale` from the columns' sums of squares (p,) over ``n_rows`` rows.

    For callers that sum the squares in a pass of their own (over chunks read from disk,
    or over the rows of several processes).
    """
    rms = np.sqrt(np.asarray(sum_squares, dtype=np.float64) / max(n_rows, 1))
    # rms = mantissa * 2**exponent with mantissa in [0.5, 1): exact, so that scaling a
    # column by a power of two scales its entry by exactly that power.
    mantissa, exponent = np.frexp(rms)
    exponent = exponent - (mantissa < np.sqrt(0.5))
    exponent = np.where((rms > 0) & np.isfinite(rms), exponent, 0)
    return np.ldexp(1.0, np.concatenate([[0], exponent]))


def _split_params(params):
    return params[0], params[1:]


def smooth_log_prior(params, problem: Problem):
    """Log prior density without the ``|x - loc| / scale`` part of Laplace priors."""
    return priors_smooth_log_density(params, problem.intercept_prior, problem.prior)


def priors_log_density(params, intercept_prior: Prior, prior: Prior):
    """Log prior density of ``params`` = (intercept, coef...), shape (p + 1,): a scalar."""
    return intercept_prior.log_density(params[0]) + prior.log_density(params[1:])


def priors_smooth_log_density(params, intercept_prior: Prior, prior: Prior):
    """:func:`smooth_log_prior` from the two priors themselves (no data needed)."""
    total = 0.0
    for part, value in zip((intercept_prior, prior), _split_params(params), strict=True):
        if isinstance(part, Laplace):
            total += jnp.sum(jnp.broadcast_to(-jnp.log(2.0 * part.scale), value.shape))
        else:
            total += part.log_density(value)
    return total


def l1_weights(problem: Problem, n_params: int):
    """Weights and centres (each (p + 1,)) of the L1 part on the per-row scale."""
    return priors_l1_weights(problem.intercept_prior, problem.prior, n_params, problem.n_samples)


def priors_l1_weights(intercept_prior: Prior, prior: Prior, n_params: int, n_samples: int):
    """:func:`l1_weights` from the two priors and the number of rows."""
    weights, centres = [], []
    for part, size in ((intercept_prior, 1), (prior, n_params - 1)):
        if isinstance(part, Laplace):
            weights.append(jnp.broadcast_to(1.0 / part.scale, (size,)))
            centres.append(jnp.broadcast_to(part.loc, (size,)))
        else:
            weights.append(jnp.zeros(size))
            centres.append(jnp.zeros(size))
    return jnp.concatenate(weights) / n_samples, jnp.concatenate(centres)


def l1_penalty(params, weights, centres):
    """Evaluate the L1 part ``sum_j w_j |params_j - c_j|``."""
    return jnp.sum(weights * jnp.abs(params - centres))


def smooth_value(params, problem: Problem):
    """``f(params)``: minus the smooth log posterior per row (a scalar)."""
    loglik = model.log_likelihood_sum(params, problem.X, problem.y)
    return -(loglik + smooth_log_prior(params, problem)) / problem.n_samples


def smooth_value_and_grad(params, problem: Problem):
    """``f`` and its gradient (p + 1,)."""
    return jax.value_and_grad(smooth_value)(params, problem)


def smooth_value_grad_hess(params, problem: Problem):
    """``f``, its gradient (p + 1,) and Hessian (p + 1, p + 1), by autodiff."""
    loglik, grad, hess = model.loglik_value_grad_hess(params, problem.X, problem.y)
    prior_value, prior_grad = jax.value_and_grad(smooth_log_prior)(params, problem)
    prior_hess = jax.hessian(smooth_log_prior)(params, problem)
    n = problem.n_samples
    return -(loglik + prior_value) / n, -(grad + prior_grad) / n, -(hess + prior_hess) / n


def batch_value_and_grad(params, X_batch, y_batch, problem: Problem):
    """Unbiased estimate of ``f`` and its gradient from a batch of rows."""

    def value(theta):
        loglik = jnp.sum(model.log_likelihood_rows(theta, X_batch, y_batch))
        return -loglik / X_batch.shape[0] - smooth_log_prior(theta, problem) / problem.n_samples

    return jax.value_and_grad(value)(params)


def optimality(params, grad, weights, centres):
    """Largest entry of the minimum-norm subgradient of ``F`` (0 at the optimum).

    Where ``params_j != c_j`` that is ``|grad_j + w_j sign(params_j - c_j)|``; at the kink
    it is ``max(|grad_j| - w_j, 0)``, zero when the kink is optimal.
    """
    at_kink = (params == centres) & (weights > 0)
    away = jnp.abs(grad + weights * jnp.sign(params - centres))
    return jnp.max(jnp.where(at_kink, jnp.maximum(jnp.abs(grad) - weights, 0.0), away))
