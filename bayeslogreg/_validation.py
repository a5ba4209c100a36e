"""Input checks with messages that say what is wrong and what to do.

Every argument check of the package is here, once, with one wording: a message names the
argument, says what was expected and what it got, and where it helps, what to do. This
module imports nothing from the package, so every layer can use it.

Examples
--------
>>> check_level(0.9)
0.9
>>> check_level(95)
Traceback (most recent call last):
...
ValueError: level must be a number in (0, 1), e.g. 0.95 for 95%; got 95.0.
"""

import math
import warnings
from collections.abc import Sequence

import numpy as np

INTERCEPT_NAME = "intercept"
#: Rows per block of the finiteness check: a whole-array ``np.isfinite`` would allocate
#: an (n_samples, n_features) boolean temporary (308 MB at 11M x 28).
FINITE_BLOCK_ROWS = 2**16


def _describe_values(values: np.ndarray, limit: int = 5) -> str:
    shown = [v.item() if hasattr(v, "item") else v for v in values[:limit]]
    more = "" if len(values) <= limit else f" and {len(values) - limit} more"
    return f"{shown}{more}"


def _shown(value):
    """``value`` as a message shows it: NumPy scalars as the Python number they hold."""
    return value.item() if isinstance(value, np.generic) else value


def _frame(X):
    """Convert a pyarrow Table or polars DataFrame to pandas; return anything else as it is."""
    if hasattr(X, "to_pandas") and not hasattr(X, "iloc"):
        return X.to_pandas()
    return X


def _column_names(X) -> tuple[str, ...] | None:
    columns = getattr(_frame(X), "columns", None)
    return None if columns is None else tuple(str(c) for c in columns)


def check_feature_names(names: Sequence[str], n_features: int) -> tuple[str, ...]:
    """Return ``names`` as a tuple of unique strings, one per feature."""
    names = tuple(str(n) for n in names)
    if len(names) != n_features:
        raise ValueError(
            f"feature_names has {len(names)} entries but X has {n_features} columns; "
            "give one name per column."
        )
    seen, duplicated = set(), []
    for name in names:
        if name in seen:
            duplicated.append(name)
        seen.add(name)
    if duplicated:
        raise ValueError(f"feature names must be unique; repeated: {sorted(set(duplicated))}.")
    if INTERCEPT_NAME in names:
        raise ValueError(
            f"a feature is named {INTERCEPT_NAME!r}, which is reserved for the model's own "
            "intercept; drop that column (the intercept is always fitted) or rename it."
        )
    return names


def check_X(X, *, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite 2-D float32/float64 array of shape (n_samples, n_features).

    float32 and float64 input keep their dtype (float32 data is accumulated in float64
    later); integers and booleans become float64. pandas DataFrames, pyarrow Tables and
    polars DataFrames are taken by their columns.
    """
    X = _frame(X)
    columns = _column_names(X)
    if columns is not None:
        non_numeric = [c for c, dt in zip(columns, X.dtypes, strict=True) if not _is_real_dtype(dt)]
        if non_numeric:
            raise ValueError(
                f"{name} has non-numeric columns {non_numeric}; encode them as numbers "
                "(for example one-hot indicator columns) before fitting."
            )
        X = X.to_numpy()
    X = check_real_dtype(X, name)
    if X.ndim != 2:
        hint = " For a single feature use X.reshape(-1, 1)." if X.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {X.shape}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 rows.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} columns but the model was fitted with {n_features}."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    check_finite(X, name, "Remove or impute them.")
    return X


def _is_real_dtype(dtype) -> bool:
    # Also for pandas extension dtypes (strings, categoricals), which carry a ``kind``.
    return getattr(dtype, "kind", "O") in "biuf"


def check_real_dtype(values, name: str) -> np.ndarray:
    """Return ``values`` as an array of booleans, integers or floats, or raise."""
    values = np.asarray(values)
    if not _is_real_dtype(values.dtype):
        raise ValueError(
            f"{name} must hold real numbers; got dtype {values.dtype}. Convert it, e.g. "
            f"{name} = np.asarray({name}, dtype=float)."
        )
    return values


def check_finite(values: np.ndarray, name: str, advice: str) -> None:
    """Raise unless every value of a 1-D or 2-D array is finite, saying where and what to do.

    The message counts the rows (entries of a 1-D array) that hold NaN or inf and names the
    first; ``advice`` ends it. Blocks of ``FINITE_BLOCK_ROWS`` rows keep the temporary
    small, and an array without NaN or inf is read once.
    """
    starts = range(0, values.shape[0], FINITE_BLOCK_ROWS)
    bad_starts = [i for i in starts if not np.isfinite(values[i : i + FINITE_BLOCK_ROWS]).all()]
    if not bad_starts:
        return
    n_bad_rows, first = 0, None
    for start in bad_starts:
        block = ~np.isfinite(values[start : start + FINITE_BLOCK_ROWS])
        rows = np.flatnonzero(block if block.ndim == 1 else block.any(axis=1))
        n_bad_rows += len(rows)
        if first is None:
            first = (start + rows[0],) + tuple(np.argwhere(block[rows[0]])[0])
    kind = "NaN" if np.isnan(values[first]) else "inf"
    where = ", column ".join(str(i) for i in first)
    rows = "row" if n_bad_rows == 1 else "rows"
    raise ValueError(
        f"{name} contains non-finite values (NaN or inf) in {n_bad_rows} {rows}; "
        f"the first is {kind} at row {where}. {advice}"
    )


def check_y(
    y, *, n_samples: int | None = None, dtype=np.float64, require_both_classes: bool = True
) -> np.ndarray:
    """Return labels as a 1-D array of 0.0/1.0 in ``dtype``, refusing anything else.

    Labels are never remapped: {1, 2} or {"no", "yes"} raise, because guessing which value
    is the positive class silently flips results.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,); got shape {y.shape}. Use y.ravel().")
    if y.shape[0] == 0:
        raise ValueError("y is empty: it has 0 entries.")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {y.shape[0]} entries; they must match.")
    if y.dtype.kind not in "biuf":
        values = np.unique(y.astype(str))
        raise ValueError(
            f"y must contain only 0 and 1; got values {_describe_values(values)}. "
            "Encode the positive class as 1, e.g. y = (labels == 'yes')."
        )
    if y.dtype.kind == "f":
        check_finite(y, "y", "Drop those rows first.")
    is_one = y == 1
    if ((y == 0) | is_one).all():  # one pass instead of np.unique's sort (1 s at 11M rows)
        values = np.flatnonzero([not is_one.all(), is_one.any()]).astype(y.dtype)
    else:
        values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        raise ValueError(
            f"y must contain only 0 and 1; got values {_describe_values(values)}. "
            "Labels are never remapped: encode the positive class as 1 yourself."
        )
    if require_both_classes:
        check_both_classes(is_one)
    return y.astype(dtype)


def check_labels(y) -> np.ndarray:
    """Return 0/1 labels of shape (n_samples,) as booleans; one class is enough (metrics)."""
    return check_y(y, dtype=bool, require_both_classes=False)


def check_both_classes(
    y: np.ndarray, what: str = "logistic regression", *, among: str = ""
) -> tuple[int, int]:
    """Return (n_positive, n_negative) of 0/1 labels; raise when one class is missing.

    ``what`` names what needs both classes, e.g. ``"roc_auc"``; ``among`` says which rows
    ``y`` holds when they are not all of them, e.g. ``" among the rows of positive
    sample_weight"``.
    """
    n_positive = int(np.count_nonzero(y))
    n_negative = y.shape[0] - n_positive
    if n_positive == 0 or n_negative == 0:
        only = 1 if n_negative == 0 else 0
        raise ValueError(
            f"y contains only class {only}{among} ({y.shape[0]} rows); {what} needs both 0s and 1s."
        )
    return n_positive, n_negative


#: Where a fit's feature names came from: a data frame's columns, the ``feature_names``
#: argument, or generated (x1, x2, ...) for an array.
NAME_ORIGINS = ("columns", "given", "generated")


def feature_names_origin(X, feature_names) -> str:
    """Where the feature names of a fit on ``X`` come from; one of :data:`NAME_ORIGINS`."""
    if feature_names is not None:
        return "given"
    return "columns" if _column_names(X) is not None else "generated"


def generated_names(n_features: int) -> tuple[str, ...]:
    """``("x1", ..., "xp")``: the names of the columns of an array."""
    return tuple(f"x{j + 1}" for j in range(n_features))


def check_X_columns(X, feature_names, origin: str, *, name: str = "X") -> np.ndarray:
    """Return new rows ``X`` with their columns in the order a model was fitted with.

    Where both the fit and ``X`` have names (a data frame's columns), they are matched
    by name: the columns are reordered, and missing or unexpected ones raise a
    ``ValueError`` naming them. Where only one side has names, the columns are taken by
    position, with a ``UserWarning`` saying so; a fit whose names were given as
    ``feature_names`` for an array takes arrays by position without one.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_rows, n_features)
    feature_names : tuple of str
        The fit's names, in its order.
    origin : {"columns", "given", "generated"}
        Where they came from (:func:`feature_names_origin`).
    name : str
        The argument, for the messages.
    """
    X = _frame(X)
    columns = _column_names(X)
    if columns is not None and origin != "generated":
        X = _by_name(X, columns, feature_names, name)
    elif columns is not None:
        warnings.warn(
            f"{name} has column names {_describe_values(list(columns))} but the model was "
            "fitted on an array without feature names; its columns are taken by position.",
            UserWarning,
            stacklevel=3,
        )
    elif origin == "columns":
        warnings.warn(
            f"{name} has no column names but the model was fitted on a data frame with "
            f"columns {_describe_values(list(feature_names))}; its columns are taken in that "
            "order. Pass a data frame to have them matched by name.",
            UserWarning,
            stacklevel=3,
        )
    return check_X(X, n_features=len(feature_names), name=name)


def _by_name(X, columns: tuple[str, ...], feature_names, name: str):
    """Reorder the data frame ``X``'s columns to ``feature_names``, or raise naming them."""
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(f"{name} has repeated column names {repeated}; give each once.")
    missing = [c for c in feature_names if c not in columns]
    unexpected = [c for c in columns if c not in feature_names]
    if missing or unexpected:
        raise ValueError(
            f"{name}'s columns do not match the features the model was fitted with: "
            f"missing {missing}, unexpected {unexpected}. Give it the columns "
            f"{list(feature_names)} (in any order)."
        )
    if columns == tuple(feature_names):
        return X
    label = dict(zip(columns, X.columns, strict=True))
    return X[[label[c] for c in feature_names]]


def _row_index(data):
    """Return the row labels of a pandas object, or None (a list's ``index`` is a method)."""
    index = getattr(data, "index", None)
    return index if hasattr(index, "equals") else None


def align_y(X, y, *, name: str = "y"):
    """``y`` in the row order of ``X`` where both carry an index (pandas objects).

    A ``y`` whose index holds X's labels in another order is reordered to X's; one
    whose labels differ from X's raises a ``ValueError``. Without two indexes, rows are
    matched by position.
    """
    X_index, y_index = _row_index(X), _row_index(y)
    if X_index is None or y_index is None or y_index.equals(X_index):
        return y
    if X_index.is_unique and y_index.is_unique and len(X_index) == len(y_index):
        if y_index.isin(X_index).all():
            return y.reindex(X_index)
    extra = [label for label in y_index if label not in X_index]
    raise ValueError(
        f"{name}'s index does not match X's, so its rows cannot be matched to X's: "
        f"{len(extra)} labels of {name} are not in X's index (e.g. "
        f"{_describe_values(extra)}), or an index repeats a label. Align them first, "
        f"e.g. {name} = {name}.loc[X.index], or pass {name}.to_numpy() to match by position."
    )


def check_X_y(
    X, y, feature_names=None, *, labels: bool = True
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Validate a design matrix and labels for fitting.

    With ``labels=False``, ``y`` is only matched to X's rows (binomial counts are
    checked by :func:`check_counts`).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,), 0.0/1.0 in the dtype of X
    feature_names : tuple of str, one per column (DataFrame columns, given names, or x1..xp)
    """
    columns = _column_names(X)
    y = align_y(X, y)
    X = check_X(X)
    if labels:
        y = check_y(y, n_samples=X.shape[0], dtype=X.dtype)
    n_samples, n_features = X.shape
    if n_samples < n_features + 1:
        raise ValueError(
            f"fewer rows ({n_samples}) than parameters ({n_features + 1}: intercept and "
            f"{n_features} coefficients); the model is not identified. Use more data or "
            "fewer features."
        )
    if feature_names is None:
        feature_names = columns or generated_names(n_features)
    return X, y, check_feature_names(feature_names, n_features)


def _row_array(values, name: str, X, n_rows: int) -> np.ndarray:
    """``values`` as a real array of shape (n_rows,), a Series matched to X's index."""
    values = check_real_dtype(align_y(X, values, name=name), name)
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(
            f"{name} must be 1-D with one entry per row ({n_rows} rows); got shape {values.shape}."
        )
    return values


def check_row_values(values, name: str, X, n_rows: int) -> np.ndarray:
    """Return one real, finite number per row of X as float64, shape (n_rows,).

    A pandas Series is matched to a data frame ``X`` by index (:func:`align_y`), as ``y``.
    """
    values = _row_array(values, name, X, n_rows).astype(np.float64)
    check_finite(values, name, f"Give {name} a finite value for every row.")
    return values


def _first_row(bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad)[0])


def check_sample_weight(sample_weight, n_rows: int, X=None) -> np.ndarray | None:
    """Return frequency weights of shape (n_rows,), or None for None (every row weighs 1).

    A weight is a frequency, as scikit-learn's ``sample_weight``: a row of weight 3
    counts as three identical rows and a row of weight 0 as no row. Booleans and
    integers become int64 (so counts stay integers), other reals float64. Negative,
    NaN and infinite weights are refused, and so are weights that are all 0. A pandas
    Series is matched to a data frame ``X`` by index, as ``y``.
    """
    if sample_weight is None:
        return None
    weight = _row_array(sample_weight, "sample_weight", X, n_rows)
    weight = weight.astype(np.int64 if weight.dtype.kind in "biu" else np.float64, copy=False)
    advice = "Give every row a finite weight >= 0 (0 leaves the row out)."
    check_finite(weight, "sample_weight", advice)
    negative = np.flatnonzero(weight < 0)
    if negative.size:
        raise ValueError(
            "sample_weight must be >= 0 (a frequency weight: a weight of 3 counts the row "
            f"three times); got {_shown(weight[negative[0]])!r} at row {negative[0]} "
            f"({negative.size} negative in all). {advice}"
        )
    if not weight.any():
        raise ValueError(
            "sample_weight is 0 in every row, which leaves no row to fit or measure; give "
            "at least one row a positive weight."
        )
    return weight


def _check_whole(values: np.ndarray, name: str, what: str) -> None:
    if (values != np.round(values)).any():
        row = _first_row(values != np.round(values))
        raise ValueError(
            f"{name} must hold whole numbers ({what}); got {values[row]:g} at row {row}. "
            "Pass counts, not proportions: y = proportion * trials, rounded."
        )


def check_counts(y, trials, X, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Binomial successes ``y`` and ``trials``, each (n_rows,) float64 whole numbers.

    ``trials`` >= 1 and ``0 <= y <= trials`` in every row.
    """
    trials = check_row_values(trials, "trials", X, n_rows)
    _check_whole(trials, "trials", "the number of trials of each row")
    if (trials < 1).any():
        row = _first_row(trials < 1)
        raise ValueError(
            f"trials must be >= 1 in every row; got {trials[row]:g} at row {row}. Drop rows "
            "without trials."
        )
    successes = check_row_values(y, "y", X, n_rows)
    _check_whole(successes, "y", "with trials=, y counts the successes of each row")
    bad = (successes < 0) | (successes > trials)
    if bad.any():
        row = _first_row(bad)
        raise ValueError(
            f"with trials=, y counts successes and must lie in [0, trials]; got y = "
            f"{successes[row]:g} and trials = {trials[row]:g} at row {row}. Pass the "
            "successes of each row as y and its number of trials as trials."
        )
    return successes, trials


def check_offset(offset, X, n_rows: int) -> np.ndarray:
    """Return the offsets: one finite number per row added to eta, (n_rows,) float64."""
    return check_row_values(offset, "offset", X, n_rows)


#: Columns whose largest magnitude lies outside these bounds cannot be fitted in float64:
#: the Hessian sums squares of the values (below 1e-300 they lose all precision or
#: vanish; above 1e300 they overflow).
TINY_COLUMN, HUGE_COLUMN = 1e-150, 1e150


def check_column_magnitudes(X, sum_squares, feature_names, *, flat_prior: bool) -> None:
    """Refuse columns whose values are too small or too large to fit in float64.

    ``sum_squares`` (p,) are the columns' sums of squares, from which suspects are found
    without another pass; only those columns are read again. Tiny columns are refused
    only where the coefficients' prior is flat (``flat_prior``): a proper prior pins
    their coefficient, whose curvature then comes from the prior.
    """
    n_rows = max(np.shape(X)[0], 1)
    with np.errstate(over="ignore", invalid="ignore"):
        rms = np.sqrt(np.asarray(sum_squares, dtype=np.float64) / n_rows)
    suspects = np.flatnonzero(~(rms <= HUGE_COLUMN) | (flat_prior & (rms < TINY_COLUMN)))
    for j in suspects:
        largest = float(np.max(np.abs(np.asarray(X[:, j], dtype=np.float64))))
        if largest > HUGE_COLUMN or (flat_prior and 0 < largest < TINY_COLUMN):
            extent = "as large as" if largest > HUGE_COLUMN else "no larger than"
            raise ValueError(
                f"column {feature_names[j]!r} holds values {extent} {largest:.1e} in "
                f"magnitude, outside [{TINY_COLUMN:g}, {HUGE_COLUMN:g}]: their squares "
                "leave float64's range, so its coefficient and standard error cannot be "
                "computed. Rescale the column (e.g. standardise it, or change its units)."
            )


def degenerate_columns(X: np.ndarray, feature_names: Sequence[str]) -> list[str]:
    """Describe columns of X that cannot be identified: constant, or repeating another.

    Returns phrases such as ``"'x3' is constant (a copy of the intercept)"`` or
    ``"'x4' repeats 'x1'"``, empty when there are none. Other exact collinearity shows up
    only in the information matrix.
    """
    problems = []
    constant = np.all(X == X[:1], axis=0)
    problems += [
        f"{feature_names[j]!r} is constant (a copy of the intercept)"
        for j in np.flatnonzero(constant)
    ]
    seen: dict[bytes, str] = {}
    for j in np.flatnonzero(~constant):
        key = np.ascontiguousarray(X[:, j]).tobytes()
        if key in seen:
            problems.append(f"{feature_names[j]!r} repeats {seen[key]!r}")
        else:
            seen[key] = feature_names[j]
    return problems


def check_int(value, name: str, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int from ``minimum`` to ``maximum`` (inclusive), or raise.

    Booleans and integral floats such as 2.0 are refused: they are usually a mistake.
    """
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not (is_int and minimum <= value and (maximum is None or value <= maximum)):
        expected = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ValueError(f"{name} must be an integer {expected}; got {_shown(value)!r}.")
    return int(value)


#: The largest seed: JAX's keys and NumPy's generators both take 0 to 2**63 - 1.
MAX_SEED = 2**63 - 1


def check_seed(seed) -> int:
    """Return ``seed`` as an int from 0 to :data:`MAX_SEED`, or raise naming it."""
    return check_int(seed, "seed", minimum=0, maximum=MAX_SEED)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int >= 1, or raise naming the argument."""
    return check_int(value, name, minimum=1)


def check_draws_per_chain(num_samples, minimum: int) -> int:
    """Return ``num_samples`` if each chain keeps enough draws for R-hat and ESS."""
    num_samples = check_positive_int(num_samples, "num_samples")
    if num_samples < minimum:
        raise ValueError(
            f"num_samples={num_samples} is too few draws per chain for R-hat and ESS (at "
            f"least {minimum}; the default 1000 gives stable diagnostics)."
        )
    return num_samples


def check_bool(value, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a bool (``None`` too where allowed), or raise naming the argument.

    Only True/False (NumPy's included): a string such as ``"False"`` would otherwise be
    taken as true.
    """
    if allow_none and value is None:
        return None
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if allow_none else "True or False"
        raise ValueError(f"{name} must be {allowed}; got {_shown(value)!r}.")
    return bool(value)


def check_text(value, name: str) -> str:
    """Return ``value`` if it is a string; otherwise raise naming the argument."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string; got {type(value).__name__} {value!r}.")
    return value


def check_choice(value, name: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``allowed``; otherwise raise listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}; got {_shown(value)!r}.")
    return value


def check_number(value, name: str) -> float:
    """Return ``value`` as a float (NaN and inf included); refuse text and arrays."""
    if isinstance(value, str) or np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number; got {_shown(value)!r}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a single number; got {_shown(value)!r}.") from None


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0, or raise naming the argument."""
    number = check_number(value, name)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive finite number; got {number!r}.")
    return number


def check_nonnegative_float(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0, or raise naming the argument."""
    number = check_number(value, name)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {number!r}.")
    return number


def check_unit_interval(
    value, name: str, *, open_low: bool = False, open_high: bool = False, example: str = ""
) -> float:
    """Return ``value`` as a float in [0, 1], (0, 1], [0, 1) or (0, 1), or raise.

    ``example`` (such as ``", e.g. 0.5"``) follows the interval in the message.
    """
    number = check_number(value, name)
    above = number > 0 if open_low else number >= 0
    below = number < 1 if open_high else number <= 1
    if not (above and below):
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise ValueError(f"{name} must be a number in {interval}{example}; got {number!r}.")
    return number


def check_level(level, name: str = "level") -> float:
    """Return a confidence/credible level strictly between 0 and 1."""
    example = ", e.g. 0.95 for 95%"
    return check_unit_interval(level, name, open_low=True, open_high=True, example=example)


def check_threshold(threshold) -> float:
    """Return a decision threshold in [0, 1]: a row is predicted 1 when ``y_prob > threshold``."""
    return check_unit_interval(threshold, "threshold")


def check_test_size(test_size) -> float:
    """Return the fraction of rows held out for testing, strictly between 0 and 1."""
    example = ", e.g. 0.25 to hold out a quarter of the rows"
    return check_unit_interval(
        test_size, "test_size", open_low=True, open_high=True, example=example
    )


def check_costs(cost_fp, cost_fn) -> tuple[float, float]:
    """Return the costs of a false positive and a false negative: >= 0, not both 0."""
    costs = check_nonnegative_float(cost_fp, "cost_fp"), check_nonnegative_float(cost_fn, "cost_fn")
    if costs[0] + costs[1] == 0:
        raise ValueError("cost_fp and cost_fn are both 0; at least one error must cost more.")
    return costs


def check_zero_division(zero_division) -> float | str:
    """Return what an undefined (0/0) rate becomes: 0.0, 1.0, or ``"warn"`` (0.0 and a warning)."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return zero_division
    elif np.ndim(zero_division) == 0 and zero_division in (0, 1):
        return float(zero_division)
    raise ValueError(f"zero_division must be 0.0, 1.0 or 'warn'; got {_shown(zero_division)!r}.")


# ---------------------------------------------------------------------------------------
# Scores and probabilities of the metrics, one per element of y.


def check_scores(
    values, n_samples: int, name: str = "y_score", *, allow_2d: bool = True
) -> np.ndarray:
    """Return finite float64 scores of shape (n_samples,) or (n_draws, n_samples)."""
    values = check_real_dtype(values, name)
    if values.ndim not in ((1, 2) if allow_2d else (1,)):
        expected = "(n_samples,) or 2-D (n_draws, n_samples)" if allow_2d else "(n_samples,)"
        hint = "" if allow_2d else " For posterior draws pass one row, e.g. the mean over draws."
        raise ValueError(f"{name} must be 1-D {expected}; got shape {values.shape}.{hint}")
    if values.shape[-1] != n_samples:
        raise ValueError(
            f"{name} has {values.shape[-1]} entries per row but y has {n_samples}; "
            "give one value per element of y."
        )
    if values.ndim == 2 and values.shape[0] == 0:
        raise ValueError(f"{name} has no rows: shape {values.shape}.")
    values = values.astype(np.float64, copy=False)
    check_finite(values, name, "Remove or impute them.")
    return values


def check_unit_values(values: np.ndarray, name: str, what: str = "probabilities") -> np.ndarray:
    """Return ``values`` if all lie in [0, 1] (NaN does not); ``what`` says what they are."""
    low, high = values.min(), values.max()
    if not (low >= 0 and high <= 1):
        raise ValueError(f"{name} must be {what} in [0, 1]; got values from {low:g} to {high:g}.")
    return values


def check_probabilities(
    values, n_samples: int, name: str = "y_prob", *, allow_2d: bool = True
) -> np.ndarray:
    """Like :func:`check_scores`, and every value must lie in [0, 1]."""
    return check_unit_values(check_scores(values, n_samples, name, allow_2d=allow_2d), name)


# ---------------------------------------------------------------------------------------
# Observation weights of the metrics.


def check_frequency_weights(weight: np.ndarray | None, what: str) -> np.ndarray | None:
    """Return checked weights as int64 counts, refusing any that is not a whole number.

    Variances (an AUC interval, a test, a binomial interval) depend on how many rows
    there are, so where ``what`` has one the weights must count rows; 2.5 does not.
    """
    if weight is None or weight.dtype.kind in "iu":
        return weight
    fractional = np.flatnonzero(weight != np.floor(weight))
    if fractional.size:
        raise ValueError(
            f"{what} needs whole-number sample_weight (frequency weights: a weight of 3 is a "
            "row seen 3 times), because its variance counts rows; got "
            f"{_shown(weight[fractional[0]])!r} at row {fractional[0]}. Round the weights if "
            "they are counts; weights that are not counts (e.g. inverse-probability "
            "weights) are taken by the point metrics, but give no interval here."
        )
    return weight.astype(np.int64)
