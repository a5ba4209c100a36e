"""Bad input raises ValueError with a message naming the problem, at every entry point."""

import numpy as np
import pandas as pd
import pytest

from bayeslogreg import (
    compare,
    diagnostics,
    fit_map,
    fit_mle,
    log_likelihood,
    metrics,
    sample_posterior,
)
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.exceptions import ConvergenceWarning
from bayeslogreg.priors import Flat, Laplace, Normal
from bayeslogreg.solvers import LBFGS, SGD, GradientAscent, Newton

GOOD = simulate(50, [1.0, -1.0], seed=3)
X, Y = GOOD.X, GOOD.y


def _with_nan(array, value=np.nan):
    array = array.astype(float).copy()
    array.flat[7] = value
    return array


BAD_INPUTS = [
    ("X 1-D", X[:, 0], Y, r"X must be 2-D .* got shape \(50,\)\. For a single feature"),
    ("X 3-D", X[:, :, None], Y, "X must be 2-D"),
    ("X empty", np.empty((0, 2)), np.empty(0), "X is empty"),
    ("X NaN", _with_nan(X), Y, r"X contains non-finite values .* NaN at row 3, column 1"),
    ("X inf", _with_nan(X, np.inf), Y, "X contains non-finite values .* inf"),
    ("X strings", X.astype(str), Y, "X must hold real numbers; got dtype <U"),
    ("X object", X.astype(object), Y, "X must hold real numbers; got dtype object"),
    ("X complex", X.astype(complex), Y, "X must hold real numbers; got dtype complex128"),
    ("y 2-D", X, Y[:, None], r"y must be 1-D \(n_samples,\); got shape \(50, 1\)"),
    ("length mismatch", X, Y[:-1], "X has 50 rows but y has 49 entries"),
    ("y NaN", X, _with_nan(Y), r"y contains non-finite values \(NaN or inf\) in 1 row; .* 7"),
    ("y 1/2", X, Y + 1, r"y must contain only 0 and 1; got values \[1, 2\]"),
    ("y -1/1", X, 2 * Y - 1, r"y must contain only 0 and 1; got values \[-1, 1\]"),
    ("y 0.5", X, np.where(Y == 1, 0.5, 0.0), r"got values \[0\.0, 0\.5\]"),
    ("y strings", X, np.where(Y == 1, "yes", "no"), r"got values \['no', 'yes'\]"),
    ("single class", X, np.zeros(50), "y contains only class 0 .*needs both 0s and 1s"),
    ("single class 1", X, np.ones(50, dtype=int), "y contains only class 1"),
    ("fewer rows than params", X[:2], np.array([0, 1]), r"fewer rows \(2\) than parameters \(3"),
]


@pytest.mark.parametrize(
    ("case", "X_bad", "y_bad", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
@pytest.mark.parametrize("entry", ["fit_mle", "fit_map", "sample_posterior"])
def test_bad_input_raises_a_clear_value_error(case, X_bad, y_bad, message, entry):
    fit = {"fit_mle": fit_mle, "fit_map": fit_map, "sample_posterior": sample_posterior}[entry]
    with pytest.raises(ValueError, match=message):
        fit(X_bad, y_bad)


def test_dataframe_with_non_numeric_columns():
    frame = pd.DataFrame({"age": X[:, 0], "city": ["a"] * 50})
    with pytest.raises(ValueError, match=r"non-numeric columns \['city'\]; encode them"):
        fit_mle(frame, Y)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a"], "feature_names has 1 entries but X has 2 columns"),
        (["a", "a"], r"feature names must be unique; repeated: \['a'\]"),
        (["intercept", "b"], "reserved for the model's own intercept"),
    ],
)
def test_bad_feature_names(names, message):
    with pytest.raises(ValueError, match=message):
        fit_mle(X, Y, feature_names=names)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"solver": "bfgs"}, r"solver must be one of \['auto', 'gd', 'lbfgs'"),
        ({"solver": 3}, "solver must be a solver from bayeslogreg.solvers"),
        ({"init": [0.0, 1.0]}, r"init must be a finite array of shape \(3,\)"),
        ({"init": [0.0, np.nan, 1.0]}, "init must be a finite array"),
    ],
)
def test_bad_optimizer_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_mle(X, Y, **kwargs)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Newton(tol=0), "tol must be a positive finite number"),
        (lambda: Newton(tol=-1e-3), "tol must be a positive finite number"),
        (lambda: Newton(max_iter=0), "max_iter must be an integer >= 1"),
        (lambda: GradientAscent(max_iter=2.5), "max_iter must be an integer >= 1"),
        (lambda: LBFGS(memory_size=0), "memory_size must be an integer >= 1"),
        (lambda: SGD(batch_size=0), "batch_size must be an integer >= 1"),
        (lambda: SGD(epochs=-3), "epochs must be an integer >= 1"),
        (lambda: SGD(learning_rate=-0.1), "learning_rate must be a positive"),
        (lambda: SGD(average="no"), "average must be True or False"),
    ],
)
def test_bad_solver_options_are_refused_when_the_solver_is_built(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"method": "newton", "batch_size": 8},
            r"the newton solver does not use batch_size= \(options of SGD\); drop it, or use SGD",
        ),
        ({"method": "lbfgs", "epochs": 8}, "the lbfgs solver does not use epochs="),
        (
            {"tol": 1e-6, "solver": Newton()},
            r"tol= given both as a keyword and in solver=Newton\(tol=1e-08, max_iter=100\)",
        ),
        ({"method": "gd", "solver": "newton"}, "both choose the solver; method= is deprecated"),
    ],
)
def test_deprecated_optimizer_keywords_that_do_not_apply_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_mle(X, Y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prior": 2.5}, "prior must be a prior from bayeslogreg.priors"),
        ({"intercept_prior": "normal"}, "intercept_prior must be a prior"),
        ({"prior": Normal(0, [1.0, 2.0, 3.0])}, "3 values of 'scale' but coef has 2 entries"),
        ({"intercept_prior": Normal(0, [1.0, 2.0])}, "but the intercept has 1 entries"),
        ({"prior": Laplace(0, 1), "solver": "lbfgs"}, "solver 'lbfgs' needs a smooth objective"),
    ],
)
def test_bad_map_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_map(X, Y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_chains": 0}, "num_chains must be an integer >= 1"),
        ({"num_samples": -5}, "num_samples must be an integer >= 1"),
        ({"num_warmup": 1.5}, "num_warmup must be an integer >= 1"),
        ({"sampler": "hmc"}, r"sampler must be one of \['imh', 'nuts'\] or an object of"),
        ({"prior": None, "intercept_prior": 3}, "intercept_prior must be a prior"),
        ({"store_log_likelihood": None}, "store_log_likelihood must be True or False"),
    ],
)
def test_bad_sampler_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_posterior(X, Y, **kwargs)


def test_predict_proba_checks_the_columns(well_posed):
    fit = fit_mle(X, Y)
    with pytest.raises(ValueError, match="X has 3 columns but the model was fitted with 2"):
        fit.predict_proba(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X contains non-finite"):
        fit.predict_proba(np.full((4, 2), np.nan))


def test_log_likelihood_validates_but_allows_one_class():
    assert log_likelihood(X[:5], np.ones(5), 0.0, [0.0, 0.0]) == pytest.approx(5 * np.log(0.5))
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        log_likelihood(X, Y + 1, 0.0, [0.0, 0.0])


def test_train_test_split_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"test_size must be a number in \(0, 1\), e\.g\. 0\.25"):
        train_test_split(X, Y, test_size=1.5)
    with pytest.raises(ValueError, match="X has 50 rows but y has 3 entries"):
        train_test_split(X, Y[:3])


def test_labels_are_never_remapped_even_if_boolean_like():
    fit_true = fit_mle(X, Y.astype(bool))
    fit_float = fit_mle(X, Y.astype(float))
    np.testing.assert_array_equal(fit_true.params, fit_float.params)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (np.full(50, 3.0), r"'x3' is constant \(a copy of the intercept\)"),
        (np.zeros(50), r"'x3' is constant"),
        (X[:, 0].copy(), r"'x3' repeats 'x1'"),
    ],
    ids=["constant", "zero", "duplicate"],
)
def test_unidentified_columns_are_named_with_their_cause(extra, message):
    with pytest.warns(ConvergenceWarning, match="information matrix is singular.*" + message):
        fit = fit_mle(np.column_stack([X, extra]), Y)
    assert np.isinf(fit.stderr[-1])
    assert np.isfinite(fit.params).all()


def test_too_few_draws_for_the_diagnostics():
    with pytest.raises(ValueError, match="num_samples=3 is too few draws per chain"):
        sample_posterior(X, Y, num_samples=3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (X[:, 0].copy(), r"parameters \['x1', 'x3'\] have flat priors .*'x3' repeats 'x1'"),
        (X[:, 0] - 2 * X[:, 1], r"parameters \['x1', 'x2', 'x3'\] .*exactly collinear columns"),
        (np.full(50, 2.0), r"parameters \['intercept', 'x3'\] .*'x3' is constant"),
    ],
    ids=["duplicate", "collinear", "constant"],
)
def test_flat_priors_on_unidentified_parameters_give_an_improper_posterior(extra, message):
    with pytest.raises(ValueError, match="the posterior is improper: " + message):
        sample_posterior(np.column_stack([X, extra]), Y, prior=Flat(), intercept_prior=Flat())


def test_proper_priors_identify_collinear_columns():
    from bayeslogreg.estimators.point import find_unidentified

    X_dup = np.column_stack([X, X[:, 0]])
    names = ("x1", "x2", "x3")
    assert find_unidentified(X_dup, names, Flat(), Normal(0, 1)) == []
    assert find_unidentified(X, ("x1", "x2"), Flat(), Flat()) == []
    assert find_unidentified(X_dup, names, Normal(0, 1), Flat()) == ["x1", "x3"]


def _message(call) -> str:
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_each_check_has_one_wording_at_every_entry_point():
    fit = fit_mle(X, Y)
    prob = fit.predict_proba(X)
    draws = np.tile(fit.params, (3, 1))
    table = pd.DataFrame({"auc": [0.6, 0.7]})
    same = {
        "level must be a number in (0, 1), e.g. 0.95 for 95%; got 95.0.": [
            lambda: fit.conf_int(level=95),
            lambda: metrics.auc_ci(Y, prob, level=95),
            lambda: metrics.calibration_curve(Y, prob, level=95),
            lambda: diagnostics.roc_band(draws, X, Y, level=95),
            lambda: diagnostics.summarize_draws(table, level=95),
            lambda: compare(fit, X, Y, level=95),
        ],
        "threshold must be a number in [0, 1]; got 1.5.": [
            lambda: metrics.accuracy(Y, prob, threshold=1.5),
            lambda: diagnostics.predictive_metrics(draws, X, Y, threshold=1.5),
            lambda: compare(fit, X, Y, threshold=1.5),
        ],
        "n_bins must be an integer >= 1; got 0.": [
            lambda: metrics.calibration_curve(Y, prob, n_bins=0),
            lambda: diagnostics.posterior_predictive_check(draws, X, Y, n_bins=0),
        ],
        "method must be one of ['bootstrap', 'delong']; got 'wald'.": [
            lambda: metrics.auc_ci(Y, prob, method="wald"),
        ],
    }
    for message, calls in same.items():
        assert [_message(call) for call in calls] == [message] * len(calls)
    zeros = np.zeros_like(Y)
    assert _message(lambda: fit_mle(X, zeros)) == (
        "y contains only class 0 (50 rows); logistic regression needs both 0s and 1s."
    )
    assert _message(lambda: metrics.roc_auc(zeros, prob)) == (
        "y contains only class 0 (50 rows); roc_auc needs both 0s and 1s."
    )
