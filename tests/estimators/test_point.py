import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from bayeslogreg import ConvergenceWarning, fit_map, fit_mle
from bayeslogreg.datasets import simulate
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal, StudentT
from bayeslogreg.solvers import SGD, GradientAscent

FULL_BATCH = ["newton", "lbfgs", "gd"]


def statsmodels_fit(X, y):
    return sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0
    )


def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog


@pytest.mark.parametrize("method", FULL_BATCH)
def test_mle_matches_statsmodels_on_simulated_data(well_posed, method):
    fit = fit_mle(well_posed.X, well_posed.y, solver=method)
    reference = statsmodels_fit(well_posed.X, well_posed.y)
    assert fit.converged
    # The bar: coefficients to 1e-6 relative, standard errors to 1e-5. Both fits
    # stop at a gradient of ~1e-9 per row, which puts them ~1e-8 from the exact optimum.
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-12)


def test_mle_matches_statsmodels_on_spector_data():
    X, y = spector()
    fit = fit_mle(X, y)
    reference = statsmodels_fit(X.to_numpy(), y.to_numpy())
    assert fit.feature_names == ("GPA", "TUCE", "PSI")
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-6)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-5)
    summary = fit.summary()
    assert list(summary.index) == ["intercept", "GPA", "TUCE", "PSI"]
    np.testing.assert_allclose(summary["z"], reference.tvalues, rtol=1e-5)
    np.testing.assert_allclose(summary["p_value"], reference.pvalues, rtol=1e-4)
    np.testing.assert_allclose(fit.conf_int(0.95), reference.conf_int(0.05), rtol=1e-5)
    np.testing.assert_allclose(fit.cov, reference.cov_params(), rtol=1e-5)


@pytest.mark.parametrize("scale", [0.1, 0.5, 3.0])
@pytest.mark.parametrize("method", FULL_BATCH)
def test_normal_prior_map_matches_sklearn_l2(well_posed, scale, method):
    X, y = well_posed.X, well_posed.y
    fit = fit_map(X, y, prior=Normal(0, scale), intercept_prior=Flat(), solver=method)
    reference = LogisticRegression(C=scale**2, tol=1e-12, max_iter=10_000).fit(X, y)
    expected = np.r_[reference.intercept_, reference.coef_.ravel()]
    # Issue bar 1e-5; both optimizers stop within ~1e-8 of the common optimum.
    np.testing.assert_allclose(fit.params, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("scale", [0.02, 0.1, 1.0])
@pytest.mark.parametrize("method", ["newton", "gd"])
def test_laplace_prior_map_matches_sklearn_l1(well_posed, scale, method):
    X, y = well_posed.X, well_posed.y
    fit = fit_map(X, y, prior=Laplace(0, scale), intercept_prior=Flat(), solver=method)
    reference = LogisticRegression(
        C=scale, l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=100_000
    ).fit(X, y)
    expected = np.r_[reference.intercept_, reference.coef_.ravel()]
    # Issue bar 1e-4; saga at tol 1e-12 and our proximal methods agree to ~1e-7.
    np.testing.assert_allclose(fit.params, expected, atol=1e-4)
    # Proximal steps give exact zeros where the lasso does.
    np.testing.assert_array_equal(fit.coef == 0.0, reference.coef_.ravel() == 0.0)


def test_laplace_prior_sets_the_null_coefficient_exactly_to_zero(well_posed):
    fit = fit_map(well_posed.X, well_posed.y, prior=Laplace(0, 0.1), intercept_prior=Flat())
    assert fit.coef[3] == 0.0
    assert np.all(fit.coef[:3] != 0.0)


@pytest.mark.parametrize("prior", [Normal(0, 1.0), Laplace(0, 0.5), Flat()], ids=repr)
@pytest.mark.parametrize("method", ["lbfgs", "gd"])
def test_full_batch_methods_reach_the_newton_optimum(well_posed, prior, method):
    if method == "lbfgs" and isinstance(prior, Laplace):
        pytest.skip("lbfgs refuses the non-smooth Laplace prior")
    newton = fit_map(well_posed.X, well_posed.y, prior=prior, solver="newton")
    other = fit_map(well_posed.X, well_posed.y, prior=prior, solver=method)
    assert other.converged
    np.testing.assert_allclose(other.params, newton.params, atol=1e-5)
    assert other.log_posterior == pytest.approx(newton.log_posterior, abs=1e-8)


@pytest.mark.parametrize("method", ["sgd", "minibatch"])
@pytest.mark.parametrize("prior", [Flat(), Normal(0, 1.0), Laplace(0, 0.5)], ids=repr)
def test_stochastic_methods_reach_the_newton_optimum(well_posed, method, prior):
    X, y = well_posed.X, well_posed.y
    newton = fit_map(X, y, prior=prior, solver="newton")
    solver = SGD(batch_size=1 if method == "sgd" else 32, tol=1e-4, epochs=300)
    fit = fit_map(X, y, prior=prior, solver=solver, seed=7)
    # Looser bound for stochastic methods: with a 1/epoch learning-rate decay and
    # averaging of the last epoch's iterates, 2000 rows leave noise of ~1e-3 in each
    # coefficient; 5e-3 is about five times what we see.
    np.testing.assert_allclose(fit.params, newton.params, atol=5e-3)
    assert fit.log_posterior == pytest.approx(newton.log_posterior, abs=1e-2)


def test_ascent_histories_increase_to_the_reported_optimum(well_posed):
    for method in ["newton", "gd"]:
        fit = fit_mle(well_posed.X, well_posed.y, solver=method)
        assert len(fit.history) == fit.n_iter + 1
        assert np.all(np.diff(fit.history) >= -1e-9)
        assert fit.history[-1] == pytest.approx(fit.log_likelihood, rel=1e-12)
    fit = fit_map(well_posed.X, well_posed.y, prior=Laplace(0, 0.1), solver="newton")
    assert fit.history[-1] == pytest.approx(fit.log_posterior, rel=1e-12)


def test_gradient_ascent_takes_more_iterations_than_newton(well_posed):
    newton = fit_mle(well_posed.X, well_posed.y, solver="newton")
    gd = fit_mle(well_posed.X, well_posed.y, solver="gd")
    assert newton.n_iter < 10 < gd.n_iter
    assert gd.n_passes >= gd.n_iter


def test_iteration_limit_is_reported_not_hidden(well_posed):
    with pytest.warns(ConvergenceWarning, match="did not converge: stopped at the iteration limit"):
        fit = fit_mle(well_posed.X, well_posed.y, solver=GradientAscent(max_iter=3))
    assert not fit.converged
    assert fit.n_iter == 3
    assert fit.grad_norm > 1e-8
    assert np.isfinite(fit.params).all()


def test_default_method_is_newton_and_converges(well_posed):
    fit = fit_mle(well_posed.X, well_posed.y)
    assert fit.method == "newton"
    assert fit.converged and fit.grad_norm <= 1e-8
    assert fit.log_posterior is None
    assert fit.estimator == "mle"


def test_dataframe_input_and_label_types(well_posed):
    frame = pd.DataFrame(well_posed.X, columns=["a", "b", "c", "d"])
    fit_frame = fit_mle(frame, pd.Series(well_posed.y.astype(bool)))
    fit_array = fit_mle(well_posed.X, well_posed.y.astype(float))
    assert fit_frame.feature_names == ("a", "b", "c", "d")
    assert fit_array.feature_names == ("x1", "x2", "x3", "x4")
    np.testing.assert_array_equal(fit_frame.params, fit_array.params)
    assert fit_frame.summary().index.tolist() == ["intercept", "a", "b", "c", "d"]


def test_predict_proba_is_the_sigmoid_of_the_linear_predictor(well_posed):
    fit = fit_mle(well_posed.X, well_posed.y)
    eta = fit.intercept + well_posed.X @ fit.coef
    np.testing.assert_allclose(fit.predict_proba(well_posed.X), 1 / (1 + np.exp(-eta)), rtol=1e-12)
    extreme = fit.predict_proba(np.full((1, 4), 1e6))
    assert np.isfinite(extreme).all() and 0.0 <= extreme[0] <= 1.0


def test_intercept_only_model_is_the_log_odds_of_the_mean():
    y = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 1])  # the coin: 7 heads in 10 flips
    fit = fit_mle(np.empty((10, 0)), y)
    assert fit.intercept == pytest.approx(np.log(0.7 / 0.3), rel=1e-10)
    assert fit.coef.shape == (0,)
    # Fisher information of the log-odds: n p (1 - p).
    assert fit.stderr[0] == pytest.approx(1 / np.sqrt(10 * 0.7 * 0.3), rel=1e-10)


def test_map_tends_to_mle_as_the_prior_widens(well_posed):
    mle = fit_mle(well_posed.X, well_posed.y)
    gaps = [
        np.abs(
            fit_map(
                well_posed.X, well_posed.y, prior=Normal(0, s), intercept_prior=Normal(0, s)
            ).params
            - mle.params
        ).max()
        for s in (0.3, 3.0, 30.0, 300.0)
    ]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < 1e-5


@pytest.mark.parametrize(
    "prior", [Cauchy(0, 0.5), StudentT(3, 0, 0.5), Normal([0, 0, 0, 1], 0.5)], ids=repr
)
def test_other_priors_converge_to_a_stationary_point(well_posed, prior):
    fit = fit_map(well_posed.X, well_posed.y, prior=prior)
    assert fit.converged and fit.grad_norm <= 1e-8
    # The Laplace covariance is the inverse negative Hessian: positive definite here.
    assert np.all(np.linalg.eigvalsh(fit.cov) > 0)


def test_map_laplace_covariance_matches_the_hessian_of_the_log_posterior(well_posed):
    X, y, s = well_posed.X, well_posed.y, 0.7
    fit = fit_map(X, y, prior=Normal(0, s), intercept_prior=Normal(0, 5.0))
    Z = np.column_stack([np.ones(len(y)), X])
    p = fit.predict_proba(X)
    information = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag([1 / 25] + [1 / s**2] * 4)
    np.testing.assert_allclose(fit.cov, np.linalg.inv(information), rtol=1e-8)


def test_float32_data_match_float64(well_posed):
    X32 = well_posed.X.astype(np.float32)
    fit32 = fit_mle(X32, well_posed.y)
    fit64 = fit_mle(X32.astype(np.float64), well_posed.y)
    # Same numbers in memory, float64 arithmetic: only summation order differs.
    np.testing.assert_allclose(fit32.params, fit64.params, rtol=1e-9)
    assert fit32.params.dtype == np.float64


@pytest.mark.parametrize("method", ["sgd", "minibatch"])
def test_same_seed_gives_bit_identical_stochastic_fits(well_posed, method):
    kwargs = {"solver": SGD(batch_size=1 if method == "sgd" else 32, epochs=5), "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = fit_mle(well_posed.X, well_posed.y, **kwargs)
        b = fit_mle(well_posed.X, well_posed.y, **kwargs)
        c = fit_mle(well_posed.X, well_posed.y, **{**kwargs, "seed": 4})
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.history, b.history)
    assert not np.array_equal(a.params, c.params)


def test_row_permutation_leaves_the_estimate_unchanged(well_posed):
    order = np.random.default_rng(0).permutation(len(well_posed.y))
    a = fit_mle(well_posed.X, well_posed.y)
    b = fit_mle(well_posed.X[order], well_posed.y[order])
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)


def test_optax_schedule_as_learning_rate(well_posed):
    import optax

    schedule = optax.exponential_decay(0.5, transition_steps=60, decay_rate=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_mle(
            well_posed.X, well_posed.y, solver=SGD(learning_rate=schedule, batch_size=32, epochs=30)
        )
    newton = fit_mle(well_posed.X, well_posed.y)
    np.testing.assert_allclose(fit.params, newton.params, atol=2e-2)


def test_collinear_columns_give_a_warning_and_infinite_standard_errors():
    data = simulate(300, [1.0, 0.5], seed=2)
    X = np.column_stack([data.X, data.X[:, 0] + data.X[:, 1]])
    with pytest.warns(
        ConvergenceWarning, match=r"information matrix is singular: parameters \['x1', 'x2', 'x3'\]"
    ):
        fit = fit_mle(X, data.y)
    assert np.isinf(fit.stderr[1:]).all()
    assert np.isfinite(fit.stderr[0])


def test_repr_shows_the_table(well_posed):
    text = repr(fit_map(well_posed.X, well_posed.y))
    assert text.startswith("PointEstimate(MAP, method='newton', converged=True")
    assert "std_err" in text and "x4" in text


def test_simulated_truth_is_inside_the_confidence_intervals():
    data = simulate(20_000, [1.0, -2.0, 0.5], intercept=-1.0, seed=11)
    fit = fit_mle(data.X, data.y)
    lower, upper = fit.conf_int(0.999).T
    truth = np.r_[data.intercept, data.coef]
    assert np.all((lower < truth) & (truth < upper))
