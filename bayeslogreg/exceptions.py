"""Warnings raised by bayeslogreg."""

__all__ = [
    "ApproximationWarning",
    "CacheWarning",
    "ConvergenceWarning",
    "PriorWarning",
    "SeparationWarning",
]


class ConvergenceWarning(UserWarning):
    """An optimizer or sampler did not converge; the result is flagged, not hidden."""


class SeparationWarning(ConvergenceWarning):
    """The classes are separated, so the estimate being fitted does not exist.

    The result is flagged ``converged=False`` and carries the
    :class:`~bayeslogreg.separation.Separation` found.
    """


class CacheWarning(RuntimeWarning):
    """The folder of kept programs cannot be written; bayeslogreg runs without it.

    Given once per process and folder. Results are the same; only the time to trace
    and compile the programs afresh in every process is lost. Point
    ``BAYESLOGREG_JAX_CACHE_DIR`` at a writable folder, or set it to an empty string to
    turn the cache off.
    """


class PriorWarning(UserWarning):
    """The priors say something strong that the user may not mean.

    Raised by :func:`~bayeslogreg.diagnostics.prior_predictive` when the priors put most
    predicted probabilities near 0 or 1 before seeing the labels.
    """


class ApproximationWarning(UserWarning):
    """A variational approximation is far from the posterior it approximates.

    Raised by :func:`~bayeslogreg.fit_vi` when the Pareto k-hat of its draws' importance
    ratios, p(theta, y) / q(theta), exceeds 0.7 (Yao, Vehtari, Simpson and Gelman 2018).
    """
