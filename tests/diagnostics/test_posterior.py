"""Posterior predictive diagnostics against one-draw-at-a-time, scikit-learn and ArviZ.

Tolerances: 1e-12 where the same numbers are computed in another order (chunks, loops
over draws, scikit-learn), since only rounding differs; 1e-8 against ArviZ and the WAIC
formula, whose sums over 400 draws and 150 rows run in other orders and through xarray.
"""

import dataclasses
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special
from sklearn import metrics as skm

from bayeslogreg import ConvergenceWarning, _arviz, metrics, sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.diagnostics import _posterior as post
from bayeslogreg.metrics import UndefinedMetricWarning

N_DRAWS = 37  # odd, and prime: no chunk size but 1 and 37 divides it
CHUNK_SIZES = [1, 5, 36, N_DRAWS, 1000]


@pytest.fixture(scope="module")
def synthetic():
    """Draws scattered around the truth of data simulated from the model."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 2))
    truth = np.array([0.3, 1.0, -0.5])
    y = (rng.random(60) < special.expit(truth[0] + X @ truth[1:])).astype(int)
    draws = truth + 0.3 * rng.normal(size=(N_DRAWS, 3))
    return draws, X, y


@pytest.fixture(scope="module")
def fitted():
    data = simulate(150, [1.0, -0.5], intercept=0.3, seed=3)
    # With 2 x 200 draws R-hat hovers at the 1.01 warning line (1.010 on some JAX
    # versions); these tests need a usable posterior, not a certified one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        posterior = sample_posterior(
            data.X, data.y, num_chains=2, num_warmup=200, num_samples=200, seed=0
        )
    return posterior, data.X, data.y


def probabilities(draws, X):
    return special.expit(draws[:, :1] + draws[:, 1:] @ X.T)


# ---------------------------------------------------------------------------------------
# predictive_metrics and summarize_draws


def test_metrics_table_layout(synthetic):
    table = post.predictive_metrics(*synthetic)
    assert list(table.columns) == list(post.METRIC_COLUMNS)
    assert table.shape == (N_DRAWS, 7)
    assert table.index.name == "draw"


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_metrics_chunked_equal_unchunked(synthetic, chunk_size):
    whole = post.predictive_metrics(*synthetic)
    chunked = post.predictive_metrics(*synthetic, chunk_size=chunk_size)
    assert_allclose(chunked.to_numpy(), whole.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_metrics_equal_package_metrics_per_draw(synthetic, threshold):
    draws, X, y = synthetic
    table = post.predictive_metrics(draws, X, y, threshold=threshold)
    for s, prob in enumerate(probabilities(draws, X)):
        expected = [
            metrics.roc_auc(y, prob),
            metrics.log_loss(y, prob),
            metrics.brier_score(y, prob),
            metrics.accuracy(y, prob, threshold),
            metrics.precision(y, prob, threshold),
            metrics.recall(y, prob, threshold),
            metrics.specificity(y, prob, threshold),
        ]
        assert_allclose(table.iloc[s].to_numpy(), expected, rtol=0, atol=1e-12)


def test_metrics_equal_scikit_learn(synthetic):
    draws, X, y = synthetic
    table = post.predictive_metrics(draws, X, y)
    for s, prob in enumerate(probabilities(draws, X)):
        predicted = (prob > 0.5).astype(int)
        expected = [
            skm.roc_auc_score(y, prob),
            skm.log_loss(y, prob),
            skm.brier_score_loss(y, prob),
            skm.accuracy_score(y, predicted),
            skm.precision_score(y, predicted),
            skm.recall_score(y, predicted),
            skm.recall_score(1 - y, 1 - predicted),
        ]
        assert_allclose(table.iloc[s].to_numpy(), expected, rtol=0, atol=1e-12)


def test_metrics_stay_exact_for_huge_log_odds():
    # Probabilities round to 0 and 1 here: log-loss is 1e4 (not clipped at 36), and the
    # AUC ranks log-odds (1e4, -2e4 for the 1s; -1e4, 2e4 for the 0s): 1 of 4 pairs.
    X, y = [[1.0], [-1.0], [2.0], [-2.0]], [1, 0, 0, 1]
    table = post.predictive_metrics([[0.0, 1e4]], X, y)
    assert table["log_loss"].item() == pytest.approx(1e4, rel=1e-12)
    assert table["auc"].item() == 0.25


def test_metrics_undefined_precision(synthetic):
    draws, X, y = synthetic
    with pytest.warns(UndefinedMetricWarning, match="precision"):
        table = post.predictive_metrics(draws, X, y, threshold=1.0)
    assert (table["precision"] == 0).all()
    table = post.predictive_metrics(draws, X, y, threshold=1.0, zero_division=1.0)
    assert (table["precision"] == 1).all()


def test_summarize_draws(synthetic):
    table = post.predictive_metrics(*synthetic)
    summary = post.summarize_draws(table, level=0.9)
    assert list(summary.index) == list(table.columns)
    assert_allclose(summary["mean"], table.mean(), rtol=1e-12)
    assert_allclose(summary["sd"], table.std(ddof=1), rtol=1e-12)
    assert_allclose(summary["ci_lower"], table.quantile(0.05), rtol=1e-12)
    assert_allclose(summary["ci_upper"], table.quantile(0.95), rtol=1e-12)
    with pytest.raises(ValueError, match="at least 2 draws"):
        post.summarize_draws(table.iloc[:1])
    with pytest.raises(ValueError, match="level"):
        post.summarize_draws(table, level=95)


# ---------------------------------------------------------------------------------------
# roc_band


def step_roc(y, prob, grid):
    """Brute force: the largest TPR among ROC points with FPR <= each grid point."""
    fpr, tpr, _ = metrics.roc_curve(y, prob)
    return np.array([tpr[fpr <= g].max() for g in grid])


@pytest.mark.parametrize("ties", [False, True])
def test_roc_band_equals_brute_force_quantiles(synthetic, ties):
    draws, X, y = synthetic
    X = np.round(X) if ties else X  # rounded features give tied probabilities
    band = post.roc_band(draws, X, y, level=0.8)
    curves = np.array([step_roc(y, prob, band.fpr) for prob in probabilities(draws, X)])
    expected = np.quantile(curves, [0.1, 0.5, 0.9], axis=0)
    assert_allclose([band.lower, band.median, band.upper], expected, rtol=0, atol=1e-12)
    assert_array_equal(band.fpr, np.linspace(0, 1, 101))
    assert band.level == 0.8


@pytest.mark.parametrize("ties", [False, True])
def test_row_at_a_time_ranking_equals_the_pooled_one(synthetic, monkeypatch, ties):
    """Large test sets rank each draw's classes apart: the same AUCs and band, exactly."""
    draws, X, y = synthetic
    X = np.round(X) if ties else X
    pooled = post.predictive_metrics(draws, X, y), post.roc_band(draws, X, y, level=0.8)
    monkeypatch.setattr(post, "SORT_EACH_ROW", 1)
    monkeypatch.setattr("bayeslogreg.metrics._roc.SORT_EACH_ROW", 1)
    table, band = post.predictive_metrics(draws, X, y), post.roc_band(draws, X, y, level=0.8)
    assert_array_equal(table["auc"], pooled[0]["auc"])
    expected = [skm.roc_auc_score(y, prob) for prob in probabilities(draws, X)]
    assert_allclose(table["auc"], expected, rtol=1e-14)
    for a, b in zip(band[:4], pooled[1][:4], strict=True):
        assert_array_equal(a, b)
    curves = np.array([step_roc(y, prob, band.fpr) for prob in probabilities(draws, X)])
    assert_allclose(band.median, np.quantile(curves, 0.5, axis=0), rtol=0, atol=1e-12)


def test_roc_band_is_ordered_and_monotone(synthetic):
    band = post.roc_band(*synthetic)
    assert np.all(band.lower <= band.median) and np.all(band.median <= band.upper)
    for curve in (band.lower, band.median, band.upper):
        assert np.all(np.diff(curve) >= 0)
        assert curve[-1] == 1.0


def test_roc_band_of_identical_draws_is_the_roc_curve(synthetic):
    draws, X, y = synthetic
    band = post.roc_band(np.repeat(draws[:1], 5, axis=0), X, y)
    prob = probabilities(draws[:1], X)[0]
    fpr, tpr, _ = skm.roc_curve(y, prob, drop_intermediate=False)
    expected = [tpr[fpr <= g].max() for g in band.fpr]
    for curve in (band.lower, band.median, band.upper):
        assert_array_equal(curve, expected)


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_roc_band_chunked_equal_unchunked(synthetic, chunk_size):
    whole = post.roc_band(*synthetic, fpr_grid=[0.0, 0.1, 0.25, 0.5])
    chunked = post.roc_band(*synthetic, fpr_grid=[0.0, 0.1, 0.25, 0.5], chunk_size=chunk_size)
    for a, b in zip(whole[:4], chunked[:4], strict=True):
        assert_allclose(a, b, rtol=0, atol=1e-12)


def test_allowed_false_positives_matches_division():
    grid = np.linspace(0, 1, 101)
    for n_negative in range(1, 300):
        rates = np.arange(n_negative + 1) / n_negative
        expected = np.count_nonzero(rates[:, None] <= grid, axis=0) - 1
        assert_array_equal(post._allowed_false_positives(grid, n_negative), expected)


@pytest.mark.parametrize(
    "grid, match",
    [([0.5, 0.2], "strictly increasing"), ([0.0, 1.5], r"\[0, 1\]"), ([[0.1]], "1-D")],
)
def test_roc_band_bad_grid(synthetic, grid, match):
    with pytest.raises(ValueError, match=match):
        post.roc_band(*synthetic, fpr_grid=grid)


# ---------------------------------------------------------------------------------------
# posterior_predictive_check


def test_ppc_same_seed_same_numbers(synthetic):
    first = post.posterior_predictive_check(*synthetic, seed=3)
    again = post.posterior_predictive_check(*synthetic, seed=3)
    other = post.posterior_predictive_check(*synthetic, seed=4)
    for a, b in zip(first, again, strict=True):
        assert_array_equal(a, b)
    assert not np.array_equal(first.replicated_bin_positives, other.replicated_bin_positives)


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_ppc_chunked_equal_unchunked(synthetic, chunk_size):
    whole = post.posterior_predictive_check(*synthetic)
    chunked = post.posterior_predictive_check(*synthetic, chunk_size=chunk_size)
    for a, b in zip(whole, chunked, strict=True):
        assert_array_equal(a, b)


def test_ppc_bins_match_calibration_curve(synthetic):
    draws, X, y = synthetic
    check = post.posterior_predictive_check(draws, X, y, n_bins=5)
    curve = metrics.calibration_curve(y, probabilities(draws, X).mean(axis=0), n_bins=5)
    assert_array_equal(check.bin_count, curve.count)
    assert_allclose(check.bin_lower, curve.bin_lower, rtol=0, atol=1e-15)
    assert_allclose(check.bin_upper, curve.bin_upper, rtol=0, atol=1e-15)
    assert_array_equal(check.observed_bin_positives, np.round(curve.observed * curve.count))
    assert check.observed_positives == y.sum()
    assert_array_equal(check.replicated_bin_positives.sum(axis=1), check.replicated_positives)
    assert check.replicated_bin_positives.shape == (N_DRAWS, len(curve.count))


def test_ppc_replicates_have_the_model_mean(synthetic):
    draws, X, y = synthetic
    many = np.repeat(draws[:1], 2000, axis=0)
    check = post.posterior_predictive_check(many, X, y, seed=1)
    prob = probabilities(draws[:1], X)[0]
    se = np.sqrt(np.sum(prob * (1 - prob)) / len(many))
    assert abs(check.replicated_positives.mean() - prob.sum()) < 4 * se


def test_ppc_p_values_reasonable_for_the_model_and_extreme_when_wrong(fitted):
    posterior, X, y = fitted
    check = post.posterior_predictive_check(posterior.flat_draws, X, y, seed=0)
    assert 0.1 < check.p_value_positives < 0.9
    # A bin without observed 1s has p = P(T >= 0) = 1 by construction: leave those out.
    informative = (check.bin_count >= 10) & (check.observed_bin_positives > 0)
    assert informative.sum() >= 5
    p_values = check.p_value_bins[informative]
    assert np.all((p_values > 0.01) & (p_values < 0.99))
    shifted = posterior.flat_draws + np.array([3.0, 0.0, 0.0])
    assert post.posterior_predictive_check(shifted, X, y).p_value_positives == 1.0
    shifted = posterior.flat_draws - np.array([3.0, 0.0, 0.0])
    assert post.posterior_predictive_check(shifted, X, y).p_value_positives == 0.0


@pytest.mark.parametrize(
    "kwargs, match", [({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"n_bins": 0}, "n_bins")]
)
def test_ppc_bad_arguments(synthetic, kwargs, match):
    with pytest.raises(ValueError, match=match):
        post.posterior_predictive_check(*synthetic, **kwargs)


# ---------------------------------------------------------------------------------------
# heldout_lpd


def test_heldout_lpd_equals_brute_force(synthetic):
    draws, X, y = synthetic
    prob = probabilities(draws, X)
    expected = np.log(np.mean(np.where(y == 1, prob, 1 - prob), axis=0))
    pointwise = post.heldout_lpd_pointwise(draws, X, y)
    assert pointwise.shape == (len(y),)
    assert_allclose(pointwise, expected, rtol=1e-12)
    assert post.heldout_lpd(draws, X, y) == pytest.approx(expected.sum(), rel=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 7, 59, 60, 1000])
def test_heldout_lpd_chunked_equal_unchunked(synthetic, chunk_size):
    whole = post.heldout_lpd_pointwise(*synthetic)
    chunked = post.heldout_lpd_pointwise(*synthetic, chunk_size=chunk_size)
    assert_allclose(chunked, whole, rtol=0, atol=1e-12)


def test_heldout_lpd_finite_for_huge_log_odds():
    # eta = +-1e4 and +-1.0001e4: right rows cost ~0, wrong ones log-mean-exp of -eta.
    X, y = [[1.0], [-1.0], [1.0], [-1.0]], [1, 0, 0, 1]
    draws = [[0.0, 1e4], [0.0, 1.0001e4]]
    pointwise = post.heldout_lpd_pointwise(draws, X, y)
    wrong = np.logaddexp(-1e4, -1.0001e4) - np.log(2)
    assert np.all(np.isfinite(pointwise))
    assert_allclose(pointwise, [0.0, 0.0, wrong, wrong], rtol=1e-12, atol=1e-300)


def test_heldout_lpd_on_training_data_is_the_lppd(fitted):
    posterior, X, y = fitted
    log_lik = _arviz.log_likelihood_draws(posterior.idata).reshape(-1, len(y))
    lppd = np.sum(special.logsumexp(log_lik, axis=0) - np.log(len(log_lik)))
    assert post.heldout_lpd(posterior.flat_draws, X, y) == pytest.approx(lppd, rel=1e-10)


# ---------------------------------------------------------------------------------------
# loo and waic


def numpy_waic(log_lik):
    """Vehtari, Gelman and Gabry (2017), eqs. 11-12 and 23, without PSIS."""
    lppd_i = np.log(np.mean(np.exp(log_lik), axis=0))
    p_i = np.var(log_lik, axis=0)
    elpd_i = lppd_i - p_i
    return elpd_i.sum(), np.sqrt(len(elpd_i) * np.var(elpd_i)), p_i.sum(), elpd_i


def direct_arviz(idata, kind):
    az = _arviz.arviz()
    result = getattr(az, kind)(idata, pointwise=True, var_name="y")
    if _arviz.is_arviz_1():
        return result.elpd, result.se, result.p, result.elpd_i, result.pareto_k
    if kind == "loo":
        return [result[k] for k in ("elpd_loo", "se", "p_loo", "loo_i", "pareto_k")]
    return [result[k] for k in ("elpd_waic", "se", "p_waic", "waic_i")] + [None]


def test_loo_agrees_with_arviz(fitted):
    posterior, X, y = fitted
    result = post.loo(posterior)
    elpd, se, p, elpd_i, pareto_k = direct_arviz(posterior.idata, "loo")
    assert result.kind == "loo"
    assert_allclose([result.elpd, result.se, result.p], [elpd, se, p], rtol=1e-8)
    assert_allclose(result.elpd_pointwise, np.ravel(elpd_i), rtol=1e-8)
    assert_allclose(result.pareto_k, np.ravel(pareto_k), rtol=1e-8)
    assert result.max_pareto_k == np.max(pareto_k) < result.good_k
    assert not result.warning
    # Three parameters; LOO lies below the in-sample lppd and close to WAIC.
    assert 1.5 < result.p < 4.5
    assert result.elpd < post.heldout_lpd(posterior.flat_draws, X, y)
    assert result.elpd == pytest.approx(post.waic(posterior).elpd, abs=0.5)


def test_waic_agrees_with_numpy_formula_and_arviz(fitted):
    posterior, _, y = fitted
    result = post.waic(posterior)
    log_lik = _arviz.log_likelihood_draws(posterior.idata).reshape(-1, len(y))
    elpd, se, p, elpd_i = numpy_waic(log_lik)
    assert result.kind == "waic" and result.pareto_k is None and not result.warning
    assert_allclose([result.elpd, result.se, result.p], [elpd, se, p], rtol=1e-8)
    assert_allclose(result.elpd_pointwise, elpd_i, rtol=1e-8)
    if not _arviz.is_arviz_1():  # ArviZ 1.x has no waic
        elpd, se, p, elpd_i, _ = direct_arviz(posterior.idata, "waic")
        assert_allclose([result.elpd, result.se, result.p], [elpd, se, p], rtol=1e-8)


def with_log_likelihood(posterior, log_lik=None):
    """The same posterior with a replaced (or no) log_likelihood group."""
    draws = posterior.draws
    groups = {"posterior": {"intercept": draws[..., 0], "coef": draws[..., 1:]}}
    coords, dims = {"feature": list(posterior.feature_names)}, {"coef": ["feature"]}
    if log_lik is not None:
        groups["log_likelihood"] = {"y": log_lik}
        coords["obs_id"], dims["y"] = np.arange(log_lik.shape[-1]), ["obs_id"]
    idata = _arviz.from_samples(groups, coords=coords, dims=dims)
    return dataclasses.replace(posterior, idata=idata)


def test_loo_and_waic_warn_on_influential_rows(fitted):
    posterior, _, _ = fitted
    log_lik = _arviz.log_likelihood_draws(posterior.idata).copy()
    rng = np.random.default_rng(0)
    log_lik[..., 0] = -np.exp(2 * rng.normal(size=log_lik.shape[:2]))
    bad = with_log_likelihood(posterior, log_lik)
    with pytest.warns(UserWarning, match="PSIS-LOO may be unreliable"):
        result = post.loo(bad)
    assert result.warning and result.max_pareto_k > result.good_k
    with pytest.warns(UserWarning, match="WAIC may be unreliable"):
        assert post.waic(bad).warning


@pytest.mark.parametrize("function", [post.loo, post.waic])
def test_loo_and_waic_refuse_without_log_likelihood(fitted, function, monkeypatch):
    posterior, _, _ = fitted
    with pytest.raises(ValueError, match="store_log_likelihood.*heldout_lpd"):
        function(with_log_likelihood(posterior))
    monkeypatch.setattr(post, "MAX_LOO_ELEMENTS", 1000)
    with pytest.raises(ValueError, match="too large for this data.*heldout_lpd"):
        function(posterior)
    with pytest.raises(ValueError, match="needs a Posterior"):
        function(posterior.flat_draws)


# ---------------------------------------------------------------------------------------
# Input errors shared by the draw-based functions


@pytest.mark.parametrize(
    "function",
    [post.predictive_metrics, post.roc_band, post.posterior_predictive_check, post.heldout_lpd],
)
@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d, X, y: (d.reshape(1, *d.shape), X, y), "flat_draws"),
        (lambda d, X, y: (d[:, :2], X, y), "2 columns but X has 2 features"),
        (lambda d, X, y: (np.where(d == d[0, 0], np.nan, d), X, y), "NaN"),
        (lambda d, X, y: (d, X, np.where(y == 1, 2, 0)), "only 0 and 1"),
        (lambda d, X, y: (d, X[:-1], y), "rows but y has"),
        (lambda d, X, y: (d, X[:, 0], y), "2-D"),
    ],
)
def test_bad_input(synthetic, function, change, match):
    with pytest.raises(ValueError, match=match):
        function(*change(*synthetic))


@pytest.mark.parametrize("function", [post.predictive_metrics, post.roc_band])
def test_ranking_needs_both_classes(synthetic, function):
    draws, X, y = synthetic
    with pytest.raises(
        ValueError, match=f"only class 1 .*{function.__name__} needs both 0s and 1s"
    ):
        function(draws, X, np.ones_like(y))


@pytest.mark.parametrize("chunk_size", [0, -3, 2.5, True])
def test_bad_chunk_size(synthetic, chunk_size):
    with pytest.raises(ValueError, match="chunk_size"):
        post.heldout_lpd(*synthetic, chunk_size=chunk_size)


def test_bad_threshold_and_level(synthetic):
    with pytest.raises(ValueError, match="threshold"):
        post.predictive_metrics(*synthetic, threshold=1.5)
    with pytest.raises(ValueError, match="level"):
        post.roc_band(*synthetic, level=1.0)
