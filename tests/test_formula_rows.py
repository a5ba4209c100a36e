"""Formulas with weights, binomial counts and offsets named as columns of the data frame.

The reference is statsmodels' GLM(Binomial) through its own formula interface (patsy):
``smf.glm("k + failures ~ ...", family=Binomial())`` fits counts, ``freq_weights=``
frequency weights and ``offset=`` offsets, on a design built independently of
formulaic's. Tolerances: parameters 1e-6 relative and standard errors 1e-5 (issue 16's
bar; both optimizers converge far tighter, so this leaves room only for rounding).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from bayeslogreg import fit_map, fit_mle, sample_posterior
from bayeslogreg.cli import main
from bayeslogreg.samplers import IMH
from bayeslogreg.solvers import Newton

PARAMS_RTOL, STDERR_RTOL = 1e-6, 1e-5
TIGHT = Newton(tol=1e-12)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A dose-response table: text group, dose, trials n, successes k, exposure, weights."""
    rng = np.random.default_rng(4)
    rows = 60
    frame = pd.DataFrame(
        {
            "group": rng.choice(["control", "low", "high"], rows),
            "dose": rng.uniform(0.0, 3.0, rows),
            "n": rng.integers(1, 30, rows),
            "exposure": rng.uniform(0.5, 2.0, rows),
            "w": rng.integers(1, 4, rows),
        }
    )
    eta = -1.0 + 0.7 * frame.dose + 0.5 * (frame.group == "high") + np.log(frame.exposure)
    frame["k"] = rng.binomial(frame.n, 1 / (1 + np.exp(-eta)))
    frame["failures"] = frame.n - frame.k
    frame["log_exposure"] = np.log(frame.exposure)
    return frame


def _glm(table, **kwargs):
    family = sm.families.Binomial()
    model = smf.glm("k + failures ~ C(group) + dose", data=table, family=family, **kwargs)
    return model.fit(tol=1e-14)


def _assert_equal_to(fit, reference):
    assert list(fit.param_names) == ["intercept", *reference.params.index[1:]]
    np.testing.assert_allclose(fit.params, reference.params.to_numpy(), rtol=PARAMS_RTOL)
    np.testing.assert_allclose(fit.stderr, reference.bse.to_numpy(), rtol=STDERR_RTOL)


def test_counts_named_as_a_column_equal_statsmodels_glm(table):
    fit = fit_mle("k ~ C(group) + dose", data=table, trials="n", solver=TIGHT)
    reference = _glm(table)
    _assert_equal_to(fit, reference)
    np.testing.assert_allclose(fit.log_likelihood, reference.llf, rtol=1e-10)
    np.testing.assert_allclose(fit.deviance, reference.deviance, rtol=1e-8)


def test_weights_and_offsets_named_as_columns_equal_statsmodels_glm(table):
    fit = fit_mle(
        "k ~ C(group) + dose",
        data=table,
        trials="n",
        sample_weight="w",
        offset="log_exposure",
        solver=TIGHT,
    )
    reference = _glm(table, freq_weights=table.w, offset=table.log_exposure)
    _assert_equal_to(fit, reference)
    # New rows: the offset named as a column of the new frame, or given as numbers.
    new = table.iloc[:5]
    expected = reference.predict(new, offset=new.log_exposure)
    np.testing.assert_allclose(fit.predict_proba(new, offset="log_exposure"), expected, rtol=1e-8)
    np.testing.assert_allclose(fit.predict_proba(new, offset=new.log_exposure), expected, rtol=1e-8)


def test_columns_and_arrays_give_the_same_fit(table):
    by_name = fit_map("k ~ C(group) + dose", data=table, trials="n", sample_weight="w")
    by_value = fit_map(
        "k ~ C(group) + dose", data=table, trials=table.n.to_numpy(), sample_weight=table.w
    )
    np.testing.assert_array_equal(by_name.params, by_value.params)


def test_dropped_rows_leave_the_weights_of_the_rows_kept(table):
    holes = table.copy()
    holes.loc[[3, 10, 11], "dose"] = np.nan
    holes.loc[20, "n"] = np.nan  # a named column with a missing value drops its row too
    weights = np.arange(len(holes)) % 3 + 1
    with pytest.warns(UserWarning, match="left out 4 of 60 rows"):
        dropped = fit_mle(
            "k ~ C(group) + dose", data=holes, trials="n", sample_weight=weights, missing="drop"
        )
    kept = ~holes.index.isin([3, 10, 11, 20])
    complete = fit_mle(
        "k ~ C(group) + dose", data=table[kept], trials="n", sample_weight=weights[kept]
    )
    np.testing.assert_array_equal(dropped.params, complete.params)
    assert dropped.n_rows == kept.sum()


def test_a_missing_value_in_a_named_column_is_refused_by_default(table):
    holes = table.copy()
    holes.loc[5, "w"] = np.nan
    with pytest.raises(ValueError, match=r"1 of 60 rows with missing values \(in columns \['w'\]"):
        fit_mle("k ~ dose", data=holes, trials="n", sample_weight="w")


def test_a_posterior_of_counts_named_as_columns(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run: ESS warnings are not what is tested
        posterior = sample_posterior(
            "k ~ C(group) + dose",
            data=table,
            trials="n",
            sampler=IMH(),
            num_chains=2,
            num_warmup=200,
            num_samples=400,
        )
    reference = _glm(table)
    assert list(posterior.param_names) == ["intercept", *reference.params.index[1:]]
    # 2 x 400 IMH draws: the posterior mean is within a few standard errors of the MLE.
    distance = np.abs(posterior.draws.mean(axis=(0, 1)) - reference.params.to_numpy())
    assert (distance < 4 * reference.bse.to_numpy()).all(), distance


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"trials": "n"}, r"trials='n' names a column, which needs a formula"),
        ({"sample_weight": "w"}, r"sample_weight='w' names a column, which needs a formula"),
    ],
)
def test_a_column_name_without_a_formula_is_refused(table, arguments, message):
    with pytest.raises(ValueError, match=message):
        fit_mle(table[["dose"]], table.k, **arguments)


def test_a_named_column_that_data_lacks_is_refused(table):
    with pytest.raises(ValueError, match=r"data has no column\(s\) \['weights'\]"):
        fit_mle("k ~ dose", data=table, trials="n", sample_weight="weights")


def test_an_array_for_the_rows_of_data_must_have_their_length_when_rows_are_dropped(table):
    holes = table.copy()
    holes.loc[3, "dose"] = np.nan
    with pytest.raises(ValueError, match=r"sample_weight has shape \(59,\), but data has 60"):
        with pytest.warns(UserWarning, match="left out 1 of 60"):
            fit_mle("k ~ dose", data=holes, trials="n", sample_weight=np.ones(59), missing="drop")


def test_an_offset_named_for_a_fit_without_a_formula_is_refused(table):
    fit = fit_mle(table[["dose"]], table.k, trials=table.n)
    with pytest.raises(ValueError, match=r"offset='log_exposure' names a column"):
        fit.predict_proba(table[["dose"]], offset="log_exposure")


def test_the_command_line_fits_counts_weights_and_offsets_named_as_columns(table, tmp_path, capsys):
    data, out = tmp_path / "table.csv", tmp_path / "mle.csv"
    table.to_csv(data, index=False)
    columns = ["--trials", "n", "--weights", "w", "--offset", "log_exposure"]
    argv = ["fit", str(data), "--formula", "k ~ C(group) + dose", *columns, "--out", str(out)]
    assert main(argv) == 0
    estimates = pd.read_csv(out, index_col=0)
    reference = _glm(table, freq_weights=table.w, offset=table.log_exposure)
    assert list(estimates.index) == ["intercept", *reference.params.index[1:]]
    np.testing.assert_allclose(estimates["estimate"], reference.params, rtol=PARAMS_RTOL)
    np.testing.assert_allclose(estimates["std_err"], reference.bse, rtol=STDERR_RTOL)


def test_the_command_line_refuses_per_row_columns_without_a_formula(table, tmp_path, capsys):
    data = tmp_path / "table.csv"
    table.to_csv(data, index=False)
    assert main(["fit", str(data), "--target", "k", "--trials", "n"]) == 2
    assert "--trials name columns of the data frame of a --formula" in capsys.readouterr().err
