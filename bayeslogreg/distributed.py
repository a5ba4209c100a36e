"""MLE and MAP with the data's rows sharded over JAX devices, on one host or several.

The log-likelihood, its gradient and its Hessian are sums over rows. Here the rows are
split evenly over the devices of a :class:`jax.sharding.Mesh` (its axis ``"rows"``);
each device sums over its own rows (in blocks, as :mod:`bayeslogreg.model` does on one
device) inside :func:`jax.shard_map`, and ``psum`` adds the per-device sums. Only those
sums, a scalar, a (p + 1,) vector and a (p + 1, p + 1) matrix, cross devices or hosts;
no device ever holds another device's rows. Newton's method then runs on the small,
replicated sums: the very Newton iteration that :func:`bayeslogreg.fit_mle` runs over row
chunks of big data (same steps, line search and stopping rule), so the two give the same
estimate.

Several devices
    CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``) or the GPUs of
    one host: every device of the process is used.
Several processes (hosts, or one process per GPU)
    Call ``jax.distributed.initialize(...)`` in every process first; then each process
    passes *its own* rows to :func:`shard_rows` (or to :func:`fit_mle`/:func:`fit_map`)
    and every process gets the same result. Collectives between CPU processes use Gloo
    (JAX's default), between GPUs NCCL.

Rows are padded to an equal count per device with rows of weight 0, which contribute
nothing. Float64 is used inside these calls only (see :mod:`bayeslogreg._jax`).
"""

import functools
import time
import warnings
from typing import NamedTuple

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh

from bayeslogreg import _sharding
from bayeslogreg._jax import entry_point
from bayeslogreg._provenance import data_hash, versions
from bayeslogreg._sharding import AXIS, ShardedRows
from bayeslogreg._validation import (
    INTERCEPT_NAME,
    _column_names,
    check_feature_names,
    check_positive_float,
    check_positive_int,
)
from bayeslogreg.estimators import _ascent, _chunked
from bayeslogreg.estimators._objective import priors_log_density, scale_from_sum_squares
from bayeslogreg.estimators.point import (
    _DEFAULT_MAX_ITER,
    _DEFAULT_TOL,
    _STATUS_MESSAGES,
    PointEstimate,
    _check_priors,
    _covariance,
    _initial_params,
)
from bayeslogreg.exceptions import ConvergenceWarning
from bayeslogreg.priors import Flat, Laplace, Normal, Prior

__all__ = ["AXIS", "ShardedRows", "fit_map", "fit_mle", "loglik_value_grad_hess", "shard_rows"]


@entry_point
def shard_rows(X, y, mesh: Mesh | None = None) -> ShardedRows:
    """Split the rows of ``X`` and ``y`` over the devices of ``mesh``.

    In a multi-process run (after ``jax.distributed.initialize``) every process calls
    this with *its own* rows; together they form the data set, in process order.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_features)
        This process's rows; float32 stays float32 on the devices.
    y : array_like of shape (n_rows,)
        Their 0/1 labels.
    mesh : Mesh, optional
        A mesh with an axis named ``"rows"`` (other axes hold copies). Default: every
        device of every process on one axis.

    Returns
    -------
    ShardedRows
        Global arrays with ``NamedSharding(mesh, PartitionSpec("rows"))``, padded with
        weight-0 rows to the same number of rows on every device.

    Raises
    ------
    ValueError
        For bad X or y, a mesh without a ``"rows"`` axis, or processes whose X differ in
        number of columns or dtype (then every process raises it).

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> sharded = shard_rows(data.X, data.y)
    >>> sharded.n_samples == len(data.y), sharded.X.shape[0] % len(sharded.mesh.devices.flat)
    (True, 0)
    """
    mesh = _sharding.check_mesh(mesh)
    return _sharding.place(*_sharding.checked_everywhere(X, y, mesh), mesh)


@functools.partial(jax.jit, static_argnames="mesh")
def _jit_loglik_value(params, X, y, weight, mesh):
    return _sharding.sharded(_sharding.weighted_rows_sum, mesh)(params, X, y, weight)


class _ShardedSums(NamedTuple):
    """The sums :func:`bayeslogreg.estimators._chunked.newton` asks of its data, sharded."""

    data: ShardedRows

    @property
    def n_samples(self) -> int:
        """Number of rows over all shards (padding excluded)."""
        return self.data.n_samples

    def _params(self, params):
        return _sharding.replicated(np.asarray(params, dtype=np.float64), self.data.mesh)

    def loglik_grad_hess(self, params):
        """Log-likelihood, gradient (p + 1,) and Hessian (p + 1, p + 1)."""
        out = _jit_loglik(self._params(params), *self.data[:3], mesh=self.data.mesh)
        return tuple(np.asarray(part) for part in out)

    def loglik_grad(self, params):
        """Log-likelihood and gradient (p + 1,)."""
        return self.loglik_grad_hess(params)[:2]

    def loglik(self, params) -> float:
        """Log-likelihood."""
        out = _jit_loglik_value(self._params(params), *self.data[:3], mesh=self.data.mesh)
        return float(out)


@entry_point
def loglik_value_grad_hess(params, data: ShardedRows):
    """Log-likelihood, gradient and Hessian summed over the sharded rows of ``data``.

    Parameters
    ----------
    params : array_like of shape (n_features + 1,)
        Intercept first, then the coefficients.
    data : ShardedRows

    Returns
    -------
    value : float
        Log-likelihood in nats.
    grad : ndarray of shape (n_features + 1,)
    hess : ndarray of shape (n_features + 1, n_features + 1)

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> value, grad, hess = loglik_value_grad_hess([-5.0, 3.0], shard_rows(data.X, data.y))
    >>> value < 0, grad.shape, hess.shape
    (True, (2,), (2, 2))
    """
    params = np.asarray(params, dtype=np.float64)
    if params.shape != (data.n_features + 1,):
        raise ValueError(
            f"params must have shape ({data.n_features + 1},) (intercept first); "
            f"got {params.shape}."
        )
    value, grad, hess = _jit_loglik(
        _sharding.replicated(params, data.mesh), *data[:3], mesh=data.mesh
    )
    return float(value), np.asarray(grad), np.asarray(hess)


@functools.partial(jax.jit, static_argnames="mesh")
def _jit_loglik(params, X, y, weight, mesh):
    return _sharding.sharded(_sharding.weighted_value_grad_hess, mesh)(params, X, y, weight)


def _parameter_scale(data: ShardedRows, X_local: np.ndarray) -> np.ndarray:
    """:func:`~bayeslogreg.estimators._objective.parameter_scale` over all processes' rows."""
    sum_squares = np.einsum("ij,ij->j", X_local, X_local, dtype=np.float64)
    if jax.process_count() > 1:
        sum_squares = np.asarray(multihost_utils.process_allgather(sum_squares)).sum(axis=0)
    return scale_from_sum_squares(sum_squares, data.n_samples)


def _check_fit_priors(intercept_prior, prior, n_features: int) -> None:
    """:func:`bayeslogreg.fit_map`'s checks, and no Laplace prior (Newton needs smooth ones)."""
    _check_priors(intercept_prior, prior, n_features)
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if isinstance(value, Laplace):
            raise ValueError(
                f"{name}={value!r}: the sharded fit takes Newton steps, which need smooth "
                "priors; for a Laplace prior use bayeslogreg.fit_map (proximal Newton) on "
                "one device, or a Normal prior here."
            )


@entry_point
def _fit(estimator, X, y, *, mesh, intercept_prior, prior, tol, max_iter, init, feature_names):
    start = time.perf_counter()
    columns = _column_names(X)
    mesh = _sharding.check_mesh(mesh)
    X, y, table = _sharding.checked_everywhere(X, y, mesh)
    n_features = X.shape[1]
    names = check_feature_names(
        feature_names or columns or [f"x{j + 1}" for j in range(n_features)], n_features
    )
    _check_fit_priors(intercept_prior, prior, n_features)
    # Newton's defaults, as bayeslogreg.fit_mle(..., method="newton").
    tol = check_positive_float(_DEFAULT_TOL["newton"] if tol is None else tol, "tol")
    max_iter = check_positive_int(
        _DEFAULT_MAX_ITER["newton"] if max_iter is None else max_iter, "max_iter"
    )
    data = _sharding.place(X, y, table, mesh)
    n = data.n_samples
    if n < n_features + 1:
        raise ValueError(
            f"fewer rows ({n}) than parameters ({n_features + 1}: intercept and "
            f"{n_features} coefficients); the model is not identified."
        )
    params0 = _initial_params(init, table[:, 3].sum() / n, n_features + 1)
    scale = _parameter_scale(data, X)
    fit = _chunked.newton(_ShardedSums(data), intercept_prior, prior, scale, params0, tol, max_iter)
    result = fit.result
    params = np.asarray(result.params)
    outer_scale = np.outer(scale, scale)
    # Inverted in the unit-scale coordinates, as bayeslogreg.fit_mle does.
    cov = _covariance(n * fit.hess / outer_scale, (INTERCEPT_NAME, *names), X) / outer_scale
    loglik = fit.log_likelihood
    log_prior = float(priors_log_density(params, intercept_prior, prior))
    n_iter, status = int(result.n_iter), int(result.status)
    grad_norm = float(result.optimality)
    if status != _ascent.CONVERGED:
        warnings.warn(
            f"{estimator.upper()} fit with sharded Newton did not converge: "
            f"{_STATUS_MESSAGES[status]} (largest gradient entry {grad_norm:.3g} > tol "
            f"{tol:g} after {n_iter} iterations). Increase max_iter, standardise the "
            "features, or use a proper prior.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return PointEstimate(
        estimator=estimator,
        method="newton",
        params=params,
        cov=cov,
        feature_names=names,
        log_likelihood=loglik,
        log_posterior=loglik + log_prior if estimator == "map" else None,
        converged=status == _ascent.CONVERGED,
        n_iter=n_iter,
        n_passes=int(result.n_passes),
        grad_norm=grad_norm,
        history=-n * np.asarray(result.history)[: n_iter + 1],
        message=_STATUS_MESSAGES[status],
        prior=prior,
        intercept_prior=intercept_prior,
        n_samples=n,
        fit_time=time.perf_counter() - start,
        seed=0,
        # Hashing needs every row in one place: only a single process can.
        data_sha256=data_hash(X, y) if jax.process_count() == 1 else None,
        versions=versions(),
    )


def fit_mle(
    X,
    y,
    *,
    mesh: Mesh | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    init=None,
    feature_names=None,
) -> PointEstimate:
    """Maximum-likelihood fit by Newton's method with the rows sharded over devices.

    Gives the estimate of ``bayeslogreg.fit_mle(X, y, method="newton")`` on all the
    rows. In a multi-process run every process calls it with its own rows and the same
    other arguments, and every process gets the whole result.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_rows, n_features)
        This process's rows (all rows in a single process).
    y : array_like of shape (n_rows,)
        Their 0/1 labels.
    mesh : Mesh, optional
        Mesh with an axis ``"rows"``; default every device of every process.
    tol : float, optional
        As in :func:`bayeslogreg.fit_mle` (default 1e-8).
    max_iter : int, optional
        Newton iterations allowed (default 100).
    init : array_like of shape (n_features + 1,), optional
        Start, intercept first; default coefficients 0 and intercept ``logit(mean(y))``.
    feature_names : sequence of str, optional

    Returns
    -------
    PointEstimate
        As from :func:`bayeslogreg.fit_mle` with ``method="newton"``; ``seed`` is 0 and
        ``data_sha256`` is None in multi-process runs. Separation is not tested for
        (that needs all rows in one place): a separated fit shows up as a
        :class:`~bayeslogreg.exceptions.ConvergenceWarning` (no convergence, or a
        singular information matrix); check with
        :func:`bayeslogreg.separation.detect_separation` on one host.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> fit_mle(data.X, data.y).params.round(2)
    array([-4.51,  2.74])
    """
    return _fit(
        "mle",
        X,
        y,
        mesh=mesh,
        intercept_prior=Flat(),
        prior=Flat(),
        tol=tol,
        max_iter=max_iter,
        init=init,
        feature_names=feature_names,
    )


def fit_map(
    X,
    y,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    mesh: Mesh | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    init=None,
    feature_names=None,
) -> PointEstimate:
    """Maximum a posteriori fit by Newton's method with the rows sharded over devices.

    Gives the estimate of ``bayeslogreg.fit_map(X, y, method="newton")`` with the same
    priors; multi-process use as in :func:`fit_mle`.

    Parameters
    ----------
    X, y, mesh, tol, max_iter, init, feature_names
        As in :func:`fit_mle`.
    prior : Prior, optional
        Smooth prior of the coefficients (not Laplace); default ``Normal(0, 2.5)``.
    intercept_prior : Prior, optional
        Smooth prior of the intercept; default ``Normal(0, 10)``.

    Returns
    -------
    PointEstimate
        ``cov`` is the Laplace-approximation covariance, as from
        :func:`bayeslogreg.fit_map`.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> from bayeslogreg.priors import Normal
    >>> data = load_effort()
    >>> fit_map(data.X, data.y, prior=Normal(0, 2.5)).params.round(2)
    array([-4.49,  2.73])
    """
    return _fit(
        "map",
        X,
        y,
        mesh=mesh,
        intercept_prior=Normal(0.0, 10.0) if intercept_prior is None else intercept_prior,
        prior=Normal(0.0, 2.5) if prior is None else prior,
        tol=tol,
        max_iter=max_iter,
        init=init,
        feature_names=feature_names,
    )
