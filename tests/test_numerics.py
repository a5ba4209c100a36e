"""Numerical robustness: features in any units, extreme linear predictors, float32 data,
and non-convergence that is reported, never hidden."""

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bayeslogreg as blr
from bayeslogreg import ConvergenceWarning, fit_map, fit_mle, log_likelihood
from bayeslogreg._jax import float64
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators._objective import column_sum_squares, parameter_scale
from bayeslogreg.model import log_likelihood_rows
from bayeslogreg.priors import Normal
from bayeslogreg.solvers import SGD, GradientAscent, Newton

CI = settings(
    deadline=None,  # the first example pays for JAX compilation
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Unit-scale features; the same data with one column in micro-units and one in mega-units.
# The fixed priors that were the defaults before rstanarm's autoscaled ones: the tests
# below are about raw-unit priors that dwarf or are dwarfed by a column.
FIXED = {"prior": Normal(0, 2.5), "intercept_prior": Normal(0, 10)}
DATA = simulate(400, [1.0, -0.7, 0.5], intercept=0.3, seed=5)
WILD = np.array([1e-6, 1e6, 1.0])
X_WILD = DATA.X * WILD
# The reference problem in unit-scale coefficients b = coef * WILD (X_WILD / WILD is
# DATA.X to within an ulp).
X_UNIT = X_WILD / WILD


def to_raw_units(unit_params):
    """Unit-scale parameters [intercept, b] -> [intercept, b / WILD]."""
    return np.r_[unit_params[0], unit_params[1:] / WILD]


def statsmodels_mle(X, y):
    return sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0
    )


def numpy_map(Z, y, precision, n_iter=50):
    """MAP of logistic regression with N(0, 1 / precision_j) priors, by plain Newton.

    Independent of the package: NumPy only, Jacobi-scaled solves.
    """
    b = np.zeros(Z.shape[1])
    for _ in range(n_iter):
        p = 1 / (1 + np.exp(-(Z @ b)))
        grad = Z.T @ (y - p) - precision * b
        hess = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(precision)
        d = np.sqrt(np.diag(hess))
        b = b + np.linalg.solve(hess / np.outer(d, d), grad / d) / d
    return b


# --- Features on wildly different scales ---------------------------------------------


@pytest.mark.parametrize("method", ["newton", "lbfgs", "gd"])
def test_mle_with_features_in_wildly_different_units_matches_statsmodels(method):
    # Before the optimizers worked in unit-scale coordinates, Newton stopped at max_iter
    # with the micro-unit coefficient 1e10 times too small (and a false "singular
    # information matrix" warning), and gd never converged.
    fit = fit_mle(X_WILD, DATA.y, solver=method)
    reference = statsmodels_mle(X_UNIT, DATA.y)  # statsmodels fails on X_WILD itself
    assert fit.converged
    assert np.isfinite(fit.params).all() and np.isfinite(fit.cov).all()
    # The bar (coefficients 1e-6 relative, standard errors 1e-5), in every unit:
    # all methods stop at a unit-scale gradient below 1e-8, within ~1e-7 of the optimum.
    np.testing.assert_allclose(fit.params, to_raw_units(reference.params), rtol=1e-6)
    np.testing.assert_allclose(fit.stderr, to_raw_units(reference.bse), rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-12)


def test_fixed_prior_map_with_features_in_wildly_different_units_matches_numpy_newton():
    fit = fit_map(X_WILD, DATA.y, **FIXED)  # Normal(0, 2.5) on each raw coefficient
    # The same model in unit-scale coefficients b = coef * WILD: prior sd 2.5 * WILD.
    precision = 1 / np.r_[10.0, 2.5 * WILD] ** 2
    expected = to_raw_units(numpy_map(np.column_stack([np.ones(400), X_UNIT]), DATA.y, precision))
    assert fit.converged and np.isfinite(fit.cov).all()
    # The micro-unit coefficient is shrunk to ~6e-4 by its (in unit terms) very narrow
    # prior; it too is matched to the relative bar of 1e-6.
    np.testing.assert_allclose(fit.params, expected, rtol=1e-6)


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_first_order_methods_finish_under_a_prior_that_dwarfs_a_column(solver):
    # A prior of sd 2.5 on a micro-unit coefficient has a curvature ~1e9 times that of
    # the data. The optimizers' coordinates include the prior's curvature, so first-order
    # methods converge too (they used to stop at the iteration limit), to Newton's
    # optimum within their tol (a per-row gradient of 1e-8 in unit-scale coordinates,
    # ~1e-8 standard errors; the micro-unit coefficient is ~1e-4 sd from 0, so it is
    # compared in standard errors, not relative to itself).
    fit = fit_map(X_WILD, DATA.y, solver=solver, **FIXED)
    newton = fit_map(X_WILD, DATA.y, solver="newton", **FIXED)
    assert fit.converged and newton.converged
    assert np.all(np.abs(fit.params - newton.params) <= 1e-6 * newton.stderr)
    np.testing.assert_allclose(fit.stderr, newton.stderr, rtol=1e-5)


def test_parameter_scale_is_the_power_of_two_nearest_each_columns_rms():
    X = np.column_stack([np.full(4, 3e-6), np.full(4, -5e5), np.zeros(4), np.full(4, 0.75)])
    # log2 of the RMS: -18.35, 18.93, -inf (all zero: left alone), -0.42.
    expected = np.ldexp(1.0, [0, -18, 19, 0, 0])
    np.testing.assert_array_equal(parameter_scale(X), expected)
    np.testing.assert_array_equal(parameter_scale(X.astype(np.float32)), expected)
    # Squares that overflow float64 leave the column alone rather than give inf or 0.
    np.testing.assert_array_equal(parameter_scale(np.full((3, 1), 1e200)), [1.0, 1.0])


def test_weighted_sums_of_squares_are_those_of_repeated_rows_in_one_pass(monkeypatch):
    from bayeslogreg.estimators import _objective

    monkeypatch.setattr(_objective, "SCALE_BLOCK_ROWS", 4)  # several blocks, one partial
    rng = np.random.default_rng(2)
    X, weights = rng.normal(size=(10, 3)).astype(np.float32), rng.integers(0, 4, size=10)
    repeated = np.repeat(X, weights, axis=0).astype(np.float64)
    np.testing.assert_allclose(column_sum_squares(X, weights), (repeated**2).sum(0), rtol=1e-12)
    # Two weightings at once: (2, p), the unweighted sums first.
    both = column_sum_squares(X, np.stack([np.ones(10), weights]))
    np.testing.assert_allclose(both[0], column_sum_squares(X), rtol=1e-12)
    np.testing.assert_allclose(both[1], (repeated**2).sum(0), rtol=1e-12)


@settings(CI, max_examples=6)
@given(st.lists(st.integers(-30, 30), min_size=3, max_size=3))
def test_rescaling_a_column_by_a_power_of_two_rescales_its_coefficient_exactly(exponents):
    factors = np.ldexp(1.0, exponents)
    a = fit_mle(DATA.X, DATA.y)
    b = fit_mle(DATA.X * factors, DATA.y)
    # The optimizers see the same unit-scale problem, bit for bit.
    np.testing.assert_array_equal(b.params[1:] * factors, a.params[1:])
    np.testing.assert_array_equal(b.params[0], a.params[0])
    np.testing.assert_array_equal(b.stderr[1:] * factors, a.stderr[1:])
    assert (b.n_iter, b.log_likelihood) == (a.n_iter, a.log_likelihood)


@settings(CI, max_examples=6)
@given(st.lists(st.floats(-6, 6), min_size=3, max_size=3))
def test_rescaling_columns_by_any_factor_rescales_the_newton_fit(log10_factors):
    factors = 10.0 ** np.asarray(log10_factors)
    a = fit_mle(DATA.X, DATA.y)
    b = fit_mle(DATA.X * factors, DATA.y)
    assert b.converged and b.n_iter == a.n_iter
    # Newton's iterates are invariant to rescaling the columns, so both fits take the
    # same steps and differ only by rounding (~1e-16, times the conditioning ~2 and a
    # few iterations).
    np.testing.assert_allclose(b.params[1:] * factors, a.params[1:], rtol=1e-10)
    np.testing.assert_allclose(b.stderr[1:] * factors, a.stderr[1:], rtol=1e-10)


# --- Extreme linear predictors ----------------------------------------------------------


def exact_row(eta: float, label: int) -> mpmath.mpf:
    """log P(y | eta) = -log(1 + exp(-s eta)), s = 2y - 1, at 50 digits."""
    with mpmath.workdps(50):
        return -mpmath.log1p(mpmath.exp(-(2 * label - 1) * mpmath.mpf(eta)))


@settings(CI, max_examples=30)
@given(
    hnp.arrays(np.float64, 16, elements=st.floats(-1e4, 1e4)),
    hnp.arrays(np.int64, 16, elements=st.integers(0, 1)),
)
def test_log_likelihood_matches_mpmath_for_linear_predictors_up_to_1e4(eta, y):
    # X = eta and coef = 1 make the linear predictor exactly eta. (Fixed values at
    # +-30, +-700 and +-1e4 are in test_model.py; here they are random and summed.)
    X = eta[:, None]
    with float64():
        rows = np.asarray(log_likelihood_rows(jnp.array([0.0, 1.0]), X, y.astype(float)))
    total = log_likelihood(X, y, 0.0, [1.0])
    exact = [exact_row(e, label) for e, label in zip(eta, y, strict=True)]
    assert np.isfinite(rows).all() and np.isfinite(total)
    # log_sigmoid is accurate to a few ulps over the whole range; abs=1e-300 for rows
    # whose exact value (down to -exp(-1e4)) underflows to 0.
    np.testing.assert_allclose(rows, [float(v) for v in exact], rtol=1e-14, atol=1e-300)
    # A sum of 16 terms of one sign: relative error at most ~16 ulps.
    with mpmath.workdps(50):
        exact_total = float(mpmath.fsum(exact))
    assert total == pytest.approx(exact_total, rel=1e-14, abs=1e-300)


# --- float32 data -------------------------------------------------------------------


@pytest.mark.parametrize("fit", [fit_mle, fit_map])
def test_float32_features_give_the_float64_fit_within_rounding(fit):
    X32 = DATA.X.astype(np.float32)
    fit64, fit32 = fit(DATA.X, DATA.y), fit(X32, DATA.y)
    assert fit32.params.dtype == fit32.cov.dtype == np.float64
    # Rounding X to float32 moves each entry by at most u = 2**-24 relative. To first
    # order the estimate moves by inv(Z'WZ) sum_i [r_i dz_i - w_i z_i (dz_i . params)],
    # z_i = [1, x_i], |r_i| <= 1, w_i <= 1/4: at most
    #     u * zmax * (1 + zmax * |params| / 4) / lambda_min,
    # lambda_min the smallest eigenvalue of the per-row information (the condition
    # number enters through it: lambda_max <= zmax**2 / 4). Each fit also stops up to
    # tol / lambda_min from its optimum. Here the bound is ~4e-6; errors that are
    # independent between rows average out, and ~1e-8 is what is seen.
    u = np.finfo(np.float32).eps / 2
    zmax = np.sqrt(1 + np.max(np.sum(DATA.X**2, axis=1)))
    lambda_min = 1 / (len(DATA.y) * np.linalg.eigvalsh(fit64.cov).max())
    norm = np.linalg.norm(fit64.params)
    bound = (u * zmax * (1 + zmax * norm / 4) + 2e-8) / lambda_min
    assert np.linalg.norm(fit32.params - fit64.params) <= bound
    # Probabilities: |dp| <= |d eta| / 4 <= (zmax * |d params| + u * zmax * |params|) / 4.
    prob64, prob32 = fit64.predict_proba(DATA.X), fit32.predict_proba(X32)
    assert prob32.dtype == np.float64
    assert np.abs(prob32 - prob64).max() <= (zmax * bound + u * zmax * norm) / 4


# --- Non-convergence is reported ------------------------------------------------------------

LIMITED = {
    "newton": Newton(max_iter=1),
    "gd": GradientAscent(max_iter=1),
    "sgd": SGD(epochs=1),
    "minibatch": SGD(batch_size=32, epochs=1),
}


@pytest.mark.parametrize("method", list(LIMITED))
def test_stopping_early_is_reported_as_not_converged(method):
    with pytest.warns(ConvergenceWarning) as record:
        fit = fit_mle(DATA.X, DATA.y, solver=LIMITED[method])
    message = str(record[0].message)
    assert "did not converge: stopped at the iteration limit" in message
    assert "standardise the features" in message
    assert not fit.converged and fit.n_iter == 1
    assert fit.grad_norm > (1e-3 if method in ("sgd", "minibatch") else 1e-8)
    assert np.isfinite(fit.params).all()
    assert len(fit.history) == 2


@pytest.mark.parametrize("magnitude", [1e-170, 1e-160])
def test_a_column_too_small_for_float64_is_refused_by_the_mle(magnitude):
    # Its squares (1e-320 and below) vanish from the Hessian: the MLE used to report
    # "converged" with a coefficient near 0 and blame collinear columns.
    X = DATA.X * np.array([magnitude, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"column 'x1' holds values no larger than .* Rescale"):
        fit_mle(X, DATA.y)
    with pytest.raises(ValueError, match="column 'x1' holds values no larger than"):
        blr.distributed.fit_mle(X, DATA.y)
    with pytest.raises(ValueError, match="column 'x1' holds values no larger than"):
        blr.fit_streaming(X, DATA.y, progress=False)


def test_a_tiny_column_under_a_proper_prior_is_fitted():
    # A proper prior pins the coefficient: its posterior is the prior's.
    X = DATA.X * np.array([1e-170, 1.0, 1.0])
    fit = fit_map(X, DATA.y, prior=Normal(0, 2.5))
    assert fit.converged
    np.testing.assert_allclose(fit.stderr[1], 2.5, rtol=1e-9)


def test_a_column_too_large_for_float64_is_refused():
    X = DATA.X * np.array([1e160, 1.0, 1.0])
    with pytest.raises(ValueError, match="column 'x1' holds values as large as"):
        fit_map(X, DATA.y)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd"])
def test_columns_in_units_1e_8_and_1e8_under_a_fixed_prior(solver):
    # Were blamed as "not identified": the prior's curvature dwarfed the data's.
    data = simulate(500, [1.0, -1.0, 0.5], intercept=0.2, seed=4)
    X = data.X * np.array([1e-8, 1e8, 1.0])
    fit = fit_map(X, data.y, solver=solver, **FIXED)  # filterwarnings=error: no warning
    unit = fit_map(
        data.X,
        data.y,
        prior=Normal(0, 2.5 * np.array([1e-8, 1e8, 1.0])),
        intercept_prior=FIXED["intercept_prior"],
    )
    assert fit.converged and np.isfinite(fit.stderr).all()
    # Coefficients of columns rescaled by s under Normal(0, 2.5) equal those of the unit
    # columns under Normal(0, 2.5 s), divided by s.
    scaled_back = unit.params / np.r_[1.0, 1e-8, 1e8, 1.0]
    assert np.all(np.abs(fit.params - scaled_back) <= 1e-5 * fit.stderr)
