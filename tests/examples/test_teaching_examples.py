"""Run the teaching examples end to end with --small, writing into tmp_path.

--small runs NUTS with 2 short chains, so its R-hat/ESS warnings are allowed here.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")


def test_coin_maximum_is_seven_tenths_and_priors_pull_it_to_one_half(run_example, capsys):
    result = run_example("coin")
    for key in ("p_closed_form", "p_gradient_ascent", "p_mle"):
        assert result[key] == pytest.approx(0.7, abs=1e-6), key
    scales = sorted(result["p_map"], reverse=True)
    p_map = [result["p_map"][s] for s in scales]
    assert all(0.5 < p < 0.7 for p in p_map)
    assert np.all(np.diff(p_map) < 0)  # narrower prior, closer to 0.5
    low, high = result["p_posterior_interval"]
    assert low < result["p_posterior_mean"] < high
    assert "p = k / n = 0.7" in capsys.readouterr().out


def test_four_students_mle_exists_and_matches_statsmodels(run_example):
    sm = pytest.importorskip("statsmodels.api")
    result = run_example("four_students")
    assert not result["separated"] and result["mle_converged"]
    X = sm.add_constant(np.array([3.0, 2.0, 0.0, 4.0]))
    reference = sm.Logit(np.array([0, 1, 0, 1]), X).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(result["mle"], reference.params, atol=1e-6)
    np.testing.assert_allclose(result["mle_stderr"], reference.bse, rtol=1e-6)
    assert result["mle_log_likelihood"] == pytest.approx(reference.llf, abs=1e-6)


def test_effort_gradient_guesses_and_recovery(run_example):
    # With 1000 actors the MLE lies 1.7 standard errors from the true intercept (-4.51 vs
    # -5, se 0.28): the truth sits near the edge of a 95% interval, where Monte Carlo
    # error of short chains decides. A 99% interval (about mean +- 2.6 sd) contains it
    # with a margin of ~0.8 sd.
    result = run_example("effort", "--level", "0.99")
    assert result["max_gradient_difference"] < 1e-10
    loglik = result["guess_log_likelihood"]
    assert result["better_guess"] == max(loglik, key=loglik.get) == "guess B"
    assert result["true_inside_interval"]
    assert (result["report"] / "report.html").stat().st_size > 10_000
