"""Prior predictive checks: what the priors alone say about the predicted probabilities.

Draws of the parameters from the priors as a fit would use them on X (rstanarm's
defaults scaled to X's columns, a centred intercept at X's means), and the predicted
probability of each row under each draw. Priors that are each weakly informative can
together be strong: with many features, independent ``Normal(0, 2.5)`` coefficients put
most linear predictors far from 0, so the prior says that nearly every row is almost
surely 0 or 1 (Gelman, Simpson and Betancourt 2017, "The prior can often only be
understood in the context of the likelihood"). :func:`prior_predictive` measures that
share and warns when it is most of the mass.
"""

import warnings
from typing import NamedTuple

import jax
import numpy as np
from scipy.special import expit

from bayeslogreg._jax import entry_point
from bayeslogreg._validation import (
    _column_names,
    check_feature_names,
    check_positive_int,
    check_seed,
    check_X,
)
from bayeslogreg.estimators._prior_choice import PriorChoice, resolve
from bayeslogreg.exceptions import PriorWarning
from bayeslogreg.priors import Centered, Prior

__all__ = ["EXTREME", "PriorPredictive", "prior_predictive"]

#: Probabilities below EXTREME or above 1 - EXTREME count as "near 0 or 1".
EXTREME = 0.01
#: Warn when more than this share of the prior predictive probabilities is extreme.
WARN_SHARE = 0.5
#: Rows whose probabilities are kept: at most this many, evenly spread over X.
MAX_ROWS = 2_000


class PriorPredictive(NamedTuple):
    """Draws from the priors and the probabilities they predict.

    draws : (num_draws, p + 1) parameters, intercept first, on the scale of X.
    prob : (num_draws, n_kept) predicted probabilities of the kept rows ``rows``.
    rows : (n_kept,) indices of the rows of X whose probabilities are kept.
    extreme_share : share of ``prob`` below :data:`EXTREME` or above ``1 - EXTREME``.
    prior, intercept_prior : the priors as used (scaled and centred to X).
    feature_names : tuple of str.
    """

    draws: np.ndarray
    prob: np.ndarray
    rows: np.ndarray
    extreme_share: float
    prior: Prior
    intercept_prior: Prior
    feature_names: tuple[str, ...]


@entry_point
def prior_predictive(
    X,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    num_draws: int = 1000,
    seed: int = 0,
    feature_names=None,
) -> PriorPredictive:
    """Sample the priors a fit on X would use, and the probabilities they predict.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_rows, p)
        The rows a fit would see (their columns set the default priors' scales).
    prior, intercept_prior, autoscale
        As in :func:`~bayeslogreg.fit_map`; every prior must be proper.
    num_draws : int
        Draws from the priors.
    seed : int
        The same seed gives the same draws.
    feature_names : sequence of str, optional

    Returns
    -------
    PriorPredictive
        Warns (:class:`~bayeslogreg.exceptions.PriorWarning`) when more than half the
        predicted probabilities are below 0.01 or above 0.99.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> check = prior_predictive(load_effort().X, seed=1)
    >>> check.draws.shape, round(check.extreme_share, 2)
    ((1000, 2), 0.19)
    """
    columns = _column_names(X)
    X = check_X(X)
    num_draws = check_positive_int(num_draws, "num_draws")
    seed = check_seed(seed)
    names = feature_names or columns or [f"x{j + 1}" for j in range(X.shape[1])]
    names = check_feature_names(names, X.shape[1])
    choice = PriorChoice(prior, intercept_prior, autoscale)
    intercept_prior, prior, _ = resolve(choice, X, None, names)
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if not isinstance(value, Prior) or not value.is_proper:
            raise ValueError(
                f"{name}={value!r}: a prior predictive check draws from the priors, which "
                "needs proper priors (Normal, Cauchy, StudentT, Laplace, Centered(...))."
            )
    draws = _draw(intercept_prior, prior, X.shape[1], num_draws, seed)
    rows = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], MAX_ROWS)).astype(int))
    prob = expit(draws[:, :1] + draws[:, 1:] @ np.asarray(X[rows], dtype=np.float64).T)
    share = float(np.mean((prob < EXTREME) | (prob > 1 - EXTREME)))
    if share > WARN_SHARE:
        warnings.warn(
            f"the priors put {share:.0%} of the predicted probabilities below {EXTREME} or "
            f"above {1 - EXTREME}: together, the {X.shape[1]} coefficients' priors say "
            "that most rows are almost surely 0 or 1 before seeing the labels. Narrow "
            "their scales (e.g. prior=Normal(0, 1) with autoscale=True) unless that is "
            "what you believe.",
            PriorWarning,
            stacklevel=3,  # the caller's line, past entry_point's wrapper
        )
    return PriorPredictive(draws, prob, rows, share, prior, intercept_prior, names)


def _draw(intercept_prior: Prior, prior: Prior, n_features: int, num_draws: int, seed: int):
    """Parameters (num_draws, p + 1) drawn from the priors, intercept at x = 0 first."""
    key_coef, key_intercept = jax.random.split(jax.random.key(seed))
    coef = np.asarray(prior.sample_coef(key_coef, num_draws, n_features))
    base = intercept_prior.prior if isinstance(intercept_prior, Centered) else intercept_prior
    intercept = np.asarray(base.distribution(()).sample(key_intercept, (num_draws,)))
    if isinstance(intercept_prior, Centered) and intercept_prior.center is not None:
        intercept = intercept - coef @ np.broadcast_to(intercept_prior.center, (n_features,))
    return np.column_stack([intercept, coef]).astype(np.float64)
