import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from bayeslogreg import ConvergenceWarning, fit_map, sample_posterior
from bayeslogreg._arviz import is_arviz_1
from bayeslogreg.datasets import load_effort, simulate
from bayeslogreg.priors import Flat, Normal
from bayeslogreg.samplers import NUTS

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "posterior_reference.json").read_text()
)

# Each check allows K Monte Carlo standard errors (of both runs where both are random).
# With the fixed seeds the runs are reproducible; K = 4 means a correct sampler fails a
# given comparison with probability ~6e-5.
K = 4.0


def quadrature_moments(X, y, intercept_scale, coef_scale, centre, spread, points=601):
    """Posterior mean and sd of (intercept, slope) by brute-force 2-D quadrature."""
    a = np.linspace(centre[0] - 9 * spread[0], centre[0] + 9 * spread[0], points)
    b = np.linspace(centre[1] - 9 * spread[1], centre[1] + 9 * spread[1], points)
    A, B = np.meshgrid(a, b, indexing="ij")
    eta = A[..., None] + B[..., None] * X[:, 0]
    sign = 2.0 * y - 1.0
    log_post = -np.logaddexp(0.0, -sign * eta).sum(axis=-1)
    log_post += -0.5 * (A / intercept_scale) ** 2 - 0.5 * (B / coef_scale) ** 2
    weights = np.exp(log_post - log_post.max())
    weights /= weights.sum()
    mean = np.array([(weights * A).sum(), (weights * B).sum()])
    sd = np.sqrt([(weights * (A - mean[0]) ** 2).sum(), (weights * (B - mean[1]) ** 2).sum()])
    return mean, sd


@pytest.fixture(scope="module")
def effort_posterior():
    data = load_effort()
    return data, sample_posterior(data.X, data.y, feature_names=data.feature_names)


def test_defaults_converge_on_the_effort_data(effort_posterior):
    _, post = effort_posterior
    summary = post.summary()
    assert summary["r_hat"].max() < 1.01
    assert summary["ess_bulk"].min() > 400
    assert post.num_divergences == 0
    assert post.draws.shape == (4, 1000, 2)


# The exactness checks run for both samplers: NUTS with its defaults, and the independence
# Metropolis-Hastings sampler for big data (exact MCMC whatever its Laplace proposal).
SAMPLERS = {"nuts": {}, "imh": {"sampler": "imh", "num_warmup": 50, "num_samples": 2000}}


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_posterior_matches_brute_force_quadrature(sampler):
    data = simulate(30, [1.5], intercept=-0.5, seed=5)
    prior, intercept_prior = Normal(0, 1.0), Normal(0, 2.0)
    post = sample_posterior(
        data.X, data.y, prior=prior, intercept_prior=intercept_prior, seed=3, **SAMPLERS[sampler]
    )
    fit = post.map_estimate
    mean, sd = quadrature_moments(data.X, data.y, 2.0, 1.0, fit.params, fit.stderr)
    summary = post.summary()
    np.testing.assert_array_less(np.abs(summary["mean"] - mean), K * summary["mcse_mean"])
    np.testing.assert_array_less(np.abs(summary["sd"] - sd), K * summary["mcse_sd"])


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_posterior_matches_a_long_run_of_an_independent_numpyro_model(sampler):
    # n = 60 and 4 parameters: visibly non-Gaussian, so for IMH this tests exactness, not
    # the quality of the Laplace approximation.
    s = REFERENCE["settings"]
    data = simulate(s["n_samples"], s["coef"], intercept=s["intercept"], seed=s["seed"])
    post = sample_posterior(
        data.X,
        data.y,
        prior=Normal(0, s["coef_scale"]),
        intercept_prior=Normal(0, s["intercept_scale"]),
        seed=1,
        **SAMPLERS[sampler],
    )
    summary = post.summary()
    allowed_mean = K * np.hypot(summary["mcse_mean"], REFERENCE["mcse_mean"])
    allowed_sd = K * np.hypot(summary["mcse_sd"], REFERENCE["mcse_sd"])
    np.testing.assert_array_less(np.abs(summary["mean"] - REFERENCE["mean"]), allowed_mean)
    np.testing.assert_array_less(np.abs(summary["sd"] - REFERENCE["sd"]), allowed_sd)


def test_large_n_posterior_agrees_with_the_laplace_approximation():
    data = simulate(10_000, [1.0, -0.5], intercept=0.3, seed=8)
    post = sample_posterior(data.X, data.y, num_samples=1000, seed=2)
    laplace = post.map_estimate
    summary = post.summary()
    # At n = 10000 the posterior is Gaussian to O(1/sqrt(n)) of its sd (~1%), below the
    # Monte Carlo error allowed here.
    np.testing.assert_array_less(np.abs(summary["mean"] - laplace.params), K * summary["mcse_mean"])
    np.testing.assert_array_less(np.abs(summary["sd"] - laplace.stderr), K * summary["mcse_sd"])


def test_inference_data_has_the_groups_and_feature_coordinates(effort_posterior):
    data, post = effort_posterior
    idata = post.idata
    groups = set(idata.groups) if is_arviz_1() else set(idata.groups())
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= {
        g.strip("/") for g in groups
    }
    assert list(idata.posterior["coef"].coords["feature"].values) == ["effort"]
    assert idata.log_likelihood["y"].shape == (4, 1000, 1000)
    assert set(idata.sample_stats.data_vars) >= {"diverging", "lp", "step_size", "tree_depth"}
    # The stored pointwise log-likelihood is the model's, draw by draw.
    draw = post.draws[1, 7]
    eta = draw[0] + data.X[:, 0] * draw[1]
    expected = -np.logaddexp(0.0, -(2.0 * data.y - 1.0) * eta)
    np.testing.assert_allclose(idata.log_likelihood["y"].values[1, 7], expected, rtol=1e-12)


def test_summary_and_intervals(effort_posterior):
    _, post = effort_posterior
    summary = post.summary(level=0.9)
    assert list(summary.index) == ["intercept", "effort"]
    assert list(summary.columns) == [
        "mean",
        "sd",
        "ci_lower",
        "ci_upper",
        "mcse_mean",
        "mcse_sd",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ]
    np.testing.assert_allclose(summary["mean"], post.params, rtol=1e-12)
    np.testing.assert_allclose(summary["sd"], post.stderr, rtol=1e-12)
    eti = post.conf_int(0.9, kind="eti")
    expected = np.quantile(post.flat_draws, [0.05, 0.95], axis=0).T
    np.testing.assert_allclose(eti, expected, rtol=1e-2)
    hdi = post.conf_int(0.9)
    assert np.all(hdi[:, 1] - hdi[:, 0] <= eti[:, 1] - eti[:, 0] + 1e-9)


def test_ci_prob_is_the_deprecated_name_of_level(effort_posterior):
    _, post = effort_posterior
    with pytest.warns(FutureWarning, match=r"^ci_prob= is deprecated; pass level=0\.9$") as caught:
        old = post.summary(ci_prob=0.9)
    assert caught[0].filename == __file__
    pd.testing.assert_frame_equal(old, post.summary(level=0.9), check_exact=True)
    pd.testing.assert_frame_equal(post.summary(0.9), old, check_exact=True)
    with pytest.raises(ValueError, match="ci_prob= is deprecated: drop it and keep level="):
        post.summary(level=0.8, ci_prob=0.9)


def test_predict_proba_averages_over_draws(effort_posterior):
    data, post = effort_posterior
    mean, draws = post.predict_proba(data.X[:5], return_draws=True)
    assert draws.shape == (4000, 5)
    expected = special.expit(post.flat_draws[:, :1] + post.flat_draws[:, 1:] @ data.X[:5].T)
    np.testing.assert_allclose(draws, expected, rtol=1e-12)
    np.testing.assert_allclose(mean, expected.mean(axis=0), rtol=1e-12)


def test_the_true_effort_parameters_are_inside_the_posterior_intervals(effort_posterior):
    data, post = effort_posterior
    lower, upper = post.conf_int(0.99).T
    truth = np.r_[data.intercept, data.coef]
    assert np.all((lower < truth) & (truth < upper))


def test_same_seed_gives_bit_identical_draws():
    data = simulate(80, [1.0], seed=4)
    kwargs = {"num_warmup": 200, "num_samples": 300, "num_chains": 2, "seed": 9}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = sample_posterior(data.X, data.y, **kwargs)
        b = sample_posterior(data.X, data.y, **kwargs)
        c = sample_posterior(data.X, data.y, **{**kwargs, "seed": 10})
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_short_runs_warn_about_low_ess():
    data = simulate(80, [1.0], seed=4)
    with pytest.warns(ConvergenceWarning, match="bulk ESS as low as") as caught:
        sample_posterior(data.X, data.y, num_warmup=50, num_samples=20, num_chains=2)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert "NUTS(target_accept=0.95)" in str(caught[0].message)


def test_intercept_only_posterior_and_flat_priors():
    y = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 1])
    post = sample_posterior(np.empty((10, 0)), y, intercept_prior=Flat(), seed=1)
    assert post.draws.shape == (4, 1000, 1)
    # A flat prior on the log-odds is Beta(0, 0) on p = sigmoid(intercept), so after 7
    # heads in 10 flips p has the posterior Beta(7, 3), whose mean is 0.7.
    p = special.expit(post.flat_draws[:, 0])
    assert p.mean() == pytest.approx(
        0.7, abs=4 * p.std() / np.sqrt(post.summary()["ess_bulk"].iloc[0])
    )
    assert post.summary().index.tolist() == ["intercept"]


def test_map_estimate_is_the_starting_point(effort_posterior):
    data, post = effort_posterior
    fit = fit_map(data.X, data.y, feature_names=data.feature_names)
    np.testing.assert_allclose(post.map_estimate.params, fit.params, rtol=1e-12)
    assert "Posterior(NUTS, 4 chains x 1000 draws" in repr(post)
    assert post.sampler == NUTS() and post.sampler_name == "NUTS"
