"""The Bernoulli-sigmoid likelihood, written once, in JAX.

``y ~ Bernoulli(sigmoid(eta))`` with ``eta = intercept + X @ coef``. Parameters travel as
one vector ``params = [intercept, coef_1, ..., coef_p]`` of shape (p + 1,); the intercept
is never a column of ones added to X.

Each row contributes ``log sigmoid(s * eta)`` with ``s = 2y - 1``. ``jax.nn.log_sigmoid``
is ``-softplus(-x)``, evaluated as a ``logaddexp``, so it stays finite and accurate for
any |eta| (the textbook ``log(exp(eta) / (1 + exp(eta)))`` is NaN from |eta| ~ 710), and
unlike ``y * eta - softplus(eta)`` it does not cancel for large eta.

Binomial counts, observation weights and offsets travel as one :class:`Counts` in place
of ``y``: row i then contributes ``a_i log sigmoid(eta_i) + b_i log sigmoid(-eta_i)``
with ``a_i = w_i k_i`` successes and ``b_i = w_i (n_i - k_i)`` failures and ``eta_i``
including the offset (the plain 0/1 path is kept as it was, so its numbers do not
change). The constant ``sum_i w_i log C(n_i, k_i)`` is not part of these sums: the fits
add it to the log-likelihood they report (:func:`log_binomial_coefficients`).

Sums over rows are accumulated in blocks of rows, so that temporaries (one row of the
Hessian per parameter) never grow with n; every estimator reuses these functions.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import gammaln

from bayeslogreg._jax import entry_point
from bayeslogreg._validation import check_X, check_y

__all__ = [
    "Counts",
    "block_sum",
    "fisher_information",
    "fisher_information_feature_major",
    "linear_predictor",
    "log_binomial_coefficients",
    "log_likelihood",
    "log_likelihood_rows",
    "log_likelihood_sum",
    "log_likelihood_sum_counts_feature_major",
    "log_likelihood_sum_feature_major",
    "loglik_value_grad_hess",
]

# Rows per block for sums over the data: bounds the (block_rows, p + 1) temporaries.
_BLOCK_ELEMENTS = 2**20


def default_block_rows(n_features: int) -> int:
    """Rows per block so that one (rows, n_features + 1) temporary holds ~1M numbers."""
    return max(1024, _BLOCK_ELEMENTS // (n_features + 1))


def linear_predictor(params, X):
    """Linear predictor ``eta``, shape (n_samples,), for params of shape (p + 1,)."""
    return params[0] + X @ params[1:]


class Counts(NamedTuple):
    """Weighted binomial data with offsets, in place of 0/1 labels ``y`` (a JAX pytree).

    successes, failures, offset : (n,) arrays: ``a = w k``, ``b = w (n - k)`` (for 0/1
    labels ``w y`` and ``w (1 - y)``) and the known term added to ``eta`` (zeros for none).
    """

    successes: jax.Array
    failures: jax.Array
    offset: jax.Array


def log_binomial_coefficients(successes, trials) -> np.ndarray:
    """``log C(trials, successes)`` per row, shape (n,), float64 (0 for 0/1 data)."""
    k, n = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _counts_rows(params, X, counts: Counts):
    eta = linear_predictor(params, X) + counts.offset
    # 0 * log sigmoid(eta) is 0 for finite eta: rows of weight 0 contribute nothing.
    return counts.successes * jax.nn.log_sigmoid(eta) + counts.failures * jax.nn.log_sigmoid(-eta)


def log_likelihood_rows(params, X, y):
    """Per-row log-likelihood, shape (n_samples,); every entry is <= 0 and finite.

    ``y`` is 0/1 labels (n_samples,) or :class:`Counts`.
    """
    if isinstance(y, Counts):
        return _counts_rows(params, X, y)
    eta = linear_predictor(params, X)
    sign = 2.0 * y.astype(eta.dtype) - 1.0
    return jax.nn.log_sigmoid(sign * eta)


def _rows_sum(params, X, y):
    return jnp.sum(log_likelihood_rows(params, X, y))


def block_sum(fn, params, X, y, block_rows: int):
    """Sum ``fn(params, X_block, y_block)`` (any pytree of arrays) over row blocks.

    Full blocks are visited with ``lax.fori_loop`` over dynamic slices (no padded copy
    of X); the remainder, if any, is one more static-shape call. ``y`` is an (n,) array
    or a pytree of them (:class:`Counts`), sliced alike.
    """
    n_samples, n_features = X.shape
    n_full, remainder = divmod(n_samples, block_rows)
    if n_full <= 1:
        return fn(params, X, y)

    def block(i):
        start = i * block_rows
        X_block = jax.lax.dynamic_slice(X, (start, 0), (block_rows, n_features))
        y_block = jax.tree.map(lambda v: jax.lax.dynamic_slice(v, (start,), (block_rows,)), y)
        return fn(params, X_block, y_block)

    if remainder:
        y_rest = jax.tree.map(lambda v: v[n_full * block_rows :], y)
        first, total = 0, fn(params, X[n_full * block_rows :], y_rest)
    else:
        first, total = 1, block(0)
    return jax.lax.fori_loop(
        first, n_full, lambda i, acc: jax.tree.map(jnp.add, acc, block(i)), total
    )


def log_likelihood_sum(params, X, y, block_rows: int | None = None):
    """Total log-likelihood (a scalar) summed over row blocks."""
    block_rows = block_rows or default_block_rows(X.shape[1])
    return block_sum(_rows_sum, params, X, y, block_rows)


@jax.custom_vjp
def log_likelihood_sum_feature_major(params, X_t, signs):
    """Total log-likelihood from ``X_t = X.T`` stored contiguously, shape (p, n_samples).

    ``signs`` is ``2y - 1`` as floats, shape (n_samples,). For NUTS, which needs the value
    and the gradient (with respect to ``params`` only) and nothing else: both come from
    one evaluation that shares ``exp(-|margin|)`` between the log-sigmoid and its
    derivative, and the layout makes both products contiguous (faster than the
    row-major products and than autodiff: measurements in ``docs/design.md``). Not
    differentiable twice, nor in forward mode.
    """
    return _feature_major_value_grad(params, X_t, signs)[0]


def _feature_major_value_grad(params, X_t, signs):
    margins = signs * (params[0] + params[1:] @ X_t)
    tails = jnp.exp(-jnp.abs(margins))
    # log sigmoid(m) = min(m, 0) - log1p(exp(-|m|)); its derivative sigmoid(-m) is
    # exp(-|m|) / (1 + exp(-|m|)) for m >= 0 and 1 / (1 + exp(-|m|)) below.
    value = jnp.sum(jnp.minimum(margins, 0.0) - jnp.log1p(tails))
    residuals = signs * jnp.where(margins >= 0, tails, 1.0) / (1.0 + tails)
    return value, jnp.concatenate([jnp.sum(residuals)[None], X_t @ residuals])


def _feature_major_fwd(params, X_t, signs):
    return _feature_major_value_grad(params, X_t, signs)


def _feature_major_bwd(grad, cotangent):
    return cotangent * grad, None, None


log_likelihood_sum_feature_major.defvjp(_feature_major_fwd, _feature_major_bwd)


@jax.custom_vjp
def log_likelihood_sum_counts_feature_major(params, X_t, counts: Counts):
    """:func:`log_likelihood_sum_feature_major` of :class:`Counts`, shape ().

    Value and gradient (with respect to ``params`` only) come from one evaluation, as
    there; not differentiable twice, nor in forward mode.
    """
    return _counts_feature_major_value_grad(params, X_t, counts)[0]


def _counts_feature_major_value_grad(params, X_t, counts: Counts):
    eta = params[0] + params[1:] @ X_t + counts.offset
    tails = jnp.exp(-jnp.abs(eta))
    a, b = counts.successes, counts.failures
    # a log sigmoid(eta) + b log sigmoid(-eta), each log sigmoid as in the 0/1 form; the
    # derivative a sigmoid(-eta) - b sigmoid(eta) from the same exp(-|eta|).
    log_terms = a * jnp.minimum(eta, 0.0) + b * jnp.minimum(-eta, 0.0)
    value = jnp.sum(log_terms - (a + b) * jnp.log1p(tails))
    positive = eta >= 0
    residuals = (a * jnp.where(positive, tails, 1.0) - b * jnp.where(positive, 1.0, tails)) / (
        1.0 + tails
    )
    return value, jnp.concatenate([jnp.sum(residuals)[None], X_t @ residuals])


def _counts_feature_major_bwd(grad, cotangent):
    return cotangent * grad, None, None


log_likelihood_sum_counts_feature_major.defvjp(
    _counts_feature_major_value_grad, _counts_feature_major_bwd
)


def _information_weights(eta, y):
    """``n_i p_i (1 - p_i)`` per row (times the weight; ``n_i = 1`` for 0/1 labels), (n,)."""
    weights = jax.nn.sigmoid(eta) * jax.nn.sigmoid(-eta)
    if isinstance(y, Counts):
        weights = (y.successes + y.failures) * weights
    return weights


def _information_rows(params, X, y):
    eta = linear_predictor(params, X)
    if isinstance(y, Counts):
        eta = eta + y.offset
    X1 = jnp.concatenate([jnp.ones((X.shape[0], 1), dtype=X.dtype), X], axis=1)
    return X1.T @ (_information_weights(eta, y)[:, None] * X1)


def fisher_information(params, X, y, block_rows: int | None = None):
    """Fisher information ``X1' W X1`` of all parameters, shape (p + 1, p + 1).

    ``X1`` is ``[1, X]``; ``W`` the diagonal of ``w_i n_i p_i (1 - p_i)`` (:class:`Counts`:
    ``a_i + b_i`` trials, offsets in ``eta``; 1 trial per 0/1 label). For the logistic
    likelihood it equals minus the Hessian of the log-likelihood, and does not depend on
    ``y``'s successes. Summed over row blocks, as the log-likelihood.
    """
    block_rows = block_rows or default_block_rows(X.shape[1])
    return block_sum(_information_rows, params, X, y, block_rows)


def fisher_information_feature_major(params, X_t, signs):
    """:func:`fisher_information` from ``X_t = X.T``, shape (p, n), as NUTS holds the data.

    ``signs`` is ``2y - 1`` (n,) or :class:`Counts`, as in
    :func:`log_likelihood_sum_feature_major`; differentiable (by autodiff).
    """
    eta = params[0] + params[1:] @ X_t
    if isinstance(signs, Counts):
        eta = eta + signs.offset
    X1_t = jnp.concatenate([jnp.ones((1, X_t.shape[1]), dtype=X_t.dtype), X_t], axis=0)
    return (X1_t * _information_weights(eta, signs)) @ X1_t.T


def _value_grad_hess(params, X, y):
    value, grad = jax.value_and_grad(_rows_sum)(params, X, y)
    return value, grad, jax.hessian(_rows_sum)(params, X, y)


def loglik_value_grad_hess(params, X, y, block_rows: int | None = None):
    """Log-likelihood, its gradient (p + 1,) and Hessian (p + 1, p + 1), by autodiff."""
    block_rows = block_rows or default_block_rows(X.shape[1])
    return block_sum(_value_grad_hess, params, X, y, block_rows)


_jit_log_likelihood_sum = jax.jit(log_likelihood_sum, static_argnames="block_rows")


@entry_point
def log_likelihood(X, y, intercept, coef) -> float:
    """Log-likelihood of logistic regression at a given intercept and coefficients.

    Answers "which guess is less wrong?": the guess with the larger (less negative)
    log-likelihood explains the data better.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features)
    y : array_like of shape (n_samples,), 0/1 labels
    intercept : float
    coef : array_like of shape (n_features,)

    Returns
    -------
    float
        ``sum_i log p(y_i | x_i)`` in nats, computed in float64; always <= 0.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> log_likelihood(data.X, data.y, -5.0, [3.0]) > log_likelihood(data.X, data.y, 0.0, [0.0])
    True
    """
    X = check_X(X)
    y = check_y(y, n_samples=X.shape[0], dtype=X.dtype, require_both_classes=False)
    coef = np.atleast_1d(np.asarray(coef, dtype=np.float64))
    if coef.shape != (X.shape[1],):
        raise ValueError(f"coef must have shape ({X.shape[1]},) to match X; got {coef.shape}.")
    params = np.concatenate([[float(intercept)], coef])
    if not np.isfinite(params).all():
        raise ValueError("intercept and coef must be finite.")
    return float(_jit_log_likelihood_sum(params, X, y))
