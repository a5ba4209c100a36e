"""Run the applied examples end to end with --small, writing into tmp_path."""

import numpy as np
import pytest


def test_tumour_threshold(run_example, capsys):
    pytest.importorskip("sklearn")
    from sklearn.metrics import roc_auc_score

    result = run_example("tumour_threshold")
    high, low = result["rates_0.5"], result["rates_0.05"]
    assert low["recall"] > high["recall"]
    assert low["specificity"] < high["specificity"]
    counts = high["confusion"]
    assert sum(counts.values()) == result["y_test"].size
    # roc_auc is a Mann-Whitney count, roc_auc_score a trapezoid sum: equal to rounding.
    assert result["auc"] == pytest.approx(
        roc_auc_score(result["y_test"], result["y_prob"]), abs=1e-12
    )
    lower, upper = result["auc_ci"]
    assert lower < result["auc"] < upper <= 1.0
    # A missed cancer costs 20 follow-ups: predict malignant when p > 1 / 21.
    assert result["cost_threshold"] == pytest.approx(1 / 21)
    assert result["cost_threshold"] < 0.5
    out = capsys.readouterr().out
    assert "DeLong 95% CI" in out and "threshold p > 0.05" in out


def test_optimizers(run_example, capsys):
    methods = run_example("optimizers")["methods"]
    assert set(methods) == {"newton", "lbfgs", "gd", "sgd", "minibatch"}
    newton = methods["newton"]
    assert newton["converged"]
    for name in ("lbfgs", "gd"):
        # Full-batch methods stop at tol=1e-8 on the per-row gradient: far inside 1e-5.
        assert methods[name]["converged"]
        assert methods[name]["distance_to_newton"] < 1e-5
        assert methods[name]["log_likelihood"] == pytest.approx(newton["log_likelihood"], abs=1e-8)
    for name in ("sgd", "minibatch"):
        # 2000 rows, 30 epochs, tol 1e-3: the stochastic error of the averaged iterate is
        # ~1e-2 per parameter (seen 0.010 and 0.013); 0.05 leaves room, a bug is far beyond.
        assert methods[name]["distance_to_newton"] < 0.05
        assert 0 <= newton["log_likelihood"] - methods[name]["log_likelihood"] < 0.2
        assert methods[name]["n_passes"] == 1 + 2 * methods[name]["n_iter"]
    assert all(m["n_passes"] >= m["n_iter"] for m in methods.values())
    assert "distance" in capsys.readouterr().out


def test_separation(run_example, capsys):
    result = run_example("separation")
    for kind in ("complete", "quasi-complete"):
        entry = result[kind]
        assert entry["kind"] == kind
        assert not entry["mle_converged"]
        for prior, params in entry["map"].items():
            assert entry["map_converged"][prior]
            assert np.all(np.isfinite(params)) and 0 < params[1] < 10
    # --small samples one posterior: the complete data under Normal(0, 2.5).
    entry = result["complete"]
    mean = entry["posterior_mean"]["Normal(0, 2.5)"]
    assert np.all(np.isfinite(mean))
    # The prior pulls the slope towards 0 but the data push it up: MAP and the posterior
    # mean are positive and moderate (seen MAP 2.64, mean 3.6 with sd 1.4).
    assert 1 < mean[1] < 8 and mean[1] > entry["map"]["Normal(0, 2.5)"][1]
    out = capsys.readouterr().out
    assert "SeparationWarning" in out and "quasi-completely separated" in out


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")  # 200 IMH/NUTS draws
def test_higgs_synthetic_file(run_example):
    result = run_example("higgs")
    assert result["converged"]
    # 20,000 synthetic rows from a known model: every MLE coefficient within 4 standard
    # errors of the truth (29 parameters: a miss beyond 4 se has probability ~0.002).
    assert result["max_z_mle"] < 4
    # Thousands of rows per parameter: the posterior mean is within half a posterior sd
    # of the MAP (Bernstein-von Mises), far tighter than any bug would give.
    shift = np.abs(result["posterior_mean"] - result["map"]) / result["posterior_sd"]
    assert shift.max() < 0.5
    assert all(0.6 < auc < 1 for auc in result["auc"].values())
    assert (result["report"] / "report.html").stat().st_size > 10_000


def test_dose_response(run_example, capsys):
    import statsmodels.api as sm

    result = run_example("dose_response")
    table, mle = result["table"], result["mle"]
    # statsmodels' GLM(Binomial) on the same counts and the same dose units.
    design = sm.add_constant((table.dose.to_numpy() - 1.8) * 10)
    counts = np.column_stack([table.killed, table.exposed - table.killed])
    reference = sm.GLM(counts, design, family=sm.families.Binomial()).fit(tol=1e-14)
    np.testing.assert_allclose(mle.params, reference.params, rtol=1e-6)
    np.testing.assert_allclose(mle.stderr, reference.bse, rtol=1e-5)
    np.testing.assert_allclose(mle.deviance, reference.deviance, rtol=1e-8)
    # Dobson & Barnett's logit fit on the raw dose: -60.72 + 34.27 dose, deviance 11.23.
    assert mle.params[1] * 10 == pytest.approx(34.27, abs=0.01)
    assert mle.params[0] - 18 * mle.params[1] == pytest.approx(-60.72, abs=0.01)
    assert mle.deviance == pytest.approx(11.23, abs=0.01)
    # 481 expanded 0/1 rows: the same likelihood up to its constant, the same estimate.
    np.testing.assert_allclose(result["expanded_mle"].params, mle.params, rtol=1e-8)
    np.testing.assert_allclose(result["expanded_mle"].stderr, mle.stderr, rtol=1e-8)
    # The prior pulls the MAP's slope towards 0; the LD50 interval holds the MLE's.
    assert 0 < result["map"].params[1] < mle.params[1]
    low, high = result["ld50_interval"]
    assert low < result["ld50_mle"] < high
    assert "residual deviance 11.23 on 6 degrees of freedom" in capsys.readouterr().out


def test_endometrial(run_example, capsys):
    result = run_example("endometrial")
    fits, nv = result["fits"], result["nv_index"]
    assert not fits["MLE"].converged and fits["Firth"].converged
    # logistf's profile interval of NV (firthlogist's tests): [0.6097244, 7.85463171].
    np.testing.assert_allclose(result["profile"][nv], [0.6097244, 7.85463171], rtol=1e-6)
    table = result["approximations"]
    assert table.loc["MAP", "same_model"] and table.loc["VI", "same_model"]
    assert not table.loc["Firth", "same_model"]  # the Jeffreys prior: another model
    # Short chains (2 x 500): full-rank ADVI lies within 0.25 NUTS sd (seen 0.08).
    assert table.loc["VI", "max_abs_shift_sd"] < 0.25
    assert "profile penalised-likelihood" in capsys.readouterr().out


def test_the_shipped_endometrial_data_equal_the_published_file(shared_data):
    import pandas as pd

    from bayeslogreg.datasets import load_endometrial

    data = load_endometrial()
    frame = pd.read_csv(shared_data / "firth" / "endometrial.csv")
    np.testing.assert_array_equal(data.X, frame[list(data.feature_names)].to_numpy())
    np.testing.assert_array_equal(data.y, frame["HG"].to_numpy())
