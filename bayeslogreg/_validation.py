"""Input checks with messages that say what is wrong and what to do.

This module imports nothing from the package, so every layer can use it.
"""

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


def _column_names(X) -> tuple[str, ...] | None:
    columns = getattr(X, "columns", None)
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
    later); integers and booleans become float64.
    """
    columns = _column_names(X)
    if columns is not None:
        non_numeric = [c for c, dt in zip(columns, X.dtypes, strict=True) if not _is_real_dtype(dt)]
        if non_numeric:
            raise ValueError(
                f"{name} has non-numeric columns {non_numeric}; encode them as numbers "
                "(for example one-hot indicator columns) before fitting."
            )
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype == object or not _is_real_dtype(X.dtype):
        raise ValueError(
            f"{name} must hold real numbers; got dtype {X.dtype}. Convert it, e.g. "
            f"{name} = np.asarray({name}, dtype=float)."
        )
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
    _check_finite(X, name)
    return X


def _check_finite(X: np.ndarray, name: str) -> None:
    starts = range(0, X.shape[0], FINITE_BLOCK_ROWS)
    bad_starts = [i for i in starts if not np.isfinite(X[i : i + FINITE_BLOCK_ROWS]).all()]
    if not bad_starts:
        return
    n_bad_rows, first = 0, None
    for start in bad_starts:
        rows, cols = np.nonzero(~np.isfinite(X[start : start + FINITE_BLOCK_ROWS]))
        n_bad_rows += len(np.unique(rows))
        if first is None:
            first = start + rows[0], cols[0]
    kind = "NaN" if np.isnan(X[first]) else "inf"
    raise ValueError(
        f"{name} contains non-finite values (NaN or inf) in {n_bad_rows} rows; "
        f"the first is {kind} at row {first[0]}, column {first[1]}. Remove or impute them."
    )


def _is_real_dtype(dtype) -> bool:
    # Also for pandas extension dtypes (strings, categoricals), which carry a ``kind``.
    return getattr(dtype, "kind", "O") in "biuf"


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
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or inf; drop those rows first.")
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
    if require_both_classes and len(values) < 2:
        raise ValueError(
            f"y contains only class {values[0].item():g} ({y.shape[0]} rows); logistic "
            "regression needs both 0s and 1s."
        )
    return y.astype(dtype)


def check_X_y(X, y, feature_names=None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Validate a design matrix and labels for fitting.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,), 0.0/1.0 in the dtype of X
    feature_names : tuple of str, one per column (DataFrame columns, given names, or x1..xp)
    """
    columns = _column_names(X)
    X = check_X(X)
    y = check_y(y, n_samples=X.shape[0], dtype=X.dtype)
    n_samples, n_features = X.shape
    if n_samples < n_features + 1:
        raise ValueError(
            f"fewer rows ({n_samples}) than parameters ({n_features + 1}: intercept and "
            f"{n_features} coefficients); the model is not identified. Use more data or "
            "fewer features."
        )
    if feature_names is None:
        feature_names = columns or [f"x{j + 1}" for j in range(n_features)]
    return X, y, check_feature_names(feature_names, n_features)


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


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int >= 1, or raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_bool(value, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a bool (``None`` too where allowed), or raise naming the argument.

    Only True/False (NumPy's included): a string such as ``"False"`` would otherwise be
    taken as true.
    """
    if allow_none and value is None:
        return None
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if allow_none else "True or False"
        raise ValueError(f"{name} must be {allowed}; got {value!r}.")
    return bool(value)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0, or raise naming the argument."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number; got {value!r}.") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")
    return value


def check_open_unit(value, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1, or raise naming the argument.

    Only real numbers: a bool or a string such as ``"0.9"`` is refused.
    """
    real = isinstance(value, int | float | np.integer | np.floating)
    if not real or isinstance(value, bool):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1); got {value!r}.")
    return value


def check_level(level) -> float:
    """Return a confidence/credible level strictly between 0 and 1."""
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    return level


def check_choice(value, name: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise listing them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}; got {value!r}.")
    return value
