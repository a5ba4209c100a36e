"""Diagnostics: classification metrics and posterior predictive checks.

The classification metrics are gathered in :mod:`bayeslogreg.metrics`; the posterior
diagnostics (per-draw metrics, ROC bands, predictive checks, held-out lpd, LOO and WAIC)
are re-exported here.
"""

from bayeslogreg.diagnostics.posterior import (
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

__all__ = [
    "ElpdEstimate",
    "PredictiveCheck",
    "RocBand",
    "heldout_lpd",
    "heldout_lpd_pointwise",
    "loo",
    "posterior_predictive_check",
    "predictive_metrics",
    "roc_band",
    "summarize_draws",
    "waic",
]
