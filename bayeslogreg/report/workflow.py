"""The whole job on one data set: split, fit MLE, MAP and NUTS, compare.

What ``bayeslogreg compare`` runs; usable from scripts as :func:`compare_estimators`.
"""

import time
from collections.abc import Callable

import numpy as np

from bayeslogreg import _formula
from bayeslogreg._validation import check_both_classes, check_choice, check_text
from bayeslogreg.datasets import train_test_split
from bayeslogreg.estimators.nuts import sample_posterior
from bayeslogreg.estimators.point import fit_map, fit_mle
from bayeslogreg.estimators.vi import fit_vi
from bayeslogreg.priors import Jeffreys, Prior
from bayeslogreg.report.comparison import Comparison, compare

__all__ = [
    "DEFAULT_ESTIMATORS",
    "ESTIMATORS",
    "ESTIMATOR_NAMES",
    "compare_estimators",
    "fit_one",
    "fit_settings",
    "standardize",
]

#: Estimators :func:`fit_one` knows, in report order.
ESTIMATORS = ("mle", "map", "firth", "vi", "vi-meanfield", "pathfinder", "nuts")
#: What compare_estimators fits unless told otherwise.
DEFAULT_ESTIMATORS = ("mle", "map", "nuts")
#: The name of each estimator in tables and reports.
ESTIMATOR_NAMES = {
    "mle": "MLE",
    "map": "MAP",
    "firth": "Firth",
    "vi": "VI",
    "vi-meanfield": "VI mean-field",
    "pathfinder": "Pathfinder",
    "nuts": "posterior",
}
# fit_vi's method of each variational estimator.
_VI_METHODS = {"vi": "fullrank", "vi-meanfield": "meanfield", "pathfinder": "pathfinder"}


def standardize(X_train: np.ndarray, X_test: np.ndarray, feature_names):
    """Centre and scale both parts by the training part's mean and sd (ddof = 0).

    Returns the two scaled arrays. Coefficients then mean "per training sd".
    """
    mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
    constant = [name for name, s in zip(feature_names, sd, strict=True) if s == 0]
    if constant:
        raise ValueError(
            f"Feature column(s) {constant} are constant in the training part; they carry no "
            "information and cannot be standardised. Leave them out."
        )
    return (X_train - mean) / sd, (X_test - mean) / sd


def fit_settings(
    *,
    feature_names=None,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    seed: int = 0,
    solver=None,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
) -> dict:
    """Return the settings :func:`fit_one` takes besides the data and the rows, as a dict."""
    return {
        "feature_names": feature_names,
        "prior": prior,
        "intercept_prior": intercept_prior,
        "autoscale": autoscale,
        "seed": seed,
        "solver": solver,
        "num_chains": num_chains,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
    }


def fit_one(
    estimator: str,
    X,
    y,
    *,
    feature_names,
    data=None,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    seed: int = 0,
    solver=None,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    sample_weight=None,
    trials=None,
    offset=None,
):
    """Fit one estimator of :data:`ESTIMATORS` with the report's settings.

    ``"firth"`` is MAP under the Jeffreys prior (Firth's penalised likelihood): the prior
    settings, which are those of MAP and NUTS, do not apply to it. ``"vi"``,
    ``"vi-meanfield"`` and ``"pathfinder"`` are :func:`~bayeslogreg.fit_vi` (full-rank
    ADVI, mean-field ADVI, Pathfinder) under the same priors as MAP and NUTS.

    ``X, y`` as the estimators take them: arrays, or a formula and ``data=frame``;
    ``sample_weight``, ``trials`` and ``offset`` too (arrays, or with a formula columns).
    """
    check_choice(estimator, "estimator", ESTIMATORS)
    rows = {"sample_weight": sample_weight, "trials": trials, "offset": offset}
    if estimator == "mle":
        fixed = {"data": data, "feature_names": feature_names, "solver": solver, "seed": seed}
        return fit_mle(X, y, **fixed, **rows)
    model = {
        "prior": prior,
        "intercept_prior": intercept_prior,
        "autoscale": autoscale,
        "feature_names": feature_names,
        "data": data,
        **rows,
    }
    if estimator == "firth":
        model.update(prior=Jeffreys(), intercept_prior=None, autoscale=None)
    if estimator in ("map", "firth"):
        return fit_map(X, y, solver=solver, seed=seed, **model)
    if estimator in _VI_METHODS:
        return fit_vi(X, y, method=_VI_METHODS[estimator], seed=seed, **model)
    chains = {"num_chains": num_chains, "num_warmup": num_warmup, "num_samples": num_samples}
    return sample_posterior(X, y, seed=seed, **model, **chains)


def compare_estimators(
    data,
    *,
    formula: str | None = None,
    estimators=DEFAULT_ESTIMATORS,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    standardize_features: bool = False,
    threshold: float = 0.5,
    level: float = 0.95,
    solver=None,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    title: str | None = None,
    progress: Callable[[str], None] | None = None,
    sample_weight: str | None = None,
    offset: str | None = None,
) -> Comparison:
    """Split ``data``, fit each estimator on the training part, compare on the rest.

    ``data`` is a :class:`~bayeslogreg.datasets.Dataset`, or with ``formula`` (such as
    ``"y ~ C(g) * x"``) a data frame of the columns it names; then each fit learns the
    formula's encoding (levels, transforms) from the training part alone. The split is
    stratified by the label and seeded.

    ``prior``, ``intercept_prior`` and ``autoscale`` are as in :func:`~bayeslogreg.fit_map`
    (rstanarm's defaults, scaled to the training part's columns). ``progress`` receives
    one line before and after each step.

    ``sample_weight`` and ``offset`` name columns of a formula's data frame: the fits
    take them on the training part and :func:`~bayeslogreg.compare` on the held-out part.
    """
    for estimator in estimators:
        check_choice(estimator, "every entry of estimators", ESTIMATORS)
    say = progress or (lambda _message: None)
    if title is not None:
        check_text(title, "title")
    rows = {"sample_weight": sample_weight, "offset": offset}
    if formula is None:
        given = [f"{name}={value!r}" for name, value in rows.items() if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} name columns of a formula's data frame; pass formula= "
                "and data as that frame."
            )
        X, y, feature_names, description = data.X, data.y, data.feature_names, data.description
    else:
        if standardize_features:
            raise ValueError(
                "standardize_features does not apply to a formula; standardise a column in "
                "the formula itself, e.g. 'y ~ scale(x)' (training mean and sd)."
            )
        X, y, feature_names, description = data, _formula.labels(formula, data), None, formula
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed)
    for part, labels in (("training", y_train), ("test", y_test)):
        check_both_classes(np.asarray(labels), f"the {part} part of the split")
    if standardize_features:
        X_train, X_test = standardize(X_train, X_test, feature_names)
    names = ESTIMATOR_NAMES
    # A formula's fits take (formula, data=frame) and encode the test frame themselves.
    X_fit, y_fit, frame = (X_train, y_train, None) if formula is None else (formula, None, X_train)
    settings = fit_settings(
        feature_names=feature_names,
        prior=prior,
        intercept_prior=intercept_prior,
        autoscale=autoscale,
        seed=seed,
        solver=solver,
        num_chains=num_chains,
        num_warmup=num_warmup,
        num_samples=num_samples,
    )
    fits = {}
    for estimator in estimators:
        say(f"fitting {names[estimator]} on {len(y_train)} rows ...")
        start = time.perf_counter()
        fits[names[estimator]] = fit_one(estimator, X_fit, y_fit, data=frame, **settings, **rows)
        say(f"  done in {time.perf_counter() - start:.1f} s")
    say(f"comparing on {len(y_test)} held-out rows ...")
    if title is None:
        title = f"MLE vs MAP vs posterior: {description or 'data'}"
        if standardize_features:
            title += " (standardised features)"
    return compare(
        fits,
        X_test,
        y_test,
        **rows,
        threshold=threshold,
        level=level,
        train=(X_train, y_train),
        title=title,
    )
