"""A formula's design filled column by column from the frame, for formulas of plain terms.

formulaic builds a pandas frame per call, which at 1M rows of 20 numeric and 3 text
columns cost ~0.5 s of the formula's ~1 s, in 16 blocks (``docs/design.md``). Most
formulas are sums of plain terms: a numeric column ``x``, a categorical column ``g`` or
``C(g, ...)``, or the product ``x:g`` of one of each. Each column of such a term is the
numeric column (or 1) times a value that depends only on the row's level, which
formulaic itself gives for every level on a few rows (:func:`plan`); the design is then
filled from the columns and the levels' codes (:func:`fill`). formulaic stays the one
authority: the tables are its output, and a plan is used only when its design equals
formulaic's, bit for bit, on the frame's first rows.
"""

import mmap
from typing import NamedTuple

import numpy as np

__all__ = ["Recipe", "design", "empty_design"]

#: Rows per block when the design is filled: a block's writes stay in cache (at 1M x 47,
#: 0.54 s against 0.66 s for blocks of 16,384 rows).
_BLOCK_ROWS = 2_048
#: The first rows on which a plan is checked against formulaic's own design.
_CHECK_ROWS = 1_000
#: Designs of at least this many bytes are written into a memory map of plain pages.
_MAPPED_BYTES = 2**25
_INTERCEPT = "Intercept"


class Recipe(NamedTuple):
    """One design column: ``numeric`` (a column name or None for 1) times ``table[codes]``.

    ``categorical`` names the column whose level codes index ``table`` (None: no factor).
    """

    numeric: str | None
    categorical: str | None
    table: np.ndarray | None


def design(spec, frame, model_matrix, column_of) -> np.ndarray | None:
    """Return the design of ``frame`` under formulaic's ModelSpec ``spec``, or None.

    None where a term is not plain (see the module) or the plan's design differs from
    formulaic's on the first rows: the caller then asks formulaic. ``model_matrix(spec,
    frame)`` is formulaic's pandas matrix; ``column_of(factor)`` the column a categorical
    factor encodes (None for an expression). Returns a C-ordered float64 array of shape
    (n_rows, p), the intercept column left out.
    """
    levels = _levels(spec, frame, column_of)
    recipes = None if levels is None else plan(spec, frame, model_matrix, column_of, levels)
    if recipes is None:
        return None
    codes = {column: codes for column, (codes, _) in levels.items()}
    head = frame.iloc[:_CHECK_ROWS]
    expected = model_matrix(spec, head)
    check = np.empty((len(head), len(recipes)))
    fill(recipes, head, {column: values[: len(head)] for column, values in codes.items()}, check)
    columns = [name for name in expected.columns if name != _INTERCEPT]
    if not np.array_equal(check, expected[columns].to_numpy(dtype=np.float64)):
        return None
    out = empty_design(len(frame), len(recipes))
    fill(recipes, frame, codes, out)
    return out


def plan(spec, frame, model_matrix, column_of, levels: dict) -> list[Recipe] | None:
    """One :class:`Recipe` per design column (the intercept's left out), or None.

    ``levels`` maps each categorical column to its codes and levels (:func:`_levels`).
    """
    terms = {}  # design column -> (numeric column or None, categorical column or None)
    for structure in spec.structure:
        factors = structure.term.factors
        if [factor.expr for factor in factors] == ["1"]:
            continue
        numeric = [f.expr for f in factors if _kind(spec, f) == "numerical"]
        categorical = [column_of(f.expr) for f in factors if _kind(spec, f) == "categorical"]
        plain_numeric = all(
            f.eval_method.value == "lookup"
            and f.expr in frame.columns
            and frame[f.expr].dtype.kind in "iuf"
            for f in factors
            if f.expr in numeric
        )
        if not plain_numeric or len(numeric) > 1 or len(categorical) > 1:
            return None
        if len(numeric) + len(categorical) != len(factors):
            return None
        if not categorical and len(structure.columns) != 1:
            return None
        for name in structure.columns:
            terms[name] = (numeric[0] if numeric else None, categorical[0] if categorical else None)
    names = [name for name in spec.column_names if name != _INTERCEPT]
    if sorted(terms) != sorted(names):
        return None
    tables = _level_tables(spec, frame, terms, levels, model_matrix)
    return [Recipe(*terms[name], tables.get(name)) for name in names]


def fill(recipes: list[Recipe], frame, codes: dict, out: np.ndarray) -> None:
    """Write the design of ``frame`` into ``out`` (n_rows, len(recipes)), block by block."""
    numbers = {
        recipe.numeric: frame[recipe.numeric].to_numpy(dtype=np.float64)
        for recipe in recipes
        if recipe.numeric is not None
    }
    for start in range(0, len(out), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        block = out[rows]
        for j, recipe in enumerate(recipes):
            if recipe.table is None:
                block[:, j] = numbers[recipe.numeric][rows]
            elif recipe.numeric is None:
                block[:, j] = recipe.table[codes[recipe.categorical][rows]]
            else:
                block[:, j] = (
                    numbers[recipe.numeric][rows] * recipe.table[codes[recipe.categorical][rows]]
                )


def _kind(spec, factor) -> str | None:
    state = spec.encoder_state.get(factor.expr)
    return None if state is None else state[0].value


def _levels(spec, frame, column_of) -> dict | None:
    """Each categorical factor's column: ``(codes, levels)``, or None for an expression.

    ``codes`` (n_rows,) index ``levels``, a pandas array of the column's dtype: the
    categories of a pandas categorical, else the distinct values (``pd.factorize``).
    """
    import pandas as pd

    levels = {}
    for factor, (kind, _) in spec.encoder_state.items():
        column = column_of(factor) if kind.value == "categorical" else ""
        if column is None or (column and column not in frame.columns):
            return None
        if column and column not in levels:
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                categories = np.arange(len(values.cat.categories))
                values_of = pd.Categorical.from_codes(categories, dtype=values.dtype)
                levels[column] = (values.cat.codes.to_numpy(), values_of)
            else:
                levels[column] = pd.factorize(values)
    return levels


def _level_tables(spec, frame, terms: dict, levels: dict, model_matrix) -> dict:
    """Return formulaic's value of each categorical term's column per level: name -> (k,).

    From one matrix of a few rows: the first row of ``frame`` repeated, each categorical
    column running through its levels, and the numeric columns of those terms set to 1.
    """
    categorical = {column for _, column in terms.values() if column is not None}
    if not categorical:
        return {}
    n_rows = max(len(levels[column][1]) for column in categorical)
    rows = frame.iloc[np.zeros(n_rows, dtype=int)].reset_index(drop=True)
    for column in categorical:
        values = levels[column][1]
        rows[column] = values.take(np.arange(n_rows) % len(values))
    for number, column in terms.values():
        if number is not None and column is not None:
            rows[number] = 1
    matrix = model_matrix(spec, rows)
    return {
        name: matrix[name].to_numpy(dtype=np.float64)[: len(levels[column][1])]
        for name, (_, column) in terms.items()
        if column is not None
    }


def empty_design(n_rows: int, n_columns: int) -> np.ndarray:
    """Return an uninitialised C-ordered float64 array of shape (n_rows, n_columns).

    One of at least ``_MAPPED_BYTES`` lives in a private anonymous memory map, in plain
    pages: NumPy asks the kernel for transparent huge pages, and where the kernel
    compacts memory for them on the first write (``defrag = madvise``, a common
    default) writing 376 MB took 0.9 s in a fresh process, against 0.23 s in plain
    pages, with the fit on it no slower (``docs/design.md``).
    """
    n_bytes = n_rows * n_columns * np.dtype(np.float64).itemsize
    if n_bytes < _MAPPED_BYTES or not hasattr(mmap, "MAP_PRIVATE"):  # or on Windows
        return np.empty((n_rows, n_columns))
    mapped = mmap.mmap(-1, n_bytes, flags=mmap.MAP_PRIVATE)
    return np.frombuffer(mapped, dtype=np.float64).reshape(n_rows, n_columns)
