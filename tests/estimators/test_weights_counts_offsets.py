"""Observation weights, binomial counts and offsets in every estimator (issue 16).

References: statsmodels' GLM(Binomial) (counts, ``freq_weights``, ``offset``) on its
bundled star98 data; scikit-learn's ``sample_weight``; and brute force, the same rows
repeated as often as their integer weight.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from bayeslogreg import PointEstimate, Posterior, fit_map, fit_mle, sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _chunked, _persist
from bayeslogreg.exceptions import SeparationWarning
from bayeslogreg.model import log_likelihood
from bayeslogreg.priors import Flat, Laplace, Normal
from bayeslogreg.samplers import IMH, NUTS
from bayeslogreg.solvers import SGD, Newton

EXACT = Newton(tol=1e-14)


@pytest.fixture(scope="module")
def star98():
    data = sm.datasets.star98.load_pandas()
    k = data.endog["NABOVE"].to_numpy()
    n = k + data.endog["NBELOW"].to_numpy()
    return data.exog, k, n


@pytest.fixture(scope="module")
def weighted():
    """60 rows, 2 features, integer weights 0..3, and the rows repeated that often."""
    data = simulate(60, [1.0, -0.7], intercept=0.2, seed=5)
    weights = np.random.default_rng(0).integers(0, 4, size=60)
    repeat = np.repeat(np.arange(60), weights)
    return data.X, data.y, weights, data.X[repeat], data.y[repeat]


def glm(endog, X, **kwargs):
    model = sm.GLM(endog, sm.add_constant(X, has_constant="add"), sm.families.Binomial(), **kwargs)
    return model.fit(tol=1e-14, maxiter=100)


def test_binomial_counts_equal_statsmodels_glm_on_star98(star98):
    X, k, n = star98
    fit = fit_mle(X, k, trials=n)
    reference = glm(np.column_stack([k, n - k]), X)
    # IRLS at tol 1e-14 and our Newton (per-row gradient <= 1e-8 in unit-scale
    # coordinates) reach the same optimum to ~1e-9 relative; 1e-7 leaves room.
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-7)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-7)
    # The log-likelihood includes sum log C(n, k), as statsmodels' llf and R's logLik.
    np.testing.assert_allclose(fit.log_likelihood, reference.llf, rtol=1e-10)
    np.testing.assert_allclose(fit.deviance, reference.deviance, rtol=1e-9)
    np.testing.assert_allclose(fit.aic, reference.aic, rtol=1e-10)
    assert (fit.binomial, fit.weighted, fit.n_rows, fit.n_obs) == (True, False, 303, n.sum())


def test_weighted_counts_standard_errors_equal_statsmodels_freq_weights(star98):
    X, k, n = star98
    weights = np.random.default_rng(1).integers(1, 4, size=len(k)).astype(float)
    fit = fit_mle(X, k, trials=n, sample_weight=weights)
    reference = glm(np.column_stack([k, n - k]), X, freq_weights=weights)
    # Issue bar 1e-5; both reach the optimum to ~1e-9.
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-7)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-5)
    np.testing.assert_allclose(fit.log_likelihood, reference.llf, rtol=1e-10)
    np.testing.assert_allclose(fit.deviance, reference.deviance, rtol=1e-9)
    assert fit.n_obs == pytest.approx((weights * n).sum())


def test_weighted_mle_standard_errors_equal_statsmodels_freq_weights(weighted):
    X, y, weights, *_ = weighted
    fit = fit_mle(X, y, sample_weight=weights)
    reference = glm(y, X, freq_weights=weights)
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-8)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-5)
    np.testing.assert_allclose(fit.log_likelihood, reference.llf, rtol=1e-10)
    # R's deviance of weighted 0/1 data: -2 log-likelihood.
    np.testing.assert_allclose(fit.deviance, reference.deviance, rtol=1e-10)


@pytest.mark.parametrize(
    ("estimator", "priors", "solver"),
    [
        pytest.param(estimator, priors, solver, id=f"{name}-{solver}")
        for name, estimator, priors in [
            ("mle", "mle", {}),
            ("normal", "map", {"prior": Normal(0, 1.0)}),
            ("laplace", "map", {"prior": Laplace(0, 0.5)}),
        ]
        for solver in ["newton", "lbfgs", "gd"]
        if (name, solver) != ("laplace", "lbfgs")  # L-BFGS refuses Laplace priors
    ],
)
def test_integer_weights_equal_repeated_rows(weighted, estimator, priors, solver):
    X, y, weights, X_repeated, y_repeated = weighted
    fit_function = fit_mle if estimator == "mle" else fit_map
    fit = fit_function(X, y, sample_weight=weights, solver=solver, **priors)
    repeated = fit_function(X_repeated, y_repeated, solver=solver, **priors)
    # The same objective (sum over rows of w times the row's terms, divided by the same
    # sum of weights), summed in another order: Newton and L-BFGS stop at the same
    # point to ~1e-14 (measured); gradient ascent, whose path the rounding changes,
    # anywhere within its per-row gradient tol of 1e-8: parameters 5e-9 apart, the
    # covariance there (under the Laplace prior's kink) 1.1e-7 (measured).
    rtol = 3e-7 if solver == "gd" else 1e-8
    np.testing.assert_allclose(fit.params, repeated.params, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(fit.cov, repeated.cov, rtol=rtol, atol=1e-12)
    loglik_rtol = 1e-8 if solver == "gd" else 1e-10  # gd: 2e-9 apart (measured)
    np.testing.assert_allclose(fit.log_likelihood, repeated.log_likelihood, rtol=loglik_rtol)
    assert fit.n_obs == repeated.n_rows == weights.sum()
    assert fit.n_rows == len(y)


def test_stochastic_solvers_scale_each_row_by_its_weight(weighted):
    X, y, weights, X_repeated, y_repeated = weighted
    fit = fit_mle(X, y, sample_weight=weights, solver=SGD(batch_size=4, epochs=300))
    exact = fit_mle(X_repeated, y_repeated)
    # Uniform rows, each gradient times its weight: the same optimum, reached to the
    # stochastic solver's tol of 1e-3 on the per-row gradient (measured 0.009 away).
    assert fit.converged
    np.testing.assert_allclose(fit.params, exact.params, atol=0.02)


def test_chunked_path_with_weights_counts_and_offsets_equals_in_memory(star98, monkeypatch):
    X, k, n = star98
    weights = np.random.default_rng(2).uniform(0.5, 2.0, size=len(k))
    offset = np.random.default_rng(3).normal(0.0, 0.3, size=len(k))
    arguments = {"trials": n, "sample_weight": weights, "offset": offset}
    in_memory = fit_map(X, k, prior=Normal(0, 1.0), **arguments)
    monkeypatch.setattr(_chunked, "MIN_ROWS", 1)
    monkeypatch.setattr(_chunked, "CHUNK_ROWS", 64)
    chunked = fit_map(X, k, prior=Normal(0, 1.0), **arguments)
    # Two Newton drivers on the same objective (sums in another order): ~1e-12 apart.
    np.testing.assert_allclose(chunked.params, in_memory.params, rtol=1e-8, atol=1e-10)
    # The covariance to 1e-7 of its largest entries (some entries are ~1e-9 of them).
    np.testing.assert_allclose(chunked.cov, in_memory.cov, atol=1e-7 * np.abs(in_memory.cov).max())
    np.testing.assert_allclose(chunked.stderr, in_memory.stderr, rtol=1e-7)
    np.testing.assert_allclose(chunked.log_likelihood, in_memory.log_likelihood, rtol=1e-10)


def test_warm_started_chunked_fit_with_weights_reaches_the_same_optimum(weighted, monkeypatch):
    X, y, weights, X_repeated, y_repeated = weighted
    reference = fit_mle(X_repeated, y_repeated)
    monkeypatch.setattr(_chunked, "MIN_ROWS", 1)
    monkeypatch.setattr(_chunked, "CHUNK_ROWS", 16)
    monkeypatch.setattr(_chunked, "WARM_START_MIN_ROWS", 1)
    monkeypatch.setattr(_chunked, "WARM_START_ROWS", 40)
    fit = fit_mle(X, y, sample_weight=weights)
    assert fit.converged
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-7)
    np.testing.assert_allclose(fit.stderr, reference.stderr, rtol=1e-7)


@pytest.mark.parametrize("scale", [0.3, 2.0])
def test_weighted_map_equals_scikit_learn_sample_weight(weighted, scale):
    X, y, weights, *_ = weighted
    prior, flat = Normal(0, scale), Flat()
    fit = fit_map(X, y, sample_weight=weights, prior=prior, intercept_prior=flat)
    tight = fit_map(X, y, sample_weight=weights, prior=prior, intercept_prior=flat, solver=EXACT)
    reference = LogisticRegression(C=scale**2, solver="newton-cholesky", tol=1e-14)
    reference.fit(X, y, sample_weight=weights)
    expected = np.r_[reference.intercept_, reference.coef_.ravel()]
    # Issue bar 1e-6. At the default tol (per-row gradient 1e-8) the smallest
    # coefficient (-0.005) is within 1e-6 relative; both Newtons run to tol 1e-14
    # agree to ~1e-14 (measured).
    np.testing.assert_allclose(fit.params, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tight.params, expected, rtol=1e-10)


def test_offsets_equal_statsmodels_offset(star98):
    X, k, n = star98
    offset = np.linspace(-0.5, 0.5, len(k))
    fit = fit_mle(X, k, trials=n, offset=offset)
    reference = glm(np.column_stack([k, n - k]), X, offset=offset)
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-7)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-7)
    np.testing.assert_allclose(fit.log_likelihood, reference.llf, rtol=1e-10)
    assert fit.has_offset
    # predict_proba adds the offset as statsmodels' predict does.
    expected = reference.predict(sm.add_constant(X), offset=offset)
    np.testing.assert_allclose(fit.predict_proba(X, offset=offset), expected, rtol=1e-7)


def test_offsets_on_binary_labels_equal_statsmodels_offset(weighted):
    X, y, *_ = weighted
    offset = np.sin(np.arange(len(y)))
    fit = fit_mle(X, y, offset=offset)
    reference = glm(y, X, offset=offset)
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-8)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-7)


def test_arguments_take_pandas_series_matched_by_index(star98):
    X, k, n = star98
    frame = X.copy()
    frame.index = [f"school{i}" for i in range(len(frame))]
    shuffled = np.random.default_rng(4).permutation(len(frame))
    trials = pd.Series(n, index=frame.index).iloc[shuffled]
    successes = pd.Series(k, index=frame.index).iloc[shuffled]
    fit = fit_mle(frame, successes, trials=trials)
    np.testing.assert_allclose(fit.params, fit_mle(X, k, trials=n).params, rtol=1e-12)


def test_weighted_nuts_agrees_with_nuts_on_repeated_rows(weighted):
    X, y, weights, X_repeated, y_repeated = weighted
    options = {"num_chains": 2, "num_warmup": 300, "num_samples": 600, "seed": 3}
    post = sample_posterior(X, y, sample_weight=weights, **options)
    repeated = sample_posterior(X_repeated, y_repeated, **options)
    # The same posterior: the means differ by Monte Carlo error only. Two independent
    # runs, each with MCSE ~ sd / sqrt(ESS); 5 combined MCSEs is a ~1e-6 false alarm.
    # (With the same seed and a log density equal up to rounding, the draws even agree
    # to ~2e-6, measured; only the Monte Carlo bound is asserted.)
    a, b = post.summary(), repeated.summary()
    mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) < 5 * mcse).all()
    np.testing.assert_allclose(a["sd"], b["sd"], rtol=0.15)
    np.testing.assert_allclose(post.map_estimate.params, repeated.map_estimate.params, rtol=1e-8)
    # Per-row log-likelihoods are the weighted rows'; they sum to the log-likelihood.
    pointwise = np.asarray(post.idata["log_likelihood"]["y"]).sum(axis=-1)
    draw = post.draws[1, 7]
    expected = log_likelihood(X_repeated, y_repeated, draw[0], draw[1:])
    assert pointwise[1, 7] == pytest.approx(expected, rel=1e-12)


def test_weighted_imh_equals_imh_on_repeated_rows(weighted):
    X, y, weights, X_repeated, y_repeated = weighted
    options = {"num_chains": 2, "num_warmup": 100, "num_samples": 300, "seed": 3}
    post = sample_posterior(X, y, sample_weight=weights, sampler=IMH(), **options)
    repeated = sample_posterior(X_repeated, y_repeated, sampler=IMH(), **options)
    # The same proposals (from the same MAP and Laplace covariance, ~1e-15 apart) and
    # log posteriors equal up to rounding: the same accept/reject decisions, and draws
    # equal to rounding (measured 4e-16).
    np.testing.assert_allclose(post.draws, repeated.draws, rtol=1e-10, atol=1e-12)


def test_imh_agrees_with_nuts_on_counts_with_an_offset(star98):
    X, k, n = star98
    columns = ["LOWINC", "PERASIAN", "PERBLACK"]
    options = {"num_chains": 2, "num_warmup": 200, "num_samples": 500, "seed": 1}
    offset = np.full(len(k), 0.1)
    imh = sample_posterior(X[columns], k, trials=n, offset=offset, sampler=IMH(), **options)
    nuts = sample_posterior(X[columns], k, trials=n, offset=offset, sampler=NUTS(), **options)
    a, b = imh.summary(), nuts.summary()
    mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) < 5 * mcse).all()
    assert imh.map_estimate.binomial and imh.map_estimate.has_offset
    np.testing.assert_allclose(
        nuts.predict_proba(X[columns], offset=offset),
        nuts.predict_proba(X[columns], offset=offset, return_draws=True)[0],
        rtol=1e-12,
    )


def test_a_row_with_successes_and_failures_is_never_separated():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    # 0 of 3 on the left, 3 of 3 on the right: quasi-complete separation at best.
    with pytest.warns(SeparationWarning):
        assert fit_mle(X, [0, 0, 3, 3], trials=[3, 3, 3, 3]).separation is not None
    # Rows with 1 of 3 and 2 of 3 are successes and failures: no separation, a finite MLE.
    fit = fit_mle(X, [0, 1, 2, 3], trials=[3, 3, 3, 3])
    assert fit.separation is None and fit.converged


def test_rows_of_weight_zero_play_no_part_in_separation():
    X = np.array([[-2.0], [-1.0], [0.5], [1.0], [2.0]])
    y = np.array([0, 1, 0, 1, 1])
    assert fit_mle(X, y).separation is None  # the 1 at -1 overlaps the 0 at 0.5
    with pytest.warns(SeparationWarning):  # without it (weight 0), x separates them
        fit = fit_mle(X, y, sample_weight=[1, 0, 1, 1, 1])
    assert fit.separation is not None


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"y": [0, 1, 4, 2], "trials": [3, 3, 3, 3]}, ValueError, r"\[0, trials\]; got y = 4"),
        ({"y": [0, -1, 1, 2], "trials": [3, 3, 3, 3]}, ValueError, r"\[0, trials\]; got y = -1"),
        ({"y": [0, 1.5, 1, 2], "trials": [3, 3, 3, 3]}, ValueError, "y must hold whole numbers"),
        ({"trials": [3, 0, 3, 3], "y": [0, 0, 1, 2]}, ValueError, "trials must be >= 1"),
        ({"trials": [3, 2.5, 3, 3], "y": [0, 1, 1, 2]}, ValueError, "trials must hold whole"),
        (
            {"sample_weight": [1, -1, 1, 1]},
            ValueError,
            r"sample_weight must be >= 0 .*; got -1 at row 1",
        ),
        ({"sample_weight": [1, np.nan, 1, 1]}, ValueError, "sample_weight contains non-finite"),
        ({"sample_weight": [1, np.inf, 1, 1]}, ValueError, "sample_weight contains non-finite"),
        ({"sample_weight": [0, 0, 0, 0]}, ValueError, "sample_weight is 0 in every row"),
        ({"sample_weight": [1, 1, 1]}, ValueError, r"sample_weight must be 1-D .* \(4 rows\)"),
        ({"sample_weight": ["a", "b", "c", "d"]}, ValueError, "sample_weight must hold real"),
        ({"offset": [0.0, 1.0]}, ValueError, r"offset must be 1-D with one entry per row"),
        ({"offset": [0.0, np.nan, 0.0, 0.0]}, ValueError, "offset contains non-finite"),
        ({"offset": [0.0, -np.inf, 0.0, 0.0]}, ValueError, "offset contains non-finite"),
        ({"trials": [1, 1, 1]}, ValueError, r"trials must be 1-D .* \(4 rows\)"),
        ({"sample_weight": [0, 0, 1, 1]}, ValueError, "only successes"),
    ],
)
@pytest.mark.parametrize("function", [fit_mle, fit_map, sample_posterior])
def test_bad_weights_counts_and_offsets_raise_a_clear_error(function, arguments, error, match):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    arguments = {"y": [0, 0, 1, 1], **arguments}
    with pytest.raises(error, match=match):
        function(X, **arguments)


def test_predict_proba_checks_the_offset():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [0.5]])
    fit = fit_mle(X, [0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match="offset must be 1-D with one entry per row"):
        fit.predict_proba(X, offset=[0.0])
    with pytest.raises(ValueError, match="offset contains non-finite"):
        fit.predict_proba(X, offset=[0.0, np.nan, 0, 0, 0])
    np.testing.assert_allclose(
        fit.predict_proba(X, offset=np.ones(5)),
        1 / (1 + np.exp(-(fit.intercept + 1 + X[:, 0] * fit.coef[0]))),
        rtol=1e-14,
    )


def test_save_and_load_keep_weights_and_counts(star98, tmp_path):
    X, k, n = star98
    fit = fit_mle(X[["LOWINC", "PERASIAN"]], k, trials=n, sample_weight=np.full(len(k), 2.0))
    loaded = PointEstimate.load(fit.save(tmp_path / "fit.json"))
    for name in ("n_obs", "weighted", "binomial", "has_offset", "saturated_log_likelihood"):
        assert getattr(loaded, name) == getattr(fit, name)
    assert loaded.deviance == fit.deviance


def test_files_saved_before_weights_load_as_unweighted_fits(tmp_path):
    data = simulate(50, [1.0], seed=2)
    path = fit_mle(data.X, data.y).save(tmp_path / "fit.json")
    document = json.loads(path.read_text())
    document["format_version"] = 2
    for name in ("n_obs", "weighted", "binomial", "has_offset", "saturated_log_likelihood"):
        del document["fields"][name]
    path.write_text(json.dumps(document))
    loaded = PointEstimate.load(path)
    assert (loaded.n_obs, loaded.weighted, loaded.saturated_log_likelihood) == (None, False, None)
    assert loaded.deviance == -2 * loaded.log_likelihood
    assert _persist.FORMAT_VERSION >= 3


def test_posterior_keeps_its_map_fits_counts_through_save_and_load(tmp_path):
    data = simulate(40, [0.5], seed=3)
    trials = np.full(40, 4)
    successes = np.random.default_rng(5).binomial(4, 0.4, size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains: ESS warnings are not the point
        post = sample_posterior(
            data.X, successes, trials=trials, sampler=IMH(), num_chains=1, num_samples=50
        )
    loaded = Posterior.load(post.save(tmp_path / "post.nc"))
    assert loaded.map_estimate.binomial and loaded.map_estimate.n_obs == 160
    np.testing.assert_array_equal(loaded.draws, post.draws)
    # The posterior predictive probability with an offset: the mean over draws.
    offset = np.linspace(-1.0, 1.0, 40)
    draws = loaded.flat_draws
    expected = (1 / (1 + np.exp(-(draws[:, :1] + draws[:, 1:] @ data.X.T + offset)))).mean(0)
    np.testing.assert_allclose(loaded.predict_proba(data.X, offset=offset), expected, rtol=1e-12)


@pytest.mark.parametrize("argument", ["sample_weight", "trials", "offset"])
def test_streaming_and_sharded_fits_refuse_weights_counts_and_offsets(argument):
    from bayeslogreg import distributed, fit_streaming

    data = simulate(50, [1.0], seed=1)
    for function in (distributed.fit_mle, distributed.fit_map, fit_streaming):
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{argument}'"):
            function(data.X, data.y, **{argument: np.ones(50)})


def test_feature_major_counts_likelihood_equals_the_row_form_with_its_gradient():
    import jax
    import jax.numpy as jnp

    from bayeslogreg import model
    from bayeslogreg._jax import float64

    rng = np.random.default_rng(0)
    # Columns up to 100: linear predictors up to |eta| ~ 300, where a naive form overflows.
    X = rng.normal(size=(50, 3)) * np.array([1.0, 10.0, 100.0])
    trials = rng.integers(1, 5, size=50)
    successes = rng.binomial(trials, 0.4)
    weights = rng.uniform(0.0, 2.0, size=50)
    counts = model.Counts(weights * successes, weights * (trials - successes), rng.normal(size=50))
    params = np.array([0.3, -0.5, 0.2, 1.5])
    with float64():
        value, grad = jax.value_and_grad(model.log_likelihood_sum_counts_feature_major)(
            params, np.ascontiguousarray(X.T), counts
        )
        expected_value, expected_grad = jax.value_and_grad(
            lambda p: jnp.sum(model.log_likelihood_rows(p, X, counts))
        )(params)
    # The same terms in another arrangement: agreement to rounding (measured ~5e-16).
    assert float(value) == pytest.approx(float(expected_value), rel=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12)


def test_unit_weights_single_trials_and_zero_offsets_give_the_plain_fit(weighted):
    X, y, *_ = weighted
    plain = fit_mle(X, y)
    ones, zeros = np.ones(len(y)), np.zeros(len(y))
    general = fit_mle(X, y, sample_weight=ones, trials=ones, offset=zeros)
    # The general form sums the same terms in another order: equal to rounding.
    np.testing.assert_allclose(general.params, plain.params, rtol=1e-12)
    np.testing.assert_allclose(general.cov, plain.cov, rtol=1e-10)
    assert general.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-13)
    assert general.deviance == pytest.approx(plain.deviance, rel=1e-13)
    assert (general.n_obs, plain.n_obs) == (len(y), None)


def test_the_separation_check_reads_the_rows_of_x_without_copying_them():
    from bayeslogreg.estimators._observations import RowSelection, check_fit_data

    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    # Weighted 0/1 rows, none of weight 0: each row once, X itself.
    *_, observations = check_fit_data(X, y, None, sample_weight=np.arange(40) % 3 + 1)
    X_binary, y_binary = observations.binary_rows(X)
    assert X_binary is X and np.array_equal(y_binary, y)
    # Counts (rows with 0 < k < n twice) and a row of weight 0 (left out): a selection.
    trials, successes = np.full(40, 4), np.arange(40) % 5
    weights = np.ones(40)
    weights[7] = 0
    *_, observations = check_fit_data(X, successes, None, trials=trials, sample_weight=weights)
    X_binary, y_binary = observations.binary_rows(X)
    assert isinstance(X_binary, RowSelection)
    keep = weights > 0
    ones, zeros = keep & (successes > 0), keep & (successes < trials)
    expected = np.concatenate([X[ones], X[zeros]])
    assert X_binary.shape == expected.shape and len(X_binary) == len(expected)
    np.testing.assert_array_equal(X_binary[2:9], expected[2:9])
    np.testing.assert_array_equal(X_binary[np.array([0, 5, 3])], expected[[0, 5, 3]])
    np.testing.assert_array_equal(y_binary, np.r_[np.ones(ones.sum()), np.zeros(zeros.sum())])


def test_rows_with_successes_and_failures_that_span_the_parameters_rule_out_separation():
    from bayeslogreg.estimators._observations import check_fit_data
    from bayeslogreg.separation import detect_separation

    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 3))
    trials = np.full(60, 4)
    successes = np.where(X[:, 0] > 0, 4, 0)  # 0/4 and 4/4 rows, separated by x1
    mixed = np.arange(60) < 30
    successes[mixed] = 2
    *_, observations = check_fit_data(X, successes, None, trials=trials)
    # 30 mixed rows in general position pin [1, X]: the linear programs are skipped,
    # and the full check on the 0/1 rows (each mixed row as a 1 and a 0) agrees.
    assert observations.pins_every_direction(X, intercept_free=True)
    assert detect_separation(*observations.binary_rows(X)) is None
    assert fit_mle(X, successes, trials=trials).separation is None
    # Mixed rows with x1 = 0 leave its direction free: the full check runs, finds it.
    X_flat = X.copy()
    X_flat[mixed, 0] = 0.0
    *_, observations = check_fit_data(X_flat, successes, None, trials=trials)
    assert not observations.pins_every_direction(X_flat, intercept_free=True)
    with pytest.warns(SeparationWarning):
        fit = fit_mle(X_flat, successes, trials=trials)
    assert fit.separation.kind == "quasi-complete" and fit.separation.features[0] == "x1"
    # Fewer mixed rows than parameters cannot pin them; a proper intercept prior frees
    # the constant direction (the intercept is then not a parameter the check moves).
    *_, observations = check_fit_data(X[:4], [2, 2, 2, 4], None, trials=[4] * 4)
    assert not observations.pins_every_direction(X[:4], intercept_free=True)
    assert observations.pins_every_direction(X[:4], intercept_free=False)
