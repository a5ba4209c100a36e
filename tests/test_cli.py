import gzip
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg.cli import main
from bayeslogreg.priors import Jeffreys, Normal

SMALL = ["--n-samples", "300", "--num-warmup", "300", "--num-samples", "400", "--num-chains", "2"]


def test_demo_prints_the_side_by_side_table_and_writes_nothing_by_default(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *SMALL]) == 0
    out = capsys.readouterr().out
    for text in [
        "MLE ± se",
        "MAP ± se",
        "posterior mean ± sd",
        "95% HDI",
        "R-hat",
        "bulk ESS",
        "guess A (-3, 1)",
        "guess B (-6, 4)",
        "test_auc",
        "intercept",
        "effort",
        "nothing was written",
    ]:
        assert text in out
    assert list(tmp_path.iterdir()) == []


def test_demo_writes_its_tables_where_it_says(capsys, tmp_path):
    out_dir = tmp_path / "report"
    assert main(["demo", *SMALL, "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {out_dir / 'demo.txt'}" in out
    parameters = pd.read_csv(out_dir / "demo_parameters.csv", index_col=0)
    assert list(parameters.index) == ["intercept", "effort"]
    assert parameters.loc["intercept", "true"] == -5 and parameters.loc["effort", "true"] == 3
    fits = pd.read_csv(out_dir / "demo_fits.csv", index_col=0)
    # The fitted estimates explain the data better than either naive guess.
    assert (
        fits.loc["MLE", "train_log_likelihood"]
        > fits.loc["guess A (-3, 1)", "train_log_likelihood"]
    )
    assert fits.loc["MLE", "train_log_likelihood"] >= fits.loc["MAP", "train_log_likelihood"]
    assert 0.5 < fits.loc["posterior mean", "test_auc"] <= 1.0
    figure = (out_dir / "demo.png").read_bytes()
    assert figure[:8] == b"\x89PNG\r\n\x1a\n" and len(figure) > 20_000
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]


def test_bad_arguments_exit_non_zero_with_a_message(capsys):
    assert main(["demo", "--n-samples", "1"]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["nonsense"])
    assert exit_info.value.code == 2


def test_module_entry_point_shows_help():
    result = subprocess.run(
        [sys.executable, "-m", "bayeslogreg", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout


FAST_NUTS = ["--num-warmup", "300", "--num-samples", "300", "--num-chains", "2"]


@pytest.fixture
def wells_subset(shared_data, tmp_path):
    """The first 600 rows of the wells data (a real public data set), as CSV."""
    frame = pd.read_csv(shared_data / "wells" / "wells.csv").head(600)
    frame["dist100"] = frame.pop("dist") / 100
    path = tmp_path / "wells.csv"
    frame.to_csv(path, index=False)
    return path


def test_compare_writes_a_report_for_a_real_data_file(wells_subset, tmp_path, capsys):
    out_dir = tmp_path / "report"
    argv = ["compare", str(wells_subset), "--target", "switched", "--out", str(out_dir)]
    assert main([*argv, "--exclude", "educ", *FAST_NUTS]) == 0
    captured = capsys.readouterr()
    assert "fitting posterior" in captured.err and "comparing on 150 held-out rows" in captured.err
    for text in [
        "Ranking and probability quality",
        "AUC",
        "MLE",
        "MAP",
        "posterior",
        "arsenic",
        "dist100",
    ]:
        assert text in captured.out or text in (out_dir / "report.md").read_text()
    assert "educ" not in (out_dir / "report.md").read_text()
    metrics = pd.read_csv(out_dir / "metrics.csv", index_col=0)
    assert list(metrics.index) == ["MLE", "MAP", "posterior"]
    assert (metrics["auc"] > 0.55).all()
    assert (out_dir / "report.html").stat().st_size > 10_000


def test_fit_prints_one_estimators_summary(wells_subset, tmp_path, capsys):
    out = tmp_path / "mle.csv"
    assert main(["fit", str(wells_subset), "--target", "switched", "--out", str(out)]) == 0
    assert "PointEstimate(MLE" in capsys.readouterr().out
    table = pd.read_csv(out, index_col=0)
    assert list(table.index) == ["intercept", "arsenic", "assoc", "educ", "dist100"]
    args = ["fit", str(wells_subset), "--target", "switched", "--estimator", "map"]
    assert main([*args, "--prior", "laplace:1", "--standardize"]) == 0
    assert "PointEstimate(MAP" in capsys.readouterr().out


def test_fit_uses_the_default_priors_unless_told_otherwise(wells_subset, tmp_path):
    data = pd.read_csv(wells_subset)
    X, y = data.drop(columns="switched"), data["switched"]
    args = ["fit", str(wells_subset), "--target", "switched", "--estimator", "map", "--out"]
    runs = {
        "default": ([], blr.fit_map(X, y)),
        "fixed": (["--no-autoscale"], blr.fit_map(X, y, autoscale=False)),
        "scaled": (
            ["--prior", "normal:1", "--autoscale"],
            blr.fit_map(X, y, prior=Normal(0, 1), autoscale=True),
        ),
    }
    for name, (options, expected) in runs.items():
        out = tmp_path / f"{name}.csv"
        assert main([*args, str(out), *options]) == 0
        table = pd.read_csv(out, index_col=0)
        np.testing.assert_allclose(table["estimate"].to_numpy(), expected.params, rtol=1e-10)


def test_fit_firth_is_map_under_the_jeffreys_prior(shared_data, tmp_path, capsys):
    path = shared_data / "firth" / "endometrial.csv"
    frame = pd.read_csv(path)
    expected = blr.fit_map(frame[["NV", "PI", "EH"]], frame["HG"], prior=Jeffreys())
    out = tmp_path / "firth.csv"
    assert (
        main(["fit", str(path), "--target", "HG", "--estimator", "firth", "--out", str(out)]) == 0
    )
    table = pd.read_csv(out, index_col=0)
    np.testing.assert_allclose(table["estimate"].to_numpy(), expected.params, rtol=1e-10)
    np.testing.assert_allclose(table["std_err"].to_numpy(), expected.stderr, rtol=1e-10)
    args = ["fit", str(path), "--target", "HG", "--estimator", "firth", "--prior", "normal:1"]
    assert main(args) == 2
    assert "--estimator firth is MAP under the Jeffreys prior" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "nope"], "no column(s) ['nope']"),
        (["--target", "educ"], "Target column 'educ': y must contain only 0 and 1"),
        (["--target", "switched", "--prior", "normal:-1"], "scale"),
        (["--target", "switched", "--prior", "gauss:1"], "Cannot read the prior"),
        (["--target", "switched", "--features", "arsenic", "switched"], "cannot also be"),
    ],
)
def test_data_errors_say_what_to_fix_and_exit_2(wells_subset, capsys, extra, message):
    assert main(["fit", str(wells_subset), *extra]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_and_text_columns_are_explained(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "absent.csv"), "--target", "y"]) == 2
    assert "No data file" in capsys.readouterr().err
    path = tmp_path / "text.csv"
    pd.DataFrame({"y": [0, 1, 0, 1], "colour": ["r", "g", "b", "r"]}).to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "y"]) == 2
    assert "['colour'] of text.csv are not numeric" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--threshold", "1.5"], "--threshold: threshold must be a number in [0, 1]; got 1.5."),
        (["--threshold", "abc"], "--threshold: must be a number; got 'abc'"),
        (["--test-size", "0"], "--test-size: test_size must be a number in (0, 1), e.g. 0.25"),
        (["--level", "95"], "--level: level must be a number in (0, 1), e.g. 0.95 for 95%"),
        (["--num-chains", "0"], "--num-chains: num_chains must be an integer >= 1; got 0."),
        (["--num-chains", "2.5"], "--num-chains: must be an integer; got '2.5'"),
        (["--num-samples", "2"], "--num-samples: num_samples=2 is too few draws per chain"),
    ],
)
def test_settings_are_checked_before_any_fitting(tmp_path, capsys, option, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(tmp_path / "never-read.csv"), "--target", "y", *option])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_empty_truncated_and_header_only_files_are_explained(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("y,a\n")
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(b"y,a\n0,1\n1,2\n" * 100)[:40])
    expected = {
        "empty.csv": "empty.csv is empty",
        "header.csv": "header.csv has column names but no data rows",
        "cut.csv.gz": "cut.csv.gz is not a readable CSV file (EOFError",
    }
    for name, message in expected.items():
        assert main(["fit", str(tmp_path / name), "--target", "y"]) == 2
        assert message in capsys.readouterr().err


def test_compare_fits_the_estimators_named(wells_subset, tmp_path, capsys):
    out_dir = tmp_path / "report"
    argv = ["compare", str(wells_subset), "--target", "switched", "--out", str(out_dir)]
    assert main([*argv, "--estimators", "map, mle"]) == 0
    assert "fitting posterior" not in capsys.readouterr().err
    metrics = pd.read_csv(out_dir / "metrics.csv", index_col=0)
    assert list(metrics.index) == ["MAP", "MLE"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mle,svm", r"unknown estimator\(s\) \['svm'\]; give a comma-separated list of mle, map"),
        ("mle,,map", r"unknown estimator\(s\) \[''\]"),
        ("mle,MLE", "an estimator is named twice in 'mle,MLE'; name each once."),
    ],
)
def test_compare_refuses_unknown_or_repeated_estimators(wells_subset, value, message, capsys):
    argv = ["compare", str(wells_subset), "--target", "switched", "--estimators", value]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_compare_cv_writes_a_cross_validated_report(wells_subset, tmp_path, capsys):
    out_dir = tmp_path / "cv"
    argv = ["compare", str(wells_subset), "--target", "switched", "--out", str(out_dir)]
    assert main([*argv, "--cv", "4", "--estimators", "mle,map"]) == 0
    assert "4 folds (seed 0): 450 training and 150 held-out rows" in capsys.readouterr().out
    folds = pd.read_csv(out_dir / "folds.csv", index_col=[0, 1])
    data = pd.read_csv(wells_subset)
    X, y = data.drop(columns="switched"), data["switched"]
    expected = blr.compare_cv({"MLE": "mle", "MAP": "map"}, X, y, cv=4)
    np.testing.assert_allclose(folds["auc"].to_numpy(), expected.folds["auc"].to_numpy())


def test_compare_cv_refuses_what_only_a_split_takes(wells_subset, capsys):
    argv = ["compare", str(wells_subset), "--target", "switched", "--cv", "3"]
    assert main([*argv, "--test-size", "0.3", "--standardize"]) == 2
    assert (
        "--cv does not take --test-size, --standardize: each fold holds out its own rows"
        in capsys.readouterr().err
    )


@pytest.mark.filterwarnings("ignore::bayeslogreg.ApproximationWarning")  # 47 separated rows
def test_compare_fits_firth_and_the_variational_estimators(shared_data, tmp_path, capsys):
    out_dir = tmp_path / "report"
    path = shared_data / "firth" / "endometrial.csv"
    argv = ["compare", str(path), "--target", "HG", "--out", str(out_dir), "--test-size", "0.4"]
    assert main([*argv, "--estimators", "map,firth,vi,pathfinder,nuts", *FAST_NUTS]) == 0
    metrics = pd.read_csv(out_dir / "metrics.csv", index_col=0)
    assert list(metrics.index) == ["MAP", "Firth", "VI", "Pathfinder", "posterior"]
    report = (out_dir / "report.md").read_text()
    assert "Wald (Firth)" in report and "Distance to the NUTS posterior" in report
    approximations = pd.read_csv(out_dir / "approximations.csv", index_col=0)
    assert approximations.loc["VI", "method"] == "ADVI (full-rank) draws"
