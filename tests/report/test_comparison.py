"""compare(): tables checked against direct computations and scikit-learn, reports escaped
and self-contained, files written atomically."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

import bayeslogreg as blr
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.diagnostics import loo
from bayeslogreg.metrics import auc_ci, delong_test, roc_auc

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def fitted():
    """One feature named like an injection attack, three estimators, a held-out part."""
    data = simulate(600, [1.2], intercept=-0.4, seed=3)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, seed=0)
    names = [EVIL]
    mle = blr.fit_mle(X_train, y_train, feature_names=names)
    map_fit = blr.fit_map(X_train, y_train, feature_names=names)
    posterior = blr.sample_posterior(
        X_train, y_train, feature_names=names, num_chains=4, num_warmup=500, num_samples=500
    )
    return {
        "fits": {"MLE": mle, "MAP": map_fit, "posterior": posterior},
        "train": (X_train, y_train),
        "test": (X_test, y_test),
    }


@pytest.fixture(scope="module")
def comparison(fitted):
    X_test, y_test = fitted["test"]
    return blr.compare(fitted["fits"], X_test, y_test, train=fitted["train"], title=f"T {EVIL}")


def test_coefficients_hold_each_estimators_interval_and_the_shift_in_posterior_sd(
    fitted, comparison
):
    mle, map_fit, posterior = fitted["fits"].values()
    table = comparison.coefficients
    assert list(table.index) == ["intercept", EVIL]
    np.testing.assert_array_equal(table["MLE"]["estimate"], mle.params)
    np.testing.assert_array_equal(table["MLE"][["lower", "upper"]].to_numpy(), mle.conf_int())
    np.testing.assert_array_equal(table["MAP"]["sd"], map_fit.stderr)
    np.testing.assert_allclose(
        table["posterior"][["lower", "upper"]].to_numpy(), posterior.conf_int(), rtol=1e-12
    )
    shift = (mle.params - posterior.params) / posterior.stderr
    np.testing.assert_allclose(table["MLE"]["shift_sd"], shift, rtol=1e-12)
    assert "shift_sd" not in table["posterior"]
    assert comparison.interval_kinds == {"MLE": "Wald", "MAP": "Laplace", "posterior": "HDI"}


def test_metrics_equal_scikit_learn_and_direct_computations(fitted, comparison):
    X_test, y_test = fitted["test"]
    m = comparison.metrics
    assert list(m.index) == ["MLE", "MAP", "posterior"]
    for name, fit in fitted["fits"].items():
        prob = fit.predict_proba(X_test)
        # Same sort-based AUC as scikit-learn up to summation order.
        assert m.loc[name, "auc"] == pytest.approx(roc_auc_score(y_test, prob), abs=1e-12)
        interval = auc_ci(y_test, prob)
        assert (m.loc[name, "auc_lower"], m.loc[name, "auc_upper"]) == (
            interval.lower,
            interval.upper,
        )
        assert m.loc[name, "log_loss"] == pytest.approx(log_loss(y_test, prob), rel=1e-10)
        assert m.loc[name, "brier"] == pytest.approx(brier_score_loss(y_test, prob), rel=1e-10)
        predicted = prob > 0.5
        accuracy = np.mean(predicted == y_test)
        assert m.loc[name, "accuracy"] == pytest.approx(accuracy, abs=1e-15)
        recall = predicted[y_test == 1].mean()
        assert m.loc[name, "recall"] == pytest.approx(recall, abs=1e-15)
        assert m.loc[name, "fit_time"] == fit.fit_time
    posterior = fitted["fits"]["posterior"]
    draws = posterior.flat_draws
    per_draw = roc_auc(y_test, 1 / (1 + np.exp(-(draws[:, :1] + draws[:, 1:] @ X_test.T))))
    expected = np.quantile(per_draw, [0.025, 0.975])
    actual = m.loc["posterior", ["auc_post_lower", "auc_post_upper"]].to_numpy(float)
    np.testing.assert_allclose(actual, expected, rtol=1e-12)
    assert np.isnan(m.loc["MLE", "auc_post_lower"])
    summary = posterior.summary()
    assert m.loc["posterior", "r_hat_max"] == summary["r_hat"].max()
    expected_rate = summary["ess_bulk"].min() / posterior.fit_time
    assert m.loc["posterior", "ess_per_second"] == pytest.approx(expected_rate)
    assert m["converged"].dtype == bool and m["converged"].all()
    elpd = loo(posterior)
    assert m.loc["posterior", "elpd_loo"] == elpd.elpd
    assert m.loc["posterior", "p_loo"] == elpd.p
    assert np.isnan(m.loc["MAP", "elpd_loo"])


def test_tests_are_the_paired_delong_tests_of_each_pair(fitted, comparison):
    X_test, y_test = fitted["test"]
    tests = comparison.tests
    pairs = list(zip(tests["estimator_a"], tests["estimator_b"], strict=True))
    assert pairs == [("MLE", "MAP"), ("MLE", "posterior"), ("MAP", "posterior")]
    fits = fitted["fits"]
    direct = delong_test(
        y_test, fits["MLE"].predict_proba(X_test), fits["MAP"].predict_proba(X_test)
    )
    assert tests.loc[0, "p_value"] == direct.p_value
    assert tests.loc[0, "difference"] == direct.difference


def test_every_figure_is_drawn(comparison):
    figures = comparison.figures()
    assert list(figures) == comparison.figure_names()
    assert set(figures) == {
        "roc",
        "forest",
        "calibration",
        "convergence",
        "surface",
        "trace",
        "rank",
        "prior",
    }
    assert all(isinstance(fig, Figure) for fig in figures.values())


def test_reports_escape_user_strings_and_are_self_contained(comparison):
    page = comparison.to_html()
    assert EVIL not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count("data:image/png;base64,") == len(comparison.figure_names())
    markdown = comparison.to_markdown()
    assert EVIL not in markdown and "&lt;script&gt;" in markdown
    assert "## Findings" in markdown and "## Coefficients" in markdown
    notebook = comparison._repr_html_()
    assert EVIL not in notebook and "&lt;script&gt;" in notebook
    assert "AUC" in repr(comparison) and "posterior" in repr(comparison)


def test_json_is_strict_and_round_trips_the_tables(comparison):
    payload = json.loads(comparison.to_json())
    assert payload["title"] == f"T {EVIL}"
    assert (
        payload["coefficients"]["MLE"]["estimate"][EVIL]
        == comparison.coefficients.loc[EVIL, ("MLE", "estimate")]
    )
    assert payload["metrics"][2]["estimator"] == "posterior"
    assert payload["metrics"][0]["auc_post_lower"] is None
    assert len(payload["tests"]) == 3
    assert payload["provenance"]["versions"]["jax"]
    assert len(payload["provenance"]["test_data_sha256"]) == 64
    assert payload["findings"] == comparison.findings()


def test_save_writes_every_file_atomically(comparison, tmp_path):
    written = comparison.save(tmp_path / "report")
    names = {p.relative_to(tmp_path / "report").as_posix() for p in written}
    assert {"report.html", "report.md", "comparison.json", "metrics.csv", "tests.csv"} <= names
    assert {"figures/roc.png", "figures/surface.png", "figures/rank.png"} <= names
    assert not list((tmp_path / "report").rglob("*.tmp"))
    for path in written:
        assert path.stat().st_size > 0
    assert (tmp_path / "report" / "figures" / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = pd.read_csv(tmp_path / "report" / "metrics.csv", index_col=0)
    np.testing.assert_allclose(metrics["auc"], comparison.metrics["auc"], rtol=1e-12)
    assert "](figures/roc.png)" in (tmp_path / "report" / "report.md").read_text()


def test_unnamed_estimates_get_names_and_a_single_point_fit_works(fitted):
    X_test, y_test = fitted["test"]
    mle, map_fit, _ = fitted["fits"].values()
    named = blr.compare([mle, map_fit, map_fit], X_test, y_test)
    assert named.names == ("MLE", "MAP", "MAP 2")
    single = blr.compare(mle, X_test, y_test)
    assert single.names == ("MLE",) and single.tests.empty
    assert "shift_sd" not in single.coefficients["MLE"]
    assert set(single.figure_names()) == {"roc", "forest", "calibration", "convergence"}
    with_surface = blr.compare(mle, X_test, y_test, train=fitted["train"])
    assert set(with_surface.figures()) == {*single.figure_names(), "surface"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f, X, y: ([], X, y), "at least one"),
        (lambda f, X, y: ([object()], X, y), "PointEstimate and Posterior"),
        (lambda f, X, y: (f, X[:, :0], y), "columns"),
        (lambda f, X, y: (f, X, np.zeros_like(y)), "only class 0"),
        (lambda f, X, y: (f, X, y[:-1]), "must match"),
    ],
)
def test_bad_input_is_refused_with_a_message(fitted, change, message):
    X_test, y_test = fitted["test"]
    args = change(fitted["fits"]["MLE"], X_test, y_test)
    with pytest.raises(ValueError, match=message):
        blr.compare(*args)


def test_estimates_of_different_models_are_refused(fitted):
    X_train, y_train = fitted["train"]
    X_test, y_test = fitted["test"]
    other = blr.fit_mle(X_train, y_train, feature_names=["other"])
    with pytest.raises(ValueError, match="different features"):
        blr.compare([fitted["fits"]["MLE"], other], X_test, y_test)
    with pytest.raises(ValueError, match="threshold"):
        blr.compare(other, X_test, y_test, threshold=2.0)


def test_unknown_names_are_refused_with_the_choices(fitted, comparison):
    from bayeslogreg.report.workflow import compare_estimators, fit_one

    with pytest.raises(ValueError, match=r"name must be one of \['posterior'\]; got 'MLE'\."):
        comparison.posterior_metrics("MLE")
    X_train, y_train = fitted["train"]
    with pytest.raises(ValueError, match=r"estimator must be one of \['firth', 'map', 'mle',"):
        fit_one("glm", X_train, y_train, feature_names=["x"], prior=None, intercept_prior=None)
    data = simulate(40, [1.0], seed=1)
    with pytest.raises(ValueError, match="every entry of estimators must be one of"):
        compare_estimators(data, estimators=("mle", "glm"))


def test_point_and_posterior_results_have_rich_displays(fitted):
    for fit in fitted["fits"].values():
        page = fit._repr_html_()
        assert "<table" in page and "&lt;script&gt;" in page and EVIL not in page


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(comparison, tmp_path):
    import subprocess

    from matplotlib.image import imread

    browser = _chromium()
    if browser is None:
        if os.environ.get("BAYESLOGREG_REQUIRE_BROWSER"):
            pytest.fail("BAYESLOGREG_REQUIRE_BROWSER is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (CI installs Debian's chromium package)")
    comparison.save(tmp_path)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            (tmp_path / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = imread(shot)
    assert pixels.shape[0] >= 800 and pixels.shape[1] >= 1100
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"


def test_large_test_sets_score_a_posterior_on_evenly_thinned_draws(fitted, monkeypatch):
    """Per-draw work (draws x rows) is capped; the predictions still use every draw."""
    from bayeslogreg.estimators._effects import row_weights
    from bayeslogreg.report import comparison as module

    X_test, y_test = fitted["test"]
    posterior = fitted["fits"]["posterior"]
    whole = blr.compare({"posterior": posterior}, X_test, y_test)
    assert whole.thinned_draws() == {}
    monkeypatch.setattr(module, "_DRAW_ROWS_BUDGET", 300 * len(y_test))
    thinned = blr.compare({"MLE": fitted["fits"]["MLE"], "posterior": posterior}, X_test, y_test)
    assert thinned.thinned_draws() == {"posterior": (300, 2000)}
    assert "from 300 of its 2,000 draws (each chain thinned evenly)" in thinned.to_markdown()
    assert len(thinned.posterior_metrics()) == 300
    pd.testing.assert_frame_equal(thinned.predictions()[["posterior"]], whole.predictions())
    # Draws 0, 6, 13, ..., 499 of each chain: the first and the last kept.
    index = np.linspace(0, 499, 75).round().astype(int)
    kept = posterior.draws[:, index].reshape(-1, 2)
    pd.testing.assert_frame_equal(
        thinned.posterior_metrics(), blr.diagnostics.predictive_metrics(kept, X_test, y_test)
    )
    effects = posterior._marginal_effects(
        X_test, None, row_weights(None, len(y_test), X_test), level=0.95, dummy=True
    )
    assert thinned.marginal_effects().equals(thinned.marginal_effects())  # cached, a copy
    thinned_effect = thinned.marginal_effects()[("posterior", "estimate")].iloc[0]
    mean_of_kept = np.mean(
        blr.estimators._effects.average_marginal_effects(
            kept, X_test, None, row_weights(None, len(y_test), X_test), np.empty(0, int)
        )[:, 0]
    )
    assert thinned_effect == pytest.approx(mean_of_kept, rel=1e-12)
    # 300 of 2000 draws: the mean effect moves by Monte Carlo error, far below its sd.
    assert abs(thinned_effect - effects["estimate"].iloc[0]) < 0.2 * effects["sd"].iloc[0]
