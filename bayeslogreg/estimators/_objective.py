"""The quantity every point estimator minimises, split into a smooth and an L1 part.

``F(params) = f(params) + sum_j w_j |params_j - c_j|`` on the *per-row* scale (divided by
n, so tolerances and step sizes do not depend on the data size), where

* ``f = -(log-likelihood + log-density of the smooth priors) / n`` (for the Jeffreys
  prior, ``0.5 log det`` of the Fisher information of the data: Firth's penalty), and
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
from bayeslogreg.priors import Jeffreys, Laplace, Prior, canonical, centered_parts

#: Rows per block of :func:`parameter_scale`'s sums of squares.
SCALE_BLOCK_ROWS = 2**16
#: Rows per block of the weighted sums of squares (squares kept in the CPU's cache).
WEIGHTED_BLOCK_ROWS = 2**12


class Problem(NamedTuple):
    """Data and priors of one fit (a JAX pytree: it is passed to jitted functions).

    X : (n, p) float32/float64; y : (n,) 0/1 in the dtype of X, or
    :class:`~bayeslogreg.model.Counts` (weights, binomial counts, offsets); scale : (p + 1,)
    the optimizers' coordinate scale from :func:`parameter_scale`, or None for none;
    n_obs : with Counts, the Bernoulli trials they stand for (``sum(a + b)``, a float64
    scalar), by which the objective is divided instead of the number of rows.
    """

    X: jax.Array
    y: jax.Array | model.Counts
    intercept_prior: Prior
    prior: Prior
    scale: jax.Array | None = None
    n_obs: jax.Array | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows (static)."""
        return self.X.shape[0]

    @property
    def size(self):
        """What ``f`` is a mean over: ``n_obs`` where given, else the number of rows."""
        return self.n_rows if self.n_obs is None else self.n_obs

    @property
    def has_l1(self) -> bool:
        """Whether any prior is Laplace, so that the objective has an L1 part (static)."""
        return isinstance(self.intercept_prior, Laplace) or isinstance(self.prior, Laplace)


def device_problem(X, y, priors: tuple[Prior, Prior], scale, n_obs=None) -> Problem:
    """Return the :class:`Problem` of a fit on the device: what in-memory optimizers minimise.

    ``X`` (n, p); ``y`` 0/1 labels or :class:`~bayeslogreg.model.Counts` (then ``n_obs``,
    their Bernoulli trials); ``priors`` (intercept prior, prior), put in
    :func:`~bayeslogreg.priors.canonical` form so that one program serves them all;
    ``scale`` (p + 1,) from :func:`parameter_scale`.
    """
    # device_put, not jnp.asarray: that compiles a program per shape (~20 ms each to
    # load in a fresh process).
    X, y, scale = jax.device_put((X, y, scale))
    problem = Problem(X, y, *canonical(*priors, X.shape[1]), scale)
    if isinstance(y, model.Counts):
        problem = problem._replace(n_obs=jax.device_put(np.float64(n_obs)))
    return problem


def parameter_scale(X, priors: tuple[Prior, Prior] | None = None) -> np.ndarray:
    """Scale of each parameter's optimizer coordinate, shape (p + 1,): powers of two.

    For each parameter, the power of two nearest the root of its column's mean square
    (1 for the intercept, 0 for an all-zero column) plus the prior's curvature per row
    (:meth:`~bayeslogreg.priors.Prior.curvature` over the number of rows; nothing
    without ``priors``), or 1 where that is 0. In ``z = params * scale`` the coefficients
    are those of columns rescaled to unit root mean square, so the Hessian is well-scaled
    (Jacobi preconditioning) whatever the units of X, also where a narrow prior
    dominates the data, and a tolerance on the gradient means the same for every
    parameter. Powers of two make the change of coordinates exact: ``z / scale`` gives
    ``params`` back bit for bit, and for features already on a unit scale under weak
    priors ``scale`` is 1.
    """
    return scale_from_sum_squares(column_sum_squares(X), np.shape(X)[0], priors)


def column_sum_squares(X, row_weights=None) -> np.ndarray:
    """Sum of squares of each column of X, shape (p,), in float64 (one pass, in blocks).

    With ``row_weights`` of shape (n,), each row's squares count that many times; with
    shape (k, n), the k weighted sums of squares come from the same pass, shape (k, p).
    """
    X = np.asarray(X)
    if row_weights is None:
        # In row blocks: einsum's float64 cast of float32 data would otherwise copy X whole.
        starts = range(0, max(X.shape[0], 1), SCALE_BLOCK_ROWS)
        blocks = (X[start : start + SCALE_BLOCK_ROWS] for start in starts)
        return sum(np.einsum("ij,ij->j", block, block, dtype=np.float64) for block in blocks)
    row_weights = np.asarray(row_weights, dtype=np.float64)
    # Squares in a small block reused from the cache: a block of 2**16 rows was a new
    # array of X's width each time, written to memory and read back (0.07 s at 1M x 47
    # rows against 0.03 s unweighted).
    rows = WEIGHTED_BLOCK_ROWS
    squares = np.empty((min(rows, X.shape[0]), X.shape[1]))
    total = np.zeros((*row_weights.shape[:-1], X.shape[1]))
    for start in range(0, X.shape[0], rows):
        block = squares[: min(rows, X.shape[0] - start)]
        np.square(X[start : start + rows], out=block, dtype=np.float64)
        total += row_weights[..., start : start + rows] @ block
    return total


def scale_from_sum_squares(
    sum_squares, n_rows: float, priors: tuple[Prior, Prior] | None = None
) -> np.ndarray:
    """:func:`parameter_scale` from the columns' sums of squares (p,) over ``n_rows`` rows.

    For callers that sum the squares in a pass of their own (over chunks read from disk,
    or over the rows of several processes). For weighted data both are weighted: the
    sums of :func:`column_sum_squares` with ``row_weights`` and the total weight.
    """
    sum_squares = np.asarray(sum_squares, dtype=np.float64)
    n_rows = n_rows if n_rows > 0 else 1  # a weighted total may be below 1
    mean_square = np.concatenate([[1.0], sum_squares / n_rows])
    if priors is not None:
        intercept_prior, prior = priors
        curvature = np.concatenate(
            [
                np.broadcast_to(intercept_prior.curvature(), (1,)),
                np.broadcast_to(prior.curvature(), sum_squares.shape),
            ]
        )
        mean_square = mean_square + curvature / n_rows
    rms = np.sqrt(mean_square)
    # rms = mantissa * 2**exponent with mantissa in [0.5, 1): exact, so that scaling a
    # column by a power of two scales its entry by exactly that power.
    mantissa, exponent = np.frexp(rms)
    exponent = exponent - (mantissa < np.sqrt(0.5))
    exponent = np.where((rms > 0) & np.isfinite(rms), exponent, 0)
    return np.ldexp(1.0, exponent)


def smooth_log_prior(params, problem: Problem):
    """Log prior density without the ``|x - loc| / scale`` part of Laplace priors.

    For the Jeffreys prior, the log density on the problem's data (:func:`jeffreys_log_prior`).
    """
    if isinstance(problem.prior, Jeffreys):
        return jeffreys_log_prior(params, problem.X, problem.y)
    return priors_smooth_log_density(params, problem.intercept_prior, problem.prior)


def jeffreys_log_prior(params, X, y):
    """Jeffreys log prior ``0.5 log det I(params)`` on the rows ``X`` (n, p), ``y``: a scalar.

    ``I`` is :func:`~bayeslogreg.model.fisher_information` (weights, trials and offsets
    of :class:`~bayeslogreg.model.Counts` included). Differentiable twice by autodiff
    (Newton's Hessian, in O(n p^3)); NaN where ``I`` is singular.
    """
    return Jeffreys.log_density_of_information(model.fisher_information(params, X, y))


def check_in_memory_prior(prior: Prior, fit: str) -> None:
    """Raise ``ValueError`` for the Jeffreys prior in a ``fit`` that passes over row chunks.

    Its log density needs the whole information matrix at every evaluation (one wording
    for every such path: row chunks, sharded rows, streaming).
    """
    if isinstance(prior, Jeffreys):
        raise ValueError(
            f"{fit} does not take the Jeffreys prior: its log density, 0.5 log det of the "
            "Fisher information, needs every row at every evaluation. Fit in memory with "
            "bayeslogreg.fit_map(X, y, prior=Jeffreys(), solver='lbfgs')."
        )


def priors_log_density(params, intercept_prior: Prior, prior: Prior):
    """Log prior density of ``params`` = (intercept, coef...), shape (p + 1,): a scalar.

    A :class:`~bayeslogreg.priors.Centered` intercept prior sees the intercept at its centre.
    """
    intercept, coef = centered_parts(params, intercept_prior)
    return intercept_prior.log_density(intercept) + prior.log_density(coef)


def priors_latent_log_density(position, intercept_prior: Prior, prior: Prior):
    """``(params, log prior)`` of a NUTS position (intercept, the prior's latents...).

    ``params`` (p + 1,) is the intercept and ``prior.coef_from_latent`` of the rest; the
    log prior is that of the intercept (at its centre) plus ``prior.latent_log_density``,
    Jacobians included. For priors whose latents are the coefficients it is
    :func:`priors_log_density` of ``params = position``.
    """
    if prior.latents_are_coef:  # the same operations as the MAP objective's, bit for bit
        return position, priors_log_density(position, intercept_prior, prior)
    latent = position[1:]
    params = jnp.concatenate([position[:1], prior.coef_from_latent(latent)])
    intercept, _ = centered_parts(params, intercept_prior)
    return params, intercept_prior.log_density(intercept) + prior.latent_log_density(latent)


def priors_smooth_log_density(params, intercept_prior: Prior, prior: Prior):
    """:func:`smooth_log_prior` from the two priors themselves (no data needed)."""
    total = 0.0
    parts = centered_parts(params, intercept_prior)
    for part, value in zip((intercept_prior, prior), parts, strict=True):
        if isinstance(part, Laplace):
            total += jnp.sum(jnp.broadcast_to(-jnp.log(2.0 * part.scale), value.shape))
        else:
            total += part.log_density(value)
    return total


def l1_weights(problem: Problem, n_params: int):
    """Weights and centres (each (p + 1,)) of the L1 part on the per-row scale."""
    return priors_l1_weights(problem.intercept_prior, problem.prior, n_params, problem.size)


def priors_l1_weights(intercept_prior: Prior, prior: Prior, n_params: int, n_rows: int):
    """:func:`l1_weights` from the two priors and the number of rows."""
    weights, centres = [], []
    for part, size in ((intercept_prior, 1), (prior, n_params - 1)):
        if isinstance(part, Laplace):
            weights.append(jnp.broadcast_to(1.0 / part.scale, (size,)))
            centres.append(jnp.broadcast_to(part.loc, (size,)))
        else:
            weights.append(jnp.zeros(size))
            centres.append(jnp.zeros(size))
    return jnp.concatenate(weights) / n_rows, jnp.concatenate(centres)


def soft_threshold(x, threshold):
    """``sign(x) max(|x| - threshold, 0)``: the proximal map of ``threshold |x|``."""
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - threshold, 0.0)


def l1_penalty(params, weights, centres, *, xp=jnp):
    """Evaluate the L1 part ``sum_j w_j |params_j - c_j|`` (``xp``: the array module)."""
    return xp.sum(weights * xp.abs(params - centres))


def smooth_value(params, problem: Problem):
    """``f(params)``: minus the smooth log posterior per row (a scalar)."""
    loglik = model.log_likelihood_sum(params, problem.X, problem.y)
    return -(loglik + smooth_log_prior(params, problem)) / problem.size


def smooth_value_and_grad(params, problem: Problem):
    """``f`` and its gradient (p + 1,)."""
    return jax.value_and_grad(smooth_value)(params, problem)


def smooth_value_grad_hess(params, problem: Problem):
    """``f``, its gradient (p + 1,) and Hessian (p + 1, p + 1), by autodiff."""
    loglik, grad, hess = model.loglik_value_grad_hess(params, problem.X, problem.y)
    prior_value, prior_grad = jax.value_and_grad(smooth_log_prior)(params, problem)
    prior_hess = jax.hessian(smooth_log_prior)(params, problem)
    n = problem.size
    return -(loglik + prior_value) / n, -(grad + prior_grad) / n, -(hess + prior_hess) / n


def batch_value_and_grad(params, X_batch, y_batch, problem: Problem):
    """Unbiased estimate of ``f`` and its gradient from a batch of rows.

    Rows are drawn uniformly; with :class:`~bayeslogreg.model.Counts` each row's terms
    carry its weight, scaled by ``n_rows / n_obs`` so that the estimate stays unbiased.
    """

    def value(theta):
        loglik = jnp.sum(model.log_likelihood_rows(theta, X_batch, y_batch))
        if isinstance(y_batch, model.Counts):
            loglik = loglik * (problem.n_rows / problem.size)
        return -loglik / X_batch.shape[0] - smooth_log_prior(theta, problem) / problem.size

    return jax.value_and_grad(value)(params)


def optimality(params, grad, weights, centres, *, xp=jnp):
    """Largest entry of the minimum-norm subgradient of ``F`` (0 at the optimum).

    Where ``params_j != c_j`` that is ``|grad_j + w_j sign(params_j - c_j)|``; at the kink
    it is ``max(|grad_j| - w_j, 0)``, zero when the kink is optimal. ``xp`` is the array
    module, ``jax.numpy`` (traceable) or ``numpy`` (eager).
    """
    at_kink = (params == centres) & (weights > 0)
    away = xp.abs(grad + weights * xp.sign(params - centres))
    return xp.max(xp.where(at_kink, xp.maximum(xp.abs(grad) - weights, 0.0), away))


class ScaledObjective(NamedTuple):
    """``f`` of ``problem`` (data on the device) as a function of ``z = params * scale``.

    ``scale`` holds powers of two, so ``z / scale`` is exact: values are those at
    ``params``, gradients those in ``params`` divided by ``scale``, Hessians divided by
    ``outer(scale, scale)``, and the L1 part ``w |params - c|`` is
    ``(w / scale) |z - c * scale|``.
    """

    problem: Problem
    scale: jax.Array

    @classmethod
    def of(cls, problem: Problem, n_params: int) -> "ScaledObjective":
        """Build the objective of ``problem``, with unit scale where it has none."""
        scale = jnp.ones(n_params) if problem.scale is None else problem.scale
        return cls(problem, scale)

    def value(self, z):
        """``f`` at ``z``."""
        return smooth_value(z / self.scale, self.problem)

    def value_and_grad(self, z):
        """``f`` and its gradient in ``z``, by autodiff."""
        value, grad = smooth_value_and_grad(z / self.scale, self.problem)
        return value, grad / self.scale

    def value_grad_hess(self, z):
        """``f``, its gradient and its Hessian in ``z``."""
        value, grad, hess = smooth_value_grad_hess(z / self.scale, self.problem)
        return value, grad / self.scale, hess / jnp.outer(self.scale, self.scale)

    def batch_value_and_grad(self, z, X_batch, y_batch):
        """Unbiased estimate of ``f`` and its gradient in ``z`` from a batch of rows."""
        value, grad = batch_value_and_grad(z / self.scale, X_batch, y_batch, self.problem)
        return value, grad / self.scale

    def l1_weights(self):
        """Weights and centres of the L1 part in ``z``."""
        weights, centres = l1_weights(self.problem, self.scale.shape[0])
        return weights / self.scale, centres * self.scale


@jax.jit
def _prior_value_grad_hess(params, intercept_prior: Prior, prior: Prior):
    value, grad = jax.value_and_grad(priors_smooth_log_density)(params, intercept_prior, prior)
    return value, grad, jax.hessian(priors_smooth_log_density)(params, intercept_prior, prior)


_smooth_log_prior = jax.jit(priors_smooth_log_density)
_l1_weights = jax.jit(priors_l1_weights, static_argnums=2)


class HostObjective:
    """``f`` in ``z = params * scale`` over a data source the host drives pass by pass.

    ``source`` offers the log-likelihood summed over its rows, alone
    (``loglik(params)``), with its gradient (``loglik_grad``) or with its gradient and
    Hessian (``loglik_grad_hess``), as NumPy values, and ``n_rows``, the number of
    rows it stands for: row chunks of a memory map
    (:class:`~bayeslogreg.estimators._chunked.ChunkedData`) or rows sharded over
    devices and processes. The prior's terms are added here, on the host.
    """

    def __init__(self, source, intercept_prior: Prior, prior: Prior, scale):
        self.source, self.scale = source, np.asarray(scale, dtype=np.float64)
        self.priors = (intercept_prior, prior)
        #: Log-likelihood at the point of the last evaluation with the Hessian.
        self.last_loglik = np.nan

    @property
    def has_l1(self) -> bool:
        """Whether a prior is Laplace, so that F has an L1 part."""
        return any(isinstance(prior, Laplace) for prior in self.priors)

    def l1_weights(self):
        """Weights and centres (each (p + 1,)) of the L1 part in ``z``, as NumPy arrays."""
        weights, centres = _l1_weights(*self.priors, len(self.scale), self.source.n_rows)
        return np.asarray(weights) / self.scale, np.asarray(centres) * self.scale

    def evaluate(self, z, request: int):
        """``(value, grad, hess)`` of ``f`` at ``z``: what ``request`` asks, zeros for the rest.

        ``request`` is 0 (value), 1 (value and gradient) or 2 (all three), as
        :mod:`~bayeslogreg.estimators._newton` asks.
        """
        n_params = len(self.scale)
        if request == 0:
            return self.value(z), np.zeros(n_params), np.zeros((n_params, n_params))
        if request == 1:
            return (*self.value_grad(z), np.zeros((n_params, n_params)))
        return self.value_grad_hess(z)

    def value(self, z) -> float:
        """``f`` at ``z`` (one pass)."""
        params = z / self.scale
        loglik = self.source.loglik(params)
        return -(loglik + float(_smooth_log_prior(params, *self.priors))) / self.source.n_rows

    def value_grad(self, z):
        """``f`` and its gradient in ``z`` (one pass, no Hessian)."""
        params = z / self.scale
        loglik, grad = self.source.loglik_grad(params)
        prior_value, prior_grad, _ = _prior_value_grad_hess(params, *self.priors)
        n = self.source.n_rows
        value = -(loglik + float(prior_value)) / n
        return value, -(grad + np.asarray(prior_grad)) / n / self.scale

    def value_grad_hess(self, z):
        """``f``, its gradient and its Hessian in ``z`` (one pass)."""
        params = z / self.scale
        loglik, grad, hess = self.source.loglik_grad_hess(params)
        prior_value, prior_grad, prior_hess = _prior_value_grad_hess(params, *self.priors)
        self.last_loglik = float(loglik)
        n = self.source.n_rows
        value = -(loglik + float(prior_value)) / n
        grad = -(grad + np.asarray(prior_grad)) / n / self.scale
        hess = -(hess + np.asarray(prior_hess)) / n / np.outer(self.scale, self.scale)
        return value, grad, hess
