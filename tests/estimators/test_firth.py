"""Firth's penalised likelihood: MAP under the Jeffreys prior, against logistf and brute force."""

import json
import warnings
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from bayeslogreg import (
    PointEstimate,
    Posterior,
    _arviz,
    distributed,
    fit_map,
    fit_mle,
    fit_streaming,
    model,
    sample_posterior,
)
from bayeslogreg.diagnostics import prior_predictive
from bayeslogreg.estimators._nuts_program import _log_posterior
from bayeslogreg.estimators._objective import Problem, smooth_value
from bayeslogreg.exceptions import SeparationWarning
from bayeslogreg.priors import (
    Centered,
    Flat,
    Jeffreys,
    Normal,
    parse_prior,
    prior_from_dict,
)

FEATURES = {"sex2": ["age", "oc", "vic", "vicl", "vis", "dia"], "endometrial": ["NV", "PI", "EH"]}
TARGET = {"sex2": "case", "endometrial": "HG"}

# R's logistf (Firth's estimate, intercept first), as published with eight decimals in
# the tests of the firthlogist package (github.com/jzluo/firthlogist,
# firthlogist/tests/test_firthlogist.py: "compare with logistf for logistf::sex2").
LOGISTF_PARAMS = {
    "sex2": [
        0.12025405,
        -1.10598131,
        -0.06881673,
        2.26887464,
        -2.11140817,
        -0.78831694,
        3.09601166,
    ],
    "endometrial": [3.77455951, 2.92927330, -0.03475175, -2.60416387],
}
# Standard errors of sex2 (sqrt of the diagonal of the inverse of X1'WX1 at the estimate,
# logistf's vcov), as firthlogist's README prints them with six significant digits
# (trailing zeros dropped, so 0.42366 is 0.423660): rounding is at most 1.2e-6 relative.
LOGISTF_STDERR_SEX2 = [0.485542, 0.42366, 0.443793, 0.548416, 0.543082, 0.417368, 1.67501]
FIRTH_REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "firth_posterior_reference.json").read_text()
)
# Monte Carlo standard errors allowed between two runs (as in test_nuts.py): with fixed
# seeds the runs are reproducible; a correct sampler fails one comparison with
# probability ~6e-5.
K = 4.0


def load(shared_data, name):
    frame = pd.read_csv(shared_data / "firth" / f"{name}.csv")
    return frame[FEATURES[name]], frame[TARGET[name]]


def penalised_log_likelihood(params, X, successes, failures, offset):
    """Firth's objective in plain NumPy: the log-likelihood + 0.5 log det(X1' W X1).

    Returns the value, the information ``X1' W X1`` and Firth's modified score (the
    gradient) ``X1' (a - m p + h (1/2 - p))``, with ``m = a + b`` trials, ``W = m p (1 - p)``
    and ``h`` the diagonal of the hat matrix ``W^1/2 X1 (X1' W X1)^-1 X1' W^1/2``
    (Firth 1993; Heinze and Schemper 2002, eq. 2).
    """
    X1 = np.column_stack([np.ones(len(X)), X])
    eta = X1 @ params + offset
    loglik = np.sum(successes * -np.logaddexp(0, -eta) + failures * -np.logaddexp(0, eta))
    p, trials = special.expit(eta), successes + failures
    weights = trials * p * (1 - p)
    information = X1.T @ (X1 * weights[:, None])
    hat = weights * np.einsum("ij,ij->i", X1 @ np.linalg.inv(information), X1)
    score = X1.T @ (successes - trials * p + hat * (0.5 - p))
    return loglik + 0.5 * np.linalg.slogdet(information)[1], information, score


def brute_force_firth(X, successes, failures, offset):
    """Maximise the NumPy objective with scipy's BFGS, from 0; return it and the SEs."""
    X = np.asarray(X, dtype=float)

    def minus(params):
        value, _, score = penalised_log_likelihood(params, X, successes, failures, offset)
        return -value, -score

    start = np.zeros(X.shape[1] + 1)
    result = optimize.minimize(minus, start, jac=True, method="BFGS", options={"gtol": 1e-10})
    information = penalised_log_likelihood(result.x, X, successes, failures, offset)[1]
    return result.x, np.sqrt(np.diag(np.linalg.inv(information)))


@pytest.mark.parametrize("name", ["sex2", "endometrial"])
def test_firth_coefficients_equal_logistf(shared_data, name):
    X, y = load(shared_data, name)
    fit = fit_map(X, y, prior=Jeffreys())
    assert fit.converged and fit.separation is None
    # The published values have eight decimals (rounding at most 1.6e-7 relative); the
    # issue asks for 1e-5 relative (measured: 5.4e-8 on sex2, 2.8e-7 on endometrial).
    np.testing.assert_allclose(fit.params, LOGISTF_PARAMS[name], rtol=1e-5)


def test_firth_standard_errors_are_logistf_inverse_fisher_information(shared_data):
    X, y = load(shared_data, "sex2")
    fit = fit_map(X, y, prior=Jeffreys())
    # 1e-5 relative: above the six-digit rounding (1.2e-6) of the published values.
    np.testing.assert_allclose(fit.stderr, LOGISTF_STDERR_SEX2, rtol=1e-5)
    # Not the inverse Hessian of the penalised objective, which differs at the percent level.
    X1 = np.column_stack([np.ones(len(X)), X.to_numpy(float)])
    p = special.expit(X1 @ fit.params)
    information = X1.T @ (X1 * (p * (1 - p))[:, None])
    np.testing.assert_allclose(fit.cov, np.linalg.inv(information), rtol=1e-10)


@pytest.mark.parametrize("name", ["sex2", "endometrial"])
def test_firth_equals_a_brute_force_maximum_of_the_penalised_likelihood(shared_data, name):
    X, y = load(shared_data, name)
    y = y.to_numpy(float)
    params, stderr = brute_force_firth(X, y, 1 - y, np.zeros(len(y)))
    fit = fit_map(X, y, prior=Jeffreys())
    # 1e-6 as the issue asks: both optima are within ~1e-9 of the true one (BFGS with the
    # analytic modified score, gtol 1e-10; Newton at tol 1e-8), measured 2.4e-9 on sex2
    # and 6e-10 on endometrial; the standard errors follow from the parameters.
    np.testing.assert_allclose(fit.params, params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.stderr, stderr, rtol=1e-6)
    value = penalised_log_likelihood(fit.params, X.to_numpy(float), y, 1 - y, 0.0)[0]
    np.testing.assert_allclose(fit.log_posterior, value, rtol=1e-12)


def test_weights_trials_and_offsets_enter_the_information_as_row_weights():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    trials = rng.integers(1, 5, size=40)
    successes = rng.binomial(trials, special.expit(0.4 + X @ [1.0, -0.7]))
    weights, offset = rng.integers(1, 4, size=40).astype(float), rng.normal(0, 0.3, size=40)
    params, stderr = brute_force_firth(
        X, weights * successes, weights * (trials - successes), offset
    )
    fit = fit_map(
        X, successes, prior=Jeffreys(), trials=trials, sample_weight=weights, offset=offset
    )
    np.testing.assert_allclose(fit.params, params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.stderr, stderr, rtol=1e-6)


def test_the_samplers_target_is_the_penalised_likelihood_with_weights_trials_and_offsets():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 2))
    successes, failures = rng.integers(0, 4, size=30) * 1.0, rng.integers(0, 4, size=30) * 1.0
    offset, params = rng.normal(0, 0.3, size=30), np.array([0.2, -0.5, 0.8])
    counts = model.Counts(successes, failures, offset)
    with jax.enable_x64(True):
        target = float(_log_posterior(params, X.T.copy(), counts, Jeffreys(), Jeffreys()))
    expected = penalised_log_likelihood(params, X, successes, failures, offset)[0]
    # Both sum the same terms in another order: 1e-12 relative.
    np.testing.assert_allclose(target, expected, rtol=1e-12)


def test_newton_lbfgs_and_gradient_ascent_reach_the_same_firth_estimate(shared_data):
    X, y = load(shared_data, "endometrial")
    newton = fit_map(X, y, prior=Jeffreys(), solver="newton")
    lbfgs = fit_map(X, y, prior=Jeffreys(), solver="lbfgs")
    ascent = fit_map(X, y, prior=Jeffreys(), solver="gd")
    # Each stops at tol 1e-8 on the per-row gradient in unit-scale coordinates, which
    # leaves L-BFGS 1.8e-8 and gradient ascent (slow in its last digits) 1.0e-6 from
    # Newton here (measured; 2.4e-6 and 1.2e-5 on sex2).
    np.testing.assert_allclose(lbfgs.params, newton.params, rtol=1e-6)
    np.testing.assert_allclose(ascent.params, newton.params, rtol=1e-5)
    np.testing.assert_allclose(lbfgs.stderr, newton.stderr, rtol=1e-6)


def test_firth_is_finite_where_the_mle_does_not_exist(shared_data):
    X, y = load(shared_data, "endometrial")  # NV separates quasi-completely
    with pytest.warns(SeparationWarning):
        fit_mle(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no separation or convergence warning
        fit = fit_map(X, y, prior=Jeffreys())
    assert fit.converged and np.isfinite(fit.stderr).all()
    # Complete separation: the classic example of Firth's estimate (log(2 k + 1) terms).
    x, labels = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]]), np.array([0, 0, 0, 1, 1, 1])
    complete = fit_map(x, labels, prior=Jeffreys())  # complete separation
    assert complete.converged
    # A saturated 2x2 table: Firth's estimate adds 1/2 to each cell (Haldane), so the
    # log-odds are log(0.5 / 3.5) at x = 0 and log(3.5 / 0.5) at x = 1.
    np.testing.assert_allclose(complete.params, [-np.log(7.0), 2 * np.log(7.0)], rtol=1e-8)


def test_the_objective_holds_the_jeffreys_term_that_the_fit_maximises(shared_data):
    # Profile-likelihood intervals re-maximise this same objective with a parameter held.
    X, y = load(shared_data, "sex2")
    fit = fit_map(X, y, prior=Jeffreys())
    X_np, y_np = X.to_numpy(float), y.to_numpy(float)
    problem = Problem(X_np, y_np, Jeffreys(), Jeffreys())
    value = penalised_log_likelihood(fit.params, X_np, y_np, 1 - y_np, 0.0)[0]
    with jax.enable_x64(True):
        objective = -len(y_np) * float(smooth_value(fit.params, problem))
    np.testing.assert_allclose(objective, value, rtol=1e-12)


def test_a_firth_fit_round_trips_through_a_file(shared_data, tmp_path):
    X, y = load(shared_data, "endometrial")
    fit = fit_map(X, y, prior=Jeffreys())
    loaded = PointEstimate.load(fit.save(tmp_path / "firth.json"))
    assert loaded.prior == Jeffreys() and loaded.intercept_prior == Jeffreys()
    np.testing.assert_array_equal(loaded.params, fit.params)
    np.testing.assert_array_equal(loaded.cov, fit.cov)
    assert loaded.log_posterior == fit.log_posterior
    assert loaded.prior_summary().equals(fit.prior_summary())
    assert (fit.prior_summary()[["given", "used"]] == "Jeffreys()").all(axis=None)
    assert prior_from_dict(Jeffreys().to_dict()) == Jeffreys()
    assert parse_prior("jeffreys") == Jeffreys()


def test_the_jeffreys_prior_is_joint_and_takes_no_intercept_prior(shared_data):
    X, y = load(shared_data, "endometrial")
    with pytest.raises(ValueError, match="joint over the intercept and the coefficients"):
        fit_map(X, y, prior=Jeffreys(), intercept_prior=Flat())
    with pytest.raises(ValueError, match="joint over the intercept and the coefficients"):
        sample_posterior(X, y, prior=Normal(0, 1), intercept_prior=Jeffreys())
    with pytest.raises(ValueError, match="the Jeffreys prior has no scale"):
        fit_map(X, y, prior=Jeffreys(), autoscale=True)
    with pytest.raises(ValueError, match="Centered needs a smooth proper prior"):
        Centered(Jeffreys())


def test_the_jeffreys_prior_alone_has_no_density():
    with pytest.raises(ValueError, match="depends on the data"):
        Jeffreys().log_density(np.zeros(3))
    with pytest.raises(ValueError, match="depends on the data"):
        Jeffreys().distribution((3,))
    with pytest.raises(ValueError, match="depends on the data"):
        prior_predictive(np.zeros((5, 2)), prior=Jeffreys())


def test_solvers_and_samplers_that_cannot_evaluate_the_jeffreys_prior_refuse_it(shared_data):
    from bayeslogreg.estimators._chunked import MIN_ROWS

    X, y = load(shared_data, "endometrial")
    with pytest.raises(ValueError, match="draws a few rows per step"):
        fit_map(X, y, prior=Jeffreys(), solver="sgd")
    with pytest.raises(ValueError, match="sampler IMH does not take the Jeffreys prior"):
        sample_posterior(X, y, prior=Jeffreys(), sampler="imh")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(MIN_ROWS, 1)).astype(np.float32)
    y = (rng.random(MIN_ROWS) < 0.5).astype(float)
    with pytest.raises(ValueError, match=r"Newton fit of .* rows or more does not take.*lbfgs"):
        fit_map(X, y, prior=Jeffreys(), solver="newton")
    with pytest.raises(ValueError, match="fit_streaming does not take the Jeffreys prior"):
        fit_streaming(X[:1000], y[:1000], prior=Jeffreys())
    with pytest.raises(ValueError, match="the sharded fit does not take the Jeffreys prior"):
        distributed.fit_map(X[:1000], y[:1000], prior=Jeffreys())


def test_collinear_columns_are_named(shared_data):
    X, y = load(shared_data, "endometrial")
    X = X.assign(EH2=2 * X["EH"] - X["PI"], ones=1.0)
    with pytest.raises(ValueError, match=r"non-singular Fisher information.*'ones' is constant"):
        fit_map(X, y, prior=Jeffreys())
    with pytest.raises(ValueError, match=r"parameters \['PI', 'EH', 'EH2'\] are not identified"):
        fit_map(X.drop(columns="ones"), y, prior=Jeffreys())
    with pytest.raises(ValueError, match=r"parameters \['PI', 'EH', 'EH2'\] are not identified"):
        sample_posterior(X.drop(columns="ones"), y, prior=Jeffreys())


@pytest.mark.slow
def test_jeffreys_posterior_matches_a_long_plain_numpyro_run(shared_data, tmp_path):
    X, y = load(shared_data, "endometrial")
    post = sample_posterior(X, y, prior=Jeffreys(), num_chains=2, num_samples=1000, seed=4)
    assert post.num_divergences == 0
    summary = post.summary()
    assert np.isfinite(summary["mean"]).all()
    allowed_mean = K * np.hypot(summary["mcse_mean"], FIRTH_REFERENCE["mcse_mean"])
    allowed_sd = K * np.hypot(summary["mcse_sd"], FIRTH_REFERENCE["mcse_sd"])
    np.testing.assert_array_less(np.abs(summary["mean"] - FIRTH_REFERENCE["mean"]), allowed_mean)
    np.testing.assert_array_less(np.abs(summary["sd"] - FIRTH_REFERENCE["sd"]), allowed_sd)
    # The stored log prior of each draw is the Jeffreys density on the data.
    X_np, y_np = X.to_numpy(float), y.to_numpy(float)
    draws = post.draws.reshape(-1, 4)[:5]
    informations = [penalised_log_likelihood(d, X_np, y_np, 1 - y_np, 0.0)[1] for d in draws]
    expected = [0.5 * np.linalg.slogdet(information)[1] for information in informations]
    log_prior = _arviz.log_prior_draws(post.idata).reshape(-1)[:5]
    np.testing.assert_allclose(log_prior, expected, rtol=1e-10)
    # Its file keeps the prior, and prior sensitivity reads the stored log prior.
    loaded = Posterior.load(post.save(tmp_path / "firth.nc"))
    assert loaded.prior == Jeffreys() and loaded.intercept_prior == Jeffreys()
    np.testing.assert_array_equal(loaded.draws, post.draws)
    assert np.isfinite(loaded.prior_sensitivity()["prior"]).all()
