"""rstanarm's default priors: autoscaled coefficients, the intercept at the means."""

import numpy as np
import pytest
from scipy import optimize, stats

import bayeslogreg as blr
from bayeslogreg.exceptions import SeparationWarning
from bayeslogreg.priors import Centered, Flat, Laplace, Normal, StudentT

TIGHT = blr.solvers.Newton(tol=1e-12)


@pytest.fixture(scope="module")
def data():
    """Columns in awkward units: a year, a 0/1 column coded 0/5, a distance in metres."""
    rng = np.random.default_rng(4)
    n = 300
    year = rng.integers(1990, 2020, n).astype(float)
    flag = 5.0 * (rng.random(n) < 0.3)
    metres = rng.gamma(2.0, 400.0, n)
    eta = -0.5 + 0.08 * (year - 2005) + 0.2 * flag - 0.001 * metres
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return np.column_stack([year, flag, metres]), y


def _reference_map(X, y, weights=None):
    """The default MAP by SciPy's BFGS, priors computed here from NumPy's mean and std."""
    weights = np.ones(len(y)) if weights is None else weights
    mean = np.average(X, axis=0, weights=weights)
    sd = np.sqrt(
        np.average((X - mean) ** 2, axis=0, weights=weights) * weights.sum() / (weights.sum() - 1)
    )
    binary = np.array([len(np.unique(column)) == 2 for column in X.T])
    spread = np.where(binary, X.max(0) - X.min(0), sd)

    def minus_log_posterior(params):
        eta = params[0] + X @ params[1:]
        loglik = weights @ (y * eta - np.logaddexp(0.0, eta))
        prior = stats.norm.logpdf(params[1:], 0.0, 2.5 / spread).sum()
        prior += stats.norm.logpdf(params[0] + mean @ params[1:], 0.0, 2.5)
        return -(loglik + prior)

    # BFGS in coordinates where the columns have spread 1 and mean 0, then mapped back.
    def in_unit(z):
        coef = z[1:] / spread
        return minus_log_posterior(np.r_[z[0] - mean @ coef, coef])

    z = optimize.minimize(in_unit, np.zeros(X.shape[1] + 1), method="BFGS", tol=1e-12).x
    coef = z[1:] / spread
    return np.r_[z[0] - mean @ coef, coef], spread, mean


def test_the_default_map_is_rstanarms_autoscaled_prior(data):
    X, y = data
    fit = blr.fit_map(X, y, solver=TIGHT)
    expected, spread, mean = _reference_map(X, y)
    # Both optimise the same smooth function to a gradient ~1e-10: 1e-6 leaves room for
    # BFGS's looser stop without hiding a wrong prior (which moves them by percents).
    np.testing.assert_allclose(fit.params, expected, rtol=1e-6)
    summary = fit.prior_summary()
    np.testing.assert_allclose(summary["spread"].to_numpy()[1:], spread, rtol=1e-12)
    np.testing.assert_allclose(summary["center"].to_numpy()[1:], mean, rtol=1e-12)
    np.testing.assert_allclose(summary["scale"].to_numpy(), np.r_[2.5, 2.5 / spread], rtol=1e-12)
    assert spread[1] == 5.0  # a column of two values: its range, not its sd
    assert list(summary["given"]) == ["default"] * 4
    assert summary.loc["intercept", "used"] == "Normal(0, 2.5) at the centre"


@pytest.mark.parametrize("column", [0, 1, 2])
def test_units_and_origins_of_a_column_do_not_change_the_default_map(data, column):
    X, y = data
    fit = blr.fit_map(X, y, solver=TIGHT)
    rescaled = X.copy()
    rescaled[:, column] = rescaled[:, column] * 1000.0 + 37.0
    moved = blr.fit_map(rescaled, y, solver=TIGHT)
    # Multiplying by 1000 divides the coefficient by 1000; adding 37 moves only the
    # intercept, by -37 times the (new) coefficient. Both fits stop at a gradient of
    # 1e-12 in their own coordinates: 1e-7 relative, as the issue asks.
    coef = fit.coef.copy()
    coef[column] /= 1000.0
    np.testing.assert_allclose(moved.coef, coef, rtol=1e-7)
    assert moved.intercept == pytest.approx(fit.intercept - 37.0 * coef[column], rel=1e-7)
    # An explicit prior keeps its scale: the fit then depends on the units.
    explicit = blr.fit_map(rescaled, y, prior=Normal(0, 2.5), solver=TIGHT)
    assert not np.allclose(explicit.coef[column] * 1000.0, fit.coef[column], rtol=1e-3)


def test_the_default_posterior_follows_the_units(data):
    X, y = data
    kwargs = {"num_chains": 2, "num_warmup": 300, "num_samples": 400, "seed": 3}
    posterior = blr.sample_posterior(X, y, **kwargs)
    rescaled = X * np.array([1.0, 1.0, 1e-3])  # metres to kilometres
    moved = blr.sample_posterior(rescaled, y, **kwargs)
    draws, moved_draws = posterior.flat_draws, moved.flat_draws * np.array([1, 1, 1, 1e-3])
    # Same posterior in other units: means agree within Monte Carlo error (4 standard
    # errors of the difference, from the chains' effective sizes).
    table, moved_table = posterior.summary(), moved.summary()
    mcse = np.hypot(
        table["mcse_mean"].to_numpy(), moved_table["mcse_mean"].to_numpy() * [1, 1, 1, 1e-3]
    )
    assert np.all(np.abs(draws.mean(0) - moved_draws.mean(0)) <= 4 * mcse)
    assert posterior.prior_summary().equals(posterior.map_estimate.prior_summary())


def test_weights_and_counts_scale_the_priors_as_their_rows_would(data):
    X, y = data
    weights = np.arange(len(y)) % 3 + 1
    weighted = blr.fit_map(X, y, sample_weight=weights, solver=TIGHT)
    repeated = blr.fit_map(np.repeat(X, weights, 0), np.repeat(y, weights), solver=TIGHT)
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-8)
    expected, *_ = _reference_map(X, y, weights.astype(float))
    np.testing.assert_allclose(weighted.params, expected, rtol=1e-6)
    # Counts: two rows of 0/3 and 3/3 trials... as the Bernoulli rows they stand for.
    trials = np.full(len(y), 2)
    successes = y.astype(int) + (np.arange(len(y)) % 2) * (1 - y.astype(int))
    counts = blr.fit_map(X, successes, trials=trials, solver=TIGHT)
    rows = np.repeat(X, 2, 0)
    labels = np.column_stack([successes >= 1, successes >= 2]).ravel().astype(float)
    np.testing.assert_allclose(
        counts.params, blr.fit_map(rows, labels, solver=TIGHT).params, rtol=1e-8
    )


def test_autoscale_true_scales_an_explicit_prior_and_false_keeps_the_default_fixed(data):
    X, y = data
    spread = blr.fit_map(X, y).prior_summary()["spread"].to_numpy()[1:]
    scaled = blr.fit_map(X, y, prior=StudentT(7, 0, 2.5), autoscale=True)
    np.testing.assert_allclose(scaled.prior.scale, 2.5 / spread, rtol=1e-12)
    assert scaled.prior.df == 7 and scaled.prior_summary()["given"].iloc[1].endswith(
        "(autoscale=True)"
    )
    fixed = blr.fit_map(X, y, autoscale=False)
    assert fixed.prior == Normal(0, 2.5) and np.isnan(fixed.prior_summary()["spread"]).all()
    # An explicit raw intercept prior stays at x = 0; Centered() moves it to the means.
    raw = blr.fit_map(X, y, intercept_prior=Normal(0, 2.5))
    assert raw.intercept_prior == Normal(0, 2.5)
    centred = blr.fit_map(X, y, intercept_prior=Centered(StudentT(7, 0, 2.5)))
    np.testing.assert_allclose(centred.intercept_prior.center, X.mean(0), rtol=1e-12)
    given = np.r_[1.0, 2.0, 3.0]
    assert np.array_equal(
        blr.fit_map(X, y, intercept_prior=Centered(Normal(0, 2.5), given)).intercept_prior.center,
        given,
    )


def test_a_centred_intercept_prior_pins_the_log_odds_at_the_means_in_the_separation_check():
    X, y = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0.0, 0.0, 1.0, 1.0])
    # Flat coefficients, the intercept's prior at x = 2.5: x - 2.5 separates the rows.
    with pytest.warns(SeparationWarning):
        fit = blr.fit_map(X, y, prior=Flat())
    assert fit.separation is not None and fit.separation.features == ("x1",)
    direction = fit.separation.direction
    assert direction[0] + 2.5 * direction[1] == pytest.approx(0.0, abs=1e-12)
    # The intercept's prior at x = 0 pins a value that moving x's threshold changes.
    assert blr.fit_map(X, y, prior=Flat(), intercept_prior=Normal(0, 2.5)).separation is None


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (
            {"autoscale": True, "prior": Flat()},
            ValueError,
            r"autoscale=True .* Flat\(\) has no scale",
        ),
        ({"autoscale": "yes"}, ValueError, "autoscale must be"),
        (
            {"intercept_prior": Centered(Normal(0, 1), [1.0, 2.0])},
            ValueError,
            "2 centre values but X has 3 columns",
        ),
    ],
)
def test_bad_prior_choices_are_refused(data, arguments, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        blr.fit_map(X, y, **arguments)


def test_a_constant_column_under_an_autoscaled_prior_is_named(data):
    X, y = data
    X = np.column_stack([X, np.full(len(y), 3.0)])
    with pytest.raises(ValueError, match=r"columns \['x4'\] are constant \(spread 0\)"):
        blr.fit_map(X, y)
    # An explicit prior fits it, as before (the prior pins its coefficient).
    assert blr.fit_map(X, y, prior=Normal(0, 2.5), intercept_prior=Normal(0, 10)).converged


@pytest.mark.parametrize("prior", [Laplace(0, 1), Flat(), Centered(Normal(0, 1)), "normal"])
def test_centered_takes_only_a_smooth_proper_prior(prior):
    with pytest.raises(ValueError, match="Centered"):
        Centered(prior)


def test_the_prior_choice_is_saved_and_loaded(data, tmp_path):
    X, y = data
    fit = blr.fit_map(X, y, prior=StudentT(7, 0, 2.5), autoscale=True)
    path = tmp_path / "fit.json"
    fit.save(path)
    loaded = blr.PointEstimate.load(path)
    assert loaded.prior == fit.prior and loaded.intercept_prior == fit.intercept_prior
    assert loaded.prior_summary().equals(fit.prior_summary())


def test_column_moments_equal_numpy_in_blocks_and_across_processes(monkeypatch):
    from bayeslogreg.estimators import _prior_choice

    monkeypatch.setattr(_prior_choice, "_BLOCK_ROWS", 64)  # many blocks, one partial
    rng = np.random.default_rng(8)
    n = 1000
    X = np.column_stack(
        [
            rng.integers(1990, 2020, n).astype(float),  # a year
            1.7e9 + rng.normal(0.0, 1e6, n),  # a timestamp: raw squares would cancel
            5.0 * (rng.random(n) < 0.3),  # two values: the range
            np.where(np.arange(n) == 7, 2.5, 5.0 * (rng.random(n) < 0.3)),  # a third value
        ]
    )
    weights = rng.integers(0, 4, n).astype(float)
    for w in (None, weights):
        mean, spread = _prior_choice.means_spreads(_prior_choice.column_moments(X, w))
        w_ = np.ones(n) if w is None else w
        expected_mean = np.average(X, axis=0, weights=w_)
        var = np.average((X - expected_mean) ** 2, axis=0, weights=w_) * w_.sum() / (w_.sum() - 1)
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-14)
        np.testing.assert_allclose(spread[[0, 1, 3]], np.sqrt(var[[0, 1, 3]]), rtol=1e-9)
        assert spread[2] == 5.0
    # Two "processes" holding halves give the moments of the whole.
    halves = [_prior_choice.column_moments(X[:300]), _prior_choice.column_moments(X[300:])]
    whole = _prior_choice.means_spreads(_prior_choice.column_moments(X))
    combined = _prior_choice.means_spreads(_prior_choice.combine(halves, X.shape[1]))
    np.testing.assert_allclose(combined, whole, rtol=1e-12)
