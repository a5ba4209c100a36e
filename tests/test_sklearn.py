import os
import pickle
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import RocCurveDisplay, log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import bayeslogreg
from bayeslogreg import compare, fit_mle
from bayeslogreg.datasets import simulate
from bayeslogreg.priors import Flat, Normal
from bayeslogreg.sklearn import (
    BayesianLogisticRegression,
    MAPLogisticRegression,
    MLELogisticRegression,
    SeparationWarning,
)

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def tiny_posterior(**settings):
    """Short chains: enough for the checks' accuracy bars, far too few for inference."""
    return BayesianLogisticRegression(num_chains=1, num_warmup=50, num_samples=50, **settings)


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "the check fits 30 features to 15 rows (27 once repeated); bayeslogreg refuses "
            "fewer rows than parameters as not identified, for every estimator. The "
            "equivalence itself is tested in "
            "test_integer_weights_equal_repeated_rows_in_every_estimator."
        )
    }


# The checks fit data of some 20 shapes, and bayeslogreg traces its programs once per
# shape: NUTS took 10-25 s a shape on the shared 2-core machine against 1-4 s for IMH, so
# the posterior is checked with IMH; NUTS goes through the same wrapper in the tests below.
@parametrize_with_checks(
    [MLELogisticRegression(), MAPLogisticRegression(), tiny_posterior(sampler="imh")],
    expected_failed_checks=expected_failed_checks,
)
# The checks' blobs are separated (the MLE warns) and the chains are short (the posterior
# warns about its ESS): both are scikit-learn ConvergenceWarnings.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_estimators_pass_scikit_learns_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def simulated():
    data = simulate(300, [1.0, -0.5, 0.25], intercept=0.3, seed=3)
    return data.X, data.y


@pytest.fixture(scope="module")
def fitted(simulated):
    """The three estimators fitted to the first 200 rows of ``simulated``."""
    X, y = simulated
    models = {
        "mle": MLELogisticRegression(),
        "map": MAPLogisticRegression(),
        "posterior": tiny_posterior(),
    }
    with _ignoring_short_chains():
        for model in models.values():
            model.fit(X[:200], y[:200])
    return models


@pytest.fixture(scope="module")
def breast_cancer():
    """Breast cancer with its labels as text: 'malignant' (212 rows) and 'benign' (357)."""
    data = load_breast_cancer()
    return data.data, data.target_names[data.target]


def test_mle_equals_fit_mle_and_statsmodels(simulated):
    X, y = simulated[0][:200], simulated[1][:200]
    model = MLELogisticRegression().fit(X, y)
    direct = fit_mle(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, disp=0)
    # The same call underneath: equal to the last bit.
    np.testing.assert_array_equal(model.result_.params, direct.params)
    # statsmodels stops at its own tolerance; both are within ~1e-8 of the optimum.
    np.testing.assert_allclose(model.intercept_, reference.params[:1], rtol=1e-6)
    np.testing.assert_allclose(model.coef_[0], reference.params[1:], rtol=1e-6)
    np.testing.assert_allclose(
        model.predict_proba(X)[:, 1], reference.predict(sm.add_constant(X)), rtol=1e-6
    )
    assert model.coef_.shape == (1, 3) and model.intercept_.shape == (1,)
    assert model.n_features_in_ == 3 and not hasattr(model, "feature_names_in_")


@pytest.mark.parametrize("scale", [0.1, 2.0])
def test_map_with_a_normal_prior_and_flat_intercept_equals_sklearn(simulated, scale):
    X, y = simulated[0][:200], simulated[1][:200]
    model = MAPLogisticRegression(prior=Normal(0, scale), intercept_prior=Flat()).fit(X, y)
    reference = LogisticRegression(C=scale**2, tol=1e-12, max_iter=10_000).fit(X, y)
    # Both solve the same strictly concave problem to a gradient of ~1e-10; 1e-5 relative
    # leaves room for lbfgs's stopping point.
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-5)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), rtol=1e-5)


def test_grid_search_over_the_prior_scale_on_breast_cancer_with_string_labels(breast_cancer):
    X, y = breast_cancer
    scales = [0.03, 0.3, 3.0]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    ours = GridSearchCV(
        make_pipeline(StandardScaler(), MAPLogisticRegression(intercept_prior=Flat())),
        {"maplogisticregression__prior": [Normal(0, s) for s in scales]},
        cv=folds,
        scoring="neg_log_loss",
    ).fit(X, y)
    theirs = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(solver="newton-cholesky", tol=1e-12)),
        {"logisticregression__C": [s**2 for s in scales]},
        cv=folds,
        scoring="neg_log_loss",
    ).fit(X, y)
    # The same L2 fits on the same folds: the held-out log-losses agree to the fits' 1e-5.
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"], rtol=1e-5
    )
    assert ours.best_index_ == theirs.best_index_
    best_scale = scales[theirs.best_index_]
    assert ours.best_params_["maplogisticregression__prior"] == Normal(0, best_scale)
    best = ours.best_estimator_[-1]
    assert list(best.classes_) == ["benign", "malignant"]
    assert set(ours.predict(X[:20])) <= {"benign", "malignant"}
    # 'malignant' is classes_[1], the class whose log-odds the coefficients give.
    np.testing.assert_allclose(best.coef_, theirs.best_estimator_[-1].coef_, rtol=1e-5)


def test_pipeline_cross_val_predict_calibration_and_roc_display(breast_cancer):
    X, y = breast_cancer
    model = MAPLogisticRegression(prior=Normal(0, 0.3), intercept_prior=Flat())
    ours = make_pipeline(StandardScaler(), model)
    # The same L2 fit by scikit-learn (C = 0.3**2), our reference at every step.
    theirs = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.09, solver="newton-cholesky", tol=1e-12)
    )
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    proba = cross_val_predict(ours, X, y, cv=folds, method="predict_proba")
    expected = cross_val_predict(theirs, X, y, cv=folds, method="predict_proba")
    # Both solve each fold's problem to a gradient of ~1e-10.
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-9)
    calibrated = CalibratedClassifierCV(ours, cv=folds).fit(X, y).predict_proba(X)
    expected = CalibratedClassifierCV(theirs, cv=folds).fit(X, y).predict_proba(X)
    # The sigmoid calibration is itself an lbfgs fit of inputs 1e-5 apart.
    np.testing.assert_allclose(calibrated, expected, rtol=1e-4, atol=1e-7)
    display = RocCurveDisplay.from_estimator(ours.fit(X, y), X, y, pos_label="malignant")
    reference = roc_auc_score(y == "malignant", theirs.fit(X, y).predict_proba(X)[:, 1])
    assert display.roc_auc == pytest.approx(reference, abs=1e-12)
    matplotlib.pyplot.close(display.figure_)


def test_clone_and_set_params_keep_prior_objects_equal():
    model = MAPLogisticRegression(prior=Normal(0, [1.0, 2.0]), intercept_prior=Flat())
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.prior == Normal(0, [1.0, 2.0]) and copy.prior is not model.prior
    copy.set_params(prior=Normal(0, 5.0))
    assert copy.get_params()["prior"] == Normal(0, 5.0)
    assert model.get_params()["prior"] == Normal(0, [1.0, 2.0])


def test_fitted_estimators_pickle_and_predict_the_same(simulated, fitted):
    X, _ = simulated
    for model in fitted.values():
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(restored.result_.params, model.result_.params)


def test_the_results_go_into_compare(simulated, fitted):
    X, y = simulated
    X_test, y_test = X[200:], y[200:]
    table = compare({name: m.result_ for name, m in fitted.items()}, X_test, y_test).metrics
    for name, model in fitted.items():
        scores = model.predict_proba(X_test)[:, 1]
        # compare() scores the result as the estimator predicts: the AUC equals a
        # brute-force pair count and the log-loss scikit-learn's, to rounding.
        assert table.loc[name, "auc"] == pytest.approx(_pair_count_auc(scores, y_test), 1e-12)
        assert table.loc[name, "log_loss"] == pytest.approx(log_loss(y_test, scores), 1e-10)
    # The fitted estimators themselves stand for their results.
    direct = compare(fitted, X_test, y_test).metrics
    pd.testing.assert_frame_equal(direct.drop(columns="fit_time"), table.drop(columns="fit_time"))


def test_bayesian_predict_proba_is_the_mean_of_the_draws_and_the_seed_fixes_it(simulated, fitted):
    X, y = simulated
    model = fitted["posterior"]
    with _ignoring_short_chains():
        again = tiny_posterior().fit(X[:200], y[:200])
        other = tiny_posterior(seed=1).fit(X[:200], y[:200])
    proba, draws = model.predict_proba(X[:7], return_draws=True)
    assert proba.shape == (7, 2) and draws.shape == (50, 7)
    # The posterior predictive probability is the mean over draws, summed here in log space.
    np.testing.assert_allclose(proba[:, 1], draws.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X[:7]), proba, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    by_hand = 1 / (1 + np.exp(-(model.result_.flat_draws @ np.c_[np.ones(7), X[:7]].T)))
    np.testing.assert_allclose(draws, by_hand, rtol=1e-12)
    np.testing.assert_allclose(model.coef_[0], model.result_.flat_draws[:, 1:].mean(axis=0))
    # The same seed gives the same draws, bit for bit; another seed other draws.
    np.testing.assert_array_equal(again.result_.draws, model.result_.draws)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert not np.array_equal(other.result_.draws, model.result_.draws)


def test_integer_weights_equal_repeated_rows_in_every_estimator(simulated):
    X, y = simulated[0][:200], simulated[1][:200]
    weights = np.tile([0, 1, 2, 1], 50)
    for model in (MLELogisticRegression(), MAPLogisticRegression()):
        weighted = clone(model).fit(X, y, sample_weight=weights)
        repeated = clone(model).fit(X.repeat(weights, axis=0), y.repeat(weights))
        # One objective, summed in another order: the optima agree to Newton's tolerance.
        np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)


def test_separation_warns_as_a_scikit_learn_convergence_warning():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array(["no", "no", "no", "yes", "yes", "yes"])
    with pytest.warns(SeparationWarning) as caught:
        model = MLELogisticRegression().fit(X, y)
    assert all(issubclass(w.category, SklearnConvergenceWarning) for w in caught)
    assert all(issubclass(w.category, bayeslogreg.SeparationWarning) for w in caught)
    assert not model.result_.converged
    np.testing.assert_array_equal(model.predict(X), y)


def test_bad_labels_and_columns_raise_scikit_learns_errors(simulated):
    X, y = simulated
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        MLELogisticRegression().fit(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLELogisticRegression().fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"y must hold two classes .* got one class, \['a'\]"):
        MLELogisticRegression().fit(X, np.full(len(y), "a"))
    with pytest.raises(ValueError, match="got one class, \\[1\\]"):
        MAPLogisticRegression().fit(X, y, sample_weight=y.astype(float))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
        MAPLogisticRegression().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(NotFittedError):
        MLELogisticRegression().predict(X)
    model = MLELogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but MLELogisticRegression is"):
        model.predict(X[:, :2])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    named = MLELogisticRegression().fit(frame, y)
    assert list(named.feature_names_in_) == ["a", "b", "c"]
    assert named.result_.feature_names == ("a", "b", "c")
    with pytest.raises(ValueError, match="The feature names should match"):
        named.predict(frame.rename(columns={"c": "z"}))


def test_sklearn_stays_optional_and_its_absence_says_how_to_install_it():
    code = (
        "import sys, bayeslogreg\n"
        "assert 'sklearn' not in sys.modules, 'import bayeslogreg imported sklearn'\n"
        "sys.modules['sklearn'] = None  # as if it were not installed\n"
        "try:\n    import bayeslogreg.sklearn\n"
        "except ImportError as error:\n    print(error)\n"
    )
    assert 'pip install "bayeslogreg[sklearn]"' in _run_python(code)


def test_the_sklearn_extra_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'sklearn = ["scikit-learn>=1.6"]' in text


@contextmanager
def _ignoring_short_chains():
    """The tiny chains' R-hat and ESS warnings are expected; others still fail the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        yield


def _run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _pair_count_auc(scores, labels):
    positive, negative = scores[labels == 1], scores[labels == 0]
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return (greater + 0.5 * ties) / (len(positive) * len(negative))
