"""Odds ratios, average marginal effects and the likelihood-ratio statistics.

References: statsmodels' ``Logit`` (``get_margeff``, ``llnull``, ``llr``, ...) on the
Spector data, ``GLM`` Binomial on star98 and with offsets, repeated rows for integer
weights, and NumPy for the posterior's draws.
"""

import json
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from bayeslogreg import PointEstimate, fit_map, fit_mle, sample_posterior
from bayeslogreg.estimators import _persist
from bayeslogreg.exceptions import ConvergenceWarning
from bayeslogreg.priors import Normal
from bayeslogreg.solvers import Newton

EXACT = Newton(tol=1e-14)
STATISTICS = ("llnull", "llr", "llr_pvalue", "prsquared", "aic", "bic")


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    reference = sm.Logit(data.endog, sm.add_constant(data.exog)).fit(disp=0, tol=1e-14)
    return data.exog, data.endog, fit_mle(data.exog, data.endog, solver=EXACT), reference


@pytest.fixture(scope="module")
def star98():
    data = sm.datasets.star98.load_pandas()
    k = data.endog["NABOVE"].to_numpy()
    n = k + data.endog["NBELOW"].to_numpy()
    return data.exog[["LOWINC", "PERASIAN", "PERBLACK"]], k, n


def glm(endog, X, **kwargs):
    model = sm.GLM(endog, sm.add_constant(X, has_constant="add"), sm.families.Binomial(), **kwargs)
    return model.fit(tol=1e-14, maxiter=100)


def numpy_hdi(values: np.ndarray, level: float) -> np.ndarray:
    """Shortest interval holding floor(level * n) + 1 of the sorted values, per column."""
    ordered = np.sort(values, axis=0)
    inside = int(np.floor(level * len(ordered)))
    widths = ordered[inside:] - ordered[: len(ordered) - inside]
    start = widths.argmin(axis=0)
    columns = np.arange(ordered.shape[1])
    return np.column_stack([ordered[start, columns], ordered[start + inside, columns]])


@pytest.mark.parametrize("dummy", [True, False])
def test_average_marginal_effects_equal_statsmodels_get_margeff(spector, dummy):
    X, _, fit, reference = spector
    effects = fit.marginal_effects(X, dummy=dummy, level=0.9)
    margeff = reference.get_margeff(at="overall", method="dydx", dummy=dummy)
    # Both fits stop at a gradient of ~1e-14, so params and covariance agree to ~1e-12
    # and so do the effects (measured 2e-16) and their delta-method standard errors
    # (analytic Jacobian here, statsmodels' complex-step one; measured 2e-15). The
    # brief's 1e-6 and 1e-5 leave room for a looser solver tolerance.
    np.testing.assert_allclose(effects["estimate"], margeff.margeff, rtol=0, atol=1e-6)
    np.testing.assert_allclose(effects["std_err"], margeff.margeff_se, rtol=0, atol=1e-5)
    frame = margeff.summary_frame(alpha=0.1)
    np.testing.assert_allclose(effects["p_value"], frame["Pr(>|z|)"], rtol=1e-5)
    np.testing.assert_allclose(effects["ci_lower"], frame["Conf. Int. Low"], atol=2e-5)
    np.testing.assert_allclose(effects["ci_upper"], frame["Cont. Int. Hi."], atol=2e-5)
    assert list(effects.index) == ["GPA", "TUCE", "PSI"]


@pytest.mark.parametrize("dummy", [True, False])
def test_formula_effects_are_per_design_column_as_statsmodels_formula_logit(dummy):
    data = sm.datasets.spector.load_pandas().data
    data["group"] = np.array(["a", "b", "c"])[np.arange(len(data)) % 3]
    formula = "GRADE ~ GPA + TUCE + C(PSI) + group"
    fit = fit_mle(formula, data=data, solver=EXACT)
    reference = smf.logit(formula, data).fit(disp=0, tol=1e-14)
    expected = reference.get_margeff(dummy=dummy).summary_frame()
    effects = fit.marginal_effects(data, dummy=dummy)
    expected = expected.loc[effects.index]  # statsmodels lists categorical terms first
    # Measured 3e-16 (effects) and 3e-15 (standard errors); tolerances as above.
    np.testing.assert_allclose(effects["estimate"], expected["dy/dx"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(effects["std_err"], expected["Std. Err."], rtol=0, atol=1e-5)
    assert list(effects.index)[2:] == ["C(PSI)[T.1.0]", "group[T.b]", "group[T.c]"]


def test_a_dummy_effect_is_the_mean_change_from_zero_to_one(spector):
    X, _, fit, _ = spector
    at_one, at_zero = X.assign(PSI=1.0), X.assign(PSI=0.0)
    change = np.mean(fit.predict_proba(at_one) - fit.predict_proba(at_zero))
    assert fit.marginal_effects(X)["estimate"]["PSI"] == pytest.approx(change, rel=1e-12)
    # A column that is not 0/1 is simply continuous under dummy=True: no error.
    doubled = X.assign(PSI=X["PSI"] * 2)
    np.testing.assert_array_equal(
        fit.marginal_effects(doubled, dummy=True), fit.marginal_effects(doubled, dummy=False)
    )


def test_weighted_and_offset_marginal_effects_equal_repeated_rows_and_differences():
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog[["GPA", "TUCE"]], data.endog
    offset = np.linspace(-0.4, 0.4, len(y))
    fit = fit_mle(X, y, offset=offset, solver=EXACT)
    weights = np.arange(len(y)) % 3
    repeat = np.repeat(np.arange(len(y)), weights)
    weighted = fit.marginal_effects(X, sample_weight=weights, offset=offset)
    repeated = fit.marginal_effects(X.iloc[repeat], offset=offset[repeat])
    np.testing.assert_allclose(weighted.to_numpy(), repeated.to_numpy(), rtol=1e-12)
    # Central differences of the mean probability, step 1e-6: error ~1e-12 (h²) + 1e-10.
    step = 1e-6
    for column in X.columns:
        up = fit.predict_proba(X.assign(**{column: X[column] + step}), offset=offset)
        down = fit.predict_proba(X.assign(**{column: X[column] - step}), offset=offset)
        difference = np.mean(up - down) / (2 * step)
        estimate = fit.marginal_effects(X, offset=offset)["estimate"][column]
        assert estimate == pytest.approx(difference, rel=1e-7)


def test_marginal_effects_check_rows_weights_and_offsets_as_the_fit_does(spector):
    X, _, fit, _ = spector
    bad = [
        (X.drop(columns="TUCE"), {}, r"X's columns do not match the features"),
        (X, {"sample_weight": -np.ones(len(X))}, "sample_weight must be >= 0"),
        (X, {"sample_weight": np.ones(3)}, "sample_weight must be 1-D with one entry per row"),
        (X, {"offset": np.ones(3)}, "offset must be 1-D with one entry per row"),
    ]
    for rows, arguments, message in bad:
        with pytest.raises(ValueError, match=message):
            fit.marginal_effects(rows, **arguments)


def test_odds_ratios_are_exp_of_params_and_of_conf_int(spector):
    X, y, fit, _ = spector
    for result in (fit, fit_map(X, y, prior=Normal(0, 5), solver=EXACT)):
        ratios = result.odds_ratios(level=0.9)
        interval = result.conf_int(0.9)[1:]
        np.testing.assert_array_equal(ratios["estimate"], np.exp(result.coef))
        np.testing.assert_array_equal(ratios["ci_lower"], np.exp(interval[:, 0]))
        np.testing.assert_array_equal(ratios["ci_upper"], np.exp(interval[:, 1]))
        assert list(ratios.index) == ["GPA", "TUCE", "PSI"]


def test_fit_statistics_equal_statsmodels_logit_on_spector(spector):
    _, _, fit, reference = spector
    # Both fits converge to ~1e-14 in the gradient; the log-likelihoods then agree to
    # ~1e-12 relative (measured 8e-13 for llnull, computed in closed form here and by a
    # fit there), which the p-value's chi² tail passes on.
    for name in STATISTICS:
        assert getattr(fit, name) == pytest.approx(getattr(reference, name), rel=1e-8), name
    heading = repr(fit).splitlines()[1]
    for label in ("Log-Likelihood", "LL-Null", "LLR p-value", "Pseudo R-squ.", "AIC", "BIC"):
        assert f"{label}: " in heading


def test_integer_weights_give_the_statistics_of_the_repeated_rows_and_statsmodels(spector):
    X, y, *_ = spector
    weights = np.arange(len(y)) % 3 + 1
    repeat = np.repeat(np.arange(len(y)), weights)
    fit = fit_mle(X, y, sample_weight=weights, solver=EXACT)
    repeated = fit_mle(X.iloc[repeat], y.iloc[repeat], solver=EXACT)
    reference = glm(y, X, freq_weights=weights)
    for name in STATISTICS:
        assert getattr(fit, name) == pytest.approx(getattr(repeated, name), rel=1e-8), name
    assert fit.llnull == pytest.approx(reference.llnull, rel=1e-8)
    assert fit.bic == pytest.approx(reference.bic_llf, rel=1e-8)  # n = sum of weights


def test_counts_give_statsmodels_glm_llnull_and_bic_on_star98(star98):
    X, k, n = star98
    fit = fit_mle(X, k, trials=n, solver=EXACT)
    reference = glm(np.column_stack([k, n - k]), X)
    # Both include sum log C(n, k) (~1e4 here); 1e-8 relative leaves room for its sum.
    assert fit.llnull == pytest.approx(reference.llnull, rel=1e-8)
    assert fit.llr == pytest.approx(2 * (reference.llf - reference.llnull), rel=1e-7)
    assert fit.bic == pytest.approx(reference.bic_llf, rel=1e-8)  # n = rows, not trials
    assert fit.aic == pytest.approx(reference.aic, rel=1e-8)


def test_an_offset_fits_the_null_model_as_statsmodels_does(spector, star98):
    X, y, *_ = spector
    offset = np.linspace(-1.0, 1.0, len(y))
    fit = fit_mle(X, y, offset=offset, solver=EXACT)
    reference = sm.Logit(y, sm.add_constant(X), offset=offset).fit(disp=0, tol=1e-14)
    for name in STATISTICS:
        assert getattr(fit, name) == pytest.approx(getattr(reference, name), rel=1e-8), name
    X, k, n = star98
    offset = np.sin(np.arange(len(k)))
    fit = fit_mle(X, k, trials=n, offset=offset, solver=EXACT)
    reference = glm(np.column_stack([k, n - k]), X, offset=offset)
    assert fit.llnull == pytest.approx(reference.llnull, rel=1e-8)


def test_the_likelihood_ratio_test_is_refused_for_map(spector):
    X, y, *_ = spector
    fit = fit_map(X, y, prior=Normal(0, 5))
    for name in ("llr", "llr_pvalue"):
        with pytest.raises(ValueError, match=f"{name} is a likelihood-ratio test of the maxi"):
            getattr(fit, name)
    assert fit.prsquared == 1 - fit.log_likelihood / fit.llnull
    assert "LLR p-value" not in repr(fit) and "Pseudo R-squ." in repr(fit)


def test_posterior_odds_ratios_and_effects_are_summaries_of_the_draws(spector):
    X, y, *_ = spector
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 x 200 draws: low ESS
        post = sample_posterior(
            X, y, prior=Normal(0, 5), num_chains=2, num_warmup=200, num_samples=200, seed=1
        )
    draws = post.flat_draws
    ratios = post.odds_ratios(level=0.8)
    np.testing.assert_allclose(ratios["estimate"], np.exp(draws[:, 1:]).mean(axis=0), rtol=1e-12)
    hdi = numpy_hdi(np.exp(draws[:, 1:]), 0.8)
    np.testing.assert_allclose(ratios[["ci_lower", "ci_upper"]], hdi, rtol=1e-12)
    # Per draw, by the closed forms (PSI, 0/1, as a discrete change).
    values = X.to_numpy()
    per_draw = np.empty((len(draws), 3))
    for i, theta in enumerate(draws):
        prob = 1 / (1 + np.exp(-(theta[0] + values @ theta[1:])))
        per_draw[i, :2] = np.mean(prob * (1 - prob)) * theta[1:3]
        base = theta[0] + values[:, :2] @ theta[1:3]
        per_draw[i, 2] = np.mean(1 / (1 + np.exp(-base - theta[3])) - 1 / (1 + np.exp(-base)))
    effects = post.marginal_effects(X, level=0.8)
    np.testing.assert_allclose(effects["estimate"], per_draw.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(effects["sd"], per_draw.std(axis=0, ddof=1), rtol=1e-10)
    np.testing.assert_allclose(
        effects[["ci_lower", "ci_upper"]], numpy_hdi(per_draw, 0.8), rtol=1e-10
    )


def test_save_and_load_keep_the_null_model_and_older_files_give_nan(star98, tmp_path):
    X, k, n = star98
    fit = fit_mle(X, k, trials=n, sample_weight=np.full(len(k), 2.0))
    loaded = PointEstimate.load(fit.save(tmp_path / "fit.json"))
    assert (loaded.null_log_likelihood, loaded.weight_sum) == (fit.null_log_likelihood, 2 * len(k))
    assert loaded.bic == fit.bic and loaded.llr_pvalue == fit.llr_pvalue
    document = json.loads((tmp_path / "fit.json").read_text())
    document["format_version"] = 3
    for field in ("null_log_likelihood", "weight_sum", "prior_choice"):  # added since
        del document["fields"][field]
    (tmp_path / "old.json").write_text(json.dumps(document))
    old = PointEstimate.load(tmp_path / "old.json")
    assert np.isnan(old.llnull) and np.isnan(old.prsquared) and np.isnan(old.bic)
    assert old.aic == fit.aic and _persist.FORMAT_VERSION == 5
