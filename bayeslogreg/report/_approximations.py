"""How far each estimate lies from a NUTS posterior: what a shortcut costs in accuracy.

A MAP with its Laplace interval, an MLE with its Wald interval, an IMH run or a
variational fit each stand in for the posterior with a mean and an sd per parameter.
Against a NUTS posterior of the same model (same priors, same training data) the
distance is measured in that posterior's sds: the largest shift of a mean, and the
smallest and largest ratio of sds, beside the time each took.
"""

import numpy as np
import pandas as pd

from bayeslogreg.estimators.nuts import Posterior
from bayeslogreg.priors import Jeffreys

__all__ = ["APPROXIMATION_COLUMNS", "approximation_table", "reference_name"]

#: Columns of :func:`approximation_table`, in order.
APPROXIMATION_COLUMNS = (
    "method",
    "same_model",
    "max_abs_shift_sd",
    "worst_parameter",
    "sd_ratio_min",
    "sd_ratio_max",
    "fit_time",
    "time_ratio",
)


def reference_name(named: dict) -> str | None:
    """Name of the posterior the others are measured against.

    The first NUTS posterior, else the first posterior of any sampler; None without one.
    """
    posteriors = [n for n, e in named.items() if isinstance(e, Posterior)]
    nuts = [n for n in posteriors if named[n].sampler_name == "NUTS"]
    return (nuts or posteriors or [None])[0]


def _method(estimate) -> str:
    if isinstance(estimate, Posterior):
        return f"{estimate.sampler_name} draws"
    if isinstance(estimate.prior, Jeffreys):
        return "normal at the Firth estimate"
    return "Wald at the MLE" if estimate.estimator == "mle" else "Laplace at the MAP"


def _same_model(estimate, reference: Posterior) -> bool:
    """Whether both targeted one posterior: equal priors and the same training data."""
    return (
        estimate.prior == reference.prior
        and estimate.intercept_prior == reference.intercept_prior
        and estimate.data_sha256 is not None
        and estimate.data_sha256 == reference.data_sha256
    )


def approximation_table(named: dict) -> pd.DataFrame:
    """Distance of every estimate to the NUTS posterior among ``named``.

    One row per estimate other than the reference (see :func:`reference_name`); empty
    without a NUTS posterior. Columns: ``method`` (what stands in for the posterior),
    ``same_model`` (same priors and training data as the reference: only then is the
    distance an approximation error rather than a difference of models),
    ``max_abs_shift_sd`` (largest ``|mean - reference mean| / reference sd`` over the
    parameters) and ``worst_parameter`` (where it occurs), ``sd_ratio_min`` and
    ``sd_ratio_max`` (its sd over the reference's, unitless), ``fit_time`` (s) and
    ``time_ratio`` (its fit time over the reference's).
    """
    name = reference_name(named)
    table = pd.DataFrame(columns=list(APPROXIMATION_COLUMNS), index=pd.Index([], name="estimator"))
    if name is None or named[name].sampler_name != "NUTS":
        return table
    reference = named[name]
    rows = {}
    for other, estimate in named.items():
        if other == name:
            continue
        shift = np.abs(estimate.params - reference.params) / reference.stderr
        ratio = estimate.stderr / reference.stderr
        worst = int(np.argmax(np.where(np.isnan(shift), -np.inf, shift)))
        rows[other] = {
            "method": _method(estimate),
            "same_model": _same_model(estimate, reference),
            "max_abs_shift_sd": float(shift[worst]),
            "worst_parameter": reference.param_names[worst],
            "sd_ratio_min": float(np.min(ratio)),
            "sd_ratio_max": float(np.max(ratio)),
            "fit_time": float(estimate.fit_time),
            "time_ratio": float(estimate.fit_time / reference.fit_time),
        }
    if rows:
        table = pd.DataFrame.from_dict(rows, orient="index", columns=list(APPROXIMATION_COLUMNS))
        table.index.name = "estimator"
    return table.astype({"same_model": bool})
