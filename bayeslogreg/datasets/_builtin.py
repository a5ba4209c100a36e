"""Simulated and tabular data: a known logistic model, the "effort" lesson, files, splits."""

import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from bayeslogreg._validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_seed,
    check_test_size,
    check_y,
)
from bayeslogreg.datasets._dataset import Dataset

__all__ = ["load_effort", "load_endometrial", "read_table", "simulate", "train_test_split"]


def simulate(
    n_samples: int,
    coef,
    intercept: float = 0.0,
    *,
    seed: int = 0,
    x_distribution: str = "normal",
    x_low: float = 0.0,
    x_high: float = 1.0,
    x_scale: float = 1.0,
    feature_names=None,
) -> Dataset:
    """Draw data from ``y ~ Bernoulli(sigmoid(intercept + X @ coef))``.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    coef : array_like of shape (n_features,)
        True coefficients.
    intercept : float
        True intercept.
    seed : int
        Seed of the NumPy generator; the same seed gives the same data.
    x_distribution : {"normal", "uniform"}
        Features are independent Normal(0, x_scale) or Uniform(x_low, x_high).
    feature_names : sequence of str, optional
        Defaults to x1, x2, ...

    Returns
    -------
    Dataset
        With ``intercept`` and ``coef`` set to the true values.

    Examples
    --------
    >>> data = simulate(500, [1.0, -2.0], intercept=0.5, seed=1)
    >>> data.X.shape, data.y[:5]
    ((500, 2), array([1, 1, 0, 1, 1]))
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    coef = np.atleast_1d(np.asarray(coef, dtype=np.float64))
    if coef.ndim != 1 or not np.isfinite(coef).all() or not np.isfinite(intercept):
        raise ValueError("coef must be a finite 1-D array and intercept a finite number.")
    check_choice(x_distribution, "x_distribution", ("normal", "uniform"))
    rng = np.random.default_rng(check_seed(seed))
    shape = (n_samples, coef.shape[0])
    if x_distribution == "normal":
        X = rng.normal(0.0, check_positive_float(x_scale, "x_scale"), size=shape)
    else:
        if not x_low < x_high:
            raise ValueError(f"x_low must be below x_high; got {x_low} and {x_high}.")
        X = rng.uniform(x_low, x_high, size=shape)
    eta = intercept + X @ coef
    # Comparing a uniform draw with sigmoid(eta) on the log scale avoids overflow in exp.
    y = (np.log(rng.uniform(size=n_samples)) < -np.logaddexp(0.0, -eta)).astype(np.int64)
    names = tuple(feature_names or (f"x{j + 1}" for j in range(coef.shape[0])))
    return Dataset(X, y, names, float(intercept), coef, "Simulated logistic-regression data.")


def load_effort(n_samples: int = 1000, seed: int = 0) -> Dataset:
    """Load the simulated "effort vs blockbuster role" data of the seed lesson.

    Effort x ~ Uniform(0, 3) in thousands of hours; y = 1 if the actor landed a blockbuster
    role, with true intercept -5 and slope 3 (so p = 0.5 at 5/3 thousand hours).

    Returns
    -------
    Dataset
        X of shape (n_samples, 1) with feature ``effort``; true ``intercept`` = -5 and
        ``coef`` = [3].
    """
    data = simulate(
        n_samples,
        [3.0],
        intercept=-5.0,
        seed=seed,
        x_distribution="uniform",
        x_low=0.0,
        x_high=3.0,
        feature_names=["effort"],
    )
    description = (
        "Effort (thousands of hours, Uniform(0, 3)) against landing a blockbuster role; "
        "true intercept -5, true slope 3."
    )
    return Dataset(data.X, data.y, data.feature_names, data.intercept, data.coef, description)


def load_endometrial() -> Dataset:
    """Load the endometrial cancer data of Heinze and Schemper (2002), shipped with the package.

    79 patients; ``y`` is ``HG`` (1 = high histology grade), the features ``NV``
    (neovasculation, 0/1), ``PI`` (pulsatility index) and ``EH`` (endometrium height).
    ``NV`` separates the data quasi-completely (no patient with NV = 1 has HG = 0), so the
    MLE does not exist: the standard example of Firth's penalised likelihood (R's
    ``logistf``). Source: ``bayeslogreg/datasets/data/README.md``.

    Returns
    -------
    Dataset
        X of shape (79, 3) float64, y of shape (79,) int64; no true parameters.
    """
    path = resources.files("bayeslogreg.datasets") / "data" / "endometrial.csv"
    with path.open() as lines:
        table = np.loadtxt(lines, delimiter=",", skiprows=1)
    description = (
        "Endometrial cancer grading (Heinze and Schemper 2002): high grade against "
        "neovasculation, pulsatility index and endometrium height; NV separates."
    )
    return Dataset(
        table[:, :3], table[:, 3].astype(np.int64), ("NV", "PI", "EH"), None, None, description
    )


def train_test_split(X, y, *, test_size: float = 0.25, seed: int = 0, stratify: bool = True):
    """Split rows at random into a training and a test part.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
    test_size : float in (0, 1)
        Fraction of rows in the test part.
    seed : int
        The same seed gives the same split.
    stratify : bool
        Keep the proportion of 1s the same in both parts.

    Returns
    -------
    X_train, X_test, y_train, y_test
        Same types as the inputs (DataFrames and Series keep their index).
    """
    test_size = check_test_size(test_size)
    labels = np.asarray(y)
    n_samples = labels.shape[0]
    if len(X) != n_samples:
        raise ValueError(f"X has {len(X)} rows but y has {n_samples} entries; they must match.")
    rng = np.random.default_rng(check_seed(seed))
    groups = [np.flatnonzero(labels == v) for v in np.unique(labels)] if stratify else None
    if groups is None:
        groups = [np.arange(n_samples)]
    test = np.concatenate([rng.permutation(g)[: int(round(test_size * len(g)))] for g in groups])
    is_test = np.zeros(n_samples, dtype=bool)
    is_test[test] = True
    if is_test.all() or not is_test.any():
        raise ValueError(f"test_size={test_size} leaves one part empty for {n_samples} rows.")
    train_rows, test_rows = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return _take(X, train_rows), _take(X, test_rows), _take(y, train_rows), _take(y, test_rows)


def _take(data, rows):
    return data.iloc[rows] if hasattr(data, "iloc") else np.asarray(data)[rows]


def read_frame(path):
    """Read a CSV (optionally gzip-compressed) or Parquet file into a pandas DataFrame.

    The columns are as in the file (see :func:`read_table` for checked features and
    labels; a formula fit takes the frame as it is). ``ValueError`` for a missing,
    empty or unreadable file.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"No data file at {str(path)!r}; check the path.")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as error:
            raise ValueError(
                f"Reading Parquet needs pyarrow ({error}); run 'pip install pyarrow' or "
                "convert the file to CSV."
            ) from None
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty; a CSV file needs a header line and rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, zlib.error) as error:
        # OSError covers gzip.BadGzipFile; EOFError a truncated .gz file.
        raise ValueError(
            f"{path} is not a readable CSV file ({type(error).__name__}: {error}); check "
            "that it is complete, and that a .gz file is really gzip-compressed."
        ) from None
    return frame


def read_table(path, target: str, *, features=None, exclude=()) -> Dataset:
    """Read a CSV (optionally gzip-compressed) or Parquet file into a :class:`Dataset`.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.csv.gz`` or ``.parquet``; CSV files need a header line.
    target : str
        Column of 0/1 labels (1 = positive class). Other codings are refused, never
        remapped.
    features : sequence of str, optional
        Columns to use as features; default: every column but ``target`` and ``exclude``.
    exclude : sequence of str
        Columns to leave out (identifiers, other codings of the label).

    Returns
    -------
    Dataset
        ``X`` as float64, ``y`` as 0/1 integers, ``feature_names`` the column names.
    """
    path = Path(path)
    frame = read_frame(path)
    if len(frame) == 0:
        raise ValueError(f"{path.name} has column names but no data rows.")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    asked = [target, *(features or ()), *exclude]
    missing = [c for c in asked if c not in columns]
    if missing:
        raise ValueError(f"{path.name} has no column(s) {missing}; its columns are {columns}.")
    if features is None:
        features = [c for c in columns if c != target and c not in set(exclude)]
    features = list(features)
    if not features:
        raise ValueError(f"No feature columns left in {path.name}; name them with features=.")
    if target in features:
        raise ValueError(f"The target column {target!r} cannot also be a feature.")
    non_numeric = [c for c in features if frame[c].dtype.kind not in "biuf"]
    if non_numeric:
        raise ValueError(
            f"Feature column(s) {non_numeric} of {path.name} are not numeric; encode them as "
            "numbers (e.g. one 0/1 column per category) or leave them out with exclude=."
        )
    incomplete = {c: int(n) for c, n in frame[[*features, target]].isna().sum().items() if n}
    if incomplete:
        raise ValueError(
            f"{path.name} has missing values (column: count) {incomplete}; drop or impute "
            "those rows before fitting."
        )
    try:
        y = check_y(frame[target].to_numpy(), require_both_classes=True)
    except ValueError as error:
        raise ValueError(f"Target column {target!r}: {error}") from None
    X = frame[features].to_numpy(dtype=np.float64)
    return Dataset(X, y.astype(np.int64), tuple(features), description=f"{path.name}: {target}")
