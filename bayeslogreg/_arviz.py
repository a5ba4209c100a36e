"""Every ArviZ call, for both generations, in one place.

ArviZ 0.23 (Python 3.11) builds ``InferenceData``; ArviZ 1.x (Python 3.12+) builds an
xarray ``DataTree`` and changed ``from_dict`` and ``summary`` (1.x defaults to an 89%
equal-tailed interval and rounds its output). Callers get the same groups, the same
summary columns and raw numbers from either generation. ArviZ is imported on first use:
it takes about two seconds, which the command line should not pay for ``--help``.
"""

import functools
import warnings

import numpy as np
import pandas as pd

__all__ = [
    "SUMMARY_COLUMNS",
    "arviz",
    "from_samples",
    "is_arviz_1",
    "posterior_draws",
    "summary",
]

#: Column order of :func:`summary`, identical for both ArviZ generations.
SUMMARY_COLUMNS = [
    "mean",
    "sd",
    "ci_lower",
    "ci_upper",
    "mcse_mean",
    "mcse_sd",
    "ess_bulk",
    "ess_tail",
    "r_hat",
]


@functools.cache
def arviz():
    """Import ArviZ once, without its 0.23 refactor announcement (not about our code)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing", category=FutureWarning)
        import arviz as az
    return az


def is_arviz_1() -> bool:
    """Whether the installed ArviZ is the 1.x (DataTree) generation."""
    return int(arviz().__version__.split(".")[0]) >= 1


def from_samples(groups: dict[str, dict[str, np.ndarray]], *, coords: dict, dims: dict):
    """Build ArviZ data from NumPy arrays.

    Parameters
    ----------
    groups : dict
        Group name (``posterior``, ``sample_stats``, ``log_likelihood``,
        ``observed_data``) to a dict of arrays; sampled groups have leading dims
        (chain, draw).
    coords, dims : dict
        Coordinate values and the dimension names of each variable.

    Returns
    -------
    InferenceData (ArviZ 0.23) or xarray.DataTree (ArviZ 1.x)
    """
    az = arviz()
    if is_arviz_1():
        return az.from_dict(groups, coords=coords, dims=dims)
    return az.from_dict(**groups, coords=coords, dims=dims)


def posterior_draws(data, name: str) -> np.ndarray:
    """Draws of one posterior variable as an array of shape (chain, draw, ...)."""
    return np.asarray(data.posterior[name].values)


def summary(data, var_names: list[str], *, ci_prob: float, ci_kind: str = "hdi") -> pd.DataFrame:
    """Posterior summary with columns :data:`SUMMARY_COLUMNS`, unrounded.

    Parameters
    ----------
    data : InferenceData or DataTree
    var_names : list of str
        Posterior variables, in the order of the rows.
    ci_prob : float
        Probability mass of the credible interval.
    ci_kind : {"hdi", "eti"}
        Highest-density or equal-tailed interval.

    Returns
    -------
    DataFrame
        One row per scalar parameter, labelled as ArviZ labels them (``coef[name]``).
    """
    az = arviz()
    if is_arviz_1():
        table = az.summary(
            data, var_names=var_names, ci_prob=ci_prob, ci_kind=ci_kind, round_to="none"
        )
        table = pd.DataFrame(table)
    else:
        table = az.summary(data, var_names=var_names, hdi_prob=ci_prob, round_to="none")
    interval = [c for c in table.columns if c not in SUMMARY_COLUMNS]
    table = table.rename(columns=dict(zip(interval, ["ci_lower", "ci_upper"], strict=True)))
    table = table[SUMMARY_COLUMNS].astype(float)
    if ci_kind == "eti" and not is_arviz_1():
        # ArviZ 0.23's summary has no equal-tailed interval; same quantiles as 1.x's.
        draws = [posterior_draws(data, v) for v in var_names]
        flat = np.concatenate([d.reshape(d.shape[0] * d.shape[1], -1) for d in draws], axis=1)
        tail = (1.0 - ci_prob) / 2
        table["ci_lower"], table["ci_upper"] = np.quantile(flat, [tail, 1 - tail], axis=0)
    return table
