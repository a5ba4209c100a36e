"""Solver objects and how a fit's ``solver`` argument becomes one.

The public face is :mod:`bayeslogreg.solvers`, which documents them.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import ClassVar

import jax

from bayeslogreg._validation import (
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
)
from bayeslogreg.estimators import _ascent
from bayeslogreg.estimators._newton import minimize_in_memory
from bayeslogreg.estimators._objective import Problem, smooth_value_grad_hess
from bayeslogreg.estimators._optimizer import OptimizeResult
from bayeslogreg.estimators._options import from_keywords, set_checked

__all__ = [
    "LBFGS",
    "SGD",
    "SHORTHANDS",
    "GradientAscent",
    "InverseTimeDecay",
    "Newton",
    "Solver",
    "from_arguments",
    "resolve",
]

#: "auto" uses Newton up to this many parameters: one (p+1)^2 Hessian per pass is then
#: cheaper than the dozens of extra passes L-BFGS needs.
NEWTON_MAX_PARAMS = 500


@dataclass(frozen=True)
class InverseTimeDecay:
    """Learning rate ``initial / (1 + step / steps_per_epoch)``: 1/epoch decay.

    Robbins-Monro conditions hold (the rates sum to infinity, their squares do not), so
    stochastic ascent converges. Hashable, so jitted code compiles once per setting.
    """

    initial: float
    steps_per_epoch: int

    def __call__(self, step):
        """Learning rate at ``step`` (0-based count of parameter updates)."""
        return self.initial / (1.0 + step / self.steps_per_epoch)


class Solver:
    """What every solver has: a ``name`` (the result's ``method``) and a ``tol``.

    Subclasses are frozen dataclasses (hashable, compared by value) whose fields are
    their options.
    """

    name: ClassVar[str]
    #: What ``n_iter`` counts, and what to try when a fit does not converge.
    iteration_unit: ClassVar[str] = "iterations"
    remedy: ClassVar[str] = "Increase max_iter, standardise the features, or use solver='newton'."
    #: Whether the fit runs as one program kept between processes (full-batch solvers).
    keeps_program: ClassVar[bool] = True
    tol: float

    @classmethod
    def options(cls) -> tuple[str, ...]:
        """Names of the options (the dataclass fields)."""
        return tuple(field.name for field in fields(cls))

    def program_settings(self) -> tuple:
        """Return what the compiled fit bakes in (``tol`` is an argument of the program)."""
        return tuple(getattr(self, name) for name in self.options() if name != "tol")

    def minimize(
        self, problem: Problem, params0, tol, key=None
    ) -> tuple[OptimizeResult, jax.Array]:
        """Run on ``problem``: the outcome, and the per-row Hessian of ``f`` at its params.

        ``key`` seeds the stochastic solvers (the others take none).
        """
        raise NotImplementedError


def _check_learning_rate(value, name: str):
    """None (the default of the batch size), an optax schedule, or a rate > 0."""
    return value if value is None or callable(value) else check_positive_float(value, name)


def _hessian_at(outcome: OptimizeResult, problem: Problem) -> tuple[OptimizeResult, jax.Array]:
    return outcome, smooth_value_grad_hess(outcome.params, problem)[2]


@dataclass(frozen=True)
class _FullBatch(Solver):
    """A solver that passes over all rows each iteration, with a tol and a max_iter."""

    tol: float = 1e-8
    max_iter: int = 100

    def __post_init__(self):
        set_checked(self, tol=check_positive_float, max_iter=check_positive_int)


@dataclass(frozen=True)
class Newton(_FullBatch):
    """Damped (proximal, under Laplace priors) Newton with a backtracking line search.

    Parameters
    ----------
    tol : float
        Stop when no entry of the per-row (sub)gradient in unit-scale coordinates
        exceeds it.
    max_iter : int
        Iteration limit; each iteration is one pass over the data when the full step is
        taken.

    Examples
    --------
    >>> Newton(tol=1e-10)
    Newton(tol=1e-10, max_iter=100)
    """

    name: ClassVar[str] = "newton"
    remedy: ClassVar[str] = "Increase max_iter, standardise the features, or use a proper prior."

    def minimize(self, problem, params0, tol, key=None):
        """Newton on ``problem``: the outcome and the per-row Hessian at its params."""
        return minimize_in_memory(problem, params0, tol, self.max_iter)


@dataclass(frozen=True)
class LBFGS(_FullBatch):
    """L-BFGS (optax, zoom line search), for smooth priors only (not Laplace).

    ``tol`` and ``max_iter`` are as for :class:`Newton` (here 1000 iterations by
    default); ``memory_size`` is the number of past steps kept for the curvature
    estimate.
    """

    name: ClassVar[str] = "lbfgs"
    max_iter: int = 1000
    memory_size: int = 10

    def __post_init__(self):
        super().__post_init__()
        set_checked(self, memory_size=check_positive_int)

    def minimize(self, problem, params0, tol, key=None):
        """L-BFGS on ``problem``: the outcome and the per-row Hessian at its params."""
        outcome = _ascent.lbfgs(problem, params0, tol, self.max_iter, self.memory_size)
        return _hessian_at(outcome, problem)


@dataclass(frozen=True)
class GradientAscent(_FullBatch):
    """Full-batch (proximal) gradient ascent with a backtracking line search.

    ``tol`` and ``max_iter`` are as for :class:`Newton` (here 20000 iterations by
    default, each one or a few passes over the data).
    """

    name: ClassVar[str] = "gd"
    max_iter: int = 20_000

    def minimize(self, problem, params0, tol, key=None):
        """Gradient ascent on ``problem``: the outcome and the per-row Hessian there."""
        outcome = _ascent.gradient_ascent(problem, params0, tol, self.max_iter)
        return _hessian_at(outcome, problem)


@dataclass(frozen=True)
class SGD(Solver):
    """Stochastic (proximal) gradient ascent over seeded reshuffles of the rows.

    ``batch_size=1`` is classic stochastic gradient ascent (``method`` "sgd" in the
    result); larger batches are mini-batch ascent ("minibatch"). With ``sample_weight``
    or ``trials`` rows are still drawn uniformly, each row's gradient scaled by its
    weight (times its trials): the same optimum, but a heavy row is not drawn more often.

    Parameters
    ----------
    learning_rate : float or callable, optional
        Initial rate of a 1/epoch decay (:class:`InverseTimeDecay`), or an optax schedule
        ``step -> rate``. Default 0.05 for one row per step, 0.5 for batches.
    batch_size : int
        Rows per step (at most the number of rows).
    epochs : int, optional
        Passes over the data. Default 50 for one row per step, 200 for batches.
    average : bool
        Report the average of the iterates of the last epoch (Polyak-Ruppert), which
        removes most of the noise that a final iterate carries.
    tol : float
        As for :class:`Newton`, checked after each epoch.

    Examples
    --------
    >>> SGD(batch_size=32).name
    'minibatch'
    """

    iteration_unit: ClassVar[str] = "epochs"
    remedy: ClassVar[str] = (
        "Increase epochs, lower learning_rate if the history does not rise, standardise "
        "the features, or use solver='newton'."
    )
    keeps_program: ClassVar[bool] = False
    learning_rate: float | Callable | None = None
    batch_size: int = 1
    epochs: int | None = None
    average: bool = True
    tol: float = 1e-3

    def __post_init__(self):
        set_checked(
            self,
            learning_rate=_check_learning_rate,
            batch_size=check_positive_int,
            epochs=lambda value, name: value if value is None else check_positive_int(value, name),
            average=check_bool,
            tol=check_positive_float,
        )

    @property
    def name(self) -> str:
        """``"sgd"`` for one row per step, ``"minibatch"`` for batches."""
        return "sgd" if self.batch_size == 1 else "minibatch"

    def minimize(self, problem, params0, tol, key=None):
        """Stochastic ascent on ``problem``: the outcome and the per-row Hessian there."""
        batch_size = min(self.batch_size, problem.n_rows)
        epochs = self.epochs or (50 if self.batch_size == 1 else 200)
        learning_rate = self.learning_rate
        if not callable(learning_rate):
            rate = learning_rate or (0.05 if self.batch_size == 1 else 0.5)
            learning_rate = InverseTimeDecay(rate, max(1, problem.n_rows // batch_size))
        outcome = _ascent.stochastic_ascent(
            problem,
            params0,
            key,
            tol,
            batch_size=batch_size,
            epochs=epochs,
            learning_rate=learning_rate,
            average=self.average,
        )
        return _hessian_at(outcome, problem)


#: The method strings and the solvers they stand for.
SHORTHANDS = {
    "newton": Newton(),
    "lbfgs": LBFGS(),
    "gd": GradientAscent(),
    "sgd": SGD(learning_rate=0.05, batch_size=1, epochs=50),
    "minibatch": SGD(learning_rate=0.5, batch_size=32, epochs=200),
}


def resolve(solver, n_params: int, has_l1: bool, name: str = "solver") -> Solver:
    """Return the solver object for ``solver`` (an object, a shorthand, "auto" or None).

    Raises ``ValueError`` for an unknown string (naming the argument ``name``), or L-BFGS
    under a Laplace prior.
    """
    if solver is None:
        solver = "auto"
    if isinstance(solver, str):
        check_choice(solver, name, ("auto", *SHORTHANDS))
        if solver == "auto":
            solver = "newton" if n_params <= NEWTON_MAX_PARAMS else ("gd" if has_l1 else "lbfgs")
        solver = SHORTHANDS[solver]
    if not isinstance(solver, Solver):
        raise ValueError(
            "solver must be a solver from bayeslogreg.solvers (e.g. Newton(tol=1e-10)) or "
            f"one of {sorted(('auto', *SHORTHANDS))}; got {solver!r}."
        )
    if isinstance(solver, LBFGS) and has_l1:
        raise ValueError(
            "solver 'lbfgs' needs a smooth objective, but a Laplace prior has a kink at its "
            "loc; use solver='newton' (proximal Newton) or 'gd' (proximal gradient)."
        )
    return solver


def from_arguments(
    solver,
    deprecated: dict,
    n_params: int,
    has_l1: bool,
    *,
    function: str,
    stacklevel: int,
    default: str = "auto",
):
    """Return the solver of a fit from its ``solver`` argument and deprecated keywords.

    ``method``, ``tol``, ``max_iter``, ``learning_rate``, ``batch_size``, ``epochs`` and
    ``average`` still work, with a warning (see :mod:`._options`). ``solver=None`` is
    ``default``; ``function`` names the public function in a ``TypeError``.
    """
    return from_keywords(
        solver,
        deprecated,
        kind="solver",
        classes=(Newton, LBFGS, GradientAscent, SGD),
        resolve=lambda choice, name: resolve(
            default if choice is None else choice, n_params, has_l1, name
        ),
        function=function,
        stacklevel=stacklevel + 1,
    )
