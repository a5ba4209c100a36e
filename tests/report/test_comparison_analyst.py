"""compare()'s odds ratios, average marginal effects and MLE fit statistics: the results'
own numbers, on the rows the report names, in every report format."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.exceptions import ConvergenceWarning


@pytest.fixture(scope="module")
def fitted():
    """Two features (one 0/1), MLE, MAP and a short posterior, and a held-out part."""
    data = simulate(300, [0.8, -0.5], intercept=-0.2, seed=7)
    X = data.X.copy()
    X[:, 1] = (X[:, 1] > 0).astype(float)
    X_train, X_test, y_train, y_test = train_test_split(X, data.y, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 x 200 draws: low ESS
        posterior = blr.sample_posterior(
            X_train, y_train, num_chains=2, num_warmup=200, num_samples=200, seed=3
        )
    fits = {
        "MLE": blr.fit_mle(X_train, y_train),
        "MAP": blr.fit_map(X_train, y_train),
        "posterior": posterior,
    }
    return fits, (X_train, y_train), (X_test, y_test)


def test_tables_are_each_results_own_on_the_named_rows(fitted):
    fits, train, test = fitted
    held_out = blr.compare(fits, *test)
    with_train = blr.compare(fits, *test, train=train)
    assert held_out.marginal_effects_rows == "test"
    assert with_train.marginal_effects_rows == "training"
    for name, fit in fits.items():
        ratios = fit.odds_ratios(held_out.level)
        np.testing.assert_array_equal(held_out.odds_ratios()[name]["estimate"], ratios["estimate"])
        np.testing.assert_array_equal(held_out.odds_ratios()[name]["upper"], ratios["ci_upper"])
        for comparison, (X, _) in ((held_out, test), (with_train, train)):
            effects = fit.marginal_effects(X)
            table = comparison.marginal_effects()[name]
            np.testing.assert_array_equal(table["estimate"], effects["estimate"])
            np.testing.assert_array_equal(table["lower"], effects["ci_lower"])
    statistics = held_out.fit_statistics()
    assert list(statistics.index) == ["MLE"]
    assert statistics.loc["MLE", "llr_pvalue"] == fits["MLE"].llr_pvalue
    assert statistics.loc["MLE", "bic"] == fits["MLE"].bic


def test_every_report_shows_the_new_sections(fitted):
    fits, train, test = fitted
    comparison = blr.compare(fits, *test, train=train)
    headings = ("Odds ratios", "Average marginal effects dP/dx on the training rows", "LLR p-value")
    for text in (repr(comparison), comparison.to_markdown(), comparison.to_html()):
        for heading in headings:
            assert heading in text
    without_mle = blr.compare({"MAP": fits["MAP"]}, *test)
    assert len(without_mle.fit_statistics()) == 0 and "LLR p-value" not in repr(without_mle)


def test_saved_reports_and_json_hold_the_new_tables(fitted, tmp_path):
    fits, train, test = fitted
    comparison = blr.compare(fits, *test)
    comparison.save(tmp_path / "report")
    ratios = pd.read_csv(tmp_path / "report" / "odds_ratios.csv", header=[0, 1], index_col=0)
    np.testing.assert_allclose(ratios.to_numpy(), comparison.odds_ratios().to_numpy(), rtol=1e-15)
    effects = pd.read_csv(tmp_path / "report" / "marginal_effects.csv", header=[0, 1], index_col=0)
    np.testing.assert_allclose(effects.to_numpy(), comparison.marginal_effects().to_numpy())
    statistics = pd.read_csv(tmp_path / "report" / "fit_statistics.csv", index_col=0)
    assert statistics.loc["MLE", "llr"] == pytest.approx(fits["MLE"].llr, rel=1e-15)
    document = json.loads(comparison.to_json())
    assert document["marginal_effects_rows"] == "test"
    assert (
        document["odds_ratios"]["MAP"]["estimate"]["x1"]
        == fits["MAP"].odds_ratios()["estimate"]["x1"]
    )
    assert document["fit_statistics"][0]["bic"] == fits["MLE"].bic
    comparison.save(tmp_path / "report")  # an earlier report, new files included, is replaced
