"""The sharded MLE and MAP fits (public face and documentation: :mod:`bayeslogreg.distributed`)."""

import functools
import time
from typing import NamedTuple

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh

from bayeslogreg._jax import entry_point
from bayeslogreg._provenance import data_hash
from bayeslogreg._validation import (
    _column_names,
    check_column_magnitudes,
    check_feature_names,
    feature_names_origin,
)
from bayeslogreg.estimators import _sharding
from bayeslogreg.estimators import _solvers as solvers
from bayeslogreg.estimators._effects import null_log_likelihood
from bayeslogreg.estimators._newton import minimize_on_host
from bayeslogreg.estimators._objective import (
    HostObjective,
    check_in_memory_prior,
    column_sum_squares,
    scale_from_sum_squares,
)
from bayeslogreg.estimators._point_estimate import FitContext, Optimum, PointEstimate, build
from bayeslogreg.estimators._prior_choice import ColumnMoments, PriorChoice, combine, flat_choice
from bayeslogreg.estimators._prior_choice import resolve as resolve_priors
from bayeslogreg.estimators._sharding import AXIS, ShardedRows
from bayeslogreg.estimators.point import check_priors, initial_params
from bayeslogreg.priors import Laplace, Prior

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
    >>> sharded.n_rows == len(data.y), sharded.X.shape[0] % len(sharded.mesh.devices.flat)
    (True, 0)
    """
    mesh = _sharding.check_mesh(mesh)
    return _sharding.place(*_sharding.checked_everywhere(X, y, mesh), mesh)


@functools.partial(jax.jit, static_argnames="mesh")
def _jit_loglik_value(params, X, y, weight, mesh):
    return _sharding.sharded(_sharding.weighted_rows_sum, mesh)(params, X, y, weight)


class _ShardedSums(NamedTuple):
    """The sums a :class:`~._objective.HostObjective` asks of its source, over shards."""

    data: ShardedRows

    @property
    def n_rows(self) -> int:
        """Number of rows over all shards (padding excluded)."""
        return self.data.n_rows

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


def _parameter_scale(data: ShardedRows, X_local: np.ndarray, priors, names) -> np.ndarray:
    """:func:`~bayeslogreg.estimators._objective.parameter_scale` over all processes' rows.

    Columns too small or large to fit in float64 in any process's rows stop every
    process (none is left waiting for the others in a collective).
    """
    sum_squares = column_sum_squares(X_local)
    try:
        check_column_magnitudes(X_local, sum_squares, names, flat_prior=not priors[1].is_proper)
        error = None
    except ValueError as err:
        error = err
    if jax.process_count() > 1:
        failed = np.asarray(multihost_utils.process_allgather(np.int64(error is not None)))
        if error is None and failed.any():
            raise ValueError(
                f"processes {np.flatnonzero(failed).tolist()} hold a column too small or too "
                "large to fit in float64 (their error messages say which); every process stops."
            )
    if error is not None:
        raise error
    if jax.process_count() > 1:
        sum_squares = np.asarray(multihost_utils.process_allgather(sum_squares)).sum(axis=0)
    return scale_from_sum_squares(sum_squares, data.n_rows, priors)


def _check_fit_priors(intercept_prior, prior, n_features: int) -> None:
    """:func:`bayeslogreg.fit_map`'s checks, and no Laplace prior (Newton needs smooth ones)."""
    check_priors(intercept_prior, prior, n_features)
    check_in_memory_prior(prior, "the sharded fit")
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if isinstance(value, Laplace):
            raise ValueError(
                f"{name}={value!r}: the sharded fit takes Newton steps, which need smooth "
                "priors; for a Laplace prior use bayeslogreg.fit_map (proximal Newton) on "
                "one device, or a Normal prior here."
            )


def _newton(estimator: str, solver, deprecated: dict, n_params: int) -> solvers.Newton:
    """Return the Newton solver of a sharded fit, from ``solver`` and deprecated keywords."""
    solver = solvers.from_arguments(
        solver,
        deprecated,
        n_params,
        False,
        function=f"distributed.fit_{estimator}",
        stacklevel=6,
        default="newton",
    )
    if not isinstance(solver, solvers.Newton):
        raise ValueError(
            f"the sharded fit runs Newton's method only; got solver {solver.name!r}. Pass "
            "solver='newton' or bayeslogreg.solvers.Newton(...)."
        )
    return solver


@entry_point
def _fit(estimator, X, y, mesh, choice, solver, init, feature_names, deprecated):
    start = time.perf_counter()
    columns = _column_names(X)
    origin = feature_names_origin(X, feature_names)
    mesh = _sharding.check_mesh(mesh)
    X, y, table = _sharding.checked_everywhere(X, y, mesh)
    n_features = X.shape[1]
    names = check_feature_names(
        feature_names or columns or [f"x{j + 1}" for j in range(n_features)], n_features
    )
    gather = _gather_moments if jax.process_count() > 1 else None
    *priors, record = resolve_priors(choice, X, None, names, gather)
    _check_fit_priors(*priors, n_features)
    solver = _newton(estimator, solver, deprecated, n_features + 1)
    data = _sharding.place(X, y, table, mesh)
    n = data.n_rows
    if n < n_features + 1:
        raise ValueError(
            f"fewer rows ({n}) than parameters ({n_features + 1}: intercept and "
            f"{n_features} coefficients); the model is not identified."
        )
    params0 = initial_params(init, table[:, 3].sum() / n, n_features + 1)
    scale = _parameter_scale(data, X, priors, names)
    objective = HostObjective(_ShardedSums(data), *priors, scale)
    outcome, hess = minimize_on_host(objective, params0, solver.tol, solver.max_iter)
    # Hashing needs every row in one place: only a single process can.
    data_sha256 = data_hash(X, y) if jax.process_count() == 1 else None
    null = null_log_likelihood(float(table[:, 3].sum()), n)
    context = FitContext(
        estimator, names, origin, tuple(priors), n, scale, X, None, data_sha256, 0, start
    )
    context = context._replace(
        prior_choice=record if estimator == "map" else None, null_log_likelihood=null
    )
    return build(context, solver, Optimum(outcome, hess, objective.last_loglik))


def _gather_moments(moments: ColumnMoments) -> ColumnMoments:
    """Return the columns' moments over every process's rows (a collective: all call it)."""
    every = [
        np.asarray(multihost_utils.process_allgather(np.asarray(part, dtype=np.float64)))
        for part in moments
    ]
    parts = [ColumnMoments(float(total), *arrays) for total, *arrays in zip(*every, strict=True)]
    return combine(parts, len(moments.mean))


def fit_mle(
    X, y, *, mesh: Mesh | None = None, solver=None, init=None, feature_names=None, **deprecated
) -> PointEstimate:
    """Maximum-likelihood fit by Newton's method with the rows sharded over devices.

    Gives the estimate of ``bayeslogreg.fit_mle(X, y, solver="newton")`` on all the
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
    solver : Newton, "newton" or None
        Newton's options (``bayeslogreg.solvers.Newton(tol=..., max_iter=...)``); the
        sharded fit runs no other solver. None (the default) is ``Newton()``.
    init : array_like of shape (n_features + 1,), optional
        Start, intercept first; default coefficients 0 and intercept ``logit(mean(y))``.
    feature_names : sequence of str, optional
    **deprecated
        ``tol`` and ``max_iter`` still work, with a ``FutureWarning`` saying to pass
        ``solver=Newton(tol=..., max_iter=...)`` instead.

    Returns
    -------
    PointEstimate
        As from :func:`bayeslogreg.fit_mle` with ``solver="newton"``; ``seed`` is 0 and
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
    return _fit("mle", X, y, mesh, flat_choice(), solver, init, feature_names, deprecated)


def fit_map(
    X,
    y,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    mesh: Mesh | None = None,
    solver=None,
    init=None,
    feature_names=None,
    **deprecated,
) -> PointEstimate:
    """Maximum a posteriori fit by Newton's method with the rows sharded over devices.

    Gives the estimate of ``bayeslogreg.fit_map(X, y, solver="newton")`` with the same
    priors; multi-process use as in :func:`fit_mle`.

    Parameters
    ----------
    X, y, mesh, solver, init, feature_names, **deprecated
        As in :func:`fit_mle`.
    prior, intercept_prior, autoscale
        As in :func:`bayeslogreg.fit_map`, smooth ones (not Laplace); the default
        priors are scaled to the columns of every process's rows together.

    Returns
    -------
    PointEstimate
        ``cov`` is the Laplace-approximation covariance, as from
        :func:`bayeslogreg.fit_map`.

    Examples
    --------
    >>> import bayeslogreg
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> sharded, one_device = fit_map(data.X, data.y), bayeslogreg.fit_map(data.X, data.y)
    >>> bool(np.allclose(sharded.params, one_device.params, rtol=1e-10))
    True
    """
    choice = PriorChoice(prior, intercept_prior, autoscale)
    return _fit("map", X, y, mesh, choice, solver, init, feature_names, deprecated)
