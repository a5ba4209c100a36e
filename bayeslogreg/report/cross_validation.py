"""Compare estimators by k-fold cross-validation: the same folds for all, paired tests.

:func:`compare_cv` fits every estimator on every fold's training rows, scores it on the
fold's held-out rows, and returns a :class:`CVComparison`: the metrics per fold, their
means with standard errors, the Nadeau-Bengio corrected resampled t-test of each pair of
estimators across folds, DeLong's test of each pair within each fold, figures, and the
same Markdown, HTML, JSON and folder reports as :func:`~bayeslogreg.compare`.
"""

import inspect
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogreg import _formula
from bayeslogreg._validation import (
    align_y,
    check_choice,
    check_seed,
    check_text,
    check_threshold,
    check_y,
)
from bayeslogreg.diagnostics import heldout_lpd
from bayeslogreg.estimators.nuts import Posterior
from bayeslogreg.estimators.point import PointEstimate
from bayeslogreg.metrics import (
    brier_score,
    expected_calibration_error,
    log_loss,
    rates,
    roc_auc,
    roc_curve,
)
from bayeslogreg.priors import Prior
from bayeslogreg.report import _cv_render, render
from bayeslogreg.report._folds import corrected_t_test, folds_of
from bayeslogreg.report.comparison import paired_delong_tests
from bayeslogreg.report.provenance import data_hash, versions
from bayeslogreg.report.workflow import ESTIMATOR_NAMES, ESTIMATORS, fit_one, fit_settings

__all__ = ["CV_METRICS", "CVComparison", "TESTED_METRICS", "compare_cv"]

#: Metrics of each estimator on each fold's held-out rows.
CV_METRICS = (
    "auc",
    "log_loss",
    "brier",
    "ece",
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "lpd",
    "fit_time",
)
#: Metrics compared between estimators by the corrected resampled t-test.
TESTED_METRICS = ("auc", "log_loss", "brier", "lpd")


@dataclass(frozen=True)
class _Spec:
    """One estimator to cross-validate: a built-in name, an estimator object or a function."""

    name: str
    kind: str  # "builtin", "sklearn" or "function"
    value: object

    def takes_weights(self) -> bool:
        if self.kind == "builtin":
            return True
        if self.kind == "sklearn":
            return "sample_weight" in inspect.signature(self.value.fit).parameters
        return False


def _spec(name: str, value) -> _Spec:
    if isinstance(value, str):
        kind = check_choice(value.lower(), f"estimator {name!r}", ESTIMATORS)
        return _Spec(name, "builtin", kind)
    if hasattr(value, "fit") and hasattr(value, "get_params"):
        return _Spec(name, "sklearn", value)
    if callable(value):
        return _Spec(name, "function", value)
    raise TypeError(
        f"estimator {name!r} is a {type(value).__name__}; give one of {', '.join(ESTIMATORS)}, "
        "a scikit-learn style estimator (fit, predict_proba), or a function (X, y) -> fitted "
        "result."
    )


def _specs(estimators) -> list[_Spec]:
    """Name each estimator: mapping keys, else MLE/MAP/posterior or the class or function name."""
    if isinstance(estimators, str) or not isinstance(estimators, Mapping | list | tuple):
        estimators = [estimators]
    if isinstance(estimators, Mapping):
        specs = [_spec(str(name), value) for name, value in estimators.items()]
    else:
        specs, counts = [], {}
        for value in estimators:
            if isinstance(value, str):
                base = ESTIMATOR_NAMES.get(value.lower(), value)
            else:
                base = getattr(value, "__name__", type(value).__name__)
            counts[base] = counts.get(base, 0) + 1
            specs.append(_spec(base if counts[base] == 1 else f"{base} {counts[base]}", value))
    if not specs:
        raise ValueError("compare_cv() needs at least one estimator; got none.")
    names = [s.name for s in specs]
    if len(set(names)) < len(names):
        raise ValueError(f"estimator names {names} repeat once written as text; name each once.")
    return specs


@dataclass(frozen=True)
class _Rows:
    """All rows: ``X`` as given (array or frame) or a formula's frame, 0/1 labels ``y``."""

    X: object
    y: np.ndarray
    formula: str | None

    def take(self, rows: np.ndarray):
        return self.X.iloc[rows] if hasattr(self.X, "iloc") else np.asarray(self.X)[rows]


def _rows(X, y, data) -> _Rows:
    if isinstance(X, str):
        if data is None or y is not None:
            raise ValueError(
                "compare_cv(formula, data=frame) takes the labels from the formula's left-hand "
                "side: pass data= and no y."
            )
        labels = check_y(_formula.labels(X, data), require_both_classes=True)
        return _Rows(data, labels, X)
    if data is not None:
        raise ValueError("data= goes with a formula as X; with arrays pass X and y.")
    if X is None or y is None:
        raise ValueError("compare_cv() needs X and y, or a formula and data=frame.")
    labels = check_y(align_y(X, y, name="y"), n_samples=len(X), require_both_classes=True)
    return _Rows(X, labels, None)


@dataclass(frozen=True)
class _Fit:
    """One estimator fitted on one fold: held-out probabilities and what produced them."""

    prob: np.ndarray
    seconds: float
    result: PointEstimate | Posterior | None
    X_test: np.ndarray | None  # as the result encodes the held-out rows


def _padded(train: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``train`` topped up to ``size`` rows with copies of weight 0, and the rows' weights.

    Every fold then has one shape, and one kind of fit (weighted), so one program.
    """
    extra = size - train.size
    weight = np.concatenate([np.ones(train.size), np.zeros(extra)])
    return np.concatenate([train, np.resize(train, extra)]), weight


def _fit_fold(spec: _Spec, rows: _Rows, train, test, size: int | None, settings: dict) -> _Fit:
    """Fit one estimator on a fold's training rows (topped up to ``size`` if given)."""
    weight = None
    if size is not None and spec.takes_weights():
        train, weight = _padded(train, size)
    X_train, y_train, X_test = rows.take(train), rows.y[train], rows.take(test)
    start = time.perf_counter()
    if spec.kind == "builtin":
        fit_X, fit_y, frame = (
            (X_train, y_train, None) if rows.formula is None else (rows.formula, None, X_train)
        )
        result = fit_one(spec.value, fit_X, fit_y, data=frame, sample_weight=weight, **settings)
        fitted = None
    elif spec.kind == "sklearn":
        fitted = _clone(spec.value)
        given = {} if weight is None else {"sample_weight": weight}
        fitted.fit(X_train, y_train, **given)
        result = getattr(fitted, "result_", None)
    else:
        result = (
            spec.value(rows.formula, data=X_train) if rows.formula else spec.value(X_train, y_train)
        )
        fitted = None
        if not isinstance(result, PointEstimate | Posterior):
            raise TypeError(
                f"estimator {spec.name!r} returned a {type(result).__name__}; a function given "
                "to compare_cv must return a fitted PointEstimate or Posterior."
            )
    seconds = time.perf_counter() - start
    if isinstance(result, PointEstimate | Posterior):
        encoded = result._checked_X(X_test, name="the held-out rows")
        return _Fit(result._predict(encoded), seconds, result, encoded)
    positive = list(fitted.classes_).index(1)
    return _Fit(np.asarray(fitted.predict_proba(X_test))[:, positive], seconds, None, None)


def _clone(estimator):
    try:
        from sklearn.base import clone
    except ImportError:  # a scikit-learn style object without scikit-learn installed
        import copy

        return copy.deepcopy(estimator)
    return clone(estimator)


def _fold_metrics(fit: _Fit, y: np.ndarray, threshold: float, n_bins: int) -> dict:
    prob = fit.prob
    counts = rates(y, prob, threshold=threshold)
    if isinstance(fit.result, Posterior):
        lpd = heldout_lpd(fit.result.flat_draws, fit.X_test, y)
    else:
        lpd = -y.size * log_loss(y, prob)
    return {
        "auc": roc_auc(y, prob),
        "log_loss": log_loss(y, prob),
        "brier": brier_score(y, prob),
        "ece": float(expected_calibration_error(y, prob, n_bins=n_bins)),
        "accuracy": counts["accuracy"],
        "precision": counts["precision"],
        "recall": counts["recall"],
        "specificity": counts["specificity"],
        "lpd": lpd,
        "fit_time": fit.seconds,
    }


def _pair_tests(folds: pd.DataFrame, names: list, sizes: pd.DataFrame) -> pd.DataFrame:
    n_train, n_test = sizes["n_train"].mean(), sizes["n_test"].mean()
    tests = []
    for metric in TESTED_METRICS:
        for a, b in itertools.combinations(names, 2):
            differences = folds.loc[a, metric].to_numpy() - folds.loc[b, metric].to_numpy()
            mean, se, t, p = corrected_t_test(differences, n_train, n_test)
            tests.append(
                {
                    "metric": metric,
                    "estimator_a": a,
                    "estimator_b": b,
                    "mean_difference": mean,
                    "se": se,
                    "t": t,
                    "df": len(differences) - 1,
                    "p_value": p,
                }
            )
    columns = ["metric", "estimator_a", "estimator_b", "mean_difference", "se", "t", "df"]
    return pd.DataFrame(tests, columns=[*columns, "p_value"])


def _delong_per_fold(fits: dict, y: np.ndarray, folds: list) -> pd.DataFrame:
    tables = [
        paired_delong_tests({name: fits[name][k].prob for name in fits}, y[test])
        for k, (_, test) in enumerate(folds)
    ]
    return (
        pd.concat(tables, keys=range(len(folds)), names=["fold", None])
        .reset_index(level="fold")
        .reset_index(drop=True)
    )


@dataclass(frozen=True, eq=False)
class CVComparison:
    """Estimators cross-validated on the same folds; the result of :func:`compare_cv`.

    Attributes
    ----------
    title : str
    names : tuple of str
        Estimator names, in the order given.
    folds : DataFrame
        Index (estimator, fold); columns :data:`CV_METRICS`: AUC, log-loss, Brier score,
        expected calibration error (``ece``), accuracy, precision, recall and specificity
        at ``threshold`` on the fold's held-out rows; ``lpd``, the log predictive density
        of the held-out rows in nats (a posterior's ``sum_i log mean_s p(y_i | theta_s)``,
        a point estimate's log-likelihood of them); ``fit_time`` in seconds.
    summary : DataFrame
        One row per estimator; columns (metric, ``mean`` or ``se``), ``se`` the standard
        error of the mean over folds (``sd / sqrt(k)``, which understates the uncertainty
        because the folds share training rows: the tests correct for it).
    tests : DataFrame
        The Nadeau-Bengio corrected resampled t-test for each metric of
        :data:`TESTED_METRICS` and each pair: mean difference (a - b), its corrected se,
        t, degrees of freedom (k - 1) and two-sided p-value.
    delong : DataFrame
        DeLong's paired test of equal AUC for each pair within each fold.
    sizes : DataFrame
        Training and held-out rows per fold.
    results : dict of str to list
        Each estimator's fitted result per fold (None for estimators that are not
        bayeslogreg's).
    threshold : float
    n_bins : int
    seed : int
    provenance : dict
        Package versions, the data's SHA-256, the seed and the folds' hash.
    """

    title: str
    names: tuple
    folds: pd.DataFrame
    summary: pd.DataFrame
    tests: pd.DataFrame
    delong: pd.DataFrame
    sizes: pd.DataFrame
    results: dict
    threshold: float
    n_bins: int
    seed: int
    provenance: dict
    _curves: dict = field(repr=False)

    @property
    def n_splits(self) -> int:
        """Number of folds."""
        return len(self.sizes)

    def findings(self) -> list[str]:
        """Plain-language lines a reader should see first."""
        return _cv_render.findings(self)

    def figure_names(self) -> list[str]:
        """Keys of :meth:`figures`, without drawing them."""
        return ["roc", "metrics"]

    def figures(self) -> dict:
        """Draw the report's figures; return matplotlib Figures by name.

        ``roc``: the mean ROC curve per estimator with its range over the folds;
        ``metrics``: each fold's metrics and their mean +- se.
        """
        from bayeslogreg.report import _cv_figures

        return {
            "roc": _cv_figures.cv_roc_figure(self._curves),
            "metrics": _cv_figures.cv_metrics_figure(self.folds, self.names),
        }

    def to_markdown(self, figure_dir: str | None = None) -> str:
        """Render the report as Markdown; figures are linked from ``figure_dir`` if given."""
        return _cv_render.markdown_report(self, figure_dir=figure_dir)

    def to_html(self) -> str:
        """Render the report as one self-contained HTML page (figures embedded as PNG)."""
        return _cv_render.html_report(self, render.figure_pngs(self.figures()))

    def to_dict(self) -> dict:
        """Tables and settings as plain Python values (NaN and infinities become None)."""
        return {
            "title": self.title,
            "n_splits": self.n_splits,
            "threshold": self.threshold,
            "n_bins": self.n_bins,
            "seed": self.seed,
            "estimators": list(self.names),
            "folds": render.records(self.folds.reset_index()),
            "summary": {
                name: {
                    metric: {q: render.plain(row[(metric, q)]) for q in ("mean", "se")}
                    for metric in CV_METRICS
                }
                for name, row in self.summary.iterrows()
            },
            "tests": render.records(self.tests),
            "delong": render.records(self.delong),
            "sizes": render.records(self.sizes),
            "findings": self.findings(),
            "provenance": self.provenance,
        }

    def to_json(self, indent: int = 2) -> str:
        """:meth:`to_dict` as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, directory) -> list[Path]:
        """Write the report into the folder ``directory`` as a whole; return the paths.

        report.html, report.md, cv_comparison.json, folds.csv, summary.csv, tests.csv,
        delong.csv and the figures as PNG under ``figures/``, replacing the folder in
        one step as :meth:`Comparison.save <bayeslogreg.report.comparison.Comparison.save>`
        does (and refusing a folder that holds anything else).
        """
        render.check_report_folder(directory)
        pngs = render.figure_pngs(self.figures())
        files = render.figure_files(pngs)
        texts = {
            "report.html": _cv_render.html_report(self, pngs),
            "report.md": self.to_markdown(figure_dir=render.FIGURE_FOLDER),
            "cv_comparison.json": self.to_json() + "\n",
            "folds.csv": render.csv_text(self.folds),
            "summary.csv": render.csv_text(self.summary),
            "tests.csv": render.csv_text(self.tests, index=False),
            "delong.csv": render.csv_text(self.delong, index=False),
        }
        return render.write_report_folder(directory, files, texts)

    def __repr__(self) -> str:
        return _cv_render.text_report(self)

    def _repr_html_(self) -> str:
        return _cv_render.html_tables(self)


def compare_cv(
    estimators,
    X=None,
    y=None,
    *,
    data=None,
    cv=5,
    seed: int = 0,
    threshold: float = 0.5,
    n_bins: int = 10,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    solver=None,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    title: str = "Cross-validated comparison of estimators",
    progress: Callable[[str], None] | None = None,
) -> CVComparison:
    """Fit every estimator on every fold; compare them on the held-out rows.

    Parameters
    ----------
    estimators : sequence or dict of name to estimator
        Each a built-in name (``"mle"``, ``"map"``, ``"firth"``: MAP under the Jeffreys
        prior, ``"nuts"``; fitted with the settings below), a scikit-learn style
        estimator (``fit``, ``predict_proba``; cloned for each fold, e.g.
        :class:`bayeslogreg.sklearn.BayesianLogisticRegression` or scikit-learn's own),
        or a function ``(X_train, y_train) -> result`` returning a
        PointEstimate or Posterior (with a formula: ``(formula, data=train_frame)``).
    X : array-like of shape (n_samples, p), DataFrame, or a formula
        The features; or a formula such as ``"y ~ C(g) + x"`` with ``data=frame``.
    y : array-like of shape (n_samples,)
        0/1 labels; not with a formula (its left-hand side gives them).
    data : DataFrame, optional
        The frame of a formula.
    cv : int, splitter or iterable of (train, test) index arrays
        An int gives that many stratified folds, shuffled with ``seed``; a scikit-learn
        splitter (``split(X, y)``) or explicit index pairs give those folds.
    seed : int
        Seed of the folds and of every fit.
    threshold : float
        Rows with probability above it are predicted positive (accuracy ... specificity).
    n_bins : int
        Bins of the expected calibration error.
    prior, intercept_prior, autoscale, solver, num_chains, num_warmup, num_samples
        Settings of the built-in estimators, as in :func:`~bayeslogreg.fit_map` and
        :func:`~bayeslogreg.sample_posterior`.
    title : str
    progress : callable, optional
        Receives one line per fit.

    Returns
    -------
    CVComparison

    Notes
    -----
    Folds whose training parts differ in size (``n`` not a multiple of ``k``) are
    topped up to the largest with copies of their rows of ``sample_weight`` 0, for the
    estimators that take weights: the fits are those of the fold's rows, and every
    fold has one shape, so each compiled program (NUTS's included) is built once and
    reused across folds. Fits of a formula are not topped up (its encoding, e.g.
    ``scale(x)``, learns from every row it is given): there two sizes of fold cost two
    builds of each program.
    """
    check_text(title, "title")
    specs = _specs(estimators)
    rows = _rows(X, y, data)
    seed = check_seed(seed)
    threshold = check_threshold(threshold)
    folds = folds_of(cv, rows.X, rows.y, seed)
    say = progress or (lambda _message: None)
    settings = fit_settings(
        prior=prior,
        intercept_prior=intercept_prior,
        autoscale=autoscale,
        seed=seed,
        solver=solver,
        num_chains=num_chains,
        num_warmup=num_warmup,
        num_samples=num_samples,
    )
    sizes_seen = {train.size for train, _ in folds}
    # A formula learns its encoding (scale(x)'s mean and sd, levels) from the rows it is
    # given, weight 0 or not: its folds are fitted as they are.
    size = max(sizes_seen) if len(sizes_seen) > 1 and rows.formula is None else None
    fits = {spec.name: [] for spec in specs}
    for k, (train, test) in enumerate(folds):
        for spec in specs:
            say(f"fold {k + 1}/{len(folds)}: fitting {spec.name} on {train.size} rows ...")
            fits[spec.name].append(_fit_fold(spec, rows, train, test, size, settings))
    records = {
        (name, k): _fold_metrics(fit, rows.y[folds[k][1]], threshold, n_bins)
        for name, per_fold in fits.items()
        for k, fit in enumerate(per_fold)
    }
    table = pd.DataFrame.from_dict(records, orient="index", columns=list(CV_METRICS))
    table.index = pd.MultiIndex.from_tuples(table.index, names=["estimator", "fold"])
    names = [spec.name for spec in specs]
    grouped = table.groupby(level="estimator", sort=False)
    summary = pd.concat(
        {"mean": grouped.mean(), "se": grouped.std(ddof=1) / np.sqrt(len(folds))}, axis=1
    ).swaplevel(axis=1)[[(m, q) for m in CV_METRICS for q in ("mean", "se")]]
    summary.columns.names = ["metric", "quantity"]
    sizes = pd.DataFrame(
        {"n_train": [t.size for t, _ in folds], "n_test": [t.size for _, t in folds]},
        index=pd.Index(range(len(folds)), name="fold"),
    )
    curves = {
        name: [
            roc_curve(rows.y[test], fit.prob)[:2]
            for fit, (_, test) in zip(per_fold, folds, strict=True)
        ]
        for name, per_fold in fits.items()
    }
    fold_ids = np.concatenate([np.full(test.size, k) for k, (_, test) in enumerate(folds)])
    return CVComparison(
        title=title,
        names=tuple(names),
        folds=table,
        summary=summary.loc[names],
        tests=_pair_tests(table, names, sizes),
        delong=_delong_per_fold(fits, rows.y, folds),
        sizes=sizes,
        results={name: [fit.result for fit in per_fold] for name, per_fold in fits.items()},
        threshold=threshold,
        n_bins=n_bins,
        seed=seed,
        provenance={
            "versions": versions(),
            "data_sha256": data_hash(_hashable(rows), rows.y),
            "folds_sha256": data_hash(np.concatenate([t for _, t in folds]), fold_ids),
            "seed": seed,
        },
        _curves=curves,
    )


def _hashable(rows: _Rows) -> np.ndarray:
    """Return the features as one array to hash (a frame: pandas' hash of each row)."""
    if hasattr(rows.X, "iloc"):
        return pd.util.hash_pandas_object(rows.X, index=False).to_numpy()
    return np.ascontiguousarray(rows.X, dtype=np.float64)
