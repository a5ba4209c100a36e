"""Warnings raised by bayeslogreg."""

__all__ = ["ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """An optimizer or sampler did not converge; the result is flagged, not hidden."""
