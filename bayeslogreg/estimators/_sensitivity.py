"""Prior and likelihood sensitivity of a posterior, by power-scaling (through ArviZ).

Kallioinen, Paananen, Bürkner and Vehtari (2024), "Detecting and diagnosing prior and
likelihood sensitivity with power-scaling", Statistics and Computing 34:57. Raising the
prior (or the likelihood) to a power alpha near 1 reweights the posterior draws; how far
each parameter's weighted distribution moves, per unit of log2 alpha, is its
sensitivity to that component.
"""

import numpy as np
import pandas as pd

from bayeslogreg import _arviz, _interrupt
from bayeslogreg.estimators._large_posterior import log_prior_batch
from bayeslogreg.priors import Prior

__all__ = ["DELTA", "THRESHOLD", "diagnose", "log_prior_draws", "power_scaling"]

#: Power-scaling by alpha = 1 / (1 + DELTA) and 1 + DELTA, as the paper and ArviZ do.
DELTA = 0.01
#: Sensitivities at or above this are flagged (the paper's and ArviZ's threshold).
THRESHOLD = 0.05


def log_prior_draws(draws: np.ndarray, intercept_prior: Prior, prior: Prior) -> np.ndarray:
    """Log prior density (nats, as used) of each draw of (chains, draws, p + 1): (chains, draws)."""
    flat = draws.reshape(-1, draws.shape[-1])
    return log_prior_batch(flat, intercept_prior, prior).reshape(draws.shape[:2])


def diagnose(prior: float, likelihood: float) -> str:
    """Name what a pair of sensitivities shows: "prior-data conflict", "prior-dominated" or ""."""
    if prior < THRESHOLD:
        return ""
    return "prior-data conflict" if likelihood >= THRESHOLD else "prior-dominated"


def power_scaling(
    idata, draws: np.ndarray, intercept_prior: Prior, prior: Prior, index: pd.Index
) -> pd.DataFrame:
    """Prior and likelihood sensitivity per parameter, with the diagnosis.

    Parameters
    ----------
    idata : InferenceData or DataTree
        With a ``log_likelihood`` group; without a ``log_prior`` group (files saved
        before it was stored) the log prior is computed from ``draws`` and the priors.
    draws : ndarray of shape (chains, draws, p + 1)
    intercept_prior, prior : Prior
        The priors as used.
    index : Index of the p + 1 parameter names, intercept first.

    Returns
    -------
    DataFrame
        Indexed by ``index``, columns ``prior`` and ``likelihood`` (sensitivities,
        unitless, flagged from :data:`THRESHOLD`) and ``diagnosis``.
    """
    if _arviz.has_group(idata, "log_prior"):
        log_prior = _arviz.log_prior_draws(idata)
    else:
        log_prior = _interrupt.call(log_prior_draws, draws, intercept_prior, prior)
        idata = _arviz.with_log_prior(idata, log_prior)
    var_names = ["intercept", "coef"] if draws.shape[-1] > 1 else ["intercept"]
    if np.ptp(log_prior) == 0:
        # Flat priors: power-scaling leaves the posterior as it is. ArviZ's ECDF grid
        # would report about 1e-7 for equal weights; the exact value is 0.
        prior_sensitivity = np.zeros(draws.shape[-1])
    else:
        prior_sensitivity = _arviz.power_scaling_sensitivity(idata, var_names, "prior", DELTA)
    likelihood = _arviz.power_scaling_sensitivity(idata, var_names, "likelihood", DELTA)
    diagnosis = [diagnose(a, b) for a, b in zip(prior_sensitivity, likelihood, strict=True)]
    columns = {"prior": prior_sensitivity, "likelihood": likelihood, "diagnosis": diagnosis}
    return pd.DataFrame(columns, index=index)
