"""The held-out rows of a comparison: features, 0/1 labels, weights and offsets, checked.

:func:`held_out_rows` turns what :func:`~bayeslogreg.compare` was given (``X_test`` and
``y_test``, or a formula's ``data=frame``; ``sample_weight`` and ``offset`` as arrays or
column names of that frame) into one :class:`HeldOutRows`.
"""

from dataclasses import dataclass

import numpy as np

from bayeslogreg._validation import (
    _describe_values,
    _frame,
    align_y,
    check_both_classes,
    check_frequency_weights,
    check_offset,
    check_sample_weight,
    check_y,
)

__all__ = ["HeldOutRows", "held_out_rows"]


@dataclass(frozen=True)
class HeldOutRows:
    """The held-out rows: ``X`` (n_test, p), 0/1 ``y``, and per row ``weight`` and ``offset``.

    ``weight`` (int64 frequencies) and ``offset`` (float64) are None where not given.
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None = None
    offset: np.ndarray | None = None


def _labels(named: dict, y, n_rows: int, source: str) -> np.ndarray:
    """0/1 labels of the held-out rows; counts refused clearly for fits of counts."""
    values = np.asarray(y)
    counts = [n for n, e in named.items() if getattr(e, "map_estimate", e).binomial]
    if counts and values.dtype.kind in "biuf" and np.isfinite(values).all():
        if not np.isin(values, (0, 1)).all():
            raise ValueError(
                f"{source} holds counts (values {_describe_values(np.unique(values))}): the "
                f"estimates {counts} were fitted with trials= (binomial counts), but "
                "compare() scores 0/1 labels and takes no trials. Give each row of k "
                "successes in n trials as two rows, labelled 1 and 0, with sample_weight "
                "k and n - k."
            )
    return check_y(values, n_samples=n_rows, require_both_classes=True)


def _given_rows(named: dict, X_test, y_test, data) -> tuple[np.ndarray, np.ndarray, object]:
    """Return the held-out rows: ``X`` (n_test, p) in fitted order, 0/1 ``y`` and their frame.

    The frame (``data``, or ``X_test`` for fits of a formula; else None) is where column
    names given as ``sample_weight`` or ``offset`` are looked up.
    """
    first = next(iter(named.values()))
    if data is None:
        if X_test is None or y_test is None:
            raise ValueError(
                "compare() needs the held-out rows: X_test and y_test, or data=frame for "
                "fits of a formula."
            )
        X = first._checked_X(X_test, name="X_test")
        y = _labels(named, align_y(X_test, y_test, name="y_test"), X.shape[0], "y_test")
        frame = _frame(X_test) if first.formula is not None else None
        return X, y, frame
    if X_test is not None or y_test is not None:
        raise ValueError(
            "compare() got data= together with X_test or y_test; data= holds the held-out "
            "rows of fits of a formula (y from its left-hand side): pass one or the other."
        )
    encodings = {repr(estimate.formula) for estimate in named.values()}
    if first.formula is None or len(encodings) > 1:
        raise ValueError(
            "compare(data=frame) needs fits of one formula with one encoding (fitted on the "
            f"same data); got formulas {sorted(encodings)}. Pass X_test and y_test instead."
        )
    X = first._checked_X(data, name="data")
    source = f"the left-hand side of {first.formula.formula!r} in data"
    return X, _labels(named, first.formula.labels(data), X.shape[0], source), _frame(data)


def held_out_rows(named: dict, X_test, y_test, data, sample_weight, offset) -> HeldOutRows:
    """Check the held-out rows of the fits ``named`` (name -> result), as compare() takes them.

    ``sample_weight`` and ``offset`` are arrays of one value per row or, for fits of a
    formula, names of columns of the held-out frame.
    """
    X, y, frame = _given_rows(named, X_test, y_test, data)
    given = {"sample_weight": sample_weight, "offset": offset}
    for name, value in given.items():
        if isinstance(value, str):
            if frame is None or value not in getattr(frame, "columns", ()):
                raise ValueError(
                    f"{name}={value!r} names a column, which needs fits of a formula and "
                    "held-out rows in a data frame (data= or X_test) that has that column; "
                    "otherwise pass one number per row."
                )
            given[name] = frame[value]
    n_rows = X.shape[0]
    weight = check_sample_weight(given["sample_weight"], n_rows, frame)
    weight = check_frequency_weights(weight, "compare (its AUC intervals and DeLong tests)")
    if weight is not None:
        among = " among the rows of positive sample_weight"
        check_both_classes(y[weight > 0], "compare", among=among)
    if given["offset"] is not None:
        given["offset"] = check_offset(given["offset"], frame, n_rows)
    return HeldOutRows(X, y, weight, given["offset"])
