"""Profile-likelihood intervals and likelihood-ratio tests (``conf_int(method="profile")``).

References: a brute-force profile (SciPy's trust-region Newton on a NumPy
log-likelihood for each constrained fit, Brent's method on the signed root), and
statsmodels' likelihood-ratio statistic from nested fits (the model without the column).
Tolerance 1e-9 (absolute on the bounds, relative on the statistics): both sides solve
each constrained fit by Newton to a gradient of 1e-10 or less, which leaves the profile
exact to rounding (~1e-13 on these data), and Brent's method runs to 1e-12; measured
1e-12 on the bounds and 1e-13 relative on the statistics.
"""

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, special, stats

from bayeslogreg import fit_map, fit_mle, priors
from bayeslogreg.estimators import _profile
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Flat, Laplace, Normal
from bayeslogreg.solvers import Newton

EXACT = Newton(tol=1e-12)
LEVEL = 0.95
# R's logistf profile penalised-likelihood 95% intervals (Firth's, the Jeffreys prior),
# intercept first here, as published with 7-8 significant digits in the tests of the
# firthlogist package (github.com/jzluo/firthlogist, firthlogist/tests/
# test_firthlogist.py), the source of tests/estimators/test_firth.py's numbers.
LOGISTF_PROFILE_CI = {
    "sex2": [
        [-0.8185591, 1.07315122],
        [-1.9737884, -0.30742514],
        [-0.9414363, 0.78920202],
        [1.2730216, 3.43543273],
        [-3.2608611, -1.11773495],
        [-1.6080879, 0.01518468],
        [0.7745682, 8.03029352],
    ],
    "endometrial": [
        [1.0825371, 7.20928050],
        [0.6097244, 7.85463171],
        [-0.1244587, 0.04045547],
        [-4.3651832, -1.23272106],
    ],
}
FIRTH_DATA = {"sex2": ("case", ["age", "oc", "vic", "vicl", "vis", "dia"]),
              "endometrial": ("HG", ["NV", "PI", "EH"])}  # fmt: skip


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog.to_numpy(), data.endog.to_numpy()


@pytest.fixture(scope="module")
def counts():
    """star98 (303 rows of binomial counts), three columns standardised, with an offset."""
    data = sm.datasets.star98.load_pandas()
    X = data.exog[["LOWINC", "PERASIAN", "PERBLACK"]].to_numpy()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    k = data.endog["NABOVE"].to_numpy()
    n = k + data.endog["NBELOW"].to_numpy()
    offset = np.random.default_rng(0).normal(0.0, 0.3, len(k))
    weights = np.random.default_rng(1).integers(1, 4, len(k)).astype(float)
    return X, k, n, offset, weights


class BruteForce:
    """Minus the log posterior of ``[intercept, coef]`` in NumPy, and its profile by SciPy.

    ``a``, ``b``: successes and failures per row (weights included); ``precision``
    (p + 1, p + 1) that of a Normal(0, .) prior on ``[intercept, coef]`` (None: flat).
    """

    def __init__(self, X, a, b, offset=None, precision=None):
        self.X1 = np.column_stack([np.ones(len(X)), X])
        self.a, self.b = np.asarray(a, float), np.asarray(b, float)
        self.offset = np.zeros(len(X)) if offset is None else offset
        p1 = self.X1.shape[1]
        self.precision = np.zeros((p1, p1)) if precision is None else precision
        self.hat = self._minimize(np.zeros(p1), None, 0.0)
        self.f_hat = self.value(self.hat)

    def value(self, theta):
        eta = self.X1 @ theta + self.offset
        loglik = self.a @ eta - (self.a + self.b) @ np.logaddexp(0.0, eta)
        return -loglik + 0.5 * theta @ self.precision @ theta

    def grad(self, theta):
        mu = special.expit(self.X1 @ theta + self.offset)
        return -self.X1.T @ (self.a - (self.a + self.b) * mu) + self.precision @ theta

    def hess(self, theta):
        mu = special.expit(self.X1 @ theta + self.offset)
        weights = (self.a + self.b) * mu * (1 - mu)
        return (self.X1.T * weights) @ self.X1 + self.precision

    def _minimize(self, start, index, value):
        free = np.ones(len(start), bool) if index is None else np.arange(len(start)) != index

        def full(sub):
            theta = np.array(start, float)
            theta[free] = sub
            if index is not None:
                theta[index] = value
            return theta

        result = optimize.minimize(
            lambda sub: self.value(full(sub)),
            start[free],
            jac=lambda sub: self.grad(full(sub))[free],
            hess=lambda sub: self.hess(full(sub))[np.ix_(free, free)],
            method="trust-exact",
            options={"gtol": 1e-10},
        )
        sub = result.x
        for _ in range(3):  # trust-exact may stop early on ill-conditioned problems: polish
            theta = full(sub)
            sub = sub - np.linalg.solve(
                self.hess(theta)[np.ix_(free, free)], self.grad(theta)[free]
            )
        return full(sub)

    def deviance(self, index, value):
        constrained = self._minimize(self.hat, index, value)
        return max(2.0 * (self.value(constrained) - self.f_hat), 0.0)

    def interval(self, index, stderr, level=LEVEL):
        q = special.ndtri(0.5 + level / 2)
        bounds = []
        for side in (-1.0, 1.0):
            outer = self.hat[index] + side * 2 * q * stderr
            while self.deviance(index, outer) < q**2:
                outer += side * 2 * q * stderr
            gap = lambda v: np.sqrt(self.deviance(index, v)) - q  # noqa: E731
            bounds.append(optimize.brentq(gap, self.hat[index], outer, xtol=1e-12))
        return bounds


def test_mle_profile_intervals_equal_a_brute_force_profile(spector):
    X, y = spector
    fit = fit_mle(X, y, solver=EXACT)
    reference = BruteForce(X, y, 1 - y)
    intervals = fit.conf_int(LEVEL, method="profile", X=X, y=y)
    expected = [reference.interval(j, fit.stderr[j]) for j in range(len(fit.params))]
    np.testing.assert_allclose(intervals, expected, rtol=0, atol=1e-9)
    # On 32 rows the profile interval is not the Wald one (by up to ~0.5 here).
    assert np.abs(intervals - fit.conf_int(LEVEL)).max() > 0.1


@pytest.mark.parametrize("priors", ["explicit", "default"])
def test_map_profile_intervals_equal_a_brute_force_penalised_profile(spector, priors):
    X, y = spector
    if priors == "explicit":
        fit = fit_map(X, y, prior=Normal(0, 1.5), intercept_prior=Normal(0, 5), solver=EXACT)
        precision = np.diag(1 / np.square([5.0, 1.5, 1.5, 1.5]))
    else:  # autoscaled Normal(0, 2.5 / s_j), and Normal(0, 2.5) on the log-odds at the means
        fit = fit_map(X, y, solver=EXACT)
        precision = np.diag(np.concatenate([[0.0], 1 / np.square(fit.prior.scale)]))
        at_means = np.concatenate([[1.0], fit.intercept_prior.center])
        precision += np.outer(at_means, at_means) / fit.intercept_prior.prior.scale**2
    reference = BruteForce(X, y, 1 - y, precision=precision)
    profile = fit.profile(X, y)
    np.testing.assert_allclose(profile.params, reference.hat, rtol=0, atol=1e-8)
    expected = [reference.interval(j, fit.stderr[j], 0.9) for j in range(len(fit.params))]
    np.testing.assert_allclose(profile.conf_int(0.9), expected, rtol=0, atol=1e-9)
    chi2 = [reference.deviance(j, 0.0) for j in range(len(fit.params))]
    np.testing.assert_allclose(profile.lr_test()["chi2"], chi2, rtol=1e-9)


def test_weighted_binomial_fits_with_an_offset_are_profiled_with_them(counts):
    X, k, n, offset, weights = counts
    fit = fit_mle(X, k, trials=n, offset=offset, sample_weight=weights, solver=EXACT)
    profile = fit.profile(X, k, trials=n, offset=offset, sample_weight=weights)
    reference = BruteForce(X, weights * k, weights * (n - k), offset)
    expected = [reference.interval(j, fit.stderr[j]) for j in (0, 2)]
    np.testing.assert_allclose(profile.conf_int()[[0, 2]], expected, rtol=0, atol=1e-9)
    # The LR test of each column equals statsmodels' GLM with and without it.
    endog = np.column_stack([k, n - k])
    design = sm.add_constant(X)

    def llf(columns):
        model = sm.GLM(endog, design[:, columns], sm.families.Binomial(), offset=offset,
                       freq_weights=weights)  # fmt: skip
        return model.fit(tol=1e-14, maxiter=100).llf

    full = llf([0, 1, 2, 3])
    chi2 = [2 * (full - llf([c for c in range(4) if c != j])) for j in range(4)]
    np.testing.assert_allclose(profile.lr_test()["chi2"], chi2, rtol=1e-9)


def test_lr_p_values_equal_statsmodels_nested_fits(spector):
    X, y = spector
    fit = fit_mle(X, y, solver=EXACT)
    design = sm.add_constant(X)
    full = sm.Logit(y, design).fit(disp=0, tol=1e-14)
    chi2, p_values = [], []
    for j in range(design.shape[1]):
        nested = sm.Logit(y, np.delete(design, j, axis=1)).fit(disp=0, tol=1e-14)
        chi2.append(2 * (full.llf - nested.llf))
        p_values.append(stats.chi2.sf(chi2[-1], 1))
    table = fit.summary(method="profile", X=X, y=y)
    assert list(table.columns) == ["estimate", "std_err", "chi2", "p_value", "ci_lower", "ci_upper"]
    np.testing.assert_allclose(table["chi2"], chi2, rtol=1e-9)
    np.testing.assert_allclose(table["p_value"], p_values, rtol=1e-9)
    odds = fit.odds_ratios(method="profile", X=X, y=y)
    np.testing.assert_allclose(odds[["ci_lower", "ci_upper"]], np.exp(table.iloc[1:, 4:]))


def _quasi_separated():
    """60 rows; every row with x1 = 1 is a success, so the MLE of x1 is +inf."""
    rng = np.random.default_rng(3)
    x2 = rng.normal(size=60)
    x1 = (np.arange(60) % 4 == 0).astype(float)
    y = np.where(x1 == 1, 1.0, (rng.uniform(size=60) < special.expit(0.5 * x2)).astype(float))
    return np.column_stack([x1, x2]), y


@pytest.mark.parametrize("estimator", ["mle", "flat_map"])
def test_a_separated_direction_gives_an_infinite_bound_and_a_warning(estimator):
    X, y = _quasi_separated()
    with pytest.warns(SeparationWarning, match="does not exist"):
        if estimator == "mle":
            fit = fit_mle(X, y)
        else:
            fit = fit_map(X, y, prior=Flat(), intercept_prior=Normal(0, 5))
    with pytest.warns(SeparationWarning, match=r"'x1' does not close on the upper side"):
        intervals = fit.conf_int(method="profile", X=X, y=y)
    assert intervals[1, 1] == np.inf
    finite = np.delete(intervals.ravel(), 3)
    assert np.isfinite(finite).all()
    # The closing bound of x1 is where the brute-force profile (from far out) crosses.
    reference = BruteForce(
        X, y, 1 - y, precision=None if estimator == "mle" else np.diag([0.04, 0, 0])
    )
    q = special.ndtri(0.975)
    assert (
        reference.deviance(1, intervals[1, 0] - 1e-3)
        > q**2
        > reference.deviance(1, intervals[1, 0] + 1e-3)
    )


def test_wald_stays_the_default(spector):
    X, y = spector
    fit = fit_mle(X, y)
    z = special.ndtri(0.975)
    wald = np.column_stack([fit.params - z * fit.stderr, fit.params + z * fit.stderr])
    np.testing.assert_array_equal(fit.conf_int(), wald)
    np.testing.assert_array_equal(fit.conf_int(method="wald"), wald)
    assert list(fit.summary().columns) == [
        "estimate",
        "std_err",
        "z",
        "p_value",
        "ci_lower",
        "ci_upper",
    ]
    np.testing.assert_array_equal(fit.odds_ratios()[["ci_lower", "ci_upper"]], np.exp(wald[1:]))


def test_a_formula_fit_is_profiled_from_its_frame(spector):
    X, y = spector
    frame = pd.DataFrame({"grade": y, "gpa": X[:, 0], "tuce": X[:, 1], "psi": X[:, 2]})
    formula_fit = fit_mle("grade ~ gpa + tuce + psi", data=frame, solver=EXACT)
    by_formula = formula_fit.conf_int(method="profile", X="grade ~ gpa + tuce + psi", data=frame)
    by_array = fit_mle(X, y, solver=EXACT).conf_int(method="profile", X=X, y=y)
    np.testing.assert_allclose(by_formula, by_array, rtol=0, atol=1e-9)


def test_the_constrained_fit_compiles_once_for_every_parameter_and_value(spector):
    X, y = spector
    profile = fit_mle(X, y).profile(X, y)
    profile.conf_int(0.9)
    compiled = _profile._constrained_fit._cache_size()
    profile.conf_int(0.5)
    profile.lr_test()
    assert _profile._constrained_fit._cache_size() == compiled


def test_profile_refuses_what_it_cannot_profile(spector):
    X, y = spector
    fit = fit_mle(X, y)
    with pytest.raises(ValueError, match="method must be one of"):
        fit.conf_int(method="likelihood")
    with pytest.raises(ValueError, match="refits on the fit's data, which a result does not keep"):
        fit.conf_int(method="profile")
    with pytest.raises(ValueError, match=r"\['X', 'y'\] are the fit's data, which only"):
        fit.summary(X=X, y=y)
    with pytest.raises(ValueError, match="not those the fit was fitted on"):
        fit.conf_int(method="profile", X=X[::-1], y=y[::-1])
    with pytest.raises(ValueError, match="parameter must be one of"):
        fit.profile(X, y).deviance("x9", 0.0)
    lasso = fit_map(X, y, prior=Laplace(0, 1.0))
    with pytest.raises(ValueError, match="needs a smooth objective, but prior is Laplace"):
        lasso.conf_int(method="profile", X=X, y=y)
    large = dataclasses.replace(fit, n_rows=2**19)
    with pytest.raises(ValueError, match="this fit has 524288 rows"):
        large.profile(X, y)


def test_deviance_is_the_likelihood_ratio_statistic_of_a_value(spector):
    X, y = spector
    fit = fit_mle(X, y, solver=EXACT)
    profile = fit.profile(X, y)
    reference = BruteForce(X, y, 1 - y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert profile.deviance("x2", 0.05) == pytest.approx(reference.deviance(2, 0.05), rel=1e-8)


def test_a_direction_the_data_do_not_pin_down_gives_infinite_bounds_and_a_warning(spector):
    X, y = spector
    repeated = np.column_stack([X, X[:, 0]])  # x4 repeats x1: only x1 + x4 is identified
    with pytest.warns(ConvergenceWarning, match="information matrix is singular"):
        fit = fit_mle(repeated, y)
    with pytest.warns(ConvergenceWarning, match="does not close on the") as caught:
        intervals = fit.conf_int(method="profile", X=repeated, y=y)
    assert not any(isinstance(w.message, SeparationWarning) for w in caught)
    assert all("hardly constrain it that way" in str(w.message) for w in caught)
    pattern = r"of '(\w+)' does not close on the (\w+) side"
    opened = {re.search(pattern, str(w.message)).groups() for w in caught}
    assert opened == {(name, side) for name in ("x1", "x4") for side in ("lower", "upper")}
    np.testing.assert_array_equal(intervals[[1, 4]], [[-np.inf, np.inf]] * 2)
    assert np.isfinite(intervals[[0, 2, 3]]).all()


@pytest.mark.parametrize("name", ["sex2", "endometrial"])
def test_jeffreys_profile_intervals_equal_logistf(shared_data, name):
    # Tolerance 1e-6 relative: the published digits round by up to 4e-7 relative
    # (-0.1244587); measured 1.7e-7.
    frame = pd.read_csv(shared_data / "firth" / f"{name}.csv")
    target, features = FIRTH_DATA[name]
    X, y = frame[features], frame[target]
    fit = fit_map(X, y, prior=priors.Jeffreys())
    intervals = fit.conf_int(method="profile", X=X, y=y)
    np.testing.assert_allclose(intervals, LOGISTF_PROFILE_CI[name], rtol=1e-6)
