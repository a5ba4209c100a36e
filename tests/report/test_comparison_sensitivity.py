"""The report's power-scaling section: each posterior's sensitivities and diagnosis
beside the point estimates' shifts, and a finding for every flagged coefficient."""

import json

import numpy as np
import pytest

import bayeslogreg as blr
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.priors import Normal
from bayeslogreg.report.render import SENSITIVITY_HEADING

SHORT = {"num_chains": 2, "num_warmup": 300, "num_samples": 400}


@pytest.fixture(scope="module")
def fitted():
    """x2's true coefficient is 0; the posterior puts Normal(5, 0.1) on it."""
    data = simulate(400, [0.8, 0.0], intercept=0.2, seed=11)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, seed=0)
    prior = Normal([0.0, 5.0], [2.5, 0.1])
    fits = {
        "MLE": blr.fit_mle(X_train, y_train),
        "MAP": blr.fit_map(X_train, y_train, prior=prior),
        "posterior": blr.sample_posterior(X_train, y_train, prior=prior, seed=11, **SHORT),
        "lean": blr.sample_posterior(
            X_train, y_train, prior=prior, store_log_likelihood=False, seed=11, **SHORT
        ),
    }
    return fits, blr.compare(fits, X_test, y_test)


def test_the_table_holds_each_posteriors_own_sensitivities(fitted):
    fits, comparison = fitted
    table = comparison.prior_sensitivity()
    # The posterior without stored log-likelihoods cannot be power-scaled: left out.
    assert list(table.columns.unique(level=0)) == ["posterior"]
    expected = fits["posterior"].prior_sensitivity()
    np.testing.assert_array_equal(table["posterior"]["prior"], expected["prior"])
    np.testing.assert_array_equal(table["posterior"]["likelihood"], expected["likelihood"])
    assert table.loc["x2", ("posterior", "diagnosis")] == "prior-data conflict"


def test_markdown_and_html_show_the_section_beside_the_shifts(fitted):
    _, comparison = fitted
    markdown = comparison.to_markdown()
    section = markdown.split(f"## {SENSITIVITY_HEADING}")[1].split("\n## ")[0]
    assert "posterior prior" in section and "posterior likelihood" in section
    assert "prior-data conflict" in section
    assert "MLE shift (post. sd)" in section and "MAP shift (post. sd)" in section
    assert "lean prior" not in section
    assert SENSITIVITY_HEADING in comparison.to_html()


def test_a_flagged_coefficient_gets_a_finding(fitted):
    _, comparison = fitted
    lines = [line for line in comparison.findings() if "power-scaling" in line]
    assert lines and lines[0].startswith("posterior: power-scaling finds prior-data conflict")
    assert "x2 (prior" in lines[0]


def test_json_holds_the_sensitivities(fitted):
    _, comparison = fitted
    document = json.loads(comparison.to_json())
    entry = document["prior_sensitivity"]["posterior"]
    assert entry["diagnosis"]["x2"] == "prior-data conflict"
    assert set(entry) == {"prior", "likelihood", "diagnosis"}


def test_without_a_posterior_that_can_be_power_scaled_the_section_is_left_out(fitted):
    fits, _ = fitted
    data = simulate(100, [0.8, 0.0], intercept=0.2, seed=12)
    comparison = blr.compare({"MLE": fits["MLE"], "lean": fits["lean"]}, data.X, data.y)
    assert comparison.prior_sensitivity().empty
    assert SENSITIVITY_HEADING not in comparison.to_markdown()
    assert not any("power-scaling" in line for line in comparison.findings())
