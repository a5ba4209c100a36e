"""compare_cv(): folds, per-fold metrics and tests checked against direct computations,
scikit-learn's cross_val_score and statsmodels; reports and bad input."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

import bayeslogreg as blr
from bayeslogreg.datasets import simulate
from bayeslogreg.diagnostics import heldout_lpd
from bayeslogreg.metrics import delong_test
from bayeslogreg.report._folds import corrected_t_test, stratified_folds

SHORT_NUTS = {"num_chains": 2, "num_warmup": 300, "num_samples": 700}


@pytest.fixture(scope="module")
def data():
    """203 rows (5 folds of unequal size), three features."""
    sim = simulate(203, [0.9, -0.6, 0.3], intercept=-0.2, seed=5)
    return sim.X, sim.y


@pytest.fixture(scope="module")
def cv(data):
    X, y = data
    return blr.compare_cv(["mle", "map", "nuts"], X, y, cv=5, seed=2, **SHORT_NUTS)


def test_folds_are_stratified_disjoint_and_seeded(data):
    _, y = data
    folds = stratified_folds(y, 5, seed=2)
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(y)))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0 and train.size + test.size == len(y)
        # each class is dealt evenly: a fold holds its share of each, give or take one row
        for label in (0, 1):
            share = np.sum(y == label) / 5
            assert abs(np.sum(y[test] == label) - share) < 1
    assert max(t.size for _, t in folds) - min(t.size for _, t in folds) <= 1
    again = stratified_folds(y, 5, seed=2)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = stratified_folds(y, 5, seed=3)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))


def test_per_fold_metrics_equal_statsmodels_and_scikit_learn(data, cv):
    """MLE per fold: statsmodels' Logit on the fold's rows, scored by scikit-learn (1e-6:
    both optimizers stop within ~1e-8 of the optimum)."""
    X, y = data
    folds = stratified_folds(y, 5, seed=2)
    assert cv.sizes["n_test"].tolist() == [t.size for _, t in folds]
    for k, (train, test) in enumerate(folds):
        reference = sm.Logit(y[train], sm.add_constant(X[train])).fit(disp=0, tol=1e-12)
        prob = reference.predict(sm.add_constant(X[test]))
        row = cv.folds.loc[("MLE", k)]
        np.testing.assert_allclose(row["auc"], roc_auc_score(y[test], prob), rtol=1e-6)
        np.testing.assert_allclose(row["log_loss"], log_loss(y[test], prob), rtol=1e-6)
        np.testing.assert_allclose(cv.results["MLE"][k].params, reference.params, rtol=1e-6)
    mean = cv.folds.loc["MLE", "auc"].mean()
    np.testing.assert_allclose(cv.summary.loc["MLE", ("auc", "mean")], mean, rtol=1e-12)
    se = cv.folds.loc["MLE", "auc"].std(ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(cv.summary.loc["MLE", ("auc", "se")], se, rtol=1e-12)


def test_unequal_folds_are_padded_with_rows_of_weight_zero(data, cv):
    """Fold sizes 162/163: every fit sees 163 rows, the extra ones of weight 0, so the
    fit equals the fold's own rows (1e-8) and one program serves every fold."""
    X, y = data
    assert sorted(set(cv.sizes["n_train"])) == [162, 163]
    for k, (train, _) in enumerate(stratified_folds(y, 5, seed=2)):
        if train.size == 162:
            plain = blr.fit_map(X[train], y[train], seed=2)
            np.testing.assert_allclose(cv.results["MAP"][k].params, plain.params, rtol=1e-8)
            assert cv.results["MAP"][k].n_rows == 163  # the shape every fold shares


def test_posterior_lpd_is_the_held_out_log_predictive_density(data, cv):
    X, y = data
    for k, (_, test) in enumerate(stratified_folds(y, 5, seed=2)):
        posterior = cv.results["posterior"][k]
        expected = heldout_lpd(posterior.flat_draws, X[test], y[test])
        np.testing.assert_allclose(cv.folds.loc[("posterior", k), "lpd"], expected, rtol=1e-12)
        # log mean_s p(y | theta_s) is the log-loss of the predictive mean, summed
        loss = cv.folds.loc[("posterior", k), "log_loss"]
        np.testing.assert_allclose(expected, -test.size * loss, rtol=1e-9)


def test_corrected_t_test_equals_a_direct_computation(cv):
    for _, row in cv.tests.iterrows():
        a = cv.folds.loc[row["estimator_a"], row["metric"]].to_numpy()
        b = cv.folds.loc[row["estimator_b"], row["metric"]].to_numpy()
        d = a - b
        k, n_train, n_test = len(d), cv.sizes["n_train"].mean(), cv.sizes["n_test"].mean()
        se = np.sqrt((1 / k + n_test / n_train) * np.var(d, ddof=1))
        if se == 0:  # equal rankings in every fold (MLE and MAP's AUC can be)
            assert (row["mean_difference"], row["t"], row["p_value"]) == (0, 0, 1)
            continue
        t = d.mean() / se
        np.testing.assert_allclose([row["mean_difference"], row["se"], row["t"]], [d.mean(), se, t])
        np.testing.assert_allclose(row["p_value"], 2 * stats.t.sf(abs(t), k - 1), rtol=1e-12)
        assert row["df"] == k - 1
    assert len(cv.tests) == 4 * 3  # four metrics, three pairs


def test_corrected_t_test_of_identical_folds():
    assert corrected_t_test([0.0, 0.0, 0.0], 80, 20) == (0.0, 0.0, 0.0, 1.0)
    assert corrected_t_test([-0.5, -0.5, -0.5], 80, 20) == (-0.5, 0.0, -np.inf, 0.0)


def test_delong_per_fold_equals_delong_test(data, cv):
    _, y = data
    folds = stratified_folds(y, 5, seed=2)
    row = cv.delong[(cv.delong["fold"] == 3) & (cv.delong["estimator_b"] == "posterior")].iloc[0]
    test = folds[3][1]
    a, b = cv.results[row["estimator_a"]][3], cv.results["posterior"][3]
    X, _ = data
    expected = delong_test(y[test], a.predict_proba(X[test]), b.predict_proba(X[test]))
    np.testing.assert_allclose(row["p_value"], expected.p_value, rtol=1e-12)
    assert len(cv.delong) == 5 * 3


def test_a_scikit_learn_estimator_and_splitter_give_cross_val_score(data):
    """Equal folds (200 rows, 5 folds: no padding): the same fits as cross_val_score."""
    X, y = data[0][:200], data[1][:200]
    splitter = StratifiedKFold(5, shuffle=True, random_state=0)
    estimator = LogisticRegression(C=0.5)
    cv = blr.compare_cv({"MLE": "mle", "sklearn": estimator}, X, y, cv=splitter)
    expected = cross_val_score(estimator, X, y, cv=splitter, scoring="roc_auc")
    np.testing.assert_allclose(cv.folds.loc["sklearn", "auc"], expected, rtol=1e-12)
    assert cv.results["sklearn"] == [None] * 5
    folds = list(splitter.split(X, y))
    assert cv.sizes["n_test"].tolist() == [t.size for _, t in folds]


def test_a_formula_learns_its_encoding_on_each_fold(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    frame["g"] = np.where(X[:, 2] > 0.3, "high", "low")
    cv = blr.compare_cv(["mle"], "y ~ a + scale(b) + C(g)", data=frame, cv=4, seed=1)
    assert cv.results["MLE"][0].feature_names == ("a", "scale(b)", "C(g)[T.low]")
    for k, (train, test) in enumerate(stratified_folds(y, 4, seed=1)):
        fit = blr.fit_mle("y ~ a + scale(b) + C(g)", data=frame.iloc[train])
        np.testing.assert_allclose(cv.results["MLE"][k].params, fit.params, rtol=1e-8)
        prob = fit.predict_proba(frame.iloc[test])
        np.testing.assert_allclose(cv.folds.loc[("MLE", k), "auc"], roc_auc_score(y[test], prob))


def test_the_same_seed_gives_the_same_comparison(data, cv):
    X, y = data
    again = blr.compare_cv(["mle", "map"], X, y, cv=5, seed=2)
    columns = [c for c in cv.folds.columns if c != "fit_time"]
    pd.testing.assert_frame_equal(
        again.folds.loc[["MLE", "MAP"], columns], cv.folds.loc[["MLE", "MAP"], columns]
    )
    assert {result.seed for result in cv.results["posterior"]} == {2}


def test_reports_hold_the_tables_and_are_strict_json(cv, tmp_path):
    markdown = cv.to_markdown(figure_dir="figures")
    for heading in (
        "## Findings",
        "## Held-out metrics, mean ± se over folds",
        "## Corrected resampled t-tests across folds (Nadeau-Bengio)",
        "## DeLong's test of equal AUC in each fold",
        "![",
    ):
        assert heading in markdown
    page = cv.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert page.count("data:image/png;base64,") == 2
    payload = json.loads(cv.to_json())
    assert payload["n_splits"] == 5 and len(payload["folds"]) == 15
    assert set(payload["summary"]["posterior"]) == set(blr.report.cross_validation.CV_METRICS)
    paths = cv.save(tmp_path / "cv")
    names = {p.relative_to(tmp_path / "cv").as_posix() for p in paths}
    assert {"report.html", "folds.csv", "tests.csv", "figures/roc.png"} <= names
    folds = pd.read_csv(tmp_path / "cv" / "folds.csv", index_col=[0, 1])
    np.testing.assert_allclose(folds["auc"].to_numpy(), cv.folds["auc"].to_numpy())
    cv.save(tmp_path / "cv")  # an earlier report is replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        cv.save(tmp_path / "other")
    assert "corrected resampled t-test" in repr(cv)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cv": 1}, ValueError, "cv=1: cross-validation needs at least 2 folds"),
        (
            {"cv": 300},
            ValueError,
            r"n_splits=300 cannot be greater than the number of members in each class \(the "
            r"smaller class has \d+ rows\)",
        ),
        ({"cv": "five"}, TypeError, "cv must be a number of folds, a scikit-learn splitter"),
        (
            {"cv": [(np.arange(100), np.arange(100, 203))] * 2, "estimators": ["mle"]},
            None,
            None,
        ),
        ({"estimators": ["mle", "svm"]}, ValueError, "estimator 'svm' must be one of"),
        ({"estimators": [3.0]}, TypeError, "estimator 'float' is a float; give one of"),
        ({"estimators": []}, ValueError, "compare_cv\\(\\) needs at least one estimator"),
    ],
)
def test_bad_input_raises_a_clear_error(data, kwargs, error, message):
    X, y = data
    kwargs = {"estimators": ["mle"], **kwargs}
    if error is None:  # explicit folds are taken as given
        cv = blr.compare_cv(X=X, y=y, **kwargs)
        assert cv.sizes["n_test"].tolist() == [103, 103]
        return
    with pytest.raises(error, match=message):
        blr.compare_cv(X=X, y=y, **kwargs)


def test_folds_with_one_class_are_refused(data):
    X, y = data
    ones = np.flatnonzero(y == 1)
    folds = [(np.flatnonzero(y == 0), ones), (ones, np.flatnonzero(y == 0))]
    with pytest.raises(ValueError, match=re.escape("fold 0 of cv has a part with one class")):
        blr.compare_cv(["mle"], X, y, cv=folds)


def test_compare_cv_equals_cross_val_score_of_the_package_estimators(data):
    """The MLE's mean AUC over the same folds equals cross_val_score's (1e-6: both run the
    same fit; unequal folds are padded with rows of weight 0 in compare_cv only)."""
    from bayeslogreg.sklearn import MAPLogisticRegression, MLELogisticRegression

    X, y = data
    folds = stratified_folds(y, 5, seed=0)
    cv = blr.compare_cv(["mle"], X, y, cv=folds)
    expected = cross_val_score(MLELogisticRegression(), X, y, cv=folds, scoring="roc_auc")
    np.testing.assert_allclose(cv.summary.loc["MLE", ("auc", "mean")], expected.mean(), rtol=1e-6)
    estimator = MAPLogisticRegression(prior=blr.priors.Normal(0, 1.0))
    by_object = blr.compare_cv({"MAP": estimator}, X, y, cv=folds)
    expected = cross_val_score(estimator, X, y, cv=folds, scoring="neg_log_loss")
    np.testing.assert_allclose(by_object.folds.loc["MAP", "log_loss"], -expected, rtol=1e-6)
    assert isinstance(by_object.results["MAP"][0], blr.PointEstimate)
