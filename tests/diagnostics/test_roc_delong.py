"""DeLong intervals and tests against a brute-force O(n^2) DeLong, pROC and a bootstrap loop."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from bayeslogreg.metrics import UndefinedMetricWarning, _roc_delong, auc_ci, delong_test

ASAH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "aSAH" / "aSAH.csv"

# Fast and brute-force DeLong do the same sums in a different order on numbers in
# [0, 1]; their variances agree to ~1e-16, and 1e-10 is the precision asked of them.
DELONG_TOL = 1e-10


def tied_data(seed: int, n: int = 120, n_draws: int | None = None):
    """Labels and two correlated scores rounded to 1 decimal (many ties)."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:4] = [True, True, False, False]
    shape = (n,) if n_draws is None else (n_draws, n)
    a = np.round(rng.normal(0.9 * y, 1.0, size=shape), 1)
    b = np.round(0.6 * a + rng.normal(0.3 * y, 0.8, size=shape), 1)
    return y.astype(int), a, b


def brute_force_delong(y, *scores):
    """AUCs, their covariance matrix and the placements, from all case-control pairs."""
    y = np.asarray(y, dtype=bool)
    v10, v01 = [], []
    for score in scores:
        cases, controls = score[y], score[~y]
        psi = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    aucs = np.array([v.mean() for v in v10])
    covariance = np.atleast_2d(np.cov(v10)) / y.sum() + np.atleast_2d(np.cov(v01)) / (~y).sum()
    return aucs, covariance, v10, v01


@pytest.mark.parametrize("seed", range(4))
def test_placements_equal_the_pair_matrix(seed):
    y, a, _ = tied_data(seed)
    auc, v10, v01 = _roc_delong._delong_placements(y.astype(bool), a)
    aucs, _, (bf10,), (bf01,) = brute_force_delong(y, a)
    np.testing.assert_allclose(v10, bf10, rtol=0, atol=DELONG_TOL)
    np.testing.assert_allclose(v01, bf01, rtol=0, atol=DELONG_TOL)
    assert auc == pytest.approx(aucs[0], abs=DELONG_TOL)


@pytest.mark.parametrize("seed", range(4))
def test_delong_se_and_interval_equal_brute_force(seed):
    y, a, _ = tied_data(seed)
    aucs, covariance, _, _ = brute_force_delong(y, a)
    result = auc_ci(y, a, level=0.9)
    assert result.se**2 == pytest.approx(covariance[0, 0], abs=DELONG_TOL)
    z = stats.norm.ppf(0.95)
    assert result.lower == pytest.approx(max(aucs[0] - z * result.se, 0), abs=DELONG_TOL)
    assert result.upper == pytest.approx(min(aucs[0] + z * result.se, 1), abs=DELONG_TOL)
    assert (result.level, result.method) == (0.9, "delong")


@pytest.mark.parametrize("seed", range(4))
def test_paired_delong_test_equals_brute_force(seed):
    y, a, b = tied_data(seed)
    aucs, s, _, _ = brute_force_delong(y, a, b)
    result = delong_test(y, a, b)
    se = np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    assert (result.auc_a, result.auc_b) == pytest.approx(tuple(aucs), abs=DELONG_TOL)
    assert result.difference == pytest.approx(aucs[0] - aucs[1], abs=DELONG_TOL)
    assert result.se == pytest.approx(se, abs=DELONG_TOL)
    assert result.z == pytest.approx((aucs[0] - aucs[1]) / se, rel=1e-9)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(result.z)), rel=1e-12)
    correlation = s[0, 1] / np.sqrt(s[0, 0] * s[1, 1])
    assert result.correlation == pytest.approx(correlation, abs=DELONG_TOL)


def test_delong_test_is_antisymmetric_and_identical_scores_give_z_0():
    y, a, b = tied_data(7)
    ab, ba = delong_test(y, a, b), delong_test(y, b, a)
    assert ba.z == pytest.approx(-ab.z, rel=1e-12)
    assert ba.p_value == pytest.approx(ab.p_value, rel=1e-12)
    same = delong_test(y, a, a)
    assert (same.difference, same.se, same.z, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert same.correlation == pytest.approx(1.0, abs=1e-12)


def test_delong_2d_equals_row_by_row_and_broadcasts_1d():
    y, a, b = tied_data(3, n=80, n_draws=6)
    ci = auc_ci(y, a)
    test = delong_test(y, a, b)
    against_first = delong_test(y, a, b[0])
    for d in range(6):
        # Rows go through the same operations, so 1e-14 only absorbs summation order.
        np.testing.assert_allclose([r[d] for r in ci[:4]], auc_ci(y, a[d])[:4], atol=1e-14)
        np.testing.assert_allclose([r[d] for r in test], delong_test(y, a[d], b[d]), atol=1e-14)
        expected = delong_test(y, a[d], b[0])
        np.testing.assert_allclose([r[d] for r in against_first], expected, atol=1e-14)


def test_perfect_separation_has_zero_se_and_undefined_correlation():
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect, other = np.arange(6.0), np.array([0.1, 0.5, 0.3, 0.4, 0.9, 0.2])
    result = auc_ci(y, perfect)
    assert (result.auc, result.lower, result.upper, result.se) == (1.0, 1.0, 1.0, 0.0)
    with pytest.warns(UndefinedMetricWarning, match="correlation of the two AUCs is undefined"):
        test = delong_test(y, perfect, other)
    assert np.isnan(test.correlation) and test.se > 0


def test_reproduces_proc_on_asah():
    if not ASAH.is_file():
        pytest.skip(f"pROC's aSAH data are not at {ASAH}")
    data = pd.read_csv(ASAH)
    y = (data["outcome"] == "Poor").to_numpy()  # pROC: levels Good (control), Poor (case)
    # AUCs that pROC's own test suite expects, to the digits it stores them.
    assert auc_ci(y, data["wfns"]).auc == pytest.approx(0.823678861788618, abs=1e-15)
    assert auc_ci(y, data["s100b"]).auc == pytest.approx(0.73136856368563685, abs=1e-15)
    assert auc_ci(y, data["ndka"]).auc == pytest.approx(0.611957994579946, abs=1e-15)
    # roc(outcome, s100b): "Area under the curve: 0.7314, 95% CI: 0.6301-0.8326 (DeLong)".
    # pROC prints 4 decimals, so each must agree to half a unit in the 4th: 5e-5.
    s100b = auc_ci(y, data["s100b"], level=0.95)
    assert (s100b.auc, s100b.lower, s100b.upper) == pytest.approx(
        (0.7314, 0.6301, 0.8326), abs=5e-5
    )
    # roc.test(roc(outcome, wfns), roc(outcome, s100b)): "Z = 2.209, p-value = 0.02718",
    # AUCs 0.8237 and 0.7314; tolerances are half a unit in the last printed digit.
    test = delong_test(y, data["wfns"], data["s100b"])
    assert test.z == pytest.approx(2.209, abs=5e-4)
    assert test.p_value == pytest.approx(0.02718, abs=5e-6)
    assert (test.auc_a, test.auc_b) == pytest.approx((0.8237, 0.7314), abs=5e-5)


def bootstrap_by_loop(y, score, n_bootstrap, seed):
    """The documented scheme, one resample at a time, scored by scikit-learn."""
    case_rng, control_rng = np.random.default_rng(seed).spawn(2)
    cases, controls = score[y == 1], score[y == 0]
    take_cases = case_rng.integers(0, cases.size, size=(n_bootstrap, cases.size))
    take_controls = control_rng.integers(0, controls.size, size=(n_bootstrap, controls.size))
    labels = np.r_[np.ones(cases.size), np.zeros(controls.size)]
    return np.array(
        [
            roc_auc_score(labels, np.r_[cases[i], controls[j]])
            for i, j in zip(take_cases, take_controls, strict=True)
        ]
    )


def test_bootstrap_interval_equals_a_loop_over_resamples():
    y, a, _ = tied_data(0, n=60)
    aucs = bootstrap_by_loop(y, a, 300, seed=11)
    result = auc_ci(y, a, level=0.9, method="bootstrap", n_bootstrap=300, seed=11)
    # Percentiles of AUCs that agree to rounding (see AUC_TOL in test_roc.py).
    assert (result.lower, result.upper) == pytest.approx(
        tuple(np.quantile(aucs, [0.05, 0.95])), abs=1e-12
    )
    assert result.se == pytest.approx(aucs.std(ddof=1), abs=1e-12)
    assert result.auc == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert result.method == "bootstrap"


def test_bootstrap_is_seeded_and_chunking_does_not_change_it(monkeypatch):
    y, a, _ = tied_data(2, n=50, n_draws=3)
    reference = auc_ci(y, a, method="bootstrap", n_bootstrap=40, seed=5)
    again = auc_ci(y, a, method="bootstrap", n_bootstrap=40, seed=5)
    np.testing.assert_array_equal(np.array(again[:4]), np.array(reference[:4]))
    other_seed = auc_ci(y, a, method="bootstrap", n_bootstrap=40, seed=6)
    assert not np.array_equal(other_seed.lower, reference.lower)
    # Force several chunks of resamples and one row per pass: the rows must not change,
    # and each row of the 2-D call must equal the 1-D call on that row.
    monkeypatch.setattr(_roc_delong, "_BOOTSTRAP_CHUNK", 7 * 50)
    chunked = auc_ci(y, a, method="bootstrap", n_bootstrap=40, seed=5)
    for d in range(3):
        row = auc_ci(y, a[d], method="bootstrap", n_bootstrap=40, seed=5)
        expected = [r[d] for r in reference[:4]]
        np.testing.assert_allclose([r[d] for r in chunked[:4]], expected, rtol=0, atol=0)
        np.testing.assert_allclose(row[:4], expected, rtol=0, atol=0)


def test_bootstrap_and_delong_agree_on_asah_sized_data():
    # Different methods, same target: on 113 rows they agree to about 0.01 (pROC's
    # bootstrap interval for s100b is 0.63-0.83, like DeLong's 0.63-0.83).
    rng = np.random.default_rng(1)
    y = (np.arange(113) < 41).astype(int)
    score = np.round(rng.normal(0.9 * y, 1.0), 2)
    delong = auc_ci(y, score)
    boot = auc_ci(y, score, method="bootstrap", n_bootstrap=1000, seed=1)
    assert boot.lower == pytest.approx(delong.lower, abs=0.02)
    assert boot.upper == pytest.approx(delong.upper, abs=0.02)
    assert boot.se == pytest.approx(delong.se, rel=0.15)
