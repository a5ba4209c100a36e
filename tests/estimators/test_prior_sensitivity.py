"""Posterior.prior_sensitivity: power-scaling (Kallioinen et al. 2024) through ArviZ,
checked against a NumPy implementation of the paper's definition, on fits where the
answer is known, and across save/load (with and without the stored log_prior group)."""

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayeslogreg as blr
from bayeslogreg import _arviz
from bayeslogreg.datasets import simulate
from bayeslogreg.priors import Flat, Normal

# Short chains: the diagnosis needs only the draws' shape near the bulk.
SHORT = {"num_chains": 2, "num_warmup": 300, "num_samples": 400}


def cumulative_jensen_shannon(x, weights):
    """Distance between the ECDF of ``x`` and its ``weights``-weighted ECDF (base 2).

    Nguyen and Vreeken's cumulative Jensen-Shannon divergence of the two step functions,
    both directions, normalised by the integral of P + Q, square-rooted.
    """
    order = np.argsort(x)
    widths = np.diff(x[order])
    p = np.arange(1, len(x)) / len(x)
    q = np.cumsum(weights[order] / weights.sum())[:-1]
    m = (p + q) / 2

    def divergence(a, b):
        safe = np.where(a > 0, a, 1.0)
        return widths @ np.where(a > 0, a * np.log2(safe / m), 0.0) + widths @ (b - a) / (
            2 * np.log(2)
        )

    total = max(divergence(p, q), 0.0) + max(divergence(q, p), 0.0)
    return np.sqrt(total / (widths @ (p + q)))


def power_scaling_sensitivity(x, log_component, delta=0.01):
    """The paper's sensitivity with plain (not Pareto-smoothed) importance weights.

    For alpha = 1 / (1 + delta) and 1 + delta the draws get weights proportional to
    exp((alpha - 1) * log_component); the larger distance of x and of -x (the paper's
    choice, so that both tails count) per |log2 alpha|, averaged over the two alphas.
    """
    total = 0.0
    for alpha in (1 / (1 + delta), 1 + delta):
        log_weights = (alpha - 1) * log_component
        weights = np.exp(log_weights - log_weights.max())
        distance = max(
            cumulative_jensen_shannon(x, weights), cumulative_jensen_shannon(-x, weights)
        )
        total += distance / abs(np.log2(alpha))
    return total / 2


@pytest.fixture(scope="module")
def data():
    return simulate(300, [0.8, -0.5], intercept=0.2, seed=2)


@pytest.fixture(scope="module")
def posterior(data):
    return blr.sample_posterior(
        data.X, data.y, prior=Normal(0, 0.2), intercept_prior=Normal(0, 2.5), seed=2, **SHORT
    )


def test_stored_log_prior_is_each_draws_log_density_as_scipy_computes_it(posterior):
    draws = posterior.flat_draws
    expected = stats.norm.logpdf(draws[:, 0], 0, 2.5) + stats.norm.logpdf(draws[:, 1:], 0, 0.2).sum(
        axis=1
    )
    stored = _arviz.log_prior_draws(posterior.idata)
    assert stored.shape == (2, 400)
    # float64 sums of three terms of size ~1: a few ulps.
    np.testing.assert_allclose(stored.ravel(), expected, rtol=0, atol=1e-12)


def test_sensitivities_equal_a_numpy_power_scaling_with_plain_weights(data, posterior):
    draws = posterior.flat_draws
    log_prior = stats.norm.logpdf(draws[:, 0], 0, 2.5) + stats.norm.logpdf(
        draws[:, 1:], 0, 0.2
    ).sum(axis=1)
    eta = draws[:, :1] + draws[:, 1:] @ data.X.T
    log_likelihood = (data.y * eta - np.logaddexp(0.0, eta)).sum(axis=1)
    table = posterior.prior_sensitivity()
    assert list(table.index) == ["intercept", "x1", "x2"]
    assert list(table.columns) == ["prior", "likelihood", "diagnosis"]
    for component, log_density in (("prior", log_prior), ("likelihood", log_likelihood)):
        expected = [power_scaling_sensitivity(draws[:, j], log_density) for j in range(3)]
        # ArviZ Pareto-smooths the largest ~3 sqrt(S) of the S = 800 weights, the
        # reference does not: on this fit that moved each value by at most 1.0%, on
        # three similar fits by at most 1.6% (both ArviZ generations), so 3% separates
        # it from any error in the formula (a wrong alpha, log base or divisor changes
        # the values by 30% or more).
        np.testing.assert_allclose(table[component], expected, rtol=0.03)


def test_both_arviz_generations_use_the_same_alphas_and_divisor():
    # One variable, known draws and log prior: the generation installed gives the
    # paper's number, with ArviZ's Pareto smoothing (same 3% as above).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 500))
    log_prior = -0.5 * ((x - 0.5) / 0.3) ** 2
    idata = _arviz.from_samples(
        {"posterior": {"intercept": x}, "log_prior": {"log_prior": log_prior}},
        coords={},
        dims={},
    )
    value = _arviz.power_scaling_sensitivity(idata, ["intercept"], "prior", 0.01)
    expected = power_scaling_sensitivity(x.ravel(), log_prior.ravel())
    np.testing.assert_allclose(value, [expected], rtol=0.03)


def test_a_strong_prior_far_from_the_data_is_a_prior_data_conflict(data):
    # x2's MLE is about -0.5 with se 0.13; Normal(5, 0.1) sits 40 se away.
    post = blr.sample_posterior(
        data.X, data.y, prior=Normal([0.0, 5.0], [2.5, 0.1]), seed=3, **SHORT
    )
    table = post.prior_sensitivity()
    assert table.loc["x2", "diagnosis"] == "prior-data conflict"
    assert table.loc["x2", "prior"] >= 0.05 and table.loc["x2", "likelihood"] >= 0.05


def test_the_default_prior_on_plenty_of_data_is_not_flagged(data):
    post = blr.sample_posterior(data.X, data.y, seed=4, **SHORT)
    table = post.prior_sensitivity()
    assert (table["diagnosis"] == "").all()
    assert (table["prior"] < 0.05).all()
    assert (table["likelihood"] >= 0.05).all()


def test_a_narrow_prior_on_tiny_data_is_prior_dominated():
    small = simulate(12, [0.8, -0.5], intercept=0.2, seed=5)
    post = blr.sample_posterior(small.X, small.y, prior=Normal(0, 0.05), seed=5, **SHORT)
    table = post.prior_sensitivity()
    assert list(table.loc[["x1", "x2"], "diagnosis"]) == ["prior-dominated"] * 2


def test_an_intercept_only_model_has_one_row():
    y = (np.arange(200) % 3 == 0).astype(int)
    post = blr.sample_posterior(np.empty((200, 0)), y, seed=9, **SHORT)
    table = post.prior_sensitivity()
    assert list(table.index) == ["intercept"]
    assert table.loc["intercept", "diagnosis"] == ""


def test_flat_priors_have_prior_sensitivity_exactly_zero(data):
    post = blr.sample_posterior(
        data.X, data.y, prior=Flat(), intercept_prior=Flat(), seed=6, **SHORT
    )
    assert (_arviz.log_prior_draws(post.idata) == 0).all()
    table = post.prior_sensitivity()
    np.testing.assert_array_equal(table["prior"], 0.0)
    assert (table["likelihood"] > 0).all()
    assert (table["diagnosis"] == "").all()


def test_imh_posteriors_store_the_log_prior_too(data):
    post = blr.sample_posterior(
        data.X,
        data.y,
        prior=Normal(0, 0.2),
        intercept_prior=Normal(0, 2.5),
        sampler="imh",
        seed=7,
        **SHORT,
    )
    draws = post.flat_draws
    expected = stats.norm.logpdf(draws[:, 0], 0, 2.5) + stats.norm.logpdf(draws[:, 1:], 0, 0.2).sum(
        axis=1
    )
    np.testing.assert_allclose(_arviz.log_prior_draws(post.idata).ravel(), expected, atol=1e-12)
    assert list(post.prior_sensitivity().columns) == ["prior", "likelihood", "diagnosis"]


def test_prior_sensitivity_without_stored_log_likelihood_is_refused(data):
    post = blr.sample_posterior(data.X, data.y, store_log_likelihood=False, seed=8, **SHORT)
    with pytest.raises(ValueError, match="prior_sensitivity needs the per-row log-likelihood"):
        post.prior_sensitivity()


def test_save_and_load_keep_the_sensitivities(posterior, tmp_path):
    path = posterior.save(tmp_path / "posterior.nc")
    loaded = blr.Posterior.load(path)
    assert _arviz.has_group(loaded.idata, "log_prior")
    pd.testing.assert_frame_equal(loaded.prior_sensitivity(), posterior.prior_sensitivity())


def test_files_without_the_log_prior_group_recompute_it_from_the_draws(posterior, tmp_path):
    path = posterior.save(tmp_path / "older.nc")
    with h5py.File(path, "a") as file:  # as files saved before the group was stored
        del file["log_prior"]
    loaded = blr.Posterior.load(path)
    assert not _arviz.has_group(loaded.idata, "log_prior")
    # The same draws through the same compiled float64 log density: equal here; 1e-12
    # leaves room for another summation order elsewhere (float32 would be 1e-6 off).
    pd.testing.assert_frame_equal(
        loaded.prior_sensitivity(), posterior.prior_sensitivity(), check_exact=False, rtol=1e-12
    )
