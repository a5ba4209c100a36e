import subprocess
import sys

import pandas as pd
import pytest

from bayeslogreg.cli import main

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
