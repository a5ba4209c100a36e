"""Optimizers of :func:`~bayeslogreg.fit_mle` and :func:`~bayeslogreg.fit_map` as objects.

Each solver holds only its own options and checks them when it is built, so an option
that a method does not use cannot be passed to it::

    fit_map(X, y, solver=Newton(tol=1e-10))
    fit_map(X, y, solver=SGD(learning_rate=0.05, batch_size=64, epochs=100))

The strings ``"newton"``, ``"lbfgs"``, ``"gd"``, ``"sgd"`` and ``"minibatch"`` are
shorthands for the default objects (:data:`SHORTHANDS`); ``"auto"`` is Newton up to 500
parameters, L-BFGS beyond (gradient ascent under a Laplace prior).

Every solver maximises the log posterior in the unit-scale coordinates of
:func:`~bayeslogreg.estimators._objective.parameter_scale` and stops when no entry of
the per-row (sub)gradient there exceeds ``tol``, so ``tol`` means the same whatever the
units of each feature.
"""

from bayeslogreg.estimators._solvers import (
    LBFGS,
    SGD,
    SHORTHANDS,
    GradientAscent,
    InverseTimeDecay,
    Newton,
    Solver,
)

__all__ = ["LBFGS", "SGD", "SHORTHANDS", "GradientAscent", "InverseTimeDecay", "Newton", "Solver"]
