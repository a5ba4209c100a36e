"""Warnings raised by bayeslogreg."""

__all__ = ["ConvergenceWarning", "SeparationWarning"]


class ConvergenceWarning(UserWarning):
    """An optimizer or sampler did not converge; the result is flagged, not hidden."""


class SeparationWarning(ConvergenceWarning):
    """The classes are separated, so the estimate being fitted does not exist.

    The result is flagged ``converged=False`` and carries the
    :class:`~bayeslogreg.separation.Separation` found.
    """
