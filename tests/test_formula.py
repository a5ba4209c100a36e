"""Formulas through formulaic: fits, names, encodings of new rows, files and bad input.

The reference is statsmodels' ``smf.logit`` (patsy): its design matrix is built
independently of formulaic's, so equal coefficients, standard errors and predictions
mean that the encoding (treatment coding, interactions, transforms) and the fit agree.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from bayeslogreg import PointEstimate, Posterior, compare, fit_map, fit_mle, sample_posterior
from bayeslogreg.cli import main
from bayeslogreg.exceptions import ConvergenceWarning

FORMULA = "y ~ g * x + C(k) + b + np.log(z) + I(x**2)"


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "g": rng.choice(["north", "east", "south"], n),
            "x": rng.normal(size=n),
            "k": rng.choice([1, 2, 3], n),
            "b": rng.random(n) < 0.4,
            "z": rng.uniform(0.5, 3.0, n),
        }
    )
    eta = (
        -0.2
        + 0.8 * frame.x
        + 0.6 * (frame.g == "south")
        - 0.5 * (frame.g == "east") * frame.x
        + 0.4 * (frame.k == 3)
        - 0.5 * frame.b
        + 0.3 * np.log(frame.z)
    )
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame(400, seed=3)


@pytest.fixture(scope="module")
def new_rows() -> pd.DataFrame:
    """New rows: columns in another order, not every level, an extra column."""
    rows = _frame(7, seed=8)
    rows["g"] = ["east", "east", "south", "north", "south", "east", "east"]
    rows["extra"] = "ignored"
    return rows[["z", "extra", "b", "k", "x", "g"]]


@pytest.fixture(scope="module")
def mle(frame) -> PointEstimate:
    return fit_mle(FORMULA, data=frame)


@pytest.fixture(scope="module")
def reference(frame):
    return smf.logit(FORMULA, data=frame).fit(disp=0, method="newton", tol=1e-12, maxiter=100)


def _by_name(values, names) -> pd.Series:
    return pd.Series(values, index=["Intercept" if n == "intercept" else n for n in names])


def test_a_formula_fit_equals_statsmodels_logit(mle, reference, new_rows):
    # Both reach the same MLE with Newton to ~1e-12 in the gradient: measured parameters
    # agree to 4e-10 relative, standard errors to 3e-10, so 1e-6 and 1e-5 leave room for
    # other BLAS and platforms without hiding an encoding error (which moves them by %).
    assert set(mle.param_names) - {"intercept"} == set(reference.params.index) - {"Intercept"}
    params = _by_name(mle.params, mle.param_names)[reference.params.index]
    stderr = _by_name(mle.stderr, mle.param_names)[reference.params.index]
    np.testing.assert_allclose(params, reference.params, rtol=1e-6)
    np.testing.assert_allclose(stderr, reference.bse, rtol=1e-5)
    # New rows are encoded with the fit's levels and order, whatever the frame's.
    np.testing.assert_allclose(
        mle.predict_proba(new_rows), reference.predict(new_rows).to_numpy(), rtol=1e-6
    )


def test_a_chosen_reference_level_matches_statsmodels(frame):
    # Same optimum as above (tolerances explained there); the stated reference is 'north'.
    formula = "y ~ C(g, Treatment('north')) + x"
    fit = fit_mle(formula, data=frame)
    reference = smf.logit(formula, data=frame).fit(disp=0, method="newton", tol=1e-12)
    params = _by_name(fit.params, fit.param_names)
    assert list(params.index) == list(reference.params.index)
    np.testing.assert_allclose(params, reference.params, rtol=1e-6)
    assert fit.formula.reference_levels == {"C(g, Treatment('north'))": "north"}


def test_coefficient_names_are_those_statsmodels_and_formulaic_print(mle):
    assert mle.feature_names[:4] == ("g[T.north]", "g[T.south]", "x", "C(k)[T.2]")
    assert "g[T.north]:x" in mle.feature_names and "b[T.True]" in mle.feature_names
    assert "np.log(z)" in mle.feature_names and "I(x ** 2)" in mle.feature_names
    # The reference levels (first sorted) are stated in the result's display.
    assert "reference levels: g = 'east', C(k) = 1, b = False" in repr(mle)


def test_map_of_a_formula_equals_map_of_its_design(frame, reference):
    # The same data as an array (statsmodels' design, reordered): the same optimum, so
    # agreement to 1e-8 relative (Newton to 1e-8 in the gradient on both).
    fit = fit_map(FORMULA, data=frame)
    design = pd.DataFrame(reference.model.exog, columns=reference.model.exog_names)
    design = design[[n for n in fit.feature_names]]
    direct = fit_map(design, frame["y"])
    np.testing.assert_allclose(fit.params, direct.params, rtol=1e-8)


def test_save_and_load_keep_the_encoding(frame, new_rows, tmp_path):
    # Stateful transforms keep the training rows' statistics: means, sds, poly's
    # coefficients (a dict with integer keys).
    fit = fit_map("y ~ C(g) + center(x) + scale(z) + poly(x, 2) + b", data=frame)
    loaded = PointEstimate.load(fit.save(tmp_path / "fit.json"))
    assert loaded.formula == fit.formula
    assert loaded.formula.transform_state["center(x)"]["center"] == pytest.approx(frame.x.mean())
    np.testing.assert_array_equal(loaded.predict_proba(new_rows), fit.predict_proba(new_rows))


def test_a_file_of_format_version_2_without_a_formula_loads(frame, tmp_path):
    fit = fit_mle(frame[["x", "z"]], frame["y"])
    path = fit.save(tmp_path / "fit.json")
    document = json.loads(path.read_text())
    document["format_version"] = 2
    del document["fields"]["formula"]
    path.write_text(json.dumps(document))
    assert PointEstimate.load(path).formula is None


def test_a_file_whose_formula_would_run_code_is_refused(mle, tmp_path):
    path = mle.save(tmp_path / "fit.json")
    document = json.loads(path.read_text())
    encoding = document["fields"]["formula"]["fields"]
    encoding["formula"] = "y ~ x + I(__import__('os').getcwd())"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="damaged PointEstimate file.*not allowed"):
        PointEstimate.load(path)


def test_compare_takes_the_test_rows_of_a_formula_as_a_frame(frame, mle):
    test = _frame(200, seed=5)
    fit = fit_map(FORMULA, data=frame)
    by_frame = compare([mle, fit], data=test)
    by_arrays = compare([mle, fit], test.drop(columns="y"), test["y"])
    pd.testing.assert_frame_equal(by_frame.metrics, by_arrays.metrics)
    assert "reference levels: g = 'east'" in by_frame.descriptions["MLE"]


def test_a_short_nuts_run_on_a_formula_names_its_coordinates(frame, new_rows, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 50 draws: low ESS expected
        posterior = sample_posterior(
            "y ~ g * x", data=frame, num_chains=1, num_warmup=50, num_samples=50, seed=1
        )
    names = ("g[T.north]", "g[T.south]", "x", "g[T.north]:x", "g[T.south]:x")
    assert posterior.feature_names == names
    assert tuple(posterior.summary().index) == ("intercept", *names)
    assert posterior.map_estimate.formula == posterior.formula
    loaded = Posterior.load(posterior.save(tmp_path / "posterior.nc"))
    np.testing.assert_array_equal(loaded.predict_proba(new_rows), posterior.predict_proba(new_rows))


@pytest.mark.parametrize("dtype", ["string", "category", "boolean"])
def test_text_and_boolean_columns_of_any_pandas_dtype_are_coded_alike(frame, mle, dtype):
    # pandas' string dtype would reach formulaic as numbers; it is coded as text.
    column = "b" if dtype == "boolean" else "g"
    fit = fit_mle(FORMULA, data=frame.assign(**{column: frame[column].astype(dtype)}))
    assert fit.feature_names == mle.feature_names
    np.testing.assert_array_equal(fit.params, mle.params)


def test_a_pyarrow_table_is_taken_like_its_pandas_frame(frame, mle):
    pyarrow = pytest.importorskip("pyarrow")
    fit = fit_mle(FORMULA, data=pyarrow.Table.from_pandas(frame))
    np.testing.assert_array_equal(fit.params, mle.params)
    # A dictionary column (levels in order of appearance) is encoded as text: sorted.
    table = pyarrow.Table.from_pandas(frame)
    index = table.schema.get_field_index("g")
    table = table.set_column(index, "g", table.column("g").dictionary_encode())
    fit = fit_mle(FORMULA, data=table)
    np.testing.assert_array_equal(fit.params, mle.params)
    assert fit.feature_names == mle.feature_names


def test_a_polars_frame_is_taken_like_its_pandas_frame(frame, mle, new_rows):
    polars = pytest.importorskip("polars")
    fit = fit_mle(FORMULA, data=polars.from_pandas(frame))
    np.testing.assert_array_equal(fit.params, mle.params)
    assert fit.feature_names == mle.feature_names
    # A polars categorical column, new rows as a polars frame, a weight column by name.
    categorical = polars.from_pandas(frame).with_columns(polars.col("g").cast(polars.Categorical))
    fit = fit_mle(FORMULA, data=categorical)
    np.testing.assert_array_equal(fit.params, mle.params)
    np.testing.assert_array_equal(
        fit.predict_proba(polars.from_pandas(new_rows.drop(columns="extra"))),
        mle.predict_proba(new_rows),
    )
    weighted = categorical.with_columns(w=polars.lit(2.0))
    fit = fit_mle(FORMULA, data=weighted, sample_weight="w")
    np.testing.assert_allclose(fit.params, mle.params, rtol=1e-10)
    np.testing.assert_allclose(fit.stderr, mle.stderr / np.sqrt(2), rtol=1e-10)


def test_rows_with_missing_values_are_refused_or_dropped_when_asked(frame):
    holes = frame.copy()
    holes.loc[[3, 10], "x"] = np.nan
    holes.loc[[10, 20], "g"] = None
    holes.loc[30, "unused"] = np.nan  # a column the formula does not read
    with pytest.raises(ValueError, match=r"3 of 400 rows with missing values \(in columns"):
        fit_mle("y ~ g + x", data=holes)
    with pytest.warns(UserWarning, match=r"left out 3 of 400 rows .* 397 rows remain"):
        dropped = fit_mle("y ~ g + x", data=holes, missing="drop")
    complete = fit_mle("y ~ g + x", data=holes.drop(index=[3, 10, 20]))
    np.testing.assert_array_equal(dropped.params, complete.params)
    assert dropped.n_rows == 397


@pytest.mark.parametrize("formula", ["y ~ 0 + g + x", "y ~ g + x - 1"])
def test_a_formula_without_an_intercept_is_refused(frame, formula):
    with pytest.raises(ValueError, match="has no intercept .* refused rather than given a silent"):
        fit_mle(formula, data=frame)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ x +", r"cannot parse formula 'y ~ x \+': Operator `\+` has insuff"),
        ("y ~ (x", r"cannot parse formula 'y ~ \(x'"),
        ("~ x", "must have one response on its left"),
        ("y ~ x + height", r"data has no column\(s\) \['height'\], which formula"),
        ("y ~ x + open('f')", "a call of something other than a transform"),
        ("y ~ x + np.save(x)", "the attribute 'np.save'"),
        ("y ~ x + I(x.__class__)", "the attribute 'x.__class__'"),
        ("y ~ I(lambda: 0)", "the construct Lambda"),
        ("g ~ x", r"left-hand side .* encodes to columns .* one column of 0/1 labels"),
        ("y ~ np.log(x)", r"cannot evaluate formula 'y ~ np.log\(x\)' on data: .*np.log\(x\)"),
    ],
)
def test_bad_formulas_are_refused_naming_the_formula(frame, formula, message):
    with pytest.raises(ValueError, match=message):
        fit_mle(formula, data=frame)


def test_a_categorical_with_one_level_is_refused(frame):
    with pytest.raises(ValueError, match=r"factor 'g' .* has only one level \['east'\]"):
        fit_mle("y ~ g + x", data=frame.assign(g="east"))
    # Also where the column's type declares more levels than the rows have.
    with pytest.raises(ValueError, match=r"factor 'b' .* has only one level \[True\]"):
        fit_mle("y ~ b + x", data=frame.assign(b=True))
    one_seen = pd.Categorical(["east"] * len(frame), categories=["east", "west"])
    with pytest.raises(ValueError, match=r"factor 'g' .* has only one level \['east'\]"):
        fit_mle("y ~ g + x", data=frame.assign(g=one_seen))


def test_levels_that_a_saved_result_cannot_keep_are_refused(frame):
    dates = pd.to_datetime(["2020-01-01", "2021-01-01"])[frame.index % 2]
    with pytest.raises(ValueError, match="holds a Timestamp .* convert that column to text"):
        fit_mle("y ~ C(d) + x", data=frame.assign(d=dates))


def test_a_level_seen_only_in_new_rows_is_refused_naming_it(mle, new_rows):
    with pytest.raises(ValueError, match=r"column 'g' has levels \['west'\] that the fit never"):
        mle.predict_proba(new_rows.assign(g="west"))
    with pytest.raises(ValueError, match=r"column 'k' has levels \[4\] that the fit never"):
        mle.predict_proba(new_rows.assign(k=4))
    # A categorical of an expression: formulaic's own words name the level.
    fit = fit_mle("y ~ C(k * 2) + x", data=_frame(400, seed=3))
    with pytest.raises(ValueError, match=r"X has levels the fit never saw \(\{.*8\)\}\); .*"):
        fit.predict_proba(new_rows.assign(k=4))


def test_new_rows_missing_a_column_or_a_value_are_refused(mle, new_rows):
    with pytest.raises(ValueError, match=r"X has no column\(s\) \['z'\], which formula"):
        mle.predict_proba(new_rows.drop(columns="z"))
    with pytest.raises(ValueError, match=r"X has 1 rows with missing values \(in columns \['x'\]"):
        mle.predict_proba(new_rows.assign(x=[np.nan, 1, 2, 3, 4, 5, 6]))
    with pytest.raises(ValueError, match="X must be a data frame .* for a formula; got ndarray"):
        mle.predict_proba(np.zeros((2, len(mle.coef))))


def test_an_empty_frame_or_one_with_repeated_columns_is_refused(frame, mle):
    with pytest.raises(ValueError, match="data is empty: it has 0 rows"):
        fit_mle(FORMULA, data=frame.head(0))
    with pytest.raises(ValueError, match="X is empty: it has 0 rows"):
        mle.predict_proba(frame.head(0))
    repeated = pd.concat([frame, frame[["x"]]], axis=1)
    with pytest.raises(ValueError, match=r"data has repeated column names \['x'\]"):
        fit_mle(FORMULA, data=repeated)


def test_a_formula_together_with_x_or_y_is_refused(frame):
    with pytest.raises(ValueError, match="formula was given together with y"):
        fit_mle(FORMULA, frame["y"], data=frame)
    with pytest.raises(ValueError, match="data= is used only with a formula"):
        fit_map(frame[["x"]], frame["y"], data=frame)
    with pytest.raises(ValueError, match="formula 'y ~ x' needs the data frame"):
        sample_posterior("y ~ x")
    with pytest.raises(ValueError, match=r"missing='drop' applies to a formula's data"):
        fit_mle(frame[["x"]], frame["y"], missing="drop")
    with pytest.raises(ValueError, match="compare.* got data= together with X_test"):
        compare(fit_mle("y ~ x", data=frame), frame[["x"]], frame["y"], data=frame)


@pytest.fixture
def frame_file(frame, tmp_path):
    path = tmp_path / "frame.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_command_line_fits_a_formula_on_a_data_file(frame_file, mle, tmp_path, capsys):
    out = tmp_path / "mle.csv"
    assert main(["fit", str(frame_file), "--formula", FORMULA, "--out", str(out)]) == 0
    assert "reference levels: g = 'east'" in capsys.readouterr().out
    table = pd.read_csv(out, index_col=0)
    assert tuple(table.index) == mle.param_names
    # The CSV keeps 17 significant digits; the fit is the same as in memory.
    np.testing.assert_allclose(table["estimate"], mle.params, rtol=1e-12)


def test_the_command_line_compares_the_estimators_of_a_formula(frame_file, tmp_path, capsys):
    out_dir = tmp_path / "report"
    argv = ["compare", str(frame_file), "--formula", "y ~ g + x", "--out", str(out_dir)]
    nuts = ["--num-warmup", "300", "--num-samples", "500", "--num-chains", "2"]
    assert main([*argv, *nuts]) == 0
    assert "comparing on 100 held-out rows" in capsys.readouterr().err
    metrics = pd.read_csv(out_dir / "metrics.csv", index_col=0)
    assert list(metrics.index) == ["MLE", "MAP", "posterior"]
    coefficients = pd.read_csv(out_dir / "coefficients.csv", header=[0, 1], index_col=0)
    assert list(coefficients.index) == ["intercept", "g[T.north]", "g[T.south]", "x"]
    assert "reference levels: g = 'east'" in (out_dir / "report.md").read_text()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--formula", "y ~ x", "--target", "y"], "--formula names the labels .* out --target"),
        ([], "give the column of 0/1 labels with --target, or a --formula"),
        (["--formula", "y ~ x +"], r"cannot parse formula 'y ~ x \+'"),
    ],
)
def test_the_command_line_refuses_a_formula_beside_a_target(frame_file, capsys, options, message):
    assert main(["fit", str(frame_file), *options]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_the_readme_formula_example_runs(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("Every entry point also takes a formula", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile("import bayeslogreg as blr\n" + code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "C(group)[T.b]:np.log(dose)" in out and "reference levels: C(group) = 'a'" in out


@pytest.mark.parametrize(
    ("formula", "path"),
    [
        # Plain terms (numeric columns, categoricals, one of each multiplied): by column.
        ("y ~ g * x + C(k) + b + z", "columns"),
        ("y ~ C(g, Treatment('south')) + x:C(k) + k", "columns"),
        ("y ~ u + x:u", "columns"),  # a pandas categorical in its own level order
        # Transforms and products of two categoricals: formulaic, in blocks.
        (FORMULA, "blocks"),
        ("y ~ g:b + x", "blocks"),
        # A stateful transform or a categorical of an expression: encoded whole.
        ("y ~ center(x) + g", "whole"),
        ("y ~ C(np.floor(x)) + g", "whole"),
    ],
)
def test_a_large_frame_is_encoded_as_it_would_be_whole(frame, new_rows, monkeypatch, formula, path):
    from bayeslogreg import _design_columns, _formula

    frame = frame.assign(u=pd.Categorical(frame.g, categories=["south", "north", "east"]))
    new_rows = new_rows.assign(u=pd.Categorical(new_rows.g, categories=["east", "north", "south"]))
    whole = _formula.resolve(formula, None, data=frame)
    # 400 rows "large" above 64, the spec learnt from the first 10 rows and every level,
    # a plan checked on the first 20 rows.
    monkeypatch.setattr(_formula, "_DESIGN_BLOCK_ROWS", 64)
    monkeypatch.setattr(_formula, "_SPEC_ROWS", 10)
    monkeypatch.setattr(_design_columns, "_CHECK_ROWS", 20)
    monkeypatch.setattr(_design_columns, "_BLOCK_ROWS", 48)
    taken = []
    for name, module in [("columns", _design_columns), ("blocks", _formula)]:
        function = "design" if name == "columns" else "_design_in_blocks"
        encode = getattr(module, function)

        def spy(*args, _name=name, _encode=encode):
            design = _encode(*args)
            taken.append(_name if design is not None else None)
            return design

        monkeypatch.setattr(module, function, spy)
    large = _formula.resolve(formula, None, data=frame)
    assert path == "whole" and not taken or taken[-1] == path
    assert large.feature_names == whole.feature_names
    assert large.formula == whole.formula
    np.testing.assert_array_equal(large.X, whole.X)
    assert large.X.flags.c_contiguous and large.X.dtype == np.float64
    # New rows (another column order, not every level) of a large frame: the same way.
    if path != "whole":
        many = pd.concat([new_rows] * 12, ignore_index=True)
        taken.clear()
        np.testing.assert_array_equal(
            large.formula.design(many), np.tile(whole.formula.design(new_rows), (12, 1))
        )
        assert taken[-1] == path
