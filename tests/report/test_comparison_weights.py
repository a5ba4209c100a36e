"""compare() and ``bayeslogreg compare`` with weights and offsets of the held-out rows.

References: the comparison of the repeated rows (integer weights: every metric, the
DeLong tests, the per-draw metrics and ROC band of a short posterior), scikit-learn's
metrics with ``sample_weight`` of ``predict_proba(X_test, offset=...)``, and the
bayeslogreg.metrics functions of those predictions. Tolerance 1e-12: the same sums
taken in another order (weighted sums against repeated rows, NumPy against
scikit-learn); nothing is approximated. The posteriors are short chains, for speed: what
is checked is the plumbing of weights and offsets, so their ConvergenceWarning (an R-hat
of 1.02, say) is ignored.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, confusion_matrix, log_loss, roc_auc_score

import bayeslogreg as blr
from bayeslogreg.cli import main
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.exceptions import ConvergenceWarning
from bayeslogreg.metrics import auc_ci, delong_test
from bayeslogreg.report.workflow import compare_estimators

TOL = 1e-12
SHORT_CHAIN = {"num_chains": 2, "num_warmup": 150, "num_samples": 150, "seed": 1}


@pytest.fixture(scope="module")
def fitted():
    """MLE, MAP and a short posterior on 150 rows; 60 held-out rows, weights 0 to 3."""
    data = simulate(210, [1.0, -0.6], intercept=-0.3, seed=5)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, test_size=60 / 210)
    rng = np.random.default_rng(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        posterior = blr.sample_posterior(X_train, y_train, **SHORT_CHAIN)
    fits = {"MLE": blr.fit_mle(X_train, y_train), "MAP": blr.fit_map(X_train, y_train)}
    fits["posterior"] = posterior
    weight, offset = rng.integers(0, 4, len(y_test)), rng.normal(0.0, 0.5, len(y_test))
    return {"fits": fits, "X": X_test, "y": y_test, "weight": weight, "offset": offset}


@pytest.fixture(scope="module")
def weighted(fitted):
    return blr.compare(
        fitted["fits"],
        fitted["X"],
        fitted["y"],
        sample_weight=fitted["weight"],
        offset=fitted["offset"],
    )


def test_integer_weights_give_the_comparison_of_the_repeated_rows(fitted, weighted):
    weight = fitted["weight"]
    repeated = blr.compare(
        fitted["fits"],
        np.repeat(fitted["X"], weight, axis=0),
        np.repeat(fitted["y"], weight),
        offset=np.repeat(fitted["offset"], weight),
    )
    numbers = weighted.metrics.drop(columns="converged").to_numpy(float)
    expected = repeated.metrics.drop(columns="converged").to_numpy(float)
    np.testing.assert_allclose(numbers, expected, rtol=0, atol=TOL, equal_nan=True)
    tests = weighted.tests.select_dtypes("number").to_numpy()
    reference = repeated.tests.select_dtypes("number").to_numpy()
    # z divides an AUC difference of ~5e-4 by its standard error: the rounding of the
    # two sums (1e-16) grows to ~1e-12 in z (measured 1.5e-12), so z is compared
    # relatively.
    np.testing.assert_allclose(tests, reference, rtol=1e-10, atol=TOL)
    np.testing.assert_allclose(
        weighted.posterior_metrics(), repeated.posterior_metrics(), rtol=0, atol=TOL
    )
    band, repeated_band = weighted._scores["posterior"].band, repeated._scores["posterior"].band
    for ours, theirs in zip(band[:4], repeated_band[:4], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
    # What the ROC and calibration figures draw.
    for curves, repeated_curves in zip(weighted._curves(), repeated._curves(), strict=True):
        for name, curve in curves.items():
            for ours, theirs in zip(curve[:7], repeated_curves[name][:7], strict=True):
                np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
    predictions = weighted.predictions()
    np.testing.assert_array_equal(
        predictions.drop(columns=["sample_weight", "offset"]).to_numpy().repeat(weight, axis=0),
        repeated.predictions().drop(columns="offset").to_numpy(),
    )


def test_weighted_metrics_equal_scikit_learns_on_predictions_with_the_offset(fitted, weighted):
    X, y, weight, offset = fitted["X"], fitted["y"], fitted["weight"], fitted["offset"]
    table = weighted.metrics
    for name, fit in fitted["fits"].items():
        prob = fit.predict_proba(X, offset=offset)
        np.testing.assert_array_equal(weighted.predictions()[name], prob)
        row = table.loc[name]
        assert row["auc"] == pytest.approx(roc_auc_score(y, prob, sample_weight=weight), abs=TOL)
        assert row["log_loss"] == pytest.approx(log_loss(y, prob, sample_weight=weight), abs=TOL)
        brier = brier_score_loss(y, prob, sample_weight=weight)
        assert row["brier"] == pytest.approx(brier, abs=TOL)
        (tn, fp), (fn, tp) = confusion_matrix(y, prob > 0.5, sample_weight=weight)
        assert row["accuracy"] == pytest.approx((tp + tn) / weight.sum(), abs=TOL)
        assert row["precision"] == pytest.approx(tp / (tp + fp), abs=TOL)
        assert row["recall"] == pytest.approx(tp / (tp + fn), abs=TOL)
        assert row["specificity"] == pytest.approx(tn / (tn + fp), abs=TOL)
        interval = auc_ci(y, prob, sample_weight=weight)
        assert (row["auc_lower"], row["auc_upper"]) == (interval.lower, interval.upper)
    mle, map_fit = (fitted["fits"][n].predict_proba(X, offset=offset) for n in ("MLE", "MAP"))
    test = delong_test(y, mle, map_fit, sample_weight=weight)
    assert weighted.tests.loc[0, "p_value"] == test.p_value


def test_the_report_says_the_metrics_are_weighted_and_an_offset_was_applied(fitted, weighted):
    total = int(fitted["weight"].sum())
    assert weighted.n_test == len(fitted["y"]) and weighted.total_weight == total
    for text in (repr(weighted), weighted.to_markdown()):
        assert f"total weight {total}" in text and "offset added to the log-odds" in text
    record = json.loads(weighted.to_json())
    assert (record["n_test"], record["total_weight"], record["has_offset"]) == (60, total, True)
    plain = blr.compare(fitted["fits"]["MLE"], fitted["X"], fitted["y"])
    assert "total weight" not in repr(plain) and plain.to_dict()["total_weight"] is None
    assert list(plain.predictions().columns) == ["MLE"]


def test_weights_that_are_not_whole_numbers_are_refused_as_the_auc_interval_refuses(fitted):
    weight = fitted["weight"] + 0.5
    with pytest.raises(ValueError, match=r"compare \(its AUC intervals and DeLong tests\) needs "):
        blr.compare(fitted["fits"]["MLE"], fitted["X"], fitted["y"], sample_weight=weight)


def test_weights_leaving_one_class_or_of_a_bad_shape_are_refused(fitted):
    mle, X, y = fitted["fits"]["MLE"], fitted["X"], fitted["y"]
    with pytest.raises(ValueError, match=r"only class 0 among the rows of positive sample_weight"):
        blr.compare(mle, X, y, sample_weight=(y == 0).astype(int))
    with pytest.raises(ValueError, match=r"offset must be 1-D with one entry per row \(60 rows\)"):
        blr.compare(mle, X, y, offset=np.zeros(3))
    with pytest.raises(ValueError, match=r"sample_weight='w' names a column, which needs fits"):
        blr.compare(mle, X, y, sample_weight="w")


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "g": rng.choice(["a", "b"], 160),
            "x": rng.normal(size=160),
            "w": rng.integers(0, 4, 160),
            "o": rng.normal(0.0, 0.4, 160),
        }
    )
    eta = 0.4 * frame.x - 0.5 * (frame.g == "b") + frame.o
    frame["y"] = (rng.random(160) < 1 / (1 + np.exp(-eta))).astype(int)
    return frame


def test_columns_of_the_held_out_frame_can_be_named(table):
    train, test = table.iloc[:100], table.iloc[100:]
    rows = {"sample_weight": "w", "offset": "o"}
    fits = [blr.fit_mle("y ~ g + x", data=train, **rows), blr.fit_map("y ~ g + x", data=train)]
    named = blr.compare(fits, data=test, **rows)
    arrays = blr.compare(fits, data=test, sample_weight=test.w.to_numpy(), offset=test.o.values)
    pd.testing.assert_frame_equal(named.metrics, arrays.metrics)
    pd.testing.assert_frame_equal(named.tests, arrays.tests)
    from_x = blr.compare(fits, test, test.y, **rows)
    pd.testing.assert_frame_equal(from_x.metrics, arrays.metrics)
    with pytest.raises(ValueError, match=r"offset='exposure' names a column, which needs fits"):
        blr.compare(fits, data=test, offset="exposure")


def test_held_out_counts_of_a_fit_of_counts_are_refused_with_a_clear_message(table):
    counts = table.assign(k=table.w, n=3)
    fit = blr.fit_mle("k ~ g + x", data=counts, trials="n")
    with pytest.raises(ValueError, match=r"fitted with trials= \(binomial counts\), but compare"):
        blr.compare(fit, data=counts)
    with pytest.raises(ValueError, match=r"y_test holds counts \(values \[0, 1, 2, 3\]\)"):
        blr.compare(fit, counts, counts.k)
    # Rows of 0/1 labels are scored as usual.
    assert blr.compare(fit, counts, counts.y).n_test == len(counts)


@pytest.mark.filterwarnings("ignore::bayeslogreg.exceptions.ConvergenceWarning")
def test_the_command_line_compares_with_weights_and_offsets_named_as_columns(
    table, tmp_path, capsys
):
    data, out = tmp_path / "table.csv", tmp_path / "report"
    table.to_csv(data, index=False)
    chain = ["--num-chains", "2", "--num-warmup", "150", "--num-samples", "150"]
    argv = ["compare", str(data), "--formula", "y ~ g + x", "--weights", "w", "--offset", "o"]
    assert main([*argv, *chain, "--out", str(out)]) == 0
    assert "total weight" in capsys.readouterr().out
    _, test, _, y_test = train_test_split(table, table.y.to_numpy(), seed=0)
    predictions = pd.read_csv(out / "predictions.csv", index_col=0)
    np.testing.assert_array_equal(predictions["sample_weight"], test.w)
    np.testing.assert_array_equal(predictions["offset"], test.o)
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    for name in ("MLE", "MAP", "posterior"):
        auc = roc_auc_score(y_test, predictions[name], sample_weight=test.w)
        assert metrics.loc[name, "auc"] == pytest.approx(auc, abs=TOL)
    record = json.loads((out / "comparison.json").read_text())
    assert record["total_weight"] == test.w.sum() and record["has_offset"] is True


def test_the_command_line_refuses_weights_and_offsets_without_a_formula(table, tmp_path, capsys):
    data = tmp_path / "table.csv"
    table.to_csv(data, index=False)
    argv = ["compare", str(data), "--target", "y", "--weights", "w", "--offset", "o"]
    assert main([*argv, "--out", str(tmp_path / "report")]) == 2
    assert "--weights, --offset name columns of the data frame of a --formula" in (
        capsys.readouterr().err
    )


def test_compare_estimators_refuses_columns_without_a_formula():
    data = simulate(40, [1.0], seed=0)
    with pytest.raises(ValueError, match=r"sample_weight='w' name columns of a formula's data"):
        compare_estimators(data, sample_weight="w")
