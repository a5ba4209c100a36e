"""Arguments are checked before any work starts, with a message that names them (15.12)."""

import os
import time

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg.cli import main
from bayeslogreg.datasets import Dataset, simulate
from bayeslogreg.report.render import csv_text, md_escape
from bayeslogreg.report.workflow import compare_estimators

DATA = simulate(200, [1.0, -0.5], intercept=0.2, seed=3)
SEED_MESSAGE = "seed must be an integer from 0 to 9223372036854775807"


@pytest.mark.parametrize("seed", [2**64, 2**63, -1, "1", 1.5, True, None])
@pytest.mark.parametrize(
    "call",
    [
        lambda seed: blr.fit_mle(DATA.X, DATA.y, solver="sgd", seed=seed),
        lambda seed: blr.fit_map(DATA.X, DATA.y, seed=seed),
        lambda seed: blr.sample_posterior(DATA.X, DATA.y, seed=seed),
        lambda seed: blr.fit_streaming(DATA.X, DATA.y, seed=seed, progress=False),
        lambda seed: simulate(10, [1.0], seed=seed),
        lambda seed: blr.metrics.auc_ci(DATA.y, DATA.X[:, 0], method="bootstrap", seed=seed),
    ],
    ids=["fit_mle", "fit_map", "sample_posterior", "fit_streaming", "simulate", "auc_ci"],
)
def test_a_bad_seed_is_refused_before_any_work(call, seed):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=SEED_MESSAGE):
        call(seed)
    assert time.perf_counter() - start < 60  # not after a fit: nothing compiles


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_the_largest_seed_works():
    fit = blr.fit_mle(DATA.X, DATA.y, solver=blr.solvers.SGD(epochs=2), seed=2**63 - 1)
    assert np.isfinite(fit.params).all()


@pytest.mark.parametrize("n_rows", [10, 1000, 2**19 + 10])
def test_an_intercept_only_model_of_any_size_is_the_log_odds_of_the_mean(n_rows):
    # X with no columns used to fail inside the separation check (a NumPy reshape error)
    # once there were more rows than it folds at a time.
    y = (np.arange(n_rows) % 10 < 7).astype(float)
    fit = blr.fit_mle(np.empty((n_rows, 0)), y)
    assert fit.intercept == pytest.approx(np.log(y.mean() / (1 - y.mean())), rel=1e-9)
    streamed = blr.fit_streaming(np.empty((n_rows, 0)), y, progress=False)
    assert streamed.intercept == pytest.approx(fit.intercept, rel=1e-5)


def test_a_pyarrow_table_is_taken_by_its_columns():
    pa = pytest.importorskip("pyarrow")
    frame = pd.DataFrame(DATA.X, columns=["a", "b"])
    from_table = blr.fit_mle(pa.Table.from_pandas(frame), DATA.y)
    from_frame = blr.fit_mle(frame, DATA.y)
    np.testing.assert_array_equal(from_table.params, from_frame.params)
    assert from_table.feature_names == ("a", "b")
    table = pa.Table.from_pandas(frame[["b", "a"]])
    # Reordered columns are a non-contiguous copy: products may round differently.
    np.testing.assert_allclose(
        from_frame.predict_proba(table), from_frame.predict_proba(frame), rtol=1e-12
    )


def test_a_polars_frame_is_taken_by_its_columns():
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame(DATA.X, columns=["a", "b"])
    from_polars = blr.fit_mle(pl.from_pandas(frame), pl.Series("y", DATA.y))
    from_frame = blr.fit_mle(frame, DATA.y)
    np.testing.assert_array_equal(from_polars.params, from_frame.params)
    assert from_polars.feature_names == ("a", "b")
    np.testing.assert_allclose(
        from_frame.predict_proba(pl.from_pandas(frame[["b", "a"]])),
        from_frame.predict_proba(frame),
        rtol=1e-12,
    )


def test_compare_checks_its_title_and_names_first():
    fit = blr.fit_mle(DATA.X, DATA.y)
    with pytest.raises(ValueError, match="title must be a string; got int 2024"):
        blr.compare(fit, DATA.X, DATA.y, title=2024)
    with pytest.raises(ValueError, match=r"estimate names \[1, '1'\] are the same once written"):
        blr.compare({1: fit, "1": fit}, DATA.X, DATA.y)


def test_a_split_without_positives_in_the_test_part_is_refused_before_fitting():
    y = np.zeros(40, dtype=int)
    y[0] = 1
    data = Dataset(np.random.default_rng(0).normal(size=(40, 1)), y, ("x",))
    with pytest.raises(ValueError, match="the test part of the split needs both 0s and 1s"):
        compare_estimators(data, estimators=("mle",))


def test_the_cli_refuses_an_out_that_is_a_file_before_fitting(tmp_path, capsys):
    data = tmp_path / "data.csv"
    frame = pd.DataFrame({"x": DATA.X[:, 0], "y": DATA.y})
    frame.to_csv(data, index=False)
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert main(["compare", str(data), "--target", "y", "--out", str(taken)]) == 2
    assert "is a file; give a folder for the report" in capsys.readouterr().err
    assert main(["fit", str(data), "--target", "y", "--out", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err


def test_the_cli_refuses_an_out_it_cannot_write(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data.csv"
    pd.DataFrame({"x": DATA.X[:, 0], "y": DATA.y}).to_csv(data, index=False)
    # Permission bits do not bind root (CI runs as root): answer as a read-only folder.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert main(["compare", str(data), "--target", "y", "--out", str(tmp_path / "r")]) == 2
    assert "cannot write in" in capsys.readouterr().err


def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    table = pd.DataFrame(
        {"value": [-1.5, 2.0], "note": ["=HYPERLINK(1)", "fine"]},
        index=pd.Index(["+cmd", "@sum"], name="parameter"),
    )
    text = csv_text(table)
    assert "'=HYPERLINK(1)" in text and "'+cmd" in text and "'@sum" in text
    assert ",-1.5," in text  # numbers stay numbers


def test_a_name_with_a_line_break_stays_in_its_markdown_row():
    assert "\n" not in md_escape("first\nsecond|third")
    assert md_escape("a|b") == "a\\|b"
