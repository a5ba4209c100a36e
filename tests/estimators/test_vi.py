"""fit_vi: ADVI (mean-field, full-rank) and Pathfinder against a long NUTS reference of
German credit, Pathfinder's pieces on normal targets, the k-hat warning, errors, files."""

import json
import warnings
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
from bayeslogreg.estimators import _pathfinder, vi
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
    # Why the mean tolerances below are what they are: every normal approximation sits
    # near the mode, and here the mode is 0.42 posterior sd from the mean (intercept).
    mean, sd = reference
    map_fit = blr.fit_map(*german_credit, **UNIT)
    shift = np.abs(map_fit.params - mean) / sd
    assert shift[0] > 0.35
    assert np.max(shift[1:]) < 0.25


@pytest.mark.slow
def test_full_rank_advi_matches_the_long_reference(german_fits, reference):
    mean, sd = reference
    fit = german_fits["fullrank"]
    # Measured 0.063 sd (0.06-0.10 over seeds 0-3; MCSE of 4000 draws 0.016 sd).
    assert np.max(np.abs(fit.params - mean) / sd) < 0.1
    # Measured 0.957-1.056; the sd of 4000 draws is itself uncertain by 1.1%.
    np.testing.assert_allclose(fit.stderr / sd, 1.0, atol=0.1)
    assert fit.pareto_k < 0.7


@pytest.mark.slow
def test_mean_field_advi_has_the_means_but_too_small_sds(german_fits, reference):
    mean, sd = reference
    fit = german_fits["meanfield"]
    assert np.max(np.abs(fit.params - mean) / sd) < 0.15  # measured 0.065
    ratio = fit.stderr / sd
    # Known: independent normals fit the conditional, not the marginal, spread of
    # correlated parameters, so the sds are too small (measured 0.55-0.99).
    assert ratio.max() < 1.1
    assert ratio.min() < 0.7


@pytest.mark.slow
def test_pathfinder_is_a_rough_approximation_near_the_mode(german_fits, reference):
    mean, sd = reference
    fit = german_fits["pathfinder"]
    # Pathfinder's normal is centred near the mode (0.42 sd from the mean, above), and
    # its covariance is the L-BFGS inverse Hessian of 6 pairs in 25 dimensions: measured
    # mean shifts up to 0.43 sd (the intercept) and sd ratios 0.76-1.10 (0.64-1.10 over
    # seeds 0-3; blackjax's Pathfinder, tried once on this target: 0.41-1.25).
    assert np.max(np.abs(fit.params - mean) / sd) < 0.5
    np.testing.assert_allclose(fit.stderr / sd, 1.0, atol=0.35)
    # The path climbs from the origin to the mode; the normal with the best ELBO is used.
    assert len(fit.path) == len(fit.elbo) > 10
    np.testing.assert_array_equal(fit.path[0], 0.0)
    assert fit.elbo[0] == -np.inf and np.isfinite(fit.elbo[1:]).all()
    np.testing.assert_allclose(fit.path[-1], fit.map_estimate.params, atol=1e-4)


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
    assert fit.pareto_k == _arviz.pareto_khat(lp - log_q)


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
    with warnings.catch_warnings():
        warnings.simplefilter("error", blr.ApproximationWarning)
        good = blr.fit_vi(X, y, method="fullrank", num_draws=DRAWS)
    # Measured 0.87-0.98 and 0.19-0.37 over seeds 0-3.
    assert bad.pareto_k > 0.8 and good.pareto_k < 0.5


def test_a_diverging_optimisation_says_so_and_suggests_a_smaller_step(small):
    with pytest.raises(ValueError, match=r"diverged: the ELBO is NaN.*smaller step_size"):
        blr.fit_vi(small.X, small.y, method="meanfield", step_size=1e3, num_draws=DRAWS)


def test_pathfinder_without_a_finite_elbo_is_refused():
    outputs = {"elbo": np.full(3, -np.inf), "draws": np.zeros((2, 2)), "num_iterations": 2}
    with pytest.raises(ValueError, match="Pathfinder found no normal approximation"):
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
