"""bayeslogreg: logistic regression by MLE, MAP and NUTS, compared side by side.

The model is ``y ~ Bernoulli(sigmoid(intercept + X @ coef))``. :func:`fit_mle` and
:func:`fit_map` return a :class:`PointEstimate`; :func:`sample_posterior` returns a
:class:`Posterior` holding ArviZ data, drawn by a sampler of :mod:`bayeslogreg.samplers`;
:func:`fit_vi` a :class:`VariationalPosterior`, the draws of ADVI or Pathfinder;
:func:`compare` puts any of them side by side on held-out data and writes the report;
:func:`compare_cv` compares them by k-fold cross-validation.
Priors live in :mod:`bayeslogreg.priors`, data in :mod:`bayeslogreg.datasets`,
classification metrics in :mod:`bayeslogreg.metrics`.

All computation runs in float64 inside bayeslogreg's own calls; importing the package
does not switch on JAX's global 64-bit mode.
"""

from importlib.metadata import PackageNotFoundError, version

from bayeslogreg import datasets, distributed, priors, samplers, solvers
from bayeslogreg.estimators.nuts import Posterior, sample_posterior
from bayeslogreg.estimators.point import PointEstimate, fit_map, fit_mle
from bayeslogreg.estimators.streaming import fit_streaming
from bayeslogreg.estimators.vi import VariationalPosterior, fit_vi
from bayeslogreg.exceptions import (
    ApproximationWarning,
    CacheWarning,
    ConvergenceWarning,
    PriorWarning,
    SeparationWarning,
)
from bayeslogreg.model import log_likelihood
from bayeslogreg.report.comparison import Comparison, compare
from bayeslogreg.report.cross_validation import CVComparison, compare_cv

try:
    __version__ = version("bayeslogreg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "ApproximationWarning",
    "CVComparison",
    "CacheWarning",
    "Comparison",
    "ConvergenceWarning",
    "PriorWarning",
    "PointEstimate",
    "Posterior",
    "SeparationWarning",
    "VariationalPosterior",
    "__version__",
    "compare",
    "compare_cv",
    "datasets",
    "distributed",
    "fit_map",
    "fit_mle",
    "fit_streaming",
    "fit_vi",
    "log_likelihood",
    "priors",
    "sample_posterior",
    "samplers",
    "solvers",
]
