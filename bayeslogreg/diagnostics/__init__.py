"""Posterior diagnostics: per-draw metrics, ROC bands, predictive checks, lpd, LOO, WAIC.

The classification metrics they build on are in :mod:`bayeslogreg.metrics`.
"""

from bayeslogreg.diagnostics._posterior import (
    ElpdEstimate,
    PredictiveCheck,
    RocBand,
    heldout_lpd,
    heldout_lpd_pointwise,
    loo,
    posterior_predictive_check,
    predictive_metrics,
    roc_band,
    summarize_draws,
    waic,
)
from bayeslogreg.diagnostics._prior_predictive import PriorPredictive, prior_predictive

__all__ = [
    "ElpdEstimate",
    "PredictiveCheck",
    "PriorPredictive",
    "RocBand",
    "heldout_lpd",
    "heldout_lpd_pointwise",
    "loo",
    "posterior_predictive_check",
    "predictive_metrics",
    "prior_predictive",
    "roc_band",
    "summarize_draws",
    "waic",
]
