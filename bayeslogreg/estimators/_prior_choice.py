"""The priors a fit uses: rstanarm's defaults, scaled to the data's columns.

Without ``prior``, the coefficients get ``Normal(0, 2.5 / s_j)``, where ``s_j`` is the
standard deviation of column j, or its range when it holds only two values (rstanarm's
``autoscale``; Gelman, Jakulin, Pittau and Su 2008 use 2.5 on columns of spread 1).
Without ``intercept_prior``, the intercept gets ``Centered(Normal(0, 2.5))``: the prior
is on the log-odds at the columns' means. Together they make the fit independent of the
units and origins of the columns: multiplying a column by c divides its coefficient by
c, and adding a constant to a column changes only the intercept.

Explicit priors are used as given, unless ``autoscale=True`` divides the scale of an
explicit coefficient prior by ``s_j`` too (as rstanarm's ``autoscale = TRUE``);
``autoscale=False`` leaves a default coefficient prior at ``Normal(0, 2.5)``. An explicit
``Centered(...)`` intercept prior without a centre is put at the means.

Means and spreads count a row as often as it stands for Bernoulli trials (its weight
times its trials: ``a + b``), so a table of counts gets the priors of the 0/1 rows it
stands for. (rstanarm computes them over the rows of the table as given.)
"""

from typing import NamedTuple

import numpy as np

from bayeslogreg._validation import INTERCEPT_NAME, check_bool
from bayeslogreg.priors import Centered, Flat, Jeffreys, Normal, Prior
from bayeslogreg.separation import _column_reduce

__all__ = [
    "DEFAULT_SCALE",
    "ColumnMoments",
    "PriorChoice",
    "combine",
    "flat_choice",
    "resolve",
    "summary_frame",
]

#: rstanarm's default scale, for the coefficients (divided by the spread) and the
#: intercept at the means.
DEFAULT_SCALE = 2.5
#: Rows per block of the one pass that finds the columns' means and spreads: a block of
#: float64 deviations stays in cache.
_BLOCK_ROWS = 2**13


class PriorChoice(NamedTuple):
    """The priors as a user gave them: None where the default was asked for."""

    prior: Prior | None = None
    intercept_prior: Prior | None = None
    autoscale: bool | None = None

    def as_dict(self, spread: np.ndarray | None) -> dict:
        """Return what a result keeps for its prior summary, ``spread`` (p,) where used."""
        return {
            "prior": self.prior,
            "intercept_prior": self.intercept_prior,
            "autoscale": self.autoscale,
            # A tuple of floats: a result's fields compare with == (and save as a list).
            "spread": None if spread is None else tuple(float(v) for v in spread),
        }


def resolve(
    choice: PriorChoice, X, row_weights, feature_names, gather=None
) -> tuple[Prior, Prior, dict]:
    """Return ``(intercept_prior, prior, record)`` that a fit on ``X`` (n, p) uses.

    ``row_weights`` (n,) or None: how many Bernoulli trials each row stands for.
    ``gather`` maps this process's :class:`ColumnMoments` to those of every process's
    rows (a sharded fit); None for one process. ``record`` is
    :meth:`PriorChoice.as_dict`, which the result keeps.

    Raises ``ValueError`` for ``autoscale=True`` with a flat coefficient prior, and for
    a column of spread 0 under an autoscaled prior (naming it).
    """
    autoscale = None if choice.autoscale is None else check_bool(choice.autoscale, "autoscale")
    prior, intercept_prior = choice.prior, choice.intercept_prior
    if prior is not None and not isinstance(prior, Prior):
        return intercept_prior, prior, choice.as_dict(None)  # refused by check_priors
    if isinstance(prior, Jeffreys) or isinstance(intercept_prior, Jeffreys):
        return *_jeffreys(choice, autoscale), choice._replace(autoscale=autoscale).as_dict(None)
    scaled = autoscale is True or (prior is None and autoscale is not False)
    if prior is None:
        prior = Normal(0.0, DEFAULT_SCALE)
    if intercept_prior is None:
        intercept_prior = Centered(Normal(0.0, DEFAULT_SCALE))
    if scaled and not prior.per_coefficient:
        raise ValueError(
            f"autoscale=True divides a coefficient prior's scale by each column's spread, "
            f"but {prior!r} has one global_scale for all coefficients. Standardise the "
            "columns of X yourself (the horseshoe assumes comparable scales) and leave "
            "autoscale unset."
        )
    if scaled and not hasattr(prior, "scale"):
        raise ValueError(
            f"autoscale=True divides a coefficient prior's scale by each column's spread, "
            f"but {prior!r} has no scale. Leave autoscale unset for a flat prior."
        )
    centre = isinstance(intercept_prior, Centered) and intercept_prior.center is None
    if not (scaled or centre) or X.shape[1] == 0:  # without columns, nothing to scale
        return intercept_prior, prior, choice._replace(autoscale=autoscale).as_dict(None)
    moments = column_moments(X, row_weights)
    means, spread = means_spreads(moments if gather is None else gather(moments))
    if centre:
        intercept_prior = intercept_prior.at(means)
    if not (np.isfinite(means).all() and np.isfinite(spread).all()):
        huge = [name for name, s in zip(feature_names, spread, strict=True) if not np.isfinite(s)]
        raise ValueError(
            f"columns {huge} hold values whose squares leave float64's range, so their "
            "spread (for the default priors) cannot be computed. Rescale them (e.g. "
            "standardise them, or change their units)."
        )
    if scaled:
        constant = [name for name, s in zip(feature_names, spread, strict=True) if not s > 0]
        if constant:
            raise ValueError(
                f"columns {constant} are constant (spread 0), so an autoscaled prior's "
                f"scale {_scale_text(prior)} / spread is undefined. Drop them, or pass "
                "an explicit prior with autoscale=False."
            )
        prior = _rescaled(prior, spread)
    record = choice._replace(autoscale=autoscale).as_dict(spread if scaled else None)
    return intercept_prior, prior, record


def _jeffreys(choice: PriorChoice, autoscale: bool | None) -> tuple[Prior, Prior]:
    """``(Jeffreys(), Jeffreys())``: one joint prior over all parameters, or raise."""
    if not isinstance(choice.prior, Jeffreys) or choice.intercept_prior is not None:
        raise ValueError(
            "the Jeffreys prior is joint over the intercept and the coefficients: pass "
            "prior=Jeffreys() and leave intercept_prior unset; got "
            f"prior={choice.prior!r}, intercept_prior={choice.intercept_prior!r}."
        )
    if autoscale:
        raise ValueError(
            "autoscale=True divides a coefficient prior's scale by each column's spread, "
            "but the Jeffreys prior has no scale (it is invariant to the columns' units). "
            "Leave autoscale unset."
        )
    return choice.prior, choice.prior


def _scale_text(prior: Prior) -> str:
    return f"{np.asarray(prior.scale).item():g}" if np.size(prior.scale) == 1 else "scale"


def _rescaled(prior: Prior, spread: np.ndarray) -> Prior:
    """``prior`` with its scale divided by ``spread`` (p,), its other parameters kept."""
    params = {name: getattr(prior, name) for name in prior._param_names}
    params["scale"] = np.asarray(params["scale"], dtype=np.float64) / spread
    return type(prior)(**params)


class ColumnMoments(NamedTuple):
    """Sums of a set of rows, from which means and spreads follow; each array (p,).

    total : the rows' total weight; mean, m2 : weighted mean and sum of squared
    deviations from it; low, high : smallest and largest value (rows of positive weight).
    """

    total: float
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray


def column_moments(X, row_weights=None) -> ColumnMoments:
    """:class:`ColumnMoments` of X (n, p) in float64, in one pass over row blocks.

    The sums are of ``x - x_0`` (``x_0`` the first row), whose squares do not cancel
    against the mean's as raw squares would for a year or a timestamp: ``m2`` is exact
    to ``eps ((mean - x_0) / sd)**2`` relative. At 11M x 28 float32 the pass took 0.76 s
    (a version that kept every block's deviations from its own mean and compared every
    value with the extremes took 6.5-7.1 s; ``docs/design.md``).
    """
    n_rows, n_features = X.shape
    if n_rows == 0:
        return _empty_moments(n_features)
    origin = np.asarray(X[0], dtype=np.float64)
    total, sums, squares = 0.0, np.zeros(n_features), np.zeros(n_features)
    low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
    for start in range(0, n_rows, _BLOCK_ROWS):
        shifted = np.subtract(X[start : start + _BLOCK_ROWS], origin, dtype=np.float64)
        if row_weights is None:
            weights = np.ones(len(shifted))
        else:
            weights = np.asarray(row_weights[start : start + _BLOCK_ROWS], dtype=np.float64)
            if not (weights > 0).all():
                shifted, weights = shifted[weights > 0], weights[weights > 0]
            if not len(shifted):
                continue
        low = np.minimum(low, _column_reduce(np.minimum, shifted))
        high = np.maximum(high, _column_reduce(np.maximum, shifted))
        total += weights.sum()
        sums += weights @ shifted
        squares += weights @ np.square(shifted, out=shifted)
    if total == 0:
        return _empty_moments(n_features)
    mean = sums / total
    m2 = np.maximum(squares - sums * mean, 0.0)
    return ColumnMoments(total, origin + mean, m2, origin + low, origin + high)


def _empty_moments(n_features: int) -> ColumnMoments:
    empty = np.full(n_features, np.nan)
    return ColumnMoments(0.0, empty, empty, empty, empty)


def combine(parts: list[ColumnMoments], n_features: int) -> ColumnMoments:
    """:class:`ColumnMoments` of the union of disjoint sets of rows (processes).

    Means and squared deviations by Chan, Golub and LeVeque's update.
    """
    parts = [part for part in parts if part.total > 0]
    if not parts:
        return _empty_moments(n_features)
    total, mean, m2 = 0.0, np.zeros(n_features), np.zeros(n_features)
    for part in parts:
        delta, combined = part.mean - mean, total + part.total
        mean = mean + delta * (part.total / combined)
        m2 = m2 + part.m2 + np.square(delta) * (total * part.total / combined)
        total = combined
    low = np.min([part.low for part in parts], axis=0)
    high = np.max([part.high for part in parts], axis=0)
    return ColumnMoments(total, mean, m2, low, high)


#: Relative tolerance of the Bhatia-Davis equality that marks a column of two values.
_TWO_VALUES_RTOL = 1e-9


def means_spreads(moments: ColumnMoments) -> tuple[np.ndarray, np.ndarray]:
    """Return the columns' means and spreads, each (p,).

    The spread is the range of a column of two values, else the standard deviation
    (denominator: total weight - 1); 0 for a constant column. A column holds only its
    smallest and largest values exactly when its variance reaches the Bhatia-Davis bound
    ``(high - mean) (mean - low)`` (checked to a relative 1e-9: one row of a third value
    among a million 0/1 rows is 1e-6 below it).
    """
    total, mean, m2, low, high = moments
    bound = total * (high - mean) * (mean - low)
    with np.errstate(invalid="ignore", divide="ignore"):
        two_valued = np.abs(m2 - bound) <= _TWO_VALUES_RTOL * bound
        sd = np.sqrt(m2 / (total - 1.0)) if total > 1 else np.zeros_like(m2)
    spread = np.where(two_valued, high - low, sd)
    return mean, np.where(high > low, spread, 0.0)


def flat_choice() -> PriorChoice:
    """Return the choice of a maximum-likelihood fit: flat priors, nothing to scale."""
    return PriorChoice(Flat(), Flat(), False)


def summary_frame(intercept_prior: Prior, prior: Prior, record: dict | None, feature_names):
    """Return the prior of each parameter as given and as used, indexed by parameter.

    Columns: ``given`` (the prior as the user gave it, or ``default``), ``used`` (the
    distribution the fit applied to that parameter), ``scale`` (its scale as used; NaN
    for a flat prior), ``spread`` (the column's spread that divided a default or
    ``autoscale`` scale; NaN where none did) and ``center`` (the column's value at which
    a centred intercept prior sits; NaN where none).
    """
    import pandas as pd

    record = record or {}
    n_features = len(feature_names)
    spread = record.get("spread")
    center = getattr(intercept_prior, "center", None)
    coef_given = _given(record.get("prior", prior), record)
    intercept_given = record.get("intercept_prior", intercept_prior)
    if isinstance(intercept_prior, Jeffreys):  # one joint prior, given as prior=
        intercept_given = record.get("prior", prior)
    rows = {
        INTERCEPT_NAME: {
            "given": _given(intercept_given, record),
            "used": _used_intercept(intercept_prior),
            "scale": _scale_of(getattr(intercept_prior, "prior", intercept_prior), 0, 1),
            "spread": np.nan,
            "center": np.nan,
        }
    }
    for j, name in enumerate(feature_names):
        rows[name] = {
            "given": coef_given,
            "used": _one(prior, j, n_features),
            "scale": _scale_of(prior, j, n_features),
            "spread": np.nan if spread is None else float(np.asarray(spread)[j]),
            "center": np.nan if center is None else float(np.broadcast_to(center, n_features)[j]),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "parameter"
    return frame


def _given(prior, record: dict) -> str:
    if prior is None:
        return "default"
    autoscale = " (autoscale=True)" if record.get("autoscale") else ""
    return f"{prior!r}{autoscale}"


def _used_intercept(intercept_prior: Prior) -> str:
    if isinstance(intercept_prior, Centered):
        return f"{_one(intercept_prior.prior, 0, 1)} at the centre"
    return _one(intercept_prior, 0, 1)


def _one(prior: Prior, j: int, n: int) -> str:
    """``prior``'s distribution of entry ``j`` of ``n``, as ``Normal(0, 0.8315)``."""
    if not prior._param_names:
        return f"{type(prior).__name__}()"
    values = [float(np.broadcast_to(getattr(prior, p), n)[j]) for p in prior._param_names]
    return f"{type(prior).__name__}({', '.join(f'{v:.4g}' for v in values)})"


def _scale_of(prior: Prior, j: int, n: int) -> float:
    scale = getattr(prior, "scale", None)
    return np.nan if scale is None else float(np.broadcast_to(scale, n)[j])
