"""The result of a point fit, and the one place that builds it from an optimizer's outcome.

Every path that fits a point estimate (in memory, over row chunks, over sharded rows,
streaming from disk) ends in :func:`build`: it inverts the information matrix into the
covariance (in the optimizer's unit-scale coordinates, so that the singularity test
does not depend on the units of X), adds the log prior, and words the warnings about
separation and non-convergence the same way for all of them.
"""

import dataclasses
import html
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
import pandas as pd
from scipy import special, stats

from bayeslogreg import _interrupt
from bayeslogreg._formula import FormulaEncoding
from bayeslogreg._io import atomic_write_text
from bayeslogreg._provenance import versions
from bayeslogreg._validation import (
    INTERCEPT_NAME,
    NAME_ORIGINS,
    check_choice,
    check_level,
    check_offset,
    check_X,
    check_X_columns,
    degenerate_columns,
    generated_names,
)
from bayeslogreg.estimators import _effects, _persist, _profile
from bayeslogreg.estimators._objective import priors_log_density
from bayeslogreg.estimators._optimizer import CONVERGED, STATUS_MESSAGES, OptimizeResult
from bayeslogreg.estimators._prior_choice import summary_frame
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Prior, canonical
from bayeslogreg.separation import Separation

__all__ = [
    "Estimate",
    "FitContext",
    "Optimum",
    "PointEstimate",
    "build",
    "null_space",
    "separation_message",
    "with_formula",
]

_log_prior = jax.jit(priors_log_density)
#: The intervals of :meth:`PointEstimate.conf_int`.
CI_METHODS = ("wald", "profile")


class Estimate:
    """What every result of a fit offers beside its own fields.

    Subclasses have ``params`` (p + 1,), intercept first, ``feature_names``,
    ``feature_names_origin``, ``n_rows`` and ``formula`` (a :class:`FormulaEncoding` or
    None), and a ``_title`` and ``_table`` for their text and HTML displays.
    """

    def __post_init__(self):
        if self.feature_names_origin is None:  # a file saved before the origin was kept
            generated = self.feature_names == generated_names(len(self.feature_names))
            object.__setattr__(self, "feature_names_origin", "generated" if generated else "given")
        check_choice(self.feature_names_origin, "feature_names_origin", NAME_ORIGINS)

    def prior_summary(self):
        """Return the prior of each parameter as given and as used, a DataFrame by parameter.

        Columns ``given``, ``used``, ``scale``, ``spread`` and ``center``: see
        :func:`bayeslogreg.estimators._prior_choice.summary_frame`. A default coefficient
        prior shows ``Normal(0, 2.5 / spread)``; a centred intercept prior the columns'
        values it sits at.
        """
        return summary_frame(
            self.intercept_prior, self.prior, self.prior_choice, self.feature_names
        )

    def _checked_X(self, X, name: str = "X") -> np.ndarray:
        """Check new rows ``X``, their columns matched to ``feature_names`` (name or order).

        A fit of a formula encodes the data frame ``X`` with it instead.
        """
        if self.formula is not None:
            return check_X(self.formula.design(X, name), n_features=len(self.coef), name=name)
        return check_X_columns(X, self.feature_names, self.feature_names_origin, name=name)

    def _checked_X_offset(self, X, offset) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`_checked_X`, and ``offset`` (None or one finite number per row) checked.

        A fit of a formula also takes ``offset`` as the name of a column of the frame X.
        """
        checked = self._checked_X(X)
        if isinstance(offset, str):
            if self.formula is None or offset not in getattr(X, "columns", ()):
                raise ValueError(
                    f"offset={offset!r} names a column, which needs a fit of a formula and "
                    "a data frame X that has that column; otherwise pass one number per row."
                )
            offset = X[offset]
        return checked, None if offset is None else check_offset(offset, X, checked.shape[0])

    @property
    def intercept(self) -> float:
        """The intercept of ``params``."""
        return float(self.params[0])

    @property
    def coef(self) -> np.ndarray:
        """The coefficients of ``params``, shape (p,)."""
        return self.params[1:]

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("intercept", *feature_names)``."""
        return (INTERCEPT_NAME, *self.feature_names)

    @property
    def n_samples(self) -> int:
        """Deprecated name of ``n_rows`` (the rows of data), with a ``FutureWarning``."""
        warnings.warn(
            "n_samples is deprecated: it counts rows of data, now n_rows (num_samples "
            "counts draws per chain).",
            FutureWarning,
            stacklevel=2,
        )
        return self.n_rows

    def _heading(self) -> str:
        """Return the title, and the formula with its reference levels where there is one."""
        return self._title() + ("" if self.formula is None else f"\n{self.formula.describe()}")

    def __repr__(self) -> str:
        table = self._table().to_string(float_format=lambda v: f"{v:.4g}")
        return f"{self._heading()}\n{table}"

    def _repr_html_(self) -> str:
        table = self._table().to_html(float_format=lambda v: f"{v:.4g}", border=0)
        heading = "<br>".join(html.escape(line) for line in self._heading().splitlines())
        return f"<div><p>{heading}</p>{table}</div>"


@dataclass(frozen=True, repr=False)
class PointEstimate(Estimate):
    """Result of :func:`fit_mle` or :func:`fit_map`.

    Attributes
    ----------
    estimator : {"mle", "map"}
    method : str
        Optimizer used.
    params : ndarray of shape (p + 1,)
        Intercept first, then the coefficients.
    cov : ndarray of shape (p + 1, p + 1)
        Inverse observed information (MLE) or Laplace-approximation covariance (MAP);
        under the Jeffreys prior (Firth), the inverse Fisher information ``X1' W X1`` at
        the estimate, as R's logistf reports it.
    feature_names : tuple of str
    log_likelihood : float
        At ``params``, in nats; for binomial counts it includes
        ``sum_i w_i log C(n_i, k_i)``, as statsmodels' GLM ``llf`` and R's ``logLik``.
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
        each iteration: gradient *ascent* makes it increase. For binomial counts it
        leaves out the constant ``sum_i w_i log C(n_i, k_i)``.
    message : str
    prior, intercept_prior : Prior
    n_rows : int
        Rows of data (rows of weight 0 included).
    fit_time : float
        Seconds, compilation included.
    seed : int
    separation : Separation or None
        Set when the classes are separated along parameters with a flat prior (every
        parameter for the MLE): the estimate does not exist, ``params`` only went as
        far as the optimizer did. See :func:`bayeslogreg.separation.detect_separation`.
    data_sha256 : str or None
        SHA-256 of the validated data (X in its float dtype, then y as 0/1 in that dtype,
        then for weights, counts or offsets the float64 successes ``w k``, failures
        ``w (n - k)`` and offsets), to tell later which data a saved result came from.
    versions : dict or None
        Versions of Python, bayeslogreg, jax, numpyro, arviz, numpy and optax that fitted it.
    feature_names_origin : {"columns", "given", "generated"}
        Where ``feature_names`` came from: a data frame's columns, the ``feature_names``
        argument, or generated (x1, x2, ...) for an array. New data frames are matched
        to them by name unless they were generated.
    formula : FormulaEncoding or None
        For a fit of ``(formula, data=frame)``: the formula and its encoding (levels,
        transforms' state), with which :meth:`predict_proba` encodes new frames.
    n_obs : float or None
        Bernoulli observations fitted, ``sum_i w_i n_i`` (weights times trials); None
        for a plain 0/1 fit, whose ``n_rows`` it is.
    weighted, binomial, has_offset : bool
        Whether ``sample_weight``, ``trials`` and ``offset`` were given.
    saturated_log_likelihood : float or None
        Log-likelihood of the saturated model (each row's own proportion), for
        :attr:`deviance`; None stands for 0, its value for 0/1 labels.
    prior_choice : dict or None
        MAP: the priors as given (None for a default), ``autoscale``, and the columns'
        spreads that scaled the coefficient prior; see :meth:`prior_summary`.
    null_log_likelihood : float or None
        Log-likelihood of the intercept-only model on the same data (weights, counts and
        offset included; with an offset its intercept is fitted), for :attr:`llnull`;
        None in files of format version 3 or older, which did not record it.
    weight_sum : float or None
        Sum of ``sample_weight`` (statsmodels GLM's ``wnobs``), the ``n`` of :attr:`bic`;
        None without weights (``n_rows`` is).
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
    n_rows: int
    fit_time: float
    seed: int
    separation: Separation | None = None
    data_sha256: str | None = None
    versions: dict | None = None
    feature_names_origin: str | None = None
    formula: FormulaEncoding | None = None
    n_obs: float | None = None
    weighted: bool = False
    binomial: bool = False
    has_offset: bool = False
    saturated_log_likelihood: float | None = None
    prior_choice: dict | None = None
    null_log_likelihood: float | None = None
    weight_sum: float | None = None

    @property
    def stderr(self) -> np.ndarray:
        """Standard errors, shape (p + 1,): square roots of the diagonal of ``cov``."""
        return np.sqrt(np.diag(self.cov))

    @property
    def deviance(self) -> float:
        """Residual deviance as R's ``glm`` reports it: 2 (saturated - fitted log-likelihood).

        ``-2 log_likelihood`` for 0/1 labels (weighted or not); for binomial counts
        ``2 sum_i w_i [k_i log(k_i / mu_i) + (n_i - k_i) log((n_i - k_i) / (n_i - mu_i))]``.
        """
        return 2.0 * ((self.saturated_log_likelihood or 0.0) - self.log_likelihood)

    @property
    def aic(self) -> float:
        """Akaike's criterion ``-2 log_likelihood + 2 (p + 1)`` (as R's ``AIC`` of a glm)."""
        return -2.0 * self.log_likelihood + 2.0 * len(self.params)

    @property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model on the fit's data (statsmodels' name).

        NaN where the result does not record it (:attr:`null_log_likelihood` None).
        """
        return np.nan if self.null_log_likelihood is None else self.null_log_likelihood

    @property
    def llr(self) -> float:
        """Likelihood-ratio statistic ``2 (log_likelihood - llnull)`` against the null model.

        MLE only: a MAP estimate does not maximise the likelihood (``ValueError``).
        """
        self._require_mle("llr")
        return 2.0 * (self.log_likelihood - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        """P-value of :attr:`llr` under chi² with p degrees of freedom (MLE only)."""
        self._require_mle("llr_pvalue")
        return float(stats.chi2.sf(self.llr, len(self.coef)))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo-R² ``1 - log_likelihood / llnull``.

        For MAP at the MAP estimate: a description of the fit, not a test.
        """
        return 1.0 - self.log_likelihood / self.llnull

    @property
    def bic(self) -> float:
        """Schwarz's criterion ``-2 log_likelihood + (p + 1) log(n)``, as statsmodels'.

        ``n`` is the rows (Logit's ``nobs``), or the sum of ``sample_weight`` for a
        weighted fit (GLM's ``wnobs``; a binomial row counts once, not per trial). NaN
        for a weighted fit loaded from a file that did not record the sum.
        """
        if self.weighted and self.weight_sum is None:
            return np.nan
        n = self.n_rows if self.weight_sum is None else self.weight_sum
        return -2.0 * self.log_likelihood + len(self.params) * np.log(n)

    def _require_mle(self, name: str) -> None:
        if self.estimator != "mle":
            raise ValueError(
                f"{name} is a likelihood-ratio test of the maximum-likelihood fit; a MAP "
                "estimate does not maximise the likelihood, so the test does not apply. "
                "Use fit_mle for the test (llnull, prsquared, aic and bic are given for MAP)."
            )

    def odds_ratios(self, level: float = 0.95, method: str = "wald", **fit_data) -> pd.DataFrame:
        """Odds ratios ``exp(coef)`` with ``exp`` of the Wald (MLE) or Laplace (MAP) interval.

        ``method="profile"`` takes ``exp`` of the profile interval instead, and the fit's
        data as keywords (see :meth:`conf_int`).

        Returns
        -------
        DataFrame
            Indexed by feature (no intercept), columns ``estimate``, ``ci_lower`` and
            ``ci_upper``: the factor by which the odds of y = 1 change per unit of the
            feature.
        """
        lower, upper = np.exp(self.conf_int(level, method, **fit_data)[1:]).T
        columns = {"estimate": np.exp(self.coef), "ci_lower": lower, "ci_upper": upper}
        return pd.DataFrame(columns, index=pd.Index(self.feature_names, name="parameter"))

    def marginal_effects(
        self, X, *, level: float = 0.95, dummy: bool = True, offset=None, sample_weight=None
    ) -> pd.DataFrame:
        """Average marginal effects ``dP/dx_j`` over the rows ``X``, with delta-method errors.

        statsmodels' ``get_margeff(at="overall", method="dydx", dummy=dummy)``: the
        mean over rows of ``P (1 - P) beta_j``; with ``dummy=True`` a column of 0s and
        1s (statsmodels' rule) gets the mean of ``P(x_j = 1) - P(x_j = 0)`` instead.
        For a formula fit ``X`` is a frame the formula encodes, and the effects are per
        design column. ``sample_weight`` (n_samples,) makes the mean weighted (a weight of
        3 is the row three times); ``offset`` (n_samples,) is added to each log-odds.

        Returns
        -------
        DataFrame
            Indexed by feature, columns ``estimate`` (probability per unit of x_j),
            ``std_err``, ``z``, ``p_value``, ``ci_lower``, ``ci_upper``.
        """
        checked, offset = self._checked_X_offset(X, offset)
        weights = _effects.row_weights(sample_weight, checked.shape[0], X)
        return self._marginal_effects(checked, offset, weights, level=level, dummy=dummy)

    def _marginal_effects(self, X, offset, weights, *, level: float, dummy: bool):
        """:meth:`marginal_effects` of checked rows ``X`` and averaging ``weights``."""
        dummies = _effects.dummy_columns(X) if dummy else np.empty(0, dtype=int)
        parts = (X, offset, weights, dummies)
        effects = _effects.average_marginal_effects(self.params[None], *parts)[0]
        jacobian = _effects.marginal_effect_jacobian(self.params, *parts)
        std_err = np.sqrt(np.diag(jacobian @ self.cov @ jacobian.T))
        z, half = effects / std_err, special.ndtri(0.5 + check_level(level) / 2) * std_err
        columns = {"estimate": effects, "std_err": std_err, "z": z}
        columns |= {"p_value": 2 * special.ndtr(-np.abs(z))}
        columns |= {"ci_lower": effects - half, "ci_upper": effects + half}
        return pd.DataFrame(columns, index=pd.Index(self.feature_names, name="parameter"))

    def conf_int(self, level: float = 0.95, method: str = "wald", **fit_data) -> np.ndarray:
        """Interval of each parameter at ``level``, shape (p + 1, 2), intercept first.

        ``method="wald"`` (default): estimate +- z * stderr, the Wald interval (MLE) or
        that of the Laplace approximation (MAP). ``method="profile"``: the profile
        likelihood interval (MLE; R's ``confint`` of a ``glm``) or profile penalised
        likelihood interval (MAP; logistf's for the Jeffreys prior), which needs the
        fit's data, given as to the fit: ``X``, ``y`` (or the formula and ``data``),
        ``sample_weight``, ``trials``, ``offset``, ``missing`` (see :meth:`profile`).

        Examples
        --------
        >>> from bayeslogreg import fit_mle
        >>> from bayeslogreg.datasets import load_effort
        >>> data = load_effort()
        >>> fit = fit_mle(data.X, data.y)
        >>> fit.conf_int(method="profile", X=data.X, y=data.y).round(2)
        array([[-5.08, -3.98],
               [ 2.44,  3.07]])
        """
        if check_choice(method, "method", CI_METHODS) == "profile":
            return self._profile(fit_data).conf_int(level)
        self._no_fit_data(fit_data)
        z = special.ndtri(0.5 + check_level(level) / 2)
        return np.column_stack([self.params - z * self.stderr, self.params + z * self.stderr])

    def profile(
        self,
        X,
        y=None,
        *,
        data=None,
        missing: str = "raise",
        sample_weight=None,
        trials=None,
        offset=None,
    ) -> "_profile.Profile":
        """Return the profile of the fit's objective over each parameter, on the fit's data.

        Results do not keep their rows, so the data are given again, as to the fit
        (checked the same way, and refused when they do not hash to ``data_sha256``).
        The :class:`~bayeslogreg.estimators._profile.Profile` gives ``conf_int(level)``
        (profile intervals), ``lr_test()`` (likelihood-ratio chi² and p-value of each
        parameter against 0) and ``deviance(parameter, value)``. ``ValueError`` for
        Laplace priors (non-smooth) and for fits of 2**19 rows or more.
        """
        return _profile.profile(
            self,
            X,
            y,
            data=data,
            missing=missing,
            sample_weight=sample_weight,
            trials=trials,
            offset=offset,
        )

    def _profile(self, fit_data: dict) -> "_profile.Profile":
        if "X" not in fit_data:
            raise ValueError(
                "method='profile' refits on the fit's data, which a result does not keep: "
                "give them as to the fit, e.g. fit.conf_int(method='profile', X=X, y=y)."
            )
        return self.profile(**fit_data)

    @staticmethod
    def _no_fit_data(fit_data: dict) -> None:
        if fit_data:
            raise ValueError(
                f"{sorted(fit_data)} are the fit's data, which only method='profile' uses; "
                "drop them or pass method='profile'."
            )

    def predict_proba(self, X, offset=None) -> np.ndarray:
        """Probability that y = 1 for each row of X, shape (n_samples,).

        A data frame's columns are matched to ``feature_names`` by name when the fit had
        names (see :attr:`feature_names_origin`); an array's are taken in that order. A
        fit of a formula takes a data frame and encodes it with the formula.
        ``offset`` (n_samples,) is added to each row's log-odds, as in the fit's
        ``offset`` (a fit with an offset needs one here too, or its predictions leave it
        out); a fit of a formula also takes the name of a column of X.
        """
        X, offset = self._checked_X_offset(X, offset)
        return self._predict(X, offset)

    def _predict(self, X: np.ndarray, offset=None) -> np.ndarray:
        """:meth:`predict_proba` of rows already checked (an array in fitted order)."""
        eta = self.intercept + X @ self.coef
        return special.expit(eta if offset is None else eta + offset)

    def summary(self, level: float = 0.95, method: str = "wald", **fit_data) -> pd.DataFrame:
        """Table of estimate, std_err, the test and the interval, one row per parameter.

        ``method="wald"``: columns ``estimate``, ``std_err``, ``z``, ``p_value`` (each
        parameter against 0 by the normal approximation), ``ci_lower``, ``ci_upper``.
        ``method="profile"`` (the fit's data as keywords, see :meth:`conf_int`): ``z``
        gives way to ``chi2``, the likelihood-ratio statistic (penalised for MAP), whose
        chi²(1) tail is ``p_value``, and the interval is the profile interval, as in
        logistf's summary.
        """
        columns = {"estimate": self.params, "std_err": self.stderr}
        if check_choice(method, "method", CI_METHODS) == "profile":
            profile = self._profile(fit_data)
            columns |= profile.lr_test().to_dict("list")
            lower, upper = profile.conf_int(level).T
        else:
            self._no_fit_data(fit_data)
            z = self.params / self.stderr
            columns |= {"z": z, "p_value": 2 * special.ndtr(-np.abs(z))}
            lower, upper = self.conf_int(level).T
        columns |= {"ci_lower": lower, "ci_upper": upper}
        return pd.DataFrame(columns, index=pd.Index(self.param_names, name="parameter"))

    def _title(self) -> str:
        title = f"PointEstimate({self.estimator.upper()}, method={self.method!r}, "
        title += f"converged={self.converged}, n_iter={self.n_iter}, n={self.n_rows})"
        return f"{title}\n{self.fit_statistics()}"

    def fit_statistics(self) -> str:
        """One line as statsmodels' Logit summary heads its table (LLR p-value MLE only).

        ``Log-Likelihood``, ``LL-Null``, ``LLR p-value``, ``Pseudo R-squ.``, ``AIC``,
        ``BIC``, each to 4 significant digits.
        """
        shown = {"Log-Likelihood": self.log_likelihood, "LL-Null": self.llnull}
        if self.estimator == "mle":
            shown["LLR p-value"] = self.llr_pvalue
        shown |= {"Pseudo R-squ.": self.prsquared, "AIC": self.aic, "BIC": self.bic}
        return "  ".join(f"{name}: {value:.4g}" for name, value in shown.items())

    def _table(self) -> pd.DataFrame:
        return self.summary()

    def save(self, path) -> Path:
        """Write this result to ``path`` as a JSON document, atomically.

        Every field is kept exactly: floats bit for bit (infinite or NaN entries of
        ``cov`` included), priors by class name and parameters. The file is written
        beside ``path`` and renamed over it, so a failed save leaves an older file intact
        and raises one ``OSError`` naming ``path`` and the cause; what a killed save left
        beside ``path`` is removed by the next save there.

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> from bayeslogreg import fit_mle
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


def with_formula(result, formula: FormulaEncoding | None):
    """Return ``result`` (a frozen dataclass of :class:`Estimate`) carrying ``formula``."""
    return result if formula is None else dataclasses.replace(result, formula=formula)


def null_space(matrix: np.ndarray, rel_tol: float):
    """Eigen-decomposition of a symmetric PSD matrix and where it is singular.

    Returns ``eigenvalues``, ``vectors``, ``singular`` (eigenvalues at most ``rel_tol``
    times the largest) and ``involved``: the coordinates with a loading above 0.1 on a
    singular eigenvector, i.e. the parameters that the matrix does not pin down.
    """
    eigenvalues, vectors = np.linalg.eigh(matrix)
    singular = eigenvalues <= rel_tol * max(eigenvalues.max(), 0.0)
    involved = np.abs(vectors[:, singular]).max(axis=1, initial=0.0) > 0.1
    return eigenvalues, vectors, singular, involved


def separation_message(separation: Separation, estimator: str) -> str:
    estimate = "maximum-likelihood estimate" if estimator == "mle" else "MAP under flat priors"
    return (
        f"{separation}, so the {estimate} does not exist: the coefficients diverge, and the "
        "reported values and standard errors are meaningless. Use fit_map with a proper "
        "prior (e.g. prior=Normal(0, 2.5) on standardised features) or sample_posterior."
    )


def _covariance(information: np.ndarray, param_names, X: np.ndarray) -> np.ndarray:
    """Inverse of the (symmetric) information matrix, warning where it is singular.

    The warning names the parameters involved and, where X shows why, the constant or
    repeated columns.
    """
    eigenvalues, vectors, singular, involved = null_space(information, rel_tol=1e-12)
    if not singular.any():
        return (vectors / eigenvalues) @ vectors.T
    names = [name for name, flag in zip(param_names, involved, strict=True) if flag]
    causes = degenerate_columns(X, param_names[1:]) or ["collinear columns?"]
    warnings.warn(
        f"the information matrix is singular: parameters {names} are not identified by "
        f"the data ({'; '.join(causes)}). Their standard errors are reported as infinite; "
        "drop redundant columns or use fit_map with a proper prior.",
        ConvergenceWarning,
        stacklevel=5,
    )
    kept = ~singular
    cov = (vectors[:, kept] / eigenvalues[kept]) @ vectors[:, kept].T
    cov[involved, involved] = np.inf
    return cov


class Optimum(NamedTuple):
    """What a fit's optimizer leaves: its outcome and the curvature and fit there.

    outcome : OptimizeResult, in ``params`` (NumPy or JAX values); hess : (p + 1, p + 1)
    per-row Hessian of ``f`` (minus the log posterior over n) at ``outcome.params``, or
    the per-row Fisher information for the Jeffreys prior (logistf's covariance);
    log_likelihood : float, there, in nats; log_prior : the log prior density there where
    the fit computed it (the Jeffreys prior's depends on the data), None for
    :func:`build` to compute it from the priors.
    """

    outcome: OptimizeResult
    hess: np.ndarray
    log_likelihood: float
    log_prior: float | None = None


class FitContext(NamedTuple):
    """The data and model side of a fit, as the result reports them.

    estimator : "mle" or "map"; feature_names : tuple of str; feature_names_origin : str;
    priors : (intercept_prior,
    prior); n_rows : int; scale : (p + 1,) the optimizer's coordinate scale (powers of
    two); X_sample : (m, p) rows of X (all, or the first of data too big to scan) in
    which the singular-information warning looks for constant and repeated columns;
    separation : Separation or None; data_sha256 : str or None; seed : int; start_time :
    ``time.perf_counter()`` when the fit began; observations :
    :class:`~._observations.Observations` of weighted, binomial or offset data, or None.
    """

    estimator: str
    feature_names: tuple[str, ...]
    feature_names_origin: str
    priors: tuple[Prior, Prior]
    n_rows: int
    scale: np.ndarray
    X_sample: np.ndarray
    separation: Separation | None
    data_sha256: str | None
    seed: int
    start_time: float
    observations: object = None
    prior_choice: dict | None = None
    null_log_likelihood: float | None = None


def build(context: FitContext, solver, optimum: Optimum) -> PointEstimate:
    """Build the :class:`PointEstimate` of an optimizer's optimum, with its warnings.

    ``solver`` describes the optimizer: its ``name`` (the result's ``method``), ``tol``,
    ``iteration_unit`` (what ``n_iter`` counts) and ``remedy`` (what to try when the fit
    did not converge), as the objects of :mod:`bayeslogreg.solvers` have them.
    """
    estimator, feature_names, origin, (intercept_prior, prior), n_rows, scale = context[:6]
    separation, outcome = context.separation, optimum.outcome
    observations = context.observations
    # What f is a mean over: rows, or the Bernoulli trials that weights and counts make.
    size = n_rows if observations is None else observations.total
    params = np.asarray(outcome.params, dtype=np.float64)
    param_names = (INTERCEPT_NAME, *feature_names)
    outer_scale = np.outer(scale, scale)
    with warnings.catch_warnings():
        if separation is not None:  # the separation warning below says why it is singular
            warnings.simplefilter("ignore", ConvergenceWarning)
        information = size * np.asarray(optimum.hess) / outer_scale
        cov = _covariance(information, param_names, context.X_sample)
    cov = cov / outer_scale
    n_iter, status = int(outcome.n_iter), int(outcome.status)
    optimality = float(outcome.optimality)
    converged = status == CONVERGED
    message = STATUS_MESSAGES[status]
    if separation is not None:
        converged, message = False, separation_message(separation, estimator)
        warnings.warn(message, SeparationWarning, stacklevel=4)
    elif not converged:
        warnings.warn(
            f"{estimator.upper()} fit with solver {solver.name!r} did not converge: {message} "
            f"(largest gradient entry {optimality:.3g} > tol {solver.tol:g} after {n_iter} "
            f"{solver.iteration_unit}). {solver.remedy}",
            ConvergenceWarning,
            stacklevel=4,
        )
    log_likelihood = float(optimum.log_likelihood)
    if observations is not None:
        log_likelihood += observations.log_binomial
    log_prior = optimum.log_prior
    if log_prior is None:
        shared = canonical(intercept_prior, prior, len(feature_names))  # one program for all
        log_prior = float(_interrupt.call(_log_prior, params, *shared))
    return PointEstimate(
        estimator=estimator,
        method=solver.name,
        params=params,
        cov=cov,
        feature_names=feature_names,
        log_likelihood=log_likelihood,
        log_posterior=log_likelihood + log_prior if estimator == "map" else None,
        converged=converged,
        n_iter=n_iter,
        n_passes=int(outcome.n_passes),
        grad_norm=optimality,
        history=-size * np.asarray(outcome.history)[: n_iter + 1],
        message=message,
        prior=prior,
        intercept_prior=intercept_prior,
        n_rows=n_rows,
        fit_time=time.perf_counter() - context.start_time,
        seed=context.seed,
        separation=separation,
        data_sha256=context.data_sha256,
        versions=versions(),
        feature_names_origin=origin,
        prior_choice=context.prior_choice,
        null_log_likelihood=context.null_log_likelihood,
        **_observation_fields(observations),
    )


def _observation_fields(observations) -> dict:
    """Return the PointEstimate fields that record weights, counts and offsets."""
    if observations is None:
        return {}
    return {
        "n_obs": observations.total,
        "weighted": observations.weighted,
        "binomial": observations.binomial,
        "has_offset": observations.has_offset,
        "saturated_log_likelihood": observations.saturated,
        "weight_sum": float(observations.weights.sum()) if observations.weighted else None,
    }
