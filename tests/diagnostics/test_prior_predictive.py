"""Prior predictive checks and the prior-against-posterior figure."""

import numpy as np
import pytest
from scipy import special, stats

import bayeslogreg as blr
from bayeslogreg.diagnostics import prior_predictive
from bayeslogreg.priors import Centered, Flat, Normal, StudentT
from bayeslogreg.report.figures import prior_posterior_figure, prior_predictive_figure


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(2)
    return np.column_stack([rng.normal(50.0, 10.0, 400), rng.random(400) < 0.3])


def test_draws_follow_the_default_priors_scaled_to_x(X):
    check = prior_predictive(X, num_draws=20_000, seed=3)
    sd = np.array([X[:, 0].std(ddof=1), 1.0])  # the 0/1 column's range is 1
    coef = check.draws[:, 1:]
    at_means = check.draws[:, 0] + coef @ X.mean(axis=0)
    # 20,000 draws: a sample sd is within ~1% of the true one (4 standard errors: 2%);
    # Kolmogorov-Smirnov p-values above 1e-3 for the exact normal laws.
    np.testing.assert_allclose(coef.std(axis=0), 2.5 / sd, rtol=0.02)
    np.testing.assert_allclose(at_means.std(), 2.5, rtol=0.02)
    for values, scale in [(coef[:, 0], 2.5 / sd[0]), (coef[:, 1], 2.5), (at_means, 2.5)]:
        assert stats.kstest(values, stats.norm(0, scale).cdf).pvalue > 1e-3
    # The probabilities are those of the drawn parameters on the kept rows.
    expected = special.expit(check.draws[:, :1] + check.draws[:, 1:] @ X[check.rows].T)
    np.testing.assert_allclose(check.prob, expected, rtol=1e-12)
    share = np.mean((expected < 0.01) | (expected > 0.99))
    assert check.extreme_share == pytest.approx(share, abs=1e-15)


def test_explicit_priors_are_drawn_as_given_and_the_seed_repeats(X):
    check = prior_predictive(
        X, prior=StudentT(3, 0, 0.1), intercept_prior=Centered(Normal(1, 0.5)), seed=4
    )
    again = prior_predictive(
        X, prior=StudentT(3, 0, 0.1), intercept_prior=Centered(Normal(1, 0.5)), seed=4
    )
    np.testing.assert_array_equal(check.draws, again.draws)
    assert not np.array_equal(check.draws, prior_predictive(X, seed=5).draws)
    assert check.prior == StudentT(3, 0, 0.1)
    np.testing.assert_allclose(check.intercept_prior.center, X.mean(axis=0), rtol=1e-12)


def test_wide_priors_on_many_features_are_warned_about():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 20))
    with pytest.warns(blr.PriorWarning, match=r"the priors put 6\d% of the predicted"):
        check = prior_predictive(X, prior=Normal(0, 2.5))
    assert check.extreme_share > 0.5
    # Narrower scales on the same 20 columns keep most probabilities away from 0 and 1.
    narrow = prior_predictive(X, prior=Normal(0, 0.3))
    assert narrow.extreme_share < 0.2


def test_improper_priors_and_bad_settings_are_refused(X):
    with pytest.raises(ValueError, match="a prior predictive check draws from the priors"):
        prior_predictive(X, prior=Flat())
    with pytest.raises(ValueError, match="a prior predictive check draws from the priors"):
        prior_predictive(X, intercept_prior=Flat())
    with pytest.raises(ValueError, match="num_draws must be an integer >= 1"):
        prior_predictive(X, num_draws=0)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")  # short chains
def test_the_figures_show_the_priors_and_the_posterior(X):
    check = prior_predictive(X, seed=1)
    fig = prior_predictive_figure(check)
    assert f"{check.extreme_share:.0%}" in fig.axes[0].get_title()
    y = (np.random.default_rng(3).random(400) < special.expit(0.05 * (X[:, 0] - 50))).astype(int)
    posterior = blr.sample_posterior(X, y, num_chains=2, num_warmup=200, num_samples=200, seed=2)
    fig = prior_posterior_figure(posterior)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["x1", "x2"]
    # Each panel's curve is that coefficient's prior density as used (autoscaled).
    grid, density = visible[0].lines[0].get_data()
    scale = posterior.prior.scale[0]
    np.testing.assert_allclose(density, stats.norm(0, scale).pdf(grid), rtol=1e-10)
