"""Folds of a cross-validation, and the corrected resampled t-test across them.

Each fold is a pair of row indices ``(train, test)``; every estimator of a
cross-validated comparison is fitted and scored on the same pairs.
"""

import math

import numpy as np
from scipy import stats

from bayeslogreg._validation import check_seed

__all__ = ["corrected_t_test", "folds_of", "stratified_folds"]


def stratified_folds(
    y: np.ndarray, n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` folds with the classes in the same proportions; seeded.

    The rows of each class are shuffled and dealt to the folds in turn (the next class
    continues where the last stopped), so the test parts differ in size by at most one.

    Returns
    -------
    list of (train, test)
        Sorted int64 row indices; every row is in exactly one test part.
    """
    rng = np.random.default_rng(check_seed(seed))
    fold_of = np.empty(len(y), dtype=np.int64)
    start = 0
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        fold_of[rows] = (start + np.arange(len(rows))) % n_splits
        start = (start + len(rows)) % n_splits
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_splits)]


def folds_of(cv, X, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Turn ``cv`` into folds: a number of stratified folds, a splitter, or index pairs.

    ``cv`` is an int >= 2, an object with scikit-learn's ``split(X, y)``, or an iterable
    of ``(train, test)`` index arrays.

    Raises
    ------
    ValueError
        For fewer than 2 folds, more folds than rows of the smaller class (scikit-learn's
        wording), or folds whose training part lacks a class or whose rows are out of range.
    """
    n_rows = len(y)
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        n_splits = int(cv)
        if n_splits < 2:
            raise ValueError(
                f"cv={n_splits}: cross-validation needs at least 2 folds; pass cv=5 or more."
            )
        smallest = int(min(np.sum(y == 0), np.sum(y == 1)))
        if n_splits > smallest:
            raise ValueError(
                f"n_splits={n_splits} cannot be greater than the number of members in each "
                f"class (the smaller class has {smallest} rows); pass cv={smallest} or fewer."
            )
        return stratified_folds(y, n_splits, seed)
    if isinstance(cv, str | bytes):
        pairs = None
    elif hasattr(cv, "split"):
        pairs = list(cv.split(X, y))
    else:
        try:
            pairs = list(cv)
        except TypeError:
            pairs = None
    if pairs is None:
        raise TypeError(
            "cv must be a number of folds, a scikit-learn splitter or an iterable of "
            f"(train, test) index arrays; got {type(cv).__name__}."
        )
    if len(pairs) < 2:
        raise ValueError(f"cv gave {len(pairs)} fold(s); cross-validation needs at least 2.")
    folds = []
    for k, pair in enumerate(pairs):
        train, test = (np.asarray(part) for part in pair)
        for part, rows in (("training", train), ("test", test)):
            if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu":
                raise ValueError(
                    f"fold {k} of cv: its {part} rows must be a non-empty 1-D array of row "
                    f"indices; got shape {rows.shape} of {rows.dtype}."
                )
            if rows.min() < 0 or rows.max() >= n_rows:
                raise ValueError(
                    f"fold {k} of cv: {part} row {int(rows.max())} is out of range for "
                    f"{n_rows} rows."
                )
        if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            raise ValueError(
                f"fold {k} of cv has a part with one class only; every training and test "
                "part needs both (use stratified folds: cv=int)."
            )
        folds.append((train.astype(np.int64), test.astype(np.int64)))
    return folds


def corrected_t_test(
    differences, n_train: float, n_test: float
) -> tuple[float, float, float, float]:
    """Nadeau and Bengio's corrected resampled t-test of a mean difference across folds.

    The folds' training sets overlap, so the differences are correlated and the plain
    paired t-test is too liberal; the variance of the mean is inflated from ``1/k`` to
    ``1/k + n_test/n_train`` (Nadeau and Bengio 2003, Machine Learning 52, 239-281).

    Parameters
    ----------
    differences : array-like of shape (k,)
        Per-fold differences of a metric between two estimators.
    n_train, n_test : float
        Rows in a fold's training and test part (means over the folds).

    Returns
    -------
    mean, se, t, p_value : float
        ``se`` is the corrected standard error of the mean; ``p_value`` two-sided, from
        Student's t with ``k - 1`` degrees of freedom. Identical folds give ``se = 0``:
        ``t = 0, p = 1`` when the mean is 0, else infinite ``t`` and ``p = 0``.
    """
    d = np.asarray(differences, dtype=np.float64)
    k = d.size
    mean = float(d.mean())
    se = math.sqrt((1.0 / k + n_test / n_train) * float(d.var(ddof=1)))
    if se == 0.0:
        return (
            mean,
            0.0,
            (0.0 if mean == 0.0 else math.copysign(math.inf, mean)),
            float(mean == 0.0),
        )
    t = mean / se
    return mean, se, t, float(2.0 * stats.t.sf(abs(t), k - 1))
