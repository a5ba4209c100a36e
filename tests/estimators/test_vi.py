"""fit_vi: ADVI (mean-field, full-rank) and Pathfinder against a long NUTS reference of
German credit, Pathfinder's pieces on normal targets, the k-hat warning, errors, files."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayeslogreg as blr
from bayeslogreg import _arviz
from bayeslogreg._jax import float64
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _pathfinder, _svi, vi
from bayeslogreg.priors import Normal

REFERENCE = Path(__file__).parents[1] / "reference" / "german_credit_reference.json"
GERMAN_CREDIT = (
    Path(__file__).resolve().parents[3]
    / "shared/data/german_credit_numeric/german_credit_numeric.csv"
)
UNIT = {"prior": Normal(0, 1), "intercept_prior": Normal(0, 1)}
# Every small fit draws this many: one compiled program per method serves them all.
DRAWS = 1000
# The k-hat warning is tested on its own below. Elsewhere it is not the subject, and it
# does fire for good fits: full-rank ADVI's k-hat on the 3-parameter posterior of
# ``small`` was 0.41-0.79 over seeds 0-3 (log ratios within 2 nats of each other; the
# posterior's skewed tail is heavier than any normal's, as Yao et al. 2018 found for
# ADVI on logistic regressions).
pytestmark = pytest.mark.filterwarnings("ignore::bayeslogreg.ApproximationWarning")


@pytest.fixture(scope="module")
def german_credit():
    """The Inference Gym's German credit: 24 standardised features (population sd), y_bad."""
    if not GERMAN_CREDIT.is_file():
        pytest.skip(f"{GERMAN_CREDIT} is not present")
    table = np.genfromtxt(GERMAN_CREDIT, delimiter=",", names=True)
    X = np.column_stack([table[f"a{j:02d}"] for j in range(1, 25)])
    return (X - X.mean(axis=0)) / X.std(axis=0), table["y_bad"].astype(int)


@pytest.fixture(scope="module")
def reference():
    """Mean and sd of 40,000 NUTS draws (make_german_credit_reference.py; MCSE < 0.006 sd)."""
    data = json.loads(REFERENCE.read_text())
    return np.array(data["mean"]), np.array(data["sd"])


@pytest.fixture(scope="module")
def german_fits(german_credit):
    """4000 draws of each method."""
    return {
        method: blr.fit_vi(*german_credit, **UNIT, method=method, num_draws=4000)
        for method in vi.METHODS
    }


@pytest.mark.slow
def test_german_credit_posterior_mean_is_far_from_its_mode_in_the_intercept(
    german_credit, reference
):
    # Why Pathfinder importance-resamples: its normals sit near the mode, and here the
    # mode is 0.42 posterior sd from the mean (intercept).
    mean, sd = reference
    map_fit = blr.fit_map(*german_credit, **UNIT)
    shift = np.abs(map_fit.params - mean) / sd
    assert shift[0] > 0.35
    assert np.max(shift[1:]) < 0.25


@pytest.mark.slow
def test_full_rank_advi_matches_the_long_reference(german_fits, reference):
    mean, sd = reference
    fit = german_fits["fullrank"]
    # The tolerances. Measured 0.051 sd (0.05-0.07 over seeds 0-3; MCSE of
    # 4000 draws 0.016 sd per mean).
    assert np.max(np.abs(fit.params - mean) / sd) < 0.1
    # Measured 0.96-1.05; the sd of 4000 draws is itself uncertain by 1.1%.
    np.testing.assert_allclose(fit.stderr / sd, 1.0, atol=0.1)
    assert fit.pareto_k < 0.7
    assert fit.elbo.shape == (400,) and np.isfinite(fit.elbo).all()


@pytest.mark.slow
def test_mean_field_advi_has_the_means_but_too_small_sds(german_fits, reference):
    mean, sd = reference
    fit = german_fits["meanfield"]
    assert np.max(np.abs(fit.params - mean) / sd) < 0.15  # the issue's; measured 0.044
    ratio = fit.stderr / sd
    # Known: independent normals fit the conditional, not the marginal, spread of
    # correlated parameters, so the sds are too small (measured 0.55-0.98).
    assert ratio.max() < 1.1
    assert ratio.min() < 0.7


@pytest.mark.slow
def test_multi_path_pathfinder_matches_the_long_reference(german_fits, reference):
    mean, sd = reference
    fit = german_fits["pathfinder"]
    # Each path's normal sits near the mode (0.41-0.44 sd from the mean); importance
    # resampling over the mixture of the 4 paths' normals moves the draws to the mean.
    # The tolerances. Measured 0.043 sd and sd ratios 0.97-1.02 (0.04-0.07
    # and 0.95-1.07 over seeds 0-3), k-hat 0.33 (0.33-0.61).
    assert np.max(np.abs(fit.params - mean) / sd) < 0.1
    np.testing.assert_allclose(fit.stderr / sd, 1.0, atol=0.1)
    assert fit.pareto_k < 0.7
    # Four paths from dispersed starts climb to the mode; each normal's ELBO is kept.
    assert fit.path.shape[:2] == fit.elbo.shape and fit.path.shape[0] == 4
    assert fit.path.shape[1] > 10
    assert np.all(np.abs(fit.path[:, 0]) < 2) and np.ptp(fit.path[:, 0], axis=0).min() > 0
    assert np.all(fit.elbo[:, 0] == -np.inf) and np.isfinite(fit.elbo[:, 1]).all()
    assert np.abs(fit.path[:, -1] - fit.map_estimate.params).max() < 1e-4
    # Resampled with repeats: fewer distinct draws than draws (measured 3548 of 4000).
    assert 2000 < len(np.unique(fit.flat_draws[:, 0])) < 4000


@pytest.mark.slow
@pytest.mark.parametrize("method", list(vi.METHODS))
def test_draws_log_density_is_the_posterior_written_independently(
    german_credit, german_fits, method
):
    X, y = german_credit
    fit = german_fits[method]
    draws = fit.flat_draws
    eta = draws[:, :1] + draws[:, 1:] @ X.T
    loglik = (y * special.log_expit(eta) + (1 - y) * special.log_expit(-eta)).sum(axis=1)
    log_p = loglik + stats.norm.logpdf(draws).sum(axis=1)
    lp = np.asarray(fit.idata.sample_stats["lp"]).ravel()
    np.testing.assert_allclose(lp, log_p, rtol=1e-10)
    log_q = np.asarray(fit.idata.sample_stats["log_q"]).ravel()
    if method == "pathfinder":  # k-hat of the draws before resampling
        assert 0 < fit.pareto_k < 0.7
    else:
        assert fit.pareto_k == _arviz.pareto_khat(lp - log_q)


def test_systematic_resampling_keeps_each_draw_its_share_of_the_weights():
    log_ratios = np.random.default_rng(0).standard_normal(500)
    index, khat = vi._importance_resample(log_ratios, 2000, seed=1)
    log_weights, expected_khat = _arviz.psis(log_ratios)
    # Each draw is kept floor or ceil of 2000 w times: no more than one off its share.
    counts = np.bincount(index, minlength=500)
    assert np.abs(counts - 2000 * np.exp(log_weights)).max() < 1
    np.testing.assert_allclose(np.exp(log_weights).sum(), 1.0)
    assert khat == expected_khat
    assert np.any(np.diff(index) < 0)  # shuffled, not in the draws' order


def test_pathfinder_is_exact_for_a_one_dimensional_normal():
    # One pair pins the curvature of a quadratic: the diagonal estimate is then s / y,
    # the exact variance, and the normal is the target.
    def log_density(z):
        return -0.5 * ((z[0] - 1.5) / 0.3) ** 2

    options = _pathfinder.PathfinderOptions(50, 6, 5, 20_000)
    run = jax.jit(lambda key, start: _pathfinder.pathfinder(key, log_density, start, options))
    with float64():
        result = run(jax.random.key(0), jnp.zeros(1))
    draws = np.asarray(result.draws)[:, 0]
    assert abs(draws.mean() - 1.5) < 4 * 0.3 / np.sqrt(20_000)
    assert abs(draws.std() / 0.3 - 1) < 4 / np.sqrt(2 * 20_000)
    # log q of the chosen normal is the target's density, normalised: log p - log q = log Z.
    log_z = np.log(0.3 * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(np.asarray(result.log_p - result.log_q), log_z, atol=1e-9)


def test_advi_in_whitened_coordinates_gives_back_a_correlated_normal():
    # The guide lives in u, z = start + scale u; a scale far from the target's (sds 0.5
    # and 3 against 1 and 1.4, no correlation against 0.57) must still give the target.
    mean, cov = np.array([1.0, -2.0]), np.array([[1.0, 0.8], [0.8, 2.0]])
    precision = np.linalg.inv(cov)

    def log_density(z):
        return -0.5 * (z - mean) @ precision @ (z - mean)

    options = _svi.SVIOptions(fullrank=True, num_steps=1000, num_elbo_draws=16, num_draws=100)
    scale = np.diag([0.5, 3.0])
    run = jax.jit(lambda key: _svi.svi(key, log_density, jnp.zeros(2), scale, 0.05, options))
    with float64():
        result = run(jax.random.key(0))
    chol = np.asarray(result.chol)
    sd = np.sqrt(np.diag(cov))
    assert np.max(np.abs(np.asarray(result.mean) - mean) / sd) < 0.1  # measured 0.05
    np.testing.assert_allclose(chol @ chol.T, cov, rtol=0.1, atol=0.05)
    # The ELBO is in z's nats (scale's log determinant, log 1.5, included): near the
    # target it is log Z, the most it can be.
    log_z = np.log(2 * np.pi * np.sqrt(np.linalg.det(cov)))
    np.testing.assert_allclose(np.mean(np.asarray(result.log_p - result.log_q)), log_z, atol=0.05)
    np.testing.assert_allclose(np.mean(np.asarray(result.elbo)[-100:]), log_z, atol=0.05)


def test_multi_path_resampling_moves_the_draws_from_the_mode_to_the_mean():
    # The log of a Gamma(3) variable: skewed, its mode log 3 = 1.10 is 0.28 sd above its
    # mean digamma(3) = 0.92 (sd sqrt(trigamma(3)) = 0.63). Pathfinder's normals sit
    # at the mode; the resampled draws must have the mean and sd.
    def log_density(z):
        return 3.0 * z[0] - jnp.exp(z[0])

    options = _pathfinder.PathfinderOptions(50, 6, 5, 4000, num_paths=4)
    run = jax.jit(lambda key: _pathfinder.multipath(key, log_density, 1, options))
    with float64():
        result = run(jax.random.key(0))
    draws = np.asarray(result.draws)[:, 0]
    assert draws.shape == (16_000,) and result.path.shape == (4, 51, 1)
    mean, sd = special.digamma(3.0), np.sqrt(special.polygamma(1, 3.0))
    assert abs(draws.mean() - np.log(3.0)) < 0.05  # the normals' centre: the mode
    index, khat = vi._importance_resample(np.asarray(result.log_p - result.log_q), 4000, 0)
    kept = draws[index]
    # Measured over seeds 0-3: k-hat 0.37-0.60, means 0.004-0.021 above (the bound is
    # 0.040), sd ratios 0.97-1.02; the pooled draws' means 1.06-1.13.
    assert khat < 0.7
    assert abs(kept.mean() - mean) < 4 * sd / np.sqrt(4000)
    assert abs(kept.std() / sd - 1) < 0.05


def test_the_inverse_hessian_meets_the_secant_equation_and_is_positive_definite():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    hessian = A @ A.T + np.eye(5)
    S = rng.standard_normal((3, 5))
    Y = S @ hessian
    alpha = np.exp(rng.standard_normal(5))
    with float64():
        H = np.asarray(_pathfinder._inverse_hessian(S, Y, np.ones(3, dtype=bool), alpha))
        H0 = np.asarray(_pathfinder._inverse_hessian(S, Y, np.zeros(3, dtype=bool), alpha))
    np.testing.assert_allclose(H @ Y[-1], S[-1], rtol=1e-10)  # BFGS: the newest pair
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    assert np.linalg.eigvalsh(H).min() > 0
    np.testing.assert_array_equal(H0, np.diag(alpha))  # masked pairs change nothing


@pytest.fixture(scope="module")
def small():
    return simulate(300, [1.0, -0.5], intercept=0.3, seed=2)


@pytest.fixture(scope="module")
def small_fits(small):
    """A fit of each method on ``small``, seed 3."""
    return {
        method: blr.fit_vi(small.X, small.y, method=method, num_draws=DRAWS, seed=3)
        for method in vi.METHODS
    }


@pytest.mark.parametrize("method", list(vi.METHODS))
def test_the_same_seed_gives_the_same_draws(small, small_fits, method):
    first = small_fits[method]
    again = blr.fit_vi(small.X, small.y, method=method, num_draws=DRAWS, seed=3)
    other = blr.fit_vi(small.X, small.y, method=method, num_draws=DRAWS, seed=4)
    np.testing.assert_array_equal(first.draws, again.draws)
    np.testing.assert_array_equal(first.elbo, again.elbo)
    assert not np.array_equal(first.draws, other.draws)
    assert first.draws.shape == (1, DRAWS, 3)
    assert first.sampler_name == vi.METHODS[method]


def test_save_and_load_give_the_same_result(small, small_fits, tmp_path):
    for method, fit in small_fits.items():
        loaded = blr.VariationalPosterior.load(fit.save(tmp_path / f"{method}.nc"))
        np.testing.assert_array_equal(loaded.draws, fit.draws)
        np.testing.assert_array_equal(loaded.elbo, fit.elbo)
        assert (loaded.method, loaded.options, loaded.pareto_k) == (
            fit.method,
            fit.options,
            fit.pareto_k,
        )
        pd.testing.assert_frame_equal(loaded.summary(), fit.summary())
        np.testing.assert_array_equal(loaded.predict_proba(small.X), fit.predict_proba(small.X))
    np.testing.assert_array_equal(loaded.path, small_fits["pathfinder"].path)
    with pytest.raises(ValueError, match="is not a Posterior file"):
        blr.Posterior.load(tmp_path / "pathfinder.nc")


def test_the_k_hat_warning_fires_for_mean_field_on_correlated_features():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(300)
    X = np.column_stack([x, x + 0.05 * rng.standard_normal(300)])  # correlation 0.999
    y = (rng.random(300) < special.expit(0.5 + X @ [1.0, 1.0])).astype(int)
    with pytest.warns(blr.ApproximationWarning, match=r"Pareto k-hat .* > 0.7"):
        bad = blr.fit_vi(X, y, method="meanfield", num_draws=DRAWS)
    assert bad.pareto_k > 0.8  # measured 0.86-0.92 over seeds 0-3
    # Mean-field's sds of the two coefficients are their conditional spread, a sixth of
    # the marginal one; full-rank's are the Laplace approximation's, which is close to
    # this posterior (NUTS's covariance, whitened by it, has eigenvalues 1.00-1.04).
    # Full-rank's k-hat is not asserted: it was 0.32-0.98 over seeds 0-3 (the Laplace
    # normal's own 0.29-0.63), a tail 4% off in variance moving it that far.
    good = blr.fit_vi(X, y, method="fullrank", num_draws=DRAWS)
    laplace = bad.map_estimate.stderr
    np.testing.assert_allclose(good.stderr / laplace, 1.0, atol=0.1)
    assert np.all(bad.stderr[1:] / laplace[1:] < 0.25)


def test_a_diverging_optimisation_says_so_and_suggests_a_smaller_step(small):
    with pytest.raises(ValueError, match=r"diverged: the ELBO is NaN.*smaller step_size"):
        blr.fit_vi(small.X, small.y, method="meanfield", step_size=1e3, num_draws=DRAWS)


def test_pathfinder_without_a_finite_elbo_is_refused():
    outputs = {
        "elbo": np.full((4, 3), -np.inf),
        "draws": np.zeros((2, 2)),
        "num_iterations": np.array([2, 2, 1, 2]),
    }
    with pytest.raises(ValueError, match=r"no normal approximation .* \(\[2, 2, 1, 2\] iter"):
        vi._check_finite_elbo("pathfinder", outputs, {})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "laplace"}, r"method must be one of \['fullrank', 'meanfield', 'pathfinder'\]"),
        ({"method": "pathfinder", "step_size": 0.1}, r"does not use \['step_size'\]"),
        ({"method": "fullrank", "history_size": 4}, r"does not use \['history_size'\]"),
        ({"step_size": -1.0}, "step_size must be a positive finite number"),
        ({"num_draws": 3}, r"num_draws must be an integer >= 4; got 3\."),
        (
            {"prior": blr.priors.RegularizedHorseshoe(0.1)},
            r"fit_vi starts from the MAP, but prior=RegularizedHorseshoe\(.*\) has none: the "
            "regularized horseshoe has no useful mode",
        ),
    ],
)
def test_bad_options_are_refused_naming_them(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        blr.fit_vi(small.X, small.y, **kwargs)


def test_formula_and_weights_thread_through(small, small_fits):
    frame = pd.DataFrame({"u": small.X[:, 0], "v": small.X[:, 1], "y": small.y})
    fit = blr.fit_vi("y ~ u + v", data=frame, method="pathfinder", num_draws=DRAWS, seed=3)
    assert fit.feature_names == ("u", "v")
    np.testing.assert_allclose(fit.draws, small_fits["pathfinder"].draws, rtol=1e-12)
    # A weight of 2 is the row twice: the same priors, MAP start and optimisation.
    weights = np.where(np.arange(200) < 100, 2, 1)
    weighted = blr.fit_vi(small.X[:200], small.y[:200], sample_weight=weights, num_draws=DRAWS)
    rows = np.concatenate([np.arange(200), np.arange(100)])
    repeated = blr.fit_vi(small.X[rows], small.y[rows], num_draws=DRAWS)
    np.testing.assert_allclose(weighted.draws, repeated.draws, rtol=1e-6, atol=1e-8)


def test_compare_takes_a_variational_fit(small, small_fits):
    test = simulate(200, [1.0, -0.5], intercept=0.3, seed=5)
    fits = {"MAP": small_fits["fullrank"].map_estimate, "VI": small_fits["fullrank"]}
    comparison = blr.compare(fits, test.X, test.y)
    np.testing.assert_allclose(
        comparison.coefficients["VI"][["lower", "upper"]].to_numpy(), fits["VI"].conf_int()
    )
    assert "ADVI (full-rank)" in comparison.descriptions["VI"]
