"""Point estimators: maximum likelihood (MLE) and maximum a posteriori (MAP).

Both maximise a log posterior (for the MLE every prior is flat) with one of the
optimizers of :mod:`bayeslogreg.estimators._ascent`, then compute the curvature at the
optimum: the inverse observed information gives the MLE's standard errors, and for MAP
the same matrix is the covariance of the Laplace (Gaussian) approximation of the
posterior.
"""

import html
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pandas as pd
from scipy import special

from bayeslogreg import _programs, model
from bayeslogreg._io import atomic_write_text
from bayeslogreg._jax import entry_point, use_compilation_cache
from bayeslogreg._provenance import data_hash_in_background, versions
from bayeslogreg._validation import (
    INTERCEPT_NAME,
    check_choice,
    check_level,
    check_positive_float,
    check_positive_int,
    check_X,
    check_X_y,
    degenerate_columns,
)
from bayeslogreg.estimators import _ascent, _chunked, _persist
from bayeslogreg.estimators._objective import (
    Problem,
    parameter_scale,
    priors_log_density,
    smooth_value_grad_hess,
)
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Flat, Laplace, Normal, Prior
from bayeslogreg.separation import Separation, detect_separation_validated

__all__ = ["METHODS", "PointEstimate", "fit_map", "fit_mle"]

METHODS = ("auto", "newton", "lbfgs", "gd", "sgd", "minibatch")
_STOCHASTIC = ("sgd", "minibatch")
# "auto" uses Newton up to this many parameters: one (p+1)^2 Hessian per pass is then
# cheaper than the dozens of extra passes L-BFGS needs.
_NEWTON_MAX_PARAMS = 500
_DEFAULT_TOL = {"newton": 1e-8, "lbfgs": 1e-8, "gd": 1e-8, "sgd": 1e-3, "minibatch": 1e-3}
_DEFAULT_MAX_ITER = {"newton": 100, "lbfgs": 1000, "gd": 20_000}
_DEFAULT_EPOCHS = {"sgd": 50, "minibatch": 200}
_DEFAULT_LEARNING_RATE = {"sgd": 0.05, "minibatch": 0.5}
_DEFAULT_BATCH_SIZE = 32
# Quantities of the result, compiled once per shape: run op by op they cost ~50 ms per
# fit, and seconds of compilation for every new data shape.
_value_grad_hess = jax.jit(smooth_value_grad_hess)
_log_likelihood = jax.jit(model.log_likelihood_sum, static_argnames="block_rows")
_log_prior = jax.jit(priors_log_density)
_FULL_BATCH = {"newton": _ascent.newton, "lbfgs": _ascent.lbfgs, "gd": _ascent.gradient_ascent}
_STATUS_MESSAGES = {
    _ascent.CONVERGED: "converged",
    _ascent.MAX_ITER: "stopped at the iteration limit before reaching tol",
    _ascent.LINE_SEARCH_FAILED: "the line search found no step that increases the objective",
    _ascent.NOT_FINITE: "the objective became non-finite (overflow or divergence)",
}


@dataclass(frozen=True)
class InverseTimeDecay:
    """Learning rate ``initial / (1 + step / steps_per_epoch)``: 1/epoch decay.

    Robbins-Monro conditions hold (the rates sum to infinity, their squares do not), so
    stochastic ascent converges. Hashable, so jitted code compiles once per setting.
    """

    initial: float
    steps_per_epoch: int

    def __call__(self, step):
        """Learning rate at ``step`` (0-based count of parameter updates)."""
        return self.initial / (1.0 + step / self.steps_per_epoch)


@dataclass(frozen=True, repr=False)
class PointEstimate:
    """Result of :func:`fit_mle` or :func:`fit_map`.

    Attributes
    ----------
    estimator : {"mle", "map"}
    method : str
        Optimizer used.
    params : ndarray of shape (p + 1,)
        Intercept first, then the coefficients.
    cov : ndarray of shape (p + 1, p + 1)
        Inverse observed information (MLE) or Laplace-approximation covariance (MAP).
    feature_names : tuple of str
    log_likelihood : float
        At ``params``, in nats.
    log_posterior : float or None
        Unnormalised log posterior at ``params`` (MAP only).
    converged : bool
        False when ``tol`` was not reached, or when the estimate does not exist
        (``separation``).
    n_iter : int
        Iterations (epochs for sgd and minibatch).
    n_passes : int
        Full passes over the data, line searches included.
    grad_norm : float
        Largest entry of the (sub)gradient of the per-row log posterior at ``params``,
        with respect to the coefficients of the columns of X rescaled to unit root mean
        square (by the nearest power of two): the quantity ``tol`` bounds.
    history : ndarray of shape (n_iter + 1,)
        Objective (log-likelihood for MLE, log posterior for MAP) at the start and after
        each iteration: gradient *ascent* makes it increase.
    message : str
    prior, intercept_prior : Prior
    n_samples : int
    fit_time : float
        Seconds, compilation included.
    seed : int
    separation : Separation or None
        Set when the classes are separated along parameters with a flat prior (every
        parameter for the MLE): the estimate does not exist, ``params`` only went as
        far as the optimizer did. See :func:`bayeslogreg.separation.detect_separation`.
    data_sha256 : str or None
        SHA-256 of the validated data (X in its float dtype, then y as 0/1 in that dtype),
        to tell later which data a saved result came from.
    versions : dict or None
        Versions of Python, bayeslogreg, jax, numpyro, arviz, numpy and optax that fitted it.
    """

    estimator: str
    method: str
    params: np.ndarray
    cov: np.ndarray
    feature_names: tuple[str, ...]
    log_likelihood: float
    log_posterior: float | None
    converged: bool
    n_iter: int
    n_passes: int
    grad_norm: float
    history: np.ndarray
    message: str
    prior: Prior
    intercept_prior: Prior
    n_samples: int
    fit_time: float
    seed: int
    separation: Separation | None = None
    data_sha256: str | None = None
    versions: dict | None = None

    @property
    def intercept(self) -> float:
        """Fitted intercept."""
        return float(self.params[0])

    @property
    def coef(self) -> np.ndarray:
        """Fitted coefficients, shape (p,)."""
        return self.params[1:]

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("intercept", *feature_names)``."""
        return (INTERCEPT_NAME, *self.feature_names)

    @property
    def stderr(self) -> np.ndarray:
        """Standard errors, shape (p + 1,): square roots of the diagonal of ``cov``."""
        return np.sqrt(np.diag(self.cov))

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Wald (MLE) or Laplace (MAP) interval, shape (p + 1, 2): estimate +- z * stderr."""
        z = special.ndtri(0.5 + check_level(level) / 2)
        return np.column_stack([self.params - z * self.stderr, self.params + z * self.stderr])

    def predict_proba(self, X) -> np.ndarray:
        """Probability that y = 1 for each row of X, shape (n_samples,)."""
        X = check_X(X, n_features=len(self.feature_names))
        return special.expit(self.intercept + X @ self.coef)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Table of estimate, std_err, z, p_value and the interval, one row per parameter.

        ``z`` and ``p_value`` test each parameter against 0 with the normal approximation.
        """
        z = self.params / self.stderr
        lower, upper = self.conf_int(level).T
        return pd.DataFrame(
            {
                "estimate": self.params,
                "std_err": self.stderr,
                "z": z,
                "p_value": 2 * special.ndtr(-np.abs(z)),
                "ci_lower": lower,
                "ci_upper": upper,
            },
            index=pd.Index(self.param_names, name="parameter"),
        )

    def _title(self) -> str:
        title = f"PointEstimate({self.estimator.upper()}, method={self.method!r}, "
        return title + f"converged={self.converged}, n_iter={self.n_iter}, n={self.n_samples})"

    def __repr__(self) -> str:
        table = self.summary().to_string(float_format=lambda v: f"{v:.4g}")
        return f"{self._title()}\n{table}"

    def _repr_html_(self) -> str:
        table = self.summary().to_html(float_format=lambda v: f"{v:.4g}", border=0)
        return f"<div><p>{html.escape(self._title())}</p>{table}</div>"

    def save(self, path) -> Path:
        """Write this result to ``path`` as a JSON document, atomically.

        Every field is kept exactly: floats bit for bit (infinite or NaN entries of
        ``cov`` included), priors by class name and parameters. The file is written
        beside ``path`` and renamed over it, so a failed save leaves an older file intact.

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> from bayeslogreg.datasets import load_effort
        >>> data = load_effort()
        >>> fit = fit_mle(data.X, data.y)
        >>> path = fit.save("effort_mle.json")  # doctest: +SKIP
        >>> np.array_equal(PointEstimate.load(path).cov, fit.cov)  # doctest: +SKIP
        True
        """
        return atomic_write_text(path, _persist.dumps(self) + "\n")

    @classmethod
    def load(cls, path) -> "PointEstimate":
        """Read a result written by :meth:`save`.

        Nothing in the file is executed or unpickled; it can only name the built-in
        priors.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file is empty, cut short, not a PointEstimate file, or written in a
            newer format version than this bayeslogreg reads.
        """
        return _persist.read(path, cls)


def fit_mle(
    X,
    y,
    *,
    method: str = "auto",
    tol: float | None = None,
    max_iter: int | None = None,
    init=None,
    feature_names=None,
    seed: int = 0,
    learning_rate=None,
    batch_size: int | None = None,
    epochs: int | None = None,
    average: bool = True,
) -> PointEstimate:
    """Fit logistic regression by maximum likelihood.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features)
        Features; a DataFrame's column names become ``feature_names``. float32 data stay
        float32 in memory and are accumulated in float64.
    y : array_like of shape (n_samples,)
        Labels: 0/1 integers, floats or booleans.
    method : {"auto", "newton", "lbfgs", "gd", "sgd", "minibatch"}
        ``"auto"`` is Newton up to 500 parameters, L-BFGS beyond. ``"gd"`` is full-batch
        gradient ascent with a backtracking line search; ``"sgd"`` (one row per step) and
        ``"minibatch"`` are stochastic gradient ascent with seeded reshuffling.
    tol : float, optional
        Stop when no entry of the per-row gradient of the log-likelihood exceeds ``tol``,
        the gradient taken with respect to the coefficients of the columns of X rescaled
        to unit root mean square (by the nearest power of two, an exact change of
        coordinates), so that ``tol`` means the same whatever the units of each feature.
        Default 1e-8 (1e-3 for sgd and minibatch).
    max_iter : int, optional
        Iteration limit: 100 for newton, 1000 for lbfgs, 20000 for gd.
    init : array_like of shape (p + 1,), optional
        Starting point (intercept first). Default: coefficients 0, intercept
        ``logit(mean(y))``; for Newton fits of 2**19 rows or more, the Newton optimum on
        a random subsample of 2**18 rows (seed 0) from there, so that ``n_iter`` and
        ``history`` count the full-data iterations from that point. These fits
        run over row chunks of X where it lies (a NumPy array or
        memory map; no device copy).
    feature_names : sequence of str, optional
    seed : int
        Seed of the row shuffling (sgd, minibatch).
    learning_rate : float or callable, optional
        sgd and minibatch only: initial rate of the 1/epoch decay (default 0.05 for sgd,
        0.5 for minibatch), or an optax schedule ``step -> rate``.
    batch_size : int, optional
        minibatch only (default 32).
    epochs : int, optional
        sgd and minibatch only: passes over the data (default 50 for sgd, 200 for
        minibatch).
    average : bool
        sgd and minibatch only: report the average of the iterates of the last epoch.

    Returns
    -------
    PointEstimate
        A :class:`~bayeslogreg.exceptions.ConvergenceWarning` is issued and
        ``converged`` is False when ``tol`` was not reached. When the classes are
        completely or quasi-completely separated the MLE does not exist: a
        :class:`~bayeslogreg.exceptions.SeparationWarning` is issued, ``converged`` is
        False and ``separation`` says along which features.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> fit = fit_mle(data.X, data.y, feature_names=data.feature_names)
    >>> fit.params.round(2), fit.converged
    (array([-4.51,  2.74]), True)
    """
    return _fit(
        "mle",
        X,
        y,
        intercept_prior=Flat(),
        prior=Flat(),
        method=method,
        tol=tol,
        max_iter=max_iter,
        init=init,
        feature_names=feature_names,
        seed=seed,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        average=average,
    )


def fit_map(
    X,
    y,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    method: str = "auto",
    tol: float | None = None,
    max_iter: int | None = None,
    init=None,
    feature_names=None,
    seed: int = 0,
    learning_rate=None,
    batch_size: int | None = None,
    epochs: int | None = None,
    average: bool = True,
) -> PointEstimate:
    """Fit logistic regression by maximum a posteriori (penalised likelihood).

    Maximises ``log-likelihood + log prior``. With ``prior=Normal(0, s)`` and
    ``intercept_prior=Flat()`` this is scikit-learn's L2 fit with ``C = s**2``; with
    ``Laplace(0, b)`` the L1 fit with ``C = b`` (coefficients can be exactly 0).

    Parameters
    ----------
    X, y
        As in :func:`fit_mle`.
    prior : Prior, optional
        Prior of the coefficients, scalar or per-coefficient parameters. Default
        ``Normal(0, 2.5)``, weakly informative for features on a unit scale.
    intercept_prior : Prior, optional
        Prior of the intercept. Default ``Normal(0, 10)``.
    method, tol, max_iter, init, feature_names, seed, learning_rate, batch_size, epochs,
    average
        As in :func:`fit_mle`; ``"lbfgs"`` needs smooth priors (not Laplace).

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
    return _fit(
        "map",
        X,
        y,
        intercept_prior=Normal(0.0, 10.0) if intercept_prior is None else intercept_prior,
        prior=Normal(0.0, 2.5) if prior is None else prior,
        method=method,
        tol=tol,
        max_iter=max_iter,
        init=init,
        feature_names=feature_names,
        seed=seed,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        average=average,
    )


def _check_priors(intercept_prior, prior, n_features: int) -> None:
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if not isinstance(value, Prior):
            raise ValueError(
                f"{name} must be a prior from bayeslogreg.priors (e.g. Normal(0, 2.5)); "
                f"got {value!r}."
            )
    prior.check_size(n_features, "coef")
    intercept_prior.check_size(1, "the intercept")


def find_separation(X, y, feature_names, intercept_prior: Prior, prior: Prior) -> Separation | None:
    """Separation along the parameters with a flat prior, or None.

    Where it exists, the log posterior under these priors has no maximum and, with
    flat priors, the posterior is improper. ``X`` (n_samples, n_features), ``y`` and
    ``feature_names`` as :func:`~bayeslogreg._validation.check_X_y` returns them.
    """
    _check_priors(intercept_prior, prior, X.shape[1])
    if prior.is_proper:  # the intercept alone cannot separate two classes
        return None
    free = np.array([not intercept_prior.is_proper] + [True] * X.shape[1])
    return detect_separation_validated(X, y, feature_names, free)


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
    *_, involved = _null_space(gram / np.outer(norms, norms), rel_tol=1e-10)
    return [name for name, flag in zip(names, involved, strict=True) if flag]


def _null_space(matrix: np.ndarray, rel_tol: float):
    """Eigen-decomposition of a symmetric PSD matrix and where it is singular.

    Returns ``eigenvalues``, ``vectors``, ``singular`` (eigenvalues at most ``rel_tol``
    times the largest) and ``involved``: the coordinates with a loading above 0.1 on a
    singular eigenvector, i.e. the parameters that the matrix does not pin down.
    """
    eigenvalues, vectors = np.linalg.eigh(matrix)
    singular = eigenvalues <= rel_tol * max(eigenvalues.max(), 0.0)
    involved = np.abs(vectors[:, singular]).max(axis=1, initial=0.0) > 0.1
    return eigenvalues, vectors, singular, involved


def _separation_message(separation: Separation, estimator: str) -> str:
    estimate = "maximum-likelihood estimate" if estimator == "mle" else "MAP under flat priors"
    return (
        f"{separation}, so the {estimate} does not exist: the coefficients diverge, and the "
        "reported values and standard errors are meaningless. Use fit_map with a proper "
        "prior (e.g. prior=Normal(0, 2.5) on standardised features) or sample_posterior."
    )


def _resolve_method(method: str, n_params: int, has_l1: bool) -> str:
    check_choice(method, "method", METHODS)
    if method == "auto":
        method = "newton" if n_params <= _NEWTON_MAX_PARAMS else "lbfgs"
        if method == "lbfgs" and has_l1:
            method = "gd"
    if method == "lbfgs" and has_l1:
        raise ValueError(
            "method='lbfgs' needs a smooth objective, but a Laplace prior has a kink at its "
            "loc; use method='newton' (proximal Newton) or 'gd' (proximal gradient)."
        )
    return method


def _check_stochastic_options(method, learning_rate, batch_size, epochs) -> None:
    if method not in _STOCHASTIC:
        options = {"learning_rate": learning_rate, "batch_size": batch_size, "epochs": epochs}
        given = [name for name, value in options.items() if value is not None]
        if given:
            raise ValueError(
                f"{given} apply only to method='sgd' or 'minibatch'; got method={method!r}."
            )
    elif method == "sgd" and batch_size not in (None, 1):
        raise ValueError("method='sgd' updates on one row at a time; use 'minibatch' for batches.")


def _initial_params(init, mean_y: float, n_params: int) -> np.ndarray:
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


def _run(
    method, problem, params0, *, tol, max_iter, seed, learning_rate, batch_size, epochs, average
):
    if method in _STOCHASTIC:
        if method == "sgd":
            batch_size = 1
        elif batch_size is None:
            batch_size = _DEFAULT_BATCH_SIZE
        batch_size = min(check_positive_int(batch_size, "batch_size"), problem.n_samples)
        epochs = _DEFAULT_EPOCHS[method] if epochs is None else epochs
        epochs = check_positive_int(epochs, "epochs")
        if not callable(learning_rate):
            rate = _DEFAULT_LEARNING_RATE[method] if learning_rate is None else learning_rate
            steps_per_epoch = max(1, problem.n_samples // batch_size)
            learning_rate = InverseTimeDecay(
                check_positive_float(rate, "learning_rate"), steps_per_epoch
            )
        return _ascent.stochastic_ascent(
            problem,
            params0,
            jax.random.key(seed),
            tol,
            batch_size=batch_size,
            epochs=epochs,
            learning_rate=learning_rate,
            average=bool(average),
        )
    max_iter = _max_iter(method, max_iter)
    return _FULL_BATCH[method](problem, params0, tol, max_iter)


def _max_iter(method: str, max_iter: int | None) -> int:
    max_iter = _DEFAULT_MAX_ITER[method] if max_iter is None else max_iter
    return check_positive_int(max_iter, "max_iter")


def _full_batch_fit(method: str, max_iter: int):
    """(problem, params0, tol) -> (OptimizeResult, per-row Hessian, log-likelihood)."""

    def fit(problem, params0, tol):
        result = _FULL_BATCH[method](problem, params0, tol, max_iter)
        _, _, hess = smooth_value_grad_hess(result.params, problem)
        return result, hess, model.log_likelihood_sum(result.params, problem.X, problem.y)

    return fit


def _fit_in_memory(X, y, priors, scale, method, params0, tol, max_iter, **options):
    """Optimise on a device copy of the data; the result, per-row Hessian and log-lik.

    The full-batch methods run as one program kept between processes
    (:mod:`bayeslogreg._programs`): tracing it took 2.4 s of a fresh process's 4.1 s
    MAP fit on German credit (1000 x 24), compiling it most of the rest.
    """
    # device_put, not jnp.asarray: that compiles a program per shape (~20 ms each to
    # load in a fresh process).
    X, y, scale, params0 = jax.device_put((X, y, scale, params0))
    problem = Problem(X, y, *priors, scale)
    if method in _STOCHASTIC:
        result = _run(method, problem, params0, tol=tol, max_iter=max_iter, **options)
        _, _, hess = _value_grad_hess(result.params, problem)
        loglik = _log_likelihood(result.params, problem.X, problem.y)
    else:
        max_iter = _max_iter(method, max_iter)
        args = (problem, params0, jax.device_put(np.float64(tol)))
        fit = _programs.compiled(
            f"fit-{method}",
            _full_batch_fit(method, max_iter),
            args,
            settings=max_iter,
            cache_dir=use_compilation_cache(),
        )
        *fields, hess, loglik = fit(*args)
        result = _ascent.OptimizeResult(*fields)
    return result, np.asarray(hess), float(loglik)


def _fit_chunked(X, y, priors, scale, params0, tol, max_iter, warm_start):
    """Newton over row chunks of the host data (see :mod:`._chunked`); same outputs."""
    data = _chunked.ChunkedData(X, y, _chunked.CHUNK_ROWS)
    hess0 = None
    if warm_start:
        params0, hess0 = _chunked.warm_start(data, *priors, scale, params0)
    max_iter = _max_iter("newton", max_iter)
    fit = _chunked.newton(data, *priors, scale, params0, tol, max_iter, hess0)
    return fit.result, fit.hess, fit.log_likelihood


def _covariance(information: np.ndarray, param_names, X: np.ndarray) -> np.ndarray:
    """Inverse of the (symmetric) information matrix, warning where it is singular.

    The warning names the parameters involved and, where X shows why, the constant or
    repeated columns.
    """
    eigenvalues, vectors, singular, involved = _null_space(information, rel_tol=1e-12)
    if not singular.any():
        return (vectors / eigenvalues) @ vectors.T
    names = [name for name, flag in zip(param_names, involved, strict=True) if flag]
    causes = degenerate_columns(X, param_names[1:]) or ["collinear columns?"]
    warnings.warn(
        f"the information matrix is singular: parameters {names} are not identified by "
        f"the data ({'; '.join(causes)}). Their standard errors are reported as infinite; "
        "drop redundant columns or use fit_map with a proper prior.",
        ConvergenceWarning,
        stacklevel=4,
    )
    kept = ~singular
    cov = (vectors[:, kept] / eigenvalues[kept]) @ vectors[:, kept].T
    cov[involved, involved] = np.inf
    return cov


@entry_point
def _fit(
    estimator,
    X,
    y,
    *,
    intercept_prior,
    prior,
    method,
    tol,
    max_iter,
    init,
    feature_names,
    seed,
    learning_rate,
    batch_size,
    epochs,
    average,
) -> PointEstimate:
    start = time.perf_counter()
    X, y, names = check_X_y(X, y, feature_names)
    n_samples, n_features = X.shape
    _check_priors(intercept_prior, prior, n_features)
    # SHA-256 runs beside the fit, at low priority: hashlib releases the GIL, and at
    # 11M x 28 it takes ~1.8 s of one core. (The separation check does not: its BLAS
    # threads would compete with the fit's; measured 10.8 s against 8.8 s at 11M x 28.)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(data_hash_in_background, X, y)
        separation = find_separation(X, y, names, intercept_prior, prior)
        scale = parameter_scale(X)
        has_l1 = isinstance(intercept_prior, Laplace) or isinstance(prior, Laplace)
        method = _resolve_method(method, n_features + 1, has_l1)
        _check_stochastic_options(method, learning_rate, batch_size, epochs)
        tol = check_positive_float(_DEFAULT_TOL[method] if tol is None else tol, "tol")
        params0 = _initial_params(init, float(np.mean(y)), n_features + 1)
        priors = (intercept_prior, prior)
        if method == "newton" and n_samples >= _chunked.MIN_ROWS:
            warm_start = init is None and separation is None
            result, hess, loglik = _fit_chunked(
                X, y, priors, scale, params0, tol, max_iter, warm_start
            )
        else:
            result, hess, loglik = _fit_in_memory(
                X,
                y,
                priors,
                scale,
                method,
                params0,
                tol,
                max_iter,
                seed=seed,
                learning_rate=learning_rate,
                batch_size=batch_size,
                epochs=epochs,
                average=average,
            )
        data_sha256 = digest.result()
    params = np.asarray(result.params)
    param_names = (INTERCEPT_NAME, *names)
    # Inverted in the optimizers' unit-scale coordinates (exactly: scale holds powers of
    # two), so that the singularity test does not depend on the units of X.
    outer_scale = np.outer(scale, scale)
    with warnings.catch_warnings():
        if separation is not None:  # the separation warning below says why it is singular
            warnings.simplefilter("ignore", ConvergenceWarning)
        cov = _covariance(n_samples * hess / outer_scale, param_names, X)
    cov = cov / outer_scale
    log_prior = float(_log_prior(params, intercept_prior, prior))
    n_iter, status = int(result.n_iter), int(result.status)
    converged = status == _ascent.CONVERGED
    message = _STATUS_MESSAGES[status]
    if separation is not None:
        converged, message = False, _separation_message(separation, estimator)
        warnings.warn(message, SeparationWarning, stacklevel=3)
    elif not converged:
        warnings.warn(
            f"{estimator.upper()} fit with method={method!r} did not converge: {message} "
            f"(largest gradient entry {float(result.optimality):.3g} > tol {tol:g} after "
            f"{n_iter} iterations). Increase max_iter/epochs, standardise the features, or "
            "use method='newton'.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return PointEstimate(
        estimator=estimator,
        method=method,
        params=params,
        cov=cov,
        feature_names=names,
        log_likelihood=loglik,
        log_posterior=loglik + log_prior if estimator == "map" else None,
        converged=converged,
        n_iter=n_iter,
        n_passes=int(result.n_passes),
        grad_norm=float(result.optimality),
        history=-n_samples * np.asarray(result.history)[: n_iter + 1],
        message=message,
        prior=prior,
        intercept_prior=intercept_prior,
        n_samples=n_samples,
        fit_time=time.perf_counter() - start,
        seed=seed,
        separation=separation,
        data_sha256=data_sha256,
        versions=versions(),
    )
