"""Profile-likelihood intervals and likelihood-ratio tests of a point fit.

For parameter j, the profile of the fit's objective ``F`` (the log-likelihood for the
MLE, the log posterior for MAP: the objective the fit maximised) is
``F_p(b) = max F over the other parameters with params_j = b``. The interval at ``level``
is ``{b : 2 (F(hat) - F_p(b)) <= chi2_1(level)}`` (R's ``confint`` of a ``glm`` through
MASS's profile; for the Jeffreys prior, logistf's profile penalised-likelihood interval),
and ``2 (F(hat) - F_p(0))`` is the likelihood-ratio statistic of ``params_j = 0``, chi² with
one degree of freedom.

Each ``F_p(b)`` is the Newton of :mod:`._newton` on the other parameters, warm-started
from the last one, in one compiled program that takes the parameter's index and value as
arguments. The bounds are the roots of the signed root ``sign(b - hat) sqrt(2 (F(hat) -
F_p(b)))`` minus the normal quantile, bracketed from the Wald bounds outwards and found by
Brent's method.
"""

import sys
import warnings
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bayeslogreg import _interrupt
from bayeslogreg._formula import resolve
from bayeslogreg._jax import entry_point
from bayeslogreg._provenance import data_hash
from bayeslogreg._validation import check_level
from bayeslogreg.estimators._chunked import MIN_ROWS
from bayeslogreg.estimators._newton import (
    VALUE,
    Settings,
    init,
    is_done,
    step,
)
from bayeslogreg.estimators._objective import (
    ScaledObjective,
    column_sum_squares,
    device_problem,
    scale_from_sum_squares,
)
from bayeslogreg.estimators._observations import check_fit_data
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Laplace

__all__ = ["Profile", "profile"]

#: Tolerance of each constrained fit: the largest gradient entry per row, in unit-scale
#: coordinates. Newton converges quadratically, so F_p is then exact to rounding.
TOL = 1e-10
#: Iterations of one constrained fit (separated directions use them all).
MAX_ITER = 100
#: A bound's bracket starts at the Wald bound and doubles its distance from the estimate
#: at most this many times (to 2**12 Wald half-widths) before the bound is infinite.
MAX_EXPANSIONS = 12
#: Brent's method stops within XTOL + RTOL |b| of the bound.
XTOL, RTOL = 1e-12, 1e-12


def _warn(message: str, separated: bool) -> None:
    """Warn at the first caller outside bayeslogreg, whichever method led here."""
    package, frame, level = str(Path(__file__).parents[1]), sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    category = SeparationWarning if separated else ConvergenceWarning
    warnings.warn(message, category, stacklevel=level)


@partial(jax.jit, static_argnames="max_iter")
def _constrained_fit(problem, z0, index, value, tol, max_iter: int):
    """Minimise ``f`` of ``problem`` over ``z`` (unit-scale coordinates) with ``z[index] = value``.

    ``index`` (an integer) and ``value`` are traced, so one program serves every
    parameter and value; ``index`` = p + 1 (no parameter) fixes none, the full fit.
    Returns ``z`` (p + 1,), ``f`` there (per row) and the Newton status.
    """
    objective = ScaledObjective.of(problem, z0.shape[0])
    n_params = z0.shape[0]
    free = jnp.arange(n_params) != index
    both_free = free[:, None] & free[None, :]
    zeros = jnp.zeros(n_params)

    def evaluate(z):
        # The fixed coordinate's gradient is 0 and its Hessian row that of the identity,
        # so every Newton direction leaves it where it is.
        f, grad, hess = objective.value_grad_hess(z)
        return f, jnp.where(free, grad, 0.0), jnp.where(both_free, hess, jnp.eye(n_params))

    def value_only(z):
        return objective.value(z), zeros, jnp.zeros((n_params, n_params))

    settings = Settings(zeros, zeros, tol)

    def evaluate_and_step(s):
        evaluation = jax.lax.cond(s.request == VALUE, value_only, evaluate, s.point)
        return step(s, evaluation, settings, max_iter=max_iter, has_l1=False)

    state = init(jnp.where(free, z0, value), max_iter=max_iter)
    state = jax.lax.while_loop(lambda s: ~is_done(s), evaluate_and_step, state)
    return state.z, state.value, state.status


class Profile:
    """The profile of a point fit's objective over each of its parameters, on its data.

    Made by :meth:`~bayeslogreg.PointEstimate.profile`. ``F`` is the log-likelihood for
    an MLE and the log posterior (penalised log-likelihood) for a MAP fit. The estimate
    ``params`` (p + 1,) is the fit's, polished by Newton to a gradient of 1e-10 per row,
    so that ``F(hat)`` is the maximum to rounding.

    Examples
    --------
    >>> from bayeslogreg import fit_mle
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> profile = fit_mle(data.X, data.y).profile(data.X, data.y)
    >>> profile.conf_int(0.9).round(2)
    array([[-4.99, -4.06],
           [ 2.48,  3.02]])
    >>> round(profile.deviance("x1", 2.5), 2)
    2.38
    """

    def __init__(self, fit, problem):
        self.fit = fit
        self._problem = problem
        self._scale = np.asarray(problem.scale)
        self._size = float(problem.size)
        self._separated = fit.separation is not None
        n_params = len(fit.params)
        z, f_hat, _ = self._solve(fit.params * self._scale, n_params, 0.0)
        #: Estimate (p + 1,) at which ``F`` is maximal, intercept first.
        self.params = z / self._scale
        self._f_hat = f_hat

    def _solve(self, z0, index: int, value: float):
        z, f, status = _interrupt.call(
            _constrained_fit,
            self._problem,
            jnp.asarray(z0),
            np.int32(index),
            np.float64(value),
            np.float64(TOL),
            max_iter=MAX_ITER,
        )
        return np.asarray(z), float(f), int(status)

    def _index(self, parameter) -> int:
        names = self.fit.param_names
        if parameter not in names:
            raise ValueError(f"parameter must be one of {list(names)}; got {parameter!r}.")
        return names.index(parameter)

    def _deviance(self, index: int, value: float, z0):
        """``2 (F(hat) - F_p(value))`` (>= 0) and the constrained optimum ``z``."""
        z, f, _ = self._solve(z0, index, value * self._scale[index])
        return max(2.0 * self._size * (f - self._f_hat), 0.0), z

    @entry_point
    def deviance(self, parameter: str, value: float) -> float:
        """``2 (F(hat) - F_p(value))`` of the parameter named ``parameter``, in nats x 2.

        The likelihood-ratio (MLE) or penalised likelihood-ratio (MAP) statistic of
        ``parameter = value``; the profile interval at ``level`` is where it is at most
        ``chi2_1(level)``.
        """
        index = self._index(parameter)
        return self._deviance(index, float(value), self.params * self._scale)[0]

    @entry_point
    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Profile interval of each parameter, shape (p + 1, 2), intercept first.

        A bound that does not close within 2**12 Wald half-widths of the estimate
        (a separated direction, or a flat one) is ``-inf`` or ``inf``, with a
        :class:`~bayeslogreg.exceptions.SeparationWarning` for a separated fit and a
        :class:`~bayeslogreg.exceptions.ConvergenceWarning` otherwise.
        """
        quantile = float(special.ndtri(0.5 + check_level(level) / 2))
        bounds = np.empty((len(self.params), 2))
        for index in range(len(self.params)):
            for column, side in enumerate((-1.0, 1.0)):
                bounds[index, column] = self._bound(index, side, quantile, level)
        return bounds

    def _bound(self, index: int, side: float, quantile: float, level: float) -> float:
        """Return the bound of ``index`` on ``side`` (-1 lower, +1 upper): signed root ±q."""
        hat = self.params[index]
        stderr = self.fit.stderr[index]
        half_width = quantile * stderr if np.isfinite(stderr) and stderr > 0 else 1.0
        z = self.params * self._scale
        inner, deviance = hat, 0.0
        for _ in range(MAX_EXPANSIONS + 1):
            outer = hat + side * half_width
            deviance, z_outer = self._deviance(index, outer, z)
            if not np.isfinite(deviance) or deviance >= quantile**2:
                break
            inner, z, half_width = outer, z_outer, 2.0 * half_width
        if not deviance >= quantile**2:
            self._warn_open(index, side, abs(outer - hat), level)
            return side * np.inf
        warm = [z]

        def signed_root_gap(value):
            deviance, warm[0] = self._deviance(index, value, warm[0])
            return np.sqrt(deviance) - quantile

        root = optimize.brentq(signed_root_gap, inner, outer, xtol=XTOL, rtol=RTOL, disp=False)
        return float(root)

    def _warn_open(self, index: int, side: float, distance: float, level: float) -> None:
        name = self.fit.param_names[index]
        objective = "log-likelihood" if self.fit.estimator == "mle" else "log posterior"
        cause = (
            "as the classes are separated (see the fit's separation)"
            if self._separated
            else "as the data and prior hardly constrain it that way"
        )
        _warn(
            f"the {level:g} profile interval of {name!r} does not close on the "
            f"{'upper' if side > 0 else 'lower'} side: the {objective} stays within "
            f"chi2_1({level:g}) / 2 of its maximum up to {distance:.3g} from the estimate, "
            f"{cause}; that bound is reported as {side * np.inf}.",
            self._separated,
        )

    @entry_point
    def lr_test(self) -> pd.DataFrame:
        """Likelihood-ratio test of each parameter against 0, one row per parameter.

        Columns ``chi2``, ``2 (F(hat) - F_p(0))`` (the deviance of dropping the parameter,
        as R's ``drop1(fit, test = "Chisq")``; penalised for MAP, as logistf's), and
        ``p_value``, its chi² tail with 1 degree of freedom.
        """
        z_hat = self.params * self._scale
        chi2 = np.array([self._deviance(j, 0.0, z_hat)[0] for j in range(len(self.params))])
        frame = {"chi2": chi2, "p_value": stats.chi2.sf(chi2, 1)}
        return pd.DataFrame(frame, index=pd.Index(self.fit.param_names, name="parameter"))


@entry_point
def profile(
    fit,
    X,
    y=None,
    *,
    data=None,
    missing: str = "raise",
    sample_weight=None,
    trials=None,
    offset=None,
) -> Profile:
    """Return the :class:`Profile` of ``fit`` on its data, given again as to the fit.

    The data are checked as the fit checked them and, where the fit recorded
    ``data_sha256``, must hash to it. Laplace priors (a kink at their centre) and data of
    2**19 rows or more (fitted over row chunks) are refused with a ``ValueError``.
    """
    for name, prior in (("prior", fit.prior), ("intercept_prior", fit.intercept_prior)):
        if isinstance(prior, Laplace):
            raise ValueError(
                f"method='profile' needs a smooth objective, but {name} is {prior!r}, whose "
                "log-density has a kink at its centre, where the profile is not a "
                "likelihood-ratio curve. Use method='wald' or sample_posterior for "
                "intervals of an L1 fit."
            )
    if fit.n_rows >= MIN_ROWS:
        raise ValueError(
            f"method='profile' refits every parameter many times with all rows on the "
            f"device; this fit has {fit.n_rows} rows (2**19 or more are fitted over row "
            "chunks). Use method='wald', which at this size differs from the profile "
            "interval only near separation."
        )
    rows = (sample_weight, trials, offset)
    X, y, _, _, rows = resolve(X, y, data=data, missing=missing, rows=rows)
    sample_weight, trials, offset = rows
    X, y, _, observations = check_fit_data(
        X, y, None, sample_weight=sample_weight, trials=trials, offset=offset
    )
    if observations is None:
        target, n_obs, row_weights, hashed = y, X.shape[0], None, (X, y)
    else:
        target, n_obs = observations.counts(np.float64), observations.total
        row_weights, hashed = observations.weighted_rows(), (X, y, *observations[:3])
    if X.shape[1] != len(fit.coef) or (
        fit.data_sha256 is not None and data_hash(*hashed) != fit.data_sha256
    ):
        raise ValueError(
            "the data given are not those the fit was fitted on (their SHA-256 differs "
            "from the fit's data_sha256); pass the same X, y (or formula and data), "
            "sample_weight, trials and offset as to the fit."
        )
    priors = (fit.intercept_prior, fit.prior)
    sum_squares = column_sum_squares(X, row_weights)
    scale = scale_from_sum_squares(sum_squares, n_obs, priors)
    return Profile(fit, device_problem(X, target, priors, scale, n_obs))
