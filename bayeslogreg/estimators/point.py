"""Point estimators: maximum likelihood (MLE) and maximum a posteriori (MAP).

Both maximise a log posterior (for the MLE every prior is flat) with a solver of
:mod:`bayeslogreg.estimators.solvers`, then compute the curvature at the optimum: the
inverse observed information gives the MLE's standard errors, and for MAP the same
matrix is the covariance of the Laplace (Gaussian) approximation of the posterior.
Data held in memory are fitted on a device copy; Newton fits of large data run over row
chunks of X where it lies (:mod:`._chunked`). Either way the result is built by
:func:`._point_estimate.build`.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import jax
import numpy as np

from bayeslogreg import _interrupt, _programs, model
from bayeslogreg._formula import resolve
from bayeslogreg._jax import entry_point, use_compilation_cache
from bayeslogreg._provenance import data_hash_in_background
from bayeslogreg._validation import (
    INTERCEPT_NAME,
    check_column_magnitudes,
    check_seed,
    degenerate_columns,
    feature_names_origin,
)
from bayeslogreg.estimators import _chunked
from bayeslogreg.estimators import _solvers as solvers
from bayeslogreg.estimators._effects import null_log_likelihood
from bayeslogreg.estimators._newton import minimize_on_host
from bayeslogreg.estimators._objective import (
    HostObjective,
    Problem,
    check_in_memory_prior,
    column_sum_squares,
    device_problem,
    jeffreys_log_prior,
    scale_from_sum_squares,
)
from bayeslogreg.estimators._observations import Observations, check_fit_data
from bayeslogreg.estimators._optimizer import OptimizeResult
from bayeslogreg.estimators._point_estimate import (
    FitContext,
    Optimum,
    PointEstimate,
    build,
    null_space,
    with_formula,
)
from bayeslogreg.estimators._prior_choice import PriorChoice, flat_choice
from bayeslogreg.estimators._prior_choice import resolve as resolve_priors
from bayeslogreg.priors import NO_MODE_MESSAGE, Flat, Jeffreys, Laplace, Prior, canonical
from bayeslogreg.separation import Separation, detect_separation_validated

__all__ = ["PointEstimate", "fit_map", "fit_mle"]


def fit_mle(
    X,
    y=None,
    *,
    data=None,
    missing: str = "raise",
    solver=None,
    init=None,
    feature_names=None,
    seed: int = 0,
    sample_weight=None,
    trials=None,
    offset=None,
    **deprecated,
) -> PointEstimate:
    """Fit logistic regression by maximum likelihood.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features), or str
        Features; a DataFrame's column names become ``feature_names``. float32 data stay
        float32 in memory and are accumulated in float64. Or a formula such as
        ``"y ~ C(g) * x + np.log(z)"`` (formulaic's syntax) on the columns of ``data``:
        text, categorical and boolean columns are treatment-coded (reference level: the
        first, sorted), the columns are named as formulaic and statsmodels name them
        (``C(g)[T.b]``, ``C(g)[T.b]:x``) and the result re-encodes new frames the same
        way. The formula's intercept is the model's; formulas without one are refused.
    y : array_like of shape (n_samples,), or None
        Labels: 0/1 integers, floats or booleans; with ``trials``, the number of
        successes of each row (whole numbers, ``0 <= y <= trials``). None with a
        formula, whose left-hand side names them (``"k ~ dose"``).
    data : DataFrame (pandas, polars) or pyarrow Table, optional
        The rows a formula refers to; only with a formula.
    missing : {"raise", "drop"}
        With a formula, rows with a missing value in a column it reads are refused
        (default, naming their count and columns) or left out with a ``UserWarning``
        that says how many.
    solver : Solver, str or None
        A solver of :mod:`bayeslogreg.solvers` with its options (e.g.
        ``Newton(tol=1e-10)``, ``SGD(batch_size=64)``), or the shorthand of a default one:
        ``"newton"``, ``"lbfgs"``, ``"gd"`` (full-batch gradient ascent), ``"sgd"`` (one
        row per step), ``"minibatch"`` (32 rows per step). ``"auto"`` (or None, the
        default) is Newton up to 500 parameters, L-BFGS beyond.
    init : array_like of shape (p + 1,), optional
        Starting point (intercept first). Default: coefficients 0, intercept
        ``logit(mean(y))``; for Newton fits of 2**19 rows or more, the Newton optimum on
        a random subsample of 2**18 rows (seed 0) from there, so that ``n_iter`` and
        ``history`` count the full-data iterations from that point. These fits run over
        row chunks of X where it lies (a NumPy array or memory map; no device copy).
    feature_names : sequence of str, optional
    seed : int
        Seed of the row shuffling of the stochastic solvers.
    sample_weight : array_like of shape (n_samples,), optional
        Frequency weights (>= 0, not all 0): a weight of 3 is the row three times, in the
        estimate, the log-likelihood and the standard errors alike; rows of weight 0
        play no part. The stochastic solvers still draw rows uniformly, each row's
        gradient scaled by its weight. With a formula, also the name of a column of
        ``data`` (as ``trials`` and ``offset``: ``trials="n"``).
    trials : array_like of shape (n_samples,), optional
        Binomial trials per row (whole numbers >= 1): ``y`` then counts successes, and a
        row is ``trials`` Bernoulli observations (R's ``cbind(k, n - k) ~ x``).
    offset : array_like of shape (n_samples,), optional
        A known term added to each row's linear predictor (log-odds), e.g. the log of an
        exposure; its coefficient is fixed at 1. Pass the same to ``predict_proba``.
    **deprecated
        ``method``, ``tol``, ``max_iter``, ``learning_rate``, ``batch_size``, ``epochs``
        and ``average`` still work, with a ``FutureWarning`` saying which solver object
        to pass instead; an option that the chosen solver does not use raises
        ``ValueError``.

    Returns
    -------
    PointEstimate
        ``log_likelihood`` includes ``sum_i w_i log C(n_i, k_i)`` for binomial counts
        (as statsmodels' GLM ``llf`` and R's ``logLik``); ``deviance`` is R's ``glm``
        residual deviance; ``n_obs`` the Bernoulli trials fitted (``sum_i w_i n_i``).
        A :class:`~bayeslogreg.exceptions.ConvergenceWarning` is issued and
        ``converged`` is False when ``tol`` was not reached. When the classes are
        completely or quasi-completely separated the MLE does not exist: a
        :class:`~bayeslogreg.exceptions.SeparationWarning` is issued, ``converged`` is
        False and ``separation`` says along which features (with counts, a row with
        0 < k < n is a success and a failure, so it can never be separated).

    Raises
    ------
    ValueError
        For bad data (``docs/failures.md``), among them successes above ``trials`` or
        negative, non-whole successes or trials, negative, non-finite or all-zero
        weights, non-finite offsets, and weights, trials or offsets whose length is not
        the number of rows; each message names the argument.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> fit = fit_mle(data.X, data.y, feature_names=data.feature_names)
    >>> fit.params.round(2), fit.converged
    (array([-4.51,  2.74]), True)
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"passed": data.y, "effort": data.X[:, 0]})
    >>> fit_mle("passed ~ effort", data=frame).params.round(2)
    array([-4.51,  2.74])
    """
    rows = (sample_weight, trials, offset)
    X, y, feature_names, formula, rows = resolve(
        X, y, data=data, feature_names=feature_names, missing=missing, rows=rows
    )
    fit = _fit("mle", X, y, rows, flat_choice(), solver, init, feature_names, seed, deprecated)
    return with_formula(fit, formula)


def fit_map(
    X,
    y=None,
    *,
    data=None,
    missing: str = "raise",
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    solver=None,
    init=None,
    feature_names=None,
    seed: int = 0,
    sample_weight=None,
    trials=None,
    offset=None,
    **deprecated,
) -> PointEstimate:
    """Fit logistic regression by maximum a posteriori (penalised likelihood).

    Maximises ``log-likelihood + log prior``. With ``prior=Normal(0, s)`` and
    ``intercept_prior=Flat()`` this is scikit-learn's L2 fit with ``C = s**2``; with
    ``Laplace(0, b)`` the L1 fit with ``C = b`` (coefficients can be exactly 0); with
    ``prior=Jeffreys()`` (``intercept_prior`` unset) Firth's penalised likelihood, R's
    logistf (``docs/priors.md``).

    Parameters
    ----------
    X, y, data, missing, sample_weight, trials, offset
        As in :func:`fit_mle`: ``(X, y)`` or ``(formula, data=frame)``. The prior is not
        weighted: weights and counts scale the likelihood only (scikit-learn's
        ``sample_weight``).
    prior : Prior, optional
        Prior of the coefficients, scalar or per-coefficient parameters. Default
        ``Normal(0, 2.5 / s_j)``, with ``s_j`` the standard deviation of column j (its
        range for a column of two values), as rstanarm's autoscaled default: weakly
        informative whatever the columns' units (see ``docs/priors.md``).
    intercept_prior : Prior, optional
        Prior of the intercept. Default ``Centered(Normal(0, 2.5))``: on the log-odds
        at the columns' means (:class:`~bayeslogreg.priors.Centered`); the reported
        intercept is still the one at x = 0.
    autoscale : bool, optional
        True divides an explicit coefficient prior's scale by ``s_j`` too; False keeps
        even the default at ``Normal(0, 2.5)``. Unset: only the default is scaled.
        :meth:`~bayeslogreg.PointEstimate.prior_summary` shows the priors used.
    solver, init, feature_names, seed, **deprecated
        As in :func:`fit_mle`; L-BFGS needs smooth priors (not Laplace).

    Returns
    -------
    PointEstimate
        ``cov`` is the covariance of the Laplace approximation of the posterior (the
        inverse negative Hessian of the log posterior at the mode; a Laplace prior's
        kink contributes no curvature). With flat priors on the coefficients, separated
        classes are handled as in :func:`fit_mle`; proper priors always give a finite
        mode.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> from bayeslogreg.priors import Normal
    >>> data = load_effort()
    >>> fit_map(data.X, data.y, prior=Normal(0, 2.5)).params.round(2)
    array([-4.49,  2.73])
    """
    rows = (sample_weight, trials, offset)
    X, y, feature_names, formula, rows = resolve(
        X, y, data=data, feature_names=feature_names, missing=missing, rows=rows
    )
    choice = PriorChoice(prior, intercept_prior, autoscale)
    fit = _fit("map", X, y, rows, choice, solver, init, feature_names, seed, deprecated)
    return with_formula(fit, formula)


def check_priors(intercept_prior, prior, n_features: int) -> None:
    """Raise unless both are priors of bayeslogreg.priors of the right size."""
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if not isinstance(value, Prior):
            raise ValueError(
                f"{name} must be a prior from bayeslogreg.priors (e.g. Normal(0, 2.5)); "
                f"got {value!r}."
            )
    if not intercept_prior.has_mode:
        raise ValueError(
            f"intercept_prior={intercept_prior!r} is a prior of the coefficients only; give "
            "the intercept a Normal, Cauchy, StudentT, Laplace or Flat prior."
        )
    if not prior.has_mode:
        raise ValueError(f"prior={prior!r}: {NO_MODE_MESSAGE}")
    prior.check_size(n_features, "coef")
    intercept_prior.check_size(1, "the intercept")
    center = getattr(intercept_prior, "center", None)
    if center is not None and np.size(center) not in (1, n_features):
        raise ValueError(
            f"{intercept_prior!r} has {np.size(center)} centre values but X has {n_features} "
            "columns; give one per column (or leave center unset: the columns' means)."
        )


def find_separation(X, y, feature_names, intercept_prior: Prior, prior: Prior) -> Separation | None:
    """Separation along the parameters with a flat prior, or None.

    Where it exists, the log posterior under these priors has no maximum and, with
    flat priors, the posterior is improper. ``X`` (n_samples, n_features), ``y`` and
    ``feature_names`` as :func:`~bayeslogreg._validation.check_X_y` returns them.
    """
    check_priors(intercept_prior, prior, X.shape[1])
    if prior.is_proper:  # the intercept alone cannot separate two classes
        return None
    free = np.array([not intercept_prior.is_proper] + [True] * X.shape[1])
    # A centred intercept prior pins the log-odds at its centre, not at x = 0.
    origin = getattr(intercept_prior, "center", None)
    return detect_separation_validated(X, y, feature_names, free, origin)


def find_unidentified(X, feature_names, intercept_prior: Prior, prior: Prior) -> list[str]:
    """Parameters with a flat prior that the data cannot identify (collinear columns).

    Along such a direction the likelihood is constant, so with flat priors the posterior
    is improper. Returns their names (empty when every direction is identified): the
    columns of ``[1, X]`` with a flat prior are tested for exact collinearity through the
    eigenvalues of their correlation-scaled Gram matrix (relative threshold 1e-10).
    """
    if prior.is_proper:  # proper coefficient priors identify every direction
        return []
    X = X if X.dtype == np.float64 else X.astype(np.float64)
    gram = X.T @ X
    names = list(feature_names)
    if not intercept_prior.is_proper:  # the Gram matrix of [1, X], without building it
        sums = X.sum(axis=0)
        gram = np.block([[np.array([[len(X)]]), sums[None, :]], [sums[:, None], gram]])
        names = [INTERCEPT_NAME, *names]
    norms = np.sqrt(np.diag(gram))
    if (norms == 0).any():
        return [name for name, norm in zip(names, norms, strict=True) if norm == 0]
    *_, involved = null_space(gram / np.outer(norms, norms), rel_tol=1e-10)
    return [name for name, flag in zip(names, involved, strict=True) if flag]


def initial_params(init, mean_y: float, n_params: int) -> np.ndarray:
    """``init`` checked, or coefficients 0 and intercept ``logit(mean_y)``."""
    if init is None:
        params = np.zeros(n_params)
        params[0] = np.log(mean_y) - np.log1p(-mean_y)
        return params
    params = np.asarray(init, dtype=np.float64)
    if params.shape != (n_params,) or not np.isfinite(params).all():
        raise ValueError(
            f"init must be a finite array of shape ({n_params},) (intercept first); "
            f"got {np.shape(init)}."
        )
    return params


def _fit_function(solver: solvers.Solver, problem: Problem, params0, tol, key=None):
    """Return the outcome, the per-row Hessian of ``f`` and the log-likelihood at it.

    Under the Jeffreys prior, the per-row Fisher information ``X1' W X1 / n`` in place of
    the Hessian: the covariance logistf reports for Firth's estimate is its inverse.
    """
    outcome, hess = solver.minimize(problem, params0, tol, key)
    if isinstance(problem.prior, Jeffreys):
        hess = model.fisher_information(outcome.params, problem.X, problem.y) / problem.size
    return outcome, hess, model.log_likelihood_sum(outcome.params, problem.X, problem.y)


_fit_jit = jax.jit(_fit_function, static_argnums=0)
_jeffreys_log_prior = jax.jit(jeffreys_log_prior)


def _fit_in_memory(
    X, y, priors, scale, params0, solver: solvers.Solver, seed: int, n_obs=None
) -> Optimum:
    """Optimise on a device copy of the data.

    The full-batch solvers run as one program kept between processes
    (:mod:`bayeslogreg._programs`): tracing it is most of a fresh process's first fit.
    ``y`` is 0/1 labels or :class:`~bayeslogreg.model.Counts` (with ``n_obs`` their total).
    """
    problem = device_problem(X, y, priors, scale, n_obs)
    params0, tol = jax.device_put((params0, np.float64(solver.tol)))
    if solver.keeps_program:
        args = (problem, params0, tol)
        fit = _programs.compiled(
            f"fit-{solver.name}",
            partial(_fit_function, solver),
            args,
            settings=solver.program_settings(),
            cache_dir=use_compilation_cache(),
        )
        *fields, hess, loglik = fit(*args)
        outcome = OptimizeResult(*fields)
    else:
        outcome, hess, loglik = _fit_jit(solver, problem, params0, tol, jax.random.key(seed))
    log_prior = None  # the priors' own, computed by build; the Jeffreys prior's needs the data
    if isinstance(problem.prior, Jeffreys):
        log_prior = float(_jeffreys_log_prior(outcome.params, problem.X, problem.y))
    return Optimum(outcome, np.asarray(hess), float(loglik), log_prior)


def _fit_chunked(X, y, priors, scale, params0, solver: solvers.Newton, warm_start: bool):
    """Newton over row chunks of the host data (see :mod:`._chunked`).

    ``y`` is 0/1 labels or :class:`~bayeslogreg.model.Counts` (chunked like X).
    """
    data = _chunked.ChunkedData(X, y, _chunked.CHUNK_ROWS)
    priors = canonical(*priors, X.shape[1])
    hess0 = None
    if warm_start:
        params0, hess0 = _chunked.warm_start(data, *priors, scale, params0, solver.max_iter)
    objective = HostObjective(data, *priors, scale)
    outcome, hess = minimize_on_host(objective, params0, solver.tol, solver.max_iter, hess0)
    return Optimum(outcome, hess, objective.last_loglik)


@entry_point
def _fit(estimator, X, y, rows, choice, solver, init, feature_names, seed, deprecated):
    start = time.perf_counter()
    origin = feature_names_origin(X, feature_names)
    seed = check_seed(seed)
    sample_weight, trials, offset = rows
    X, y, names, observations = check_fit_data(
        X, y, feature_names, sample_weight=sample_weight, trials=trials, offset=offset
    )
    n_rows, n_features = X.shape
    # How many Bernoulli trials each row stands for (None: one each).
    row_weights = None if observations is None else observations.weighted_rows()
    if row_weights is None:
        sum_squares = weighted_sum_squares = column_sum_squares(X)
    else:  # unweighted for the magnitudes, weighted for the scale; one pass
        both = np.stack([np.ones(n_rows), row_weights])
        sum_squares, weighted_sum_squares = column_sum_squares(X, both)
    flat = isinstance(choice.prior, Prior) and not choice.prior.is_proper
    check_column_magnitudes(X, sum_squares, names, flat_prior=flat)
    intercept_prior, prior, record = resolve_priors(choice, X, row_weights, names)
    priors = (intercept_prior, prior)
    check_priors(*priors, n_features)
    has_l1 = any(isinstance(prior, Laplace) for prior in priors)
    solver = solvers.from_arguments(
        solver, deprecated, n_features + 1, has_l1, function=f"fit_{estimator}", stacklevel=5
    )
    if isinstance(prior, Jeffreys):
        _check_jeffreys_fit(X, row_weights, names, solver)
    if observations is None:
        mean_y, target, n_obs, hashed = float(np.mean(y)), y, n_rows, (X, y)
    else:
        mean_y = float(np.sum(observations.successes)) / observations.total
        target, n_obs = observations.counts(np.float64), observations.total
        hashed = (X, y, *observations[:3])
    params0 = initial_params(init, mean_y, n_features + 1)
    # SHA-256 runs beside the fit, at low priority: hashlib releases the GIL, and at
    # 11M x 28 it takes ~1.8 s of one core. (The separation check does not: its BLAS
    # threads would compete with the fit's; measured 10.8 s against 8.8 s at 11M x 28.)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(data_hash_in_background, *hashed)
        separation = _find_separation(X, y, observations, names, priors)
        scale = scale_from_sum_squares(weighted_sum_squares, n_obs, priors)
        # In a worker thread: Ctrl-C stops it between row chunks and never abandons an
        # XLA compile in the main thread (:mod:`bayeslogreg._interrupt`).
        if isinstance(solver, solvers.Newton) and n_rows >= _chunked.MIN_ROWS:
            warm_start = init is None and separation is None
            args = (X, target, priors, scale, params0, solver, warm_start)
            optimum = _interrupt.call(_fit_chunked, *args)
        else:
            args = (X, target, priors, scale, params0, solver, seed, n_obs)
            optimum = _interrupt.call(_fit_in_memory, *args)
        data_sha256 = digest.result()
    context = FitContext(
        estimator, names, origin, priors, n_rows, scale, X, separation, data_sha256, seed, start
    )
    null = null_log_likelihood(float(np.sum(y)), n_rows, observations)
    context = context._replace(
        observations=observations,
        prior_choice=record if estimator == "map" else None,
        null_log_likelihood=null,
    )
    return build(context, solver, optimum)


def _check_jeffreys_fit(X, row_weights, names, solver: solvers.Solver) -> None:
    """Raise ``ValueError`` where a Jeffreys (Firth) fit cannot run, before any work.

    Collinear columns (or a constant one, beside the intercept) make the information
    singular at every point, so the prior's density is 0 everywhere; stochastic solvers
    would pass over every row at each step; Newton fits of large data run over row chunks.
    """
    if isinstance(solver, solvers.SGD):
        raise ValueError(
            f"solver {solver.name!r} draws a few rows per step, but the Jeffreys prior's "
            "log density needs every row at each step. Use solver='newton' or 'lbfgs'."
        )
    if isinstance(solver, solvers.Newton) and X.shape[0] >= _chunked.MIN_ROWS:
        check_in_memory_prior(Jeffreys(), f"a Newton fit of {_chunked.MIN_ROWS} rows or more")
    weighted = None if row_weights is None else row_weights > 0
    rows = X if weighted is None or weighted.all() else X[weighted]
    unidentified = find_unidentified(rows, names, Flat(), Flat())
    if unidentified:
        causes = "; ".join(degenerate_columns(rows, names)) or "exactly collinear columns"
        raise ValueError(
            f"the Jeffreys prior needs a non-singular Fisher information, but parameters "
            f"{unidentified} are not identified by the data ({causes}): the information "
            "is singular at every point. Drop the redundant columns."
        )


def _find_separation(X, y, observations: Observations | None, names, priors):
    """:func:`find_separation` of the data, 0/1 labels or weighted/binomial rows."""
    if observations is None or priors[1].is_proper:  # proper priors: no separation
        return find_separation(X, y, names, *priors)
    origin = getattr(priors[0], "center", None)
    if observations.pins_every_direction(X, not priors[0].is_proper, origin):
        return None
    return find_separation(*observations.binary_rows(X), names, *priors)
