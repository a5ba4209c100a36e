"""compare(): the distance of every estimate to the NUTS posterior, checked by hand."""

import json

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg import priors
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.samplers import IMH


def _split():
    data = simulate(300, [0.8, -0.5], intercept=0.3, seed=11)
    return train_test_split(data.X, data.y, seed=1)


@pytest.fixture(scope="module")
def fits():
    X_train, X_test, y_train, y_test = _split()
    prior, intercept_prior = priors.Normal(0, 1.0), priors.Normal(0, 2.5)
    same = {"prior": prior, "intercept_prior": intercept_prior}
    short = {"num_chains": 2, "num_warmup": 500, "num_samples": 1000, "seed": 4}
    estimates = {
        "MLE": blr.fit_mle(X_train, y_train),
        "MAP": blr.fit_map(X_train, y_train, **same),
        "IMH": blr.sample_posterior(X_train, y_train, sampler=IMH(), **same, **short),
        "NUTS": blr.sample_posterior(X_train, y_train, **same, **short),
        "MAP wide": blr.fit_map(X_train, y_train, prior=priors.Normal(0, 5.0)),
    }
    return estimates, (X_test, y_test)


@pytest.fixture(scope="module")
def comparison(fits):
    estimates, (X_test, y_test) = fits
    return blr.compare(estimates, X_test, y_test)


def test_each_row_is_the_distance_to_the_nuts_posterior_in_its_sds(fits, comparison):
    estimates, _ = fits
    nuts = estimates["NUTS"]
    table = comparison.approximations
    assert list(table.index) == ["MLE", "MAP", "IMH", "MAP wide"]
    for name, row in table.iterrows():
        est = estimates[name]
        shift = np.abs(est.params - nuts.params) / nuts.stderr
        ratio = est.stderr / nuts.stderr
        np.testing.assert_allclose(row["max_abs_shift_sd"], shift.max(), rtol=1e-12)
        assert row["worst_parameter"] == nuts.param_names[int(np.argmax(shift))]
        np.testing.assert_allclose(
            [row["sd_ratio_min"], row["sd_ratio_max"]], [ratio.min(), ratio.max()]
        )
        np.testing.assert_allclose(row["time_ratio"], est.fit_time / nuts.fit_time, rtol=1e-12)
    assert table["method"].to_dict() == {
        "MLE": "Wald at the MLE",
        "MAP": "Laplace at the MAP",
        "IMH": "IMH draws",
        "MAP wide": "Laplace at the MAP",
    }
    # Only fits of the same priors on the same data approximate the NUTS posterior.
    assert table["same_model"].to_dict() == {
        "MLE": False,
        "MAP": True,
        "IMH": True,
        "MAP wide": False,
    }


def test_the_coefficient_shifts_are_measured_against_nuts_not_the_first_posterior(fits, comparison):
    estimates, _ = fits
    nuts, imh = estimates["NUTS"], estimates["IMH"]
    shift = (imh.params - nuts.params) / nuts.stderr
    np.testing.assert_allclose(comparison.coefficients["IMH"]["shift_sd"], shift, rtol=1e-12)
    assert "shift_sd" not in comparison.coefficients["NUTS"]


def test_the_report_shows_the_table_and_a_finding_per_approximation(comparison, tmp_path):
    lines = [line for line in comparison.findings() if "against NUTS" in line]
    assert [line.split(" (")[0] for line in lines] == ["MAP", "IMH"]
    markdown = comparison.to_markdown()
    assert "## Distance to the NUTS posterior (in its posterior sd)" in markdown
    assert "Distance to the NUTS posterior" in comparison.to_html()
    assert "Distance to the NUTS posterior" in repr(comparison)
    records = json.loads(comparison.to_json())["approximations"]
    assert [r["estimator"] for r in records] == ["MLE", "MAP", "IMH", "MAP wide"]
    paths = comparison.save(tmp_path / "report")
    assert tmp_path / "report" / "approximations.csv" in paths


def test_without_a_nuts_posterior_there_is_no_table(fits):
    estimates, (X_test, y_test) = fits
    comparison = blr.compare({n: estimates[n] for n in ("MLE", "MAP", "IMH")}, X_test, y_test)
    assert comparison.approximations.empty
    assert list(comparison.approximations.columns)[:2] == ["method", "same_model"]
    assert "Distance to the NUTS posterior" not in comparison.to_markdown()
    assert json.loads(comparison.to_json())["approximations"] == []


def test_a_firth_fit_is_named_and_its_interval_is_logistfs(shared_data):
    frame = pd.read_csv(shared_data / "firth" / "endometrial.csv")
    X, y = frame[["NV", "PI", "EH"]], frame["HG"]
    firth = blr.fit_map(X, y, prior=priors.Jeffreys())
    comparison = blr.compare([blr.fit_map(X, y), firth], X, y, train=(X, y))
    assert comparison.names == ("MAP", "Firth")
    assert comparison.interval_kinds["Firth"] == "Wald (Firth)"
    np.testing.assert_array_equal(comparison.coefficients["Firth"]["sd"], firth.stderr)
    assert "Jeffreys()" in comparison.descriptions["Firth"]
    assert "surface" not in comparison.figure_names()  # three features: no surface anyway


def test_workflow_fits_firth_as_map_under_the_jeffreys_prior(shared_data):
    from bayeslogreg.report.workflow import fit_one

    frame = pd.read_csv(shared_data / "firth" / "sex2.csv")
    X, y = frame.drop(columns="case"), frame["case"]
    given = {"prior": priors.Normal(0, 1), "intercept_prior": priors.Normal(0, 5)}
    fit = fit_one("firth", X, y, feature_names=None, **given)  # MAP's priors do not apply
    expected = blr.fit_map(X, y, prior=priors.Jeffreys())
    np.testing.assert_allclose(fit.params, expected.params, rtol=1e-12)


def test_variational_fits_are_approximations_without_chains(fits):
    estimates, (X_test, y_test) = fits
    nuts = estimates["NUTS"]
    X_train, _, y_train, _ = _split()
    same = {"prior": priors.Normal(0, 1.0), "intercept_prior": priors.Normal(0, 2.5)}
    vi = blr.fit_vi(X_train, y_train, method="fullrank", num_draws=1000, seed=1, **same)
    comparison = blr.compare({"VI": vi, "NUTS": nuts}, X_test, y_test)
    row = comparison.approximations.loc["VI"]
    assert row["method"] == "ADVI (full-rank) draws" and row["same_model"]
    assert row["max_abs_shift_sd"] < 0.2 and 0.8 < row["sd_ratio_min"] <= row["sd_ratio_max"] < 1.2
    assert comparison.metrics.loc["VI", "converged"] == (vi.pareto_k <= 0.7)
    assert "trace VI" not in comparison.figure_names() and "trace NUTS" in comparison.figure_names()
    assert comparison.descriptions["VI"].startswith("variational approximation (ADVI (full-rank)")
