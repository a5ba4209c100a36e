"""Wilkinson formulas through formulaic: ``(formula, data)`` -> design, labels, encoding.

``resolve`` is what every entry point calls first: ``(X, y)`` pass through untouched,
and ``("y ~ C(g) * x", data=frame)`` becomes the numeric design (n_rows, p), the labels
(n_rows,) from the left-hand side, the column names formulaic prints (``C(g)[T.b]``,
``C(g)[T.b]:x``) and a :class:`FormulaEncoding` that re-encodes new frames the same way.
The formula's ``Intercept`` column is the model's own intercept, never a feature.

The encoding is plain data (the formula, the levels of each categorical factor, the
state of stateful transforms such as ``center(x)``), so a saved result keeps it as JSON.
formulaic evaluates a formula's expressions with Python's ``eval``; a formula read from a
file is therefore checked first: it may use only the data's columns, numbers, strings,
operators, formulaic's transforms (``C``, ``I``, ``center``, ...) and NumPy's ufuncs as
``np.log``. Fitting applies the same check, so whatever fits can be saved and loaded.
formulaic itself is imported only when a formula is used.
"""

import ast
import copy
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from bayeslogreg import _design_columns
from bayeslogreg._design_columns import empty_design
from bayeslogreg._validation import _frame, check_choice

__all__ = ["MISSING_ACTIONS", "Design", "FormulaEncoding", "labels", "resolve"]

#: What a formula fit does with rows that miss a value in a column the formula reads.
MISSING_ACTIONS = ("raise", "drop")
#: Rows per block when the design is copied out of formulaic's matrix: a block of up
#: to ~100 columns stays within a few MiB, so its writes stay in cache.
_COPY_BLOCK_ROWS = 16_384
#: Frames of more rows are encoded in blocks of this many rows (1M x 47: 1.0 s in
#: 16 blocks, against 1.2 s for the whole matrix and its copy; ``docs/design.md``).
_DESIGN_BLOCK_ROWS = 65_536
#: The first rows of a large frame from which its ModelSpec is learnt (with the first
#: row of every level of every categorical column).
_SPEC_ROWS = 1_000
#: formulaic's name of the constant column; it becomes the model's intercept.
_INTERCEPT_COLUMN = "Intercept"
_SYNTAX = (
    "columns, numbers, operators, formulaic's transforms (C, I, center, scale, poly, ...) "
    "and NumPy ufuncs written np.NAME"
)


#: The per-row arguments of the entry points, in the order of ``resolve(rows=...)``.
ROW_ARGUMENTS = ("sample_weight", "trials", "offset")


class Design(NamedTuple):
    """What an entry point fits, from ``(X, y)`` or ``(formula, data=frame)``.

    ``X`` (n_rows, p), ``y`` (n_rows,), ``feature_names``, the ``formula`` encoding
    (None for ``(X, y)`` input, which is passed through as given) and ``rows``: the
    per-row arguments of :data:`ROW_ARGUMENTS` (each None or an array of n_rows).
    """

    X: Any
    y: Any
    feature_names: Any
    formula: "FormulaEncoding | None"
    rows: tuple = (None, None, None)


def resolve(
    X, y, *, data=None, feature_names=None, missing: str = "raise", rows=(None, None, None)
) -> Design:
    """Return the design to fit from ``(X, y)`` or ``(formula, data=frame)``.

    Parameters
    ----------
    X : array_like, DataFrame or str
        Features, or a formula ``"y ~ terms"`` whose columns are those of ``data``.
    y : array_like or None
        Labels; None with a formula (they come from its left-hand side).
    data : DataFrame (pandas, polars) or pyarrow Table, optional
        Only with a formula.
    feature_names : sequence of str, optional
        Only without a formula: a formula names its columns.
    missing : {"raise", "drop"}
        Rows with a missing value in a column the formula reads: refused with their count
        and columns, or dropped with a ``UserWarning`` saying how many.
    rows : tuple
        ``sample_weight``, ``trials`` and ``offset``: each None, an array of one value
        per row or, with a formula, the name of a column of ``data``. Named columns join
        the formula's check of missing values; arrays lose the rows it drops.
    """
    check_choice(missing, "missing", MISSING_ACTIONS)
    if not isinstance(X, str):
        for argument, value in zip(ROW_ARGUMENTS, rows, strict=True):
            if isinstance(value, str):
                raise ValueError(
                    f"{argument}={value!r} names a column, which needs a formula and its "
                    f"data frame, e.g. fit_mle('y ~ x', data=frame, {argument}={value!r}); "
                    f"with (X, y), pass {argument} as an array of one value per row."
                )
        if data is not None:
            raise ValueError(
                "data= is used only with a formula, e.g. fit_mle('y ~ x1 + x2', data=frame); "
                "got X as well. Pass either (X, y) or (formula, data=frame)."
            )
        if missing != "raise":
            raise ValueError(
                f"missing={missing!r} applies to a formula's data; arrays and frames given "
                "as (X, y) must be complete. Drop or impute those rows yourself."
            )
        return Design(X, y, feature_names, None, tuple(rows))
    if y is not None or feature_names is not None:
        given = "y" if y is not None else "feature_names"
        raise ValueError(
            f"a formula was given together with {given}: a formula takes y from its "
            "left-hand side and names its own columns. Pass either (X, y) or "
            "(formula, data=frame)."
        )
    if data is None:
        raise ValueError(f"formula {X!r} needs the data frame it refers to: pass data=frame.")
    return _fit_encoding(X, _data_frame(data, "data"), missing, tuple(rows))


@dataclass(frozen=True)
class FormulaEncoding:
    """How a formula turns a data frame into a fit's design; plain data, saved as JSON.

    Attributes
    ----------
    formula : str
        As given, e.g. ``"y ~ C(g) * x"``.
    variables : tuple of str
        The data columns the right-hand side reads.
    feature_names : tuple of str
        The design's columns (the intercept excluded), named as formulaic names them.
    factors : dict
        Each factor of the right-hand side: the tuple of its levels in coding order
        (categorical; see :attr:`reference_levels`) or None (numerical).
    transform_state : dict
        The state of stateful transforms (``center(x)``: its mean), by expression.
    """

    formula: str
    variables: tuple[str, ...]
    feature_names: tuple[str, ...]
    factors: dict
    transform_state: dict

    def __post_init__(self):  # also when a file is read: check what it would evaluate
        parsed = _parse(self.formula)
        if self.variables != _variables(parsed.rhs):
            raise ValueError(
                f"variables {list(self.variables)} are not those formula {self.formula!r} "
                f"reads ({list(_variables(parsed.rhs))})"
            )

    @property
    def reference_levels(self) -> dict:
        """Factor -> its reference level: the one level without a ``factor[T.level]`` column.

        Only treatment-coded factors have one (not ``C(g, contr.sum)``, for example).
        """
        references = {}
        for factor, levels in self.factors.items():
            named = {f"{factor}[T.{level}]" for level in levels or ()}
            named &= {part for name in self.feature_names for part in name.split(":")}
            if levels is not None and named and len(levels) - len(named) == 1:
                references[factor] = next(
                    level for level in levels if f"{factor}[T.{level}]" not in named
                )
        return references

    def describe(self) -> str:
        """One line: the formula and the reference level of each categorical factor."""
        references = ", ".join(f"{f} = {level!r}" for f, level in self.reference_levels.items())
        return f"formula: {self.formula}" + (
            f"; reference levels: {references}" if references else ""
        )

    def design(self, data, name: str = "X") -> np.ndarray:
        """Encode new rows as at fit time: float64 array of shape (n_rows, p).

        Raises ``ValueError`` naming a missing column, a level the fit never saw, or the
        count and columns of rows with missing values (new rows are never dropped).
        """
        frame = _data_frame(data, name)
        _check_columns(frame, self.variables, name, self.formula)
        _check_complete(frame, self.variables, name)
        frame = _as_categories(frame, self.variables)
        self._check_levels(frame, name)
        from formulaic import ModelSpec
        from formulaic.errors import DataMismatchWarning
        from formulaic.parser.types import Factor

        kinds = Factor.Kind
        spec = ModelSpec(
            formula=_rhs(self.formula),
            materializer="pandas",
            na_action="raise",
            output="pandas",
            transform_state=_with_lists(copy.deepcopy(self.transform_state)),
            encoder_state={
                factor: (kinds.NUMERICAL, {})
                if levels is None
                else (kinds.CATEGORICAL, {"categories": list(levels)})
                for factor, levels in self.factors.items()
            },
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            try:
                large = len(frame) > _DESIGN_BLOCK_ROWS  # encoded as at fit time
                matrix = _model_matrix(
                    spec, frame.iloc[:_SPEC_ROWS] if large else frame, self.formula, name
                )
                self._check_columns(matrix, name)
                if large:
                    return _large_design(matrix.model_spec, frame, self.formula, name)
            except DataMismatchWarning as warning:
                raise ValueError(
                    f"{name} has levels the fit never saw ("
                    f"{str(warning).split(': ', 1)[-1].split('. They', 1)[0]}); the "
                    f"categorical factors' levels are {self._levels()}. Predict "
                    "only rows with those levels, or refit with data that has them."
                ) from None
        return _design_array(matrix)

    def _check_columns(self, matrix, name: str) -> None:
        columns = tuple(str(c) for c in matrix.columns)
        if columns != (_INTERCEPT_COLUMN, *self.feature_names):
            raise ValueError(
                f"{name} encodes to columns {list(columns)}, not those the model was fitted "
                f"with {[_INTERCEPT_COLUMN, *self.feature_names]}; check its column types."
            )

    def labels(self, data) -> np.ndarray:
        """Evaluate the left-hand side (the labels) on ``data``: shape (n_rows,)."""
        return labels(self.formula, data)

    def _levels(self) -> dict:
        return {f: list(levels) for f, levels in self.factors.items() if levels is not None}

    def _check_levels(self, frame, name: str) -> None:
        """Name the column and its levels that the fit never saw (plain columns, ``C(col)``)."""
        for factor, levels in self.factors.items():
            column = _column_of(factor)
            if levels is None or column not in frame.columns:
                continue
            unseen = sorted(set(_observed(frame[column])) - set(levels))
            if unseen:
                raise ValueError(
                    f"{name}'s column {column!r} has levels {unseen} that the fit never saw "
                    f"(its levels: {list(levels)}). Predict only rows with those levels, or "
                    "refit with data that has them."
                )


def labels(formula: str, data) -> np.ndarray:
    """Evaluate the left-hand side of ``formula`` on ``data``: labels of shape (n_rows,).

    For splitting a frame by its labels before fitting; rows missing a value there are
    refused.
    """
    return _response(_data_frame(data, "data"), formula, "data")


def _fit_encoding(formula: str, frame, missing: str, rows: tuple) -> Design:
    parsed = _parse(formula)
    variables = _variables(parsed.rhs)
    named = [value for value in rows if isinstance(value, str)]
    used = sorted({*variables, *_variables(parsed.lhs), *named})
    _check_columns(frame, used, "data", formula)
    n_given = len(frame)
    frame, kept = _complete_rows(frame, used, missing)
    rows = tuple(
        _row_values(value, argument, frame, kept, n_given)
        for argument, value in zip(ROW_ARGUMENTS, rows, strict=True)
    )
    y = _response(frame, formula, "data")
    encoded = _as_categories(frame, variables)
    spec, matrix = _learn_spec(parsed.rhs, encoded, formula)
    factors = {}
    for factor, (kind, state) in spec.encoder_state.items():
        levels = tuple(_plain(v) for v in state["categories"]) if "categories" in state else None
        # Levels seen in the rows: a boolean column or a pandas category declares more.
        column = _column_of(factor)
        if levels is not None and column in frame.columns:
            seen = _observed(frame[column])
        else:
            seen = levels
        if levels is not None and len(seen) < 2:
            raise ValueError(
                f"categorical factor {factor!r} of formula {formula!r} has only one level "
                f"{list(seen)} in data; it cannot be contrasted with anything. Leave it out "
                "of the formula or use data with at least two levels."
            )
        factors[factor] = levels if kind.value == "categorical" else None
    names = [str(c) for c in spec.column_names]
    encoding = FormulaEncoding(
        formula=formula,
        variables=variables,
        feature_names=tuple(names[1:]),
        factors=factors,
        transform_state=_plain(spec.transform_state),
    )
    if matrix is not None:
        design = _design_array(matrix)
    else:
        design = _large_design(spec, encoded, formula, "data")
    return Design(design, y, encoding.feature_names, encoding, rows)


def _model_matrix(rhs_or_spec, frame, formula: str, name: str = "data"):
    """Return formulaic's pandas model matrix of ``frame``; its errors as one ValueError.

    ``rhs_or_spec`` is the formula's right-hand side or a ModelSpec; ``name`` names
    ``frame`` in the message.
    """
    from formulaic import ModelSpec, model_matrix
    from formulaic.errors import FormulaicError

    try:
        if isinstance(rhs_or_spec, ModelSpec):
            return rhs_or_spec.get_model_matrix(frame)
        return model_matrix(rhs_or_spec, frame, na_action="raise", context={})
    except (FormulaicError, ValueError) as error:
        raise ValueError(_formulaic_message(error, name, formula)) from None


def _learn_spec(rhs, frame, formula: str):
    """Return formulaic's ModelSpec of ``rhs`` on ``frame``, and the matrix if it was built.

    Frames of more than :data:`_DESIGN_BLOCK_ROWS` rows learn the spec from a sample
    (:func:`_spec_from_sample`) and are encoded later in blocks
    (:func:`_design_in_blocks`), never whole: formulaic's pandas matrix of all rows would
    be a second copy of the design. Where a sample cannot stand for all rows, the matrix
    of all rows is built.
    """
    spec = _spec_from_sample(rhs, frame, formula) if len(frame) > _DESIGN_BLOCK_ROWS else None
    if spec is None:
        matrix = _model_matrix(rhs, frame, formula)
        return matrix.model_spec, matrix
    return spec, None


def _spec_from_sample(rhs, frame, formula: str):
    """Return the ModelSpec learnt on a sample of ``frame`` that stands for all its rows.

    The sample holds the first rows and the first row of every level of every
    categorical column. None where no sample can stand for all rows: stateful
    transforms such as ``center(x)`` (their state needs every row), or a categorical
    of an expression (its levels are not a column's).
    """
    import pandas as pd

    head = frame.iloc[:_SPEC_ROWS]
    spec = _model_matrix(rhs, head, formula).model_spec
    columns = _categorical_columns(spec, frame)
    if spec.transform_state or columns is None:
        return None
    rows = set(range(len(head)))
    for column in columns:  # the first row of each level (hashed: no sort of all rows)
        codes, _ = pd.factorize(frame[column])
        rows.update(pd.Series(codes).drop_duplicates().index.tolist())
    spec = _model_matrix(rhs, frame.iloc[sorted(rows)], formula).model_spec
    return spec if _categorical_columns(spec, frame) == columns else None


def _categorical_columns(spec, frame) -> list | None:
    """Return the columns of ``spec``'s categorical factors; None if one is an expression."""
    columns = []
    for factor, (kind, _) in spec.encoder_state.items():
        if kind.value != "categorical":
            continue
        column = _column_of(factor)
        if column is None or column not in frame.columns:
            return None
        columns.append(column)
    return sorted(set(columns))


def _large_design(spec, frame, formula: str, name: str) -> np.ndarray:
    """Encode a large ``frame`` with ``spec`` into a float64 design (n_rows, p).

    Column by column where every term is plain (:mod:`bayeslogreg._design_columns`),
    else through formulaic in blocks of rows.
    """
    design = _design_columns.design(
        spec, frame, lambda spec, rows: _model_matrix(spec, rows, formula, name), _column_of
    )
    return _design_in_blocks(spec, frame, formula) if design is None else design


def _design_in_blocks(spec, frame, formula: str) -> np.ndarray:
    """Encode ``frame`` with ``spec`` block by block of rows into one float64 design."""
    names = list(spec.column_names)
    design = empty_design(len(frame), len(names) - 1)
    for start in range(0, len(frame), _DESIGN_BLOCK_ROWS):
        block = _model_matrix(spec, frame.iloc[start : start + _DESIGN_BLOCK_ROWS], formula)
        if list(block.columns) != names:  # a sample that missed a level: never silently
            raise RuntimeError(f"formula {formula!r}: a block encoded to other columns")
        _copy_columns(block, design[start : start + _DESIGN_BLOCK_ROWS])
    return design


def _design_array(matrix) -> np.ndarray:
    """Return formulaic's pandas model matrix without its intercept: C-ordered float64."""
    design = empty_design(len(matrix), matrix.shape[1] - 1)
    _copy_columns(matrix, design)
    return design


def _copy_columns(matrix, out: np.ndarray) -> None:
    """Copy the columns of ``matrix`` but the first (the intercept) into ``out`` (n, p).

    In blocks of rows, each written whole: pandas' ``to_numpy`` built the array in
    column order, then a contiguous copy of its slice was another (``docs/design.md``).
    """
    columns = [matrix[name].to_numpy() for name in matrix.columns[1:]]
    for start in range(0, len(out), _COPY_BLOCK_ROWS):
        block = out[start : start + _COPY_BLOCK_ROWS]
        for j, column in enumerate(columns):
            block[:, j] = column[start : start + _COPY_BLOCK_ROWS]


def _row_values(value, argument: str, frame, kept, n_given: int):
    """Return a per-row argument of a formula fit: its column of ``frame``, or its kept rows.

    ``kept`` (bool, n_given rows) or None says which rows of ``data`` remain after
    dropping those with missing values; an array given for the rows of ``data`` loses
    the same rows (its length is checked here; its values by the estimator).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return frame[value].to_numpy()
    if kept is None:
        return value
    values = np.asarray(value)
    if values.ndim != 1 or values.shape[0] != n_given:
        raise ValueError(
            f"{argument} has shape {values.shape}, but data has {n_given} rows; give one "
            f"value per row of data, or the name of a column of data ({argument}='w')."
        )
    return values[kept]


def _variables(side) -> tuple[str, ...]:
    """Return the data columns one side of a parsed formula reads: all names but transforms'.

    (formulaic's ``required_variables`` leaves out those inside stateful transforms.)
    """
    from formulaic.transforms import TRANSFORMS

    names = set()
    for term in side:
        for factor in term.factors:
            if factor.eval_method.value == "lookup":
                names.add(factor.expr)
            elif factor.eval_method.value == "python":
                tree = ast.parse(factor.expr, mode="eval")
                names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return tuple(sorted(names - set(TRANSFORMS)))


def _parse(formula: str):
    """Parse ``y ~ terms`` with formulaic and check it: one response, an intercept, safe terms.

    Every name an expression uses that is not a transform's is a column the data must
    have (:func:`_variables`, checked before each evaluation), so no name can reach
    Python's builtins; calls and attributes are limited by :func:`_check_expression`.
    """
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        parsed = Formula(formula)
    except (FormulaicError, ValueError) as error:
        detail = str(error).strip().splitlines()[0]
        raise ValueError(f"cannot parse formula {formula!r}: {detail}") from None
    if not hasattr(parsed, "lhs") or not hasattr(parsed, "rhs") or len(parsed.lhs) != 1:
        raise ValueError(
            f"formula {formula!r} must have one response on its left, as 'y ~ x1 + x2': the "
            "column of 0/1 labels."
        )
    if "1" not in {str(term) for term in parsed.rhs}:
        raise ValueError(
            f"formula {formula!r} has no intercept (0 + ... or - 1); bayeslogreg always fits "
            "one, so such a formula is refused rather than given a silent intercept. Remove "
            "the 0 or -1."
        )
    for term in (*parsed.lhs, *parsed.rhs):
        for factor in term.factors:
            if factor.eval_method.value == "python":
                _check_expression(factor.expr, formula)
    return parsed


def _check_expression(expression: str, formula: str) -> None:
    """Refuse a formula expression that could do more than compute on columns."""
    from formulaic.transforms import TRANSFORMS

    def refuse(what: str):
        raise ValueError(
            f"formula {formula!r}: {what} in {expression!r} is not allowed; a formula may use "
            f"{_SYNTAX}."
        )

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        refuse("a name that is not a Python identifier")
    allowed = (ast.Expression, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)
    allowed += (ast.List, ast.Tuple, ast.keyword, ast.Load, ast.operator, ast.unaryop)
    allowed += (ast.cmpop, ast.boolop, ast.Name, ast.Call, ast.Attribute)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            refuse(f"the construct {type(node).__name__}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Attribute)
            or (isinstance(node.func, ast.Name) and node.func.id in TRANSFORMS)
        ):
            refuse("a call of something other than a transform")
        if isinstance(node, ast.Attribute) and not _is_allowed_attribute(node):
            refuse(f"the attribute {ast.unparse(node)!r}")


def _is_allowed_attribute(node: ast.Attribute) -> bool:
    """``np.<ufunc>`` or ``contr.<contrast>`` (formulaic's contrasts), nothing else."""
    if not isinstance(node.value, ast.Name) or node.attr.startswith("_"):
        return False
    if node.value.id == "np":
        return isinstance(getattr(np, node.attr, None), np.ufunc)
    if node.value.id == "contr":
        from formulaic.transforms import ContrastsRegistry

        return node.attr in vars(ContrastsRegistry)  # its own: not type's (mro, ...)
    return False


def _rhs(formula: str):
    from formulaic import Formula

    return Formula(formula).rhs


def _response(frame, formula: str, name: str) -> np.ndarray:
    """Evaluate the left-hand side on ``frame``: one column, shape (n_rows,)."""
    lhs = _parse(formula).lhs
    _check_columns(frame, _variables(lhs), name, formula)
    _check_complete(frame, _variables(lhs), name, "using them")
    matrix = _model_matrix(lhs, frame, formula, name)
    if matrix.shape[1] != 1:
        raise ValueError(
            f"the left-hand side of formula {formula!r} encodes to columns "
            f"{list(matrix.columns)}; it must be one column of 0/1 labels. Labels are never "
            "remapped: encode the positive class as 1 yourself."
        )
    return matrix.to_numpy()[:, 0]


def _data_frame(data, name: str):
    frame = _frame(_stored_levels_as_text(data))
    if not hasattr(frame, "iloc") or not hasattr(frame, "columns"):
        raise ValueError(
            f"{name} must be a data frame (pandas, polars) or a pyarrow Table for a formula; "
            f"got {type(data).__name__}."
        )
    if len(frame) == 0:
        raise ValueError(f"{name} is empty: it has 0 rows.")
    if frame.columns.has_duplicates:
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ValueError(f"{name} has repeated column names {repeated}; give each once.")
    return frame


def _stored_levels_as_text(data):
    """Return ``data`` with polars Categorical and Arrow dictionary columns as text.

    Their order of levels is the order in which values were stored, not one a user
    chose, so they are encoded as text columns are (a polars Enum, like a pandas
    categorical, keeps its declared order).
    """
    library = type(data).__module__.split(".")[0]
    if library == "polars":
        import polars as pl

        return data.with_columns(pl.col(pl.Categorical).cast(pl.String))
    if library == "pyarrow" and hasattr(data, "schema"):
        import pyarrow as pa

        for index, field in enumerate(data.schema):
            if pa.types.is_dictionary(field.type):
                text = data.column(index).cast(field.type.value_type)
                data = data.set_column(index, field.name, text)
    return data


def _check_columns(frame, variables, name: str, formula: str) -> None:
    absent = [v for v in variables if v not in frame.columns]
    if absent:
        raise ValueError(
            f"{name} has no column(s) {absent}, which formula {formula!r} uses; its columns "
            f"are {[str(c) for c in frame.columns]}."
        )


def _missing_rows(frame, columns) -> tuple[np.ndarray, list[str]]:
    """Rows with a missing value in ``columns``, and which of those columns have any."""
    rows, involved = np.zeros(len(frame), dtype=bool), []
    for column in columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            rows |= missing
            involved.append(str(column))
    return rows, involved


def _check_complete(frame, columns, name: str, use: str = "predicting") -> None:
    rows, involved = _missing_rows(frame, columns)
    if rows.any():
        raise ValueError(
            f"{name} has {int(rows.sum())} rows with missing values (in columns {involved}); "
            f"drop or impute them before {use}."
        )


def _complete_rows(frame, columns, missing: str):
    """Return ``frame`` without rows that miss a value in ``columns``, and the rows kept.

    The rows kept are a boolean mask, or None when none was dropped. Rows that miss a
    value are refused (``missing='raise'``) or dropped with a warning (``'drop'``).
    """
    rows, involved = _missing_rows(frame, columns)
    n_missing = int(rows.sum())
    if not n_missing:
        return frame, None
    if missing == "raise":
        raise ValueError(
            f"data has {n_missing} of {len(frame)} rows with missing values (in columns "
            f"{involved}); rows are never dropped silently. Drop or impute them, or pass "
            "missing='drop' to leave them out."
        )
    warnings.warn(
        f"missing='drop': left out {n_missing} of {len(frame)} rows with missing values (in "
        f"columns {involved}); {len(frame) - n_missing} rows remain.",
        UserWarning,
        stacklevel=5,
    )
    return frame[~rows], ~rows


def _as_categories(frame, variables):
    """Boolean and text columns as formulaic encodes categories, the same in every frame.

    Booleans become categories [False, True] (treatment-coded, reference False, as patsy
    codes them); text columns (pandas' string dtypes, which formulaic would take as
    numbers, and object columns of strings) become categoricals of their sorted levels,
    the levels formulaic gives an object column: encoding codes instead of strings took
    the encoding of 1M rows of 3 text columns from 0.8 s to 0.2 s (``docs/design.md``).
    """
    import pandas as pd

    changed = {}
    for column in variables:
        values = frame[column]
        if values.dtype.kind == "b" or str(values.dtype) == "boolean":
            changed[column] = pd.Categorical(values, categories=[False, True])
        elif values.dtype == np.dtype(object) or pd.api.types.is_string_dtype(values.dtype):
            codes, levels = pd.factorize(values, sort=True)
            if all(isinstance(level, str) for level in levels):
                changed[column] = pd.Categorical.from_codes(codes, levels.astype(object))
            elif values.dtype != np.dtype(object):
                changed[column] = values.astype(object)
    return frame.assign(**changed) if changed else frame


def _observed(values) -> list:
    """Return the distinct values of a column as Python objects, missing values left out."""
    return [v.item() if isinstance(v, np.generic) else v for v in values.dropna().unique()]


def _column_of(factor: str) -> str | None:
    """Return the column a categorical factor encodes: ``g`` or ``C(g, ...)``; else None."""
    try:
        node = ast.parse(factor, mode="eval").body
    except SyntaxError:
        return factor  # a backquoted column name with spaces
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C":
        if node.args and isinstance(node.args[0], ast.Name):
            return node.args[0].id
    return None


#: Key of the one-entry dict that holds a transform's dict with integer keys (poly's
#: coefficients by degree), whose keys JSON keeps as text.
_INT_KEYS = "<int keys>"


def _plain(value):
    """``value`` as JSON-safe Python: tuples for lists, Python numbers for NumPy ones."""
    if isinstance(value, dict) and value and all(isinstance(k, int | np.integer) for k in value):
        return {_INT_KEYS: {str(key): _plain(item) for key, item in value.items()}}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str | np.ndarray):
        return value
    raise ValueError(
        f"the formula's encoding (levels, transforms' state) holds a {type(value).__name__} "
        f"({value!r:.40}), which a saved result cannot keep; convert that column to text or "
        "numbers."
    )


def _with_lists(value):
    """Undo :func:`_plain` for formulaic's transforms, which expect lists."""
    if isinstance(value, dict) and list(value) == [_INT_KEYS]:
        return {int(key): _with_lists(item) for key, item in value[_INT_KEYS].items()}
    if isinstance(value, dict):
        return {key: _with_lists(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_with_lists(item) for item in value]
    return value


def _formulaic_message(error: Exception, name: str, formula: str) -> str:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot evaluate formula {formula!r} on {name}: {detail}"
