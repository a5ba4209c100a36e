"""Newton's method, written once as pure ``init``/``step`` functions, with two drivers.

The iteration is damped (proximal) Newton with a backtracking Armijo line search in the
unit-scale coordinates ``z = params * scale`` of
:func:`~bayeslogreg.estimators._objective.parameter_scale`, minimising the per-row
objective ``F = f + L1`` of :mod:`bayeslogreg.estimators._objective`. Laplace priors
make ``F`` non-smooth; the direction is then the proximal Newton point (the
L1-penalised quadratic model solved by coordinate descent, as in glmnet and newGLMNET).

The state never evaluates the objective itself: it names the point where it needs the
objective next and what it needs there (:data:`VALUE`, :data:`VALUE_GRAD` or
:data:`VALUE_GRAD_HESS`), and :func:`step` takes that evaluation. So any data source
that can give the value, gradient and Hessian of the log-likelihood can drive it:

* :func:`minimize_in_memory` loops with ``lax.while_loop`` inside one jitted program,
  for data held on the device;
* :func:`minimize_on_host` loops in Python and evaluates with host passes over row
  chunks of a memory map or over rows sharded across devices and processes, where
  each evaluation is a pass over data the device does not hold at once.

With an approximate Hessian to start from (a subsample's), the state first takes
quasi-Newton steps on it, BFGS-updated, asking only for values and gradients, and asks
for the Hessian when the next point should be the last or the steps stop shrinking the
gradient fast; the final state always holds the Hessian at the optimum, for the
standard errors. One evaluation is one pass over the data (``n_passes``).
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayeslogreg.estimators._objective import (
    HostObjective,
    Problem,
    ScaledObjective,
    l1_penalty,
    optimality,
    soft_threshold,
)
from bayeslogreg.estimators._optimizer import (
    ARMIJO,
    MAX_HALVINGS,
    RUNNING,
    OptimizeResult,
    next_status,
    slack,
)

__all__ = [
    "VALUE",
    "VALUE_GRAD",
    "VALUE_GRAD_HESS",
    "NewtonState",
    "Settings",
    "init",
    "is_done",
    "l1_newton_point",
    "minimize_in_memory",
    "minimize_on_host",
    "psd_solve",
    "result",
    "step",
]

#: What the state asks of the next evaluation.
VALUE, VALUE_GRAD, VALUE_GRAD_HESS = 0, 1, 2
# What the next evaluation is for.
_TRIAL, _BACKTRACK, _REFRESH, _FINAL, _DONE, _ITERATED = range(6)
#: From a starting Hessian approximation, keep it (BFGS-updated) while each step shrinks
#: the largest gradient entry at least this much (expected: by ~sqrt(p / rows of the
#: subsample)), and take this as the next step's factor when deciding whether to ask
#: for the Hessian: a pass with it costs ~3 gradient passes (measured at 11M x 28).
FROZEN_CONTRACTION = 0.1


class Settings(NamedTuple):
    """The L1 part of F (weights and centres, unit-scale coordinates) and ``tol``."""

    weights: jax.Array
    centres: jax.Array
    tol: jax.Array


class NewtonState(NamedTuple):
    """Everything a Newton run carries from one evaluation to the next.

    z, value, grad, hess : the iterate (unit-scale coordinates), ``f``, its gradient and
    its Hessian there (``exact``) or an approximation of it; point, request : where the
    next evaluation is wanted and what it must return; phase : what it is for; direction,
    decrease, old_total, t, halvings, ok : the step being tried; opt, contraction : the
    optimality at the start of the step and the factor the last step shrank it by.
    """

    z: jax.Array
    value: jax.Array
    grad: jax.Array
    hess: jax.Array
    exact: jax.Array
    point: jax.Array
    request: jax.Array
    phase: jax.Array
    direction: jax.Array
    decrease: jax.Array
    old_total: jax.Array
    t: jax.Array
    halvings: jax.Array
    ok: jax.Array
    opt: jax.Array
    contraction: jax.Array
    n_iter: jax.Array
    n_passes: jax.Array
    status: jax.Array
    history: jax.Array


def _accepted(new_total, old_total, t, decrease):
    return new_total <= old_total + ARMIJO * t * decrease + slack(old_total)


def psd_solve(hess, grad):
    """Solve ``hess @ x = grad`` with eigenvalues replaced by max(|lambda|, tiny).

    The result is always a descent direction, also where a heavy-tailed prior makes the
    Hessian indefinite.
    """
    eigenvalues, vectors = jnp.linalg.eigh(hess)
    floor = 1e-12 * jnp.maximum(1.0, jnp.max(jnp.abs(eigenvalues)))
    return vectors @ ((vectors.T @ grad) / jnp.maximum(jnp.abs(eigenvalues), floor))


def l1_newton_point(params, grad, hess, weights, centres, max_sweeps=500):
    """Minimiser of ``grad.(z - params) + (z - params).hess.(z - params)/2 + L1(z)``.

    Cyclic coordinate descent keeping ``r = grad + hess (z - params)`` up to date.
    """
    diag = jnp.maximum(jnp.diag(hess), 1e-12)
    scale = 1.0 + jnp.max(jnp.abs(params))

    def coordinate(j, carry):
        z, r, change = carry
        linear = r[j] - diag[j] * (z[j] - centres[j])
        new = centres[j] + soft_threshold(-linear, weights[j]) / diag[j]
        delta = new - z[j]
        return z.at[j].set(new), r + hess[:, j] * delta, jnp.maximum(change, jnp.abs(delta))

    def sweep(carry):
        z, r, _, k = carry
        z, r, change = jax.lax.fori_loop(0, z.shape[0], coordinate, (z, r, 0.0))
        return z, r, change, k + 1

    def not_done(carry):
        return (carry[2] > 1e-14 * scale) & (carry[3] < max_sweeps)

    z, *_ = jax.lax.while_loop(not_done, sweep, (params, grad, jnp.inf, 0))
    return z


def _bfgs_update(hess, step, grad_change):
    """BFGS update of a Hessian approximation by a step and its gradient change.

    Kept only where the curvature ``step . grad_change`` is positive (always, for the
    strictly convex ``f``), so the approximation stays positive definite.
    """
    curvature = step @ grad_change
    hess_step = hess @ step
    step_hess_step = step @ hess_step
    updated = (
        hess
        + jnp.outer(grad_change, grad_change) / curvature
        - jnp.outer(hess_step, hess_step) / step_hess_step
    )
    return jnp.where((curvature > 0) & (step_hess_step > 0), updated, hess)


def _select(condition, if_true: NewtonState, if_false: NewtonState) -> NewtonState:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), if_true, if_false)


def _penalty(z, settings: Settings):
    return l1_penalty(z, settings.weights, settings.centres)


def _optimality(z, grad, settings: Settings):
    return optimality(z, grad, settings.weights, settings.centres)


def _plan(s: NewtonState, settings: Settings, *, has_l1: bool) -> NewtonState:
    """After an iteration (or at the start): the next step's trial point, or the end.

    The end asks for one more evaluation with the Hessian where the state holds only an
    approximation of it.
    """

    def start_step(s):
        opt = _optimality(s.z, s.grad, settings)
        want_hess = (
            s.exact | (s.contraction > FROZEN_CONTRACTION) | (opt * s.contraction <= settings.tol)
        )
        if has_l1:
            direction = (
                l1_newton_point(s.z, s.grad, s.hess, settings.weights, settings.centres) - s.z
            )
        else:
            direction = -psd_solve(s.hess, s.grad)
        decrease = (
            s.grad @ direction + _penalty(s.z + direction, settings) - _penalty(s.z, settings)
        )
        return s._replace(
            point=s.z + direction,
            request=jnp.where(want_hess, VALUE_GRAD_HESS, VALUE_GRAD),
            phase=jnp.asarray(_TRIAL),
            direction=direction,
            decrease=decrease,
            old_total=s.value + _penalty(s.z, settings),
            t=jnp.ones_like(s.t),
            halvings=jnp.zeros_like(s.halvings),
            ok=jnp.asarray(True),
            opt=opt,
        )

    def stop(s):
        phase = jnp.where(s.exact, _DONE, _FINAL)
        return s._replace(point=s.z, request=jnp.asarray(VALUE_GRAD_HESS), phase=phase)

    return jax.lax.cond(s.status == RUNNING, start_step, stop, s)


def init(
    z0, evaluation, settings: Settings, *, max_iter: int, has_l1: bool, exact: bool = True
) -> NewtonState:
    """State at ``z0`` (unit-scale coordinates), given the evaluation of ``f`` there.

    ``evaluation`` is ``(value, grad, hess)`` at ``z0``; with ``exact=False``, ``hess``
    is an approximation (a subsample's Hessian, say) that quasi-Newton steps start
    from. The run stops after at most ``max_iter`` iterations.
    """
    value, grad, hess = evaluation
    total = value + _penalty(z0, settings)
    opt = _optimality(z0, grad, settings)
    history = jnp.full(max_iter + 1, jnp.nan, dtype=value.dtype).at[0].set(total)
    zero = jnp.zeros_like(value)
    state = NewtonState(
        z=z0,
        value=value,
        grad=grad,
        hess=hess,
        exact=jnp.asarray(exact),
        point=z0,
        request=jnp.asarray(VALUE_GRAD_HESS),
        phase=jnp.asarray(_TRIAL),
        direction=jnp.zeros_like(z0),
        decrease=zero,
        old_total=total,
        t=zero + 1.0,
        halvings=jnp.asarray(0),
        ok=jnp.asarray(True),
        opt=opt,
        contraction=zero + FROZEN_CONTRACTION,
        n_iter=jnp.asarray(0),
        n_passes=jnp.asarray(1),
        status=next_status(0, value, opt, settings.tol, 1),
        history=history,
    )
    return _plan(state, settings, has_l1=has_l1)


def _after_trial(s: NewtonState, evaluation, settings: Settings) -> NewtonState:
    """Take the full step if it decreases F enough; otherwise halve it."""
    value, grad, hess = evaluation
    with_hess = s.request == VALUE_GRAD_HESS
    new_opt = _optimality(s.point, grad, settings)
    moved = s._replace(
        z=s.point,
        value=value,
        grad=grad,
        hess=jnp.where(with_hess, hess, _bfgs_update(s.hess, s.point - s.z, grad - s.grad)),
        exact=with_hess,
        phase=jnp.asarray(_ITERATED),
        contraction=jnp.where(s.opt > 0, new_opt / s.opt, 0.0),
    )
    t = 0.5 * s.t
    halved = s._replace(
        point=s.z + t * s.direction,
        request=jnp.asarray(VALUE),
        phase=jnp.asarray(_BACKTRACK),
        t=t,
        halvings=s.halvings + 1,
    )
    ok = _accepted(value + _penalty(s.point, settings), s.old_total, s.t, s.decrease)
    return _select(ok, moved, halved)


def _after_backtrack(s: NewtonState, evaluation, settings: Settings) -> NewtonState:
    """Settle a halved step (take it, or give up after MAX_HALVINGS), or halve it again."""
    ok = _accepted(evaluation[0] + _penalty(s.point, settings), s.old_total, s.t, s.decrease)
    settled = s._replace(
        point=jnp.where(ok, s.z + s.t * s.direction, s.z),
        request=jnp.asarray(VALUE_GRAD_HESS),
        phase=jnp.asarray(_REFRESH),
        ok=ok,
    )
    t = 0.5 * s.t
    halved = s._replace(point=s.z + t * s.direction, t=t, halvings=s.halvings + 1)
    return _select(ok | (s.halvings >= MAX_HALVINGS), settled, halved)


def _after_refresh(s: NewtonState, evaluation, settings: Settings) -> NewtonState:
    """Value, gradient and Hessian where the line search settled."""
    value, grad, hess = evaluation
    return s._replace(
        z=s.point,
        value=value,
        grad=grad,
        hess=hess,
        exact=jnp.asarray(True),
        phase=jnp.asarray(_ITERATED),
    )


def _after_final(s: NewtonState, evaluation, settings: Settings) -> NewtonState:
    """Keep the Hessian at the last iterate, which the state held only approximately."""
    value, grad, hess = evaluation
    return s._replace(
        value=value, grad=grad, hess=hess, exact=jnp.asarray(True), phase=jnp.asarray(_DONE)
    )


def _count_iteration(s: NewtonState, settings: Settings, max_iter: int) -> NewtonState:
    it = s.n_iter + 1
    opt = _optimality(s.z, s.grad, settings)
    total = s.value + _penalty(s.z, settings)
    return s._replace(
        n_iter=it,
        status=next_status(it, s.value, opt, settings.tol, max_iter, s.ok),
        history=s.history.at[it].set(total),
    )


def step(
    state: NewtonState, evaluation, settings: Settings, *, max_iter: int, has_l1: bool
) -> NewtonState:
    """Take the evaluation ``(value, grad, hess)`` of ``f`` at ``state.point``.

    Entries that ``state.request`` did not ask for may hold anything (zeros, say). The
    returned state asks for the next evaluation, or has ``phase`` done (:func:`is_done`).
    """
    branches = (_after_trial, _after_backtrack, _after_refresh, _after_final)
    state = jax.lax.switch(
        state.phase,
        [partial(branch, evaluation=evaluation, settings=settings) for branch in branches],
        state,
    )
    state = state._replace(n_passes=state.n_passes + 1)
    iterated = state.phase == _ITERATED
    return jax.lax.cond(
        iterated,
        lambda s: _plan(_count_iteration(s, settings, max_iter), settings, has_l1=has_l1),
        lambda s: s,
        state,
    )


def is_done(state: NewtonState):
    """Whether the run has ended and the state holds the Hessian at its last iterate."""
    return state.phase == _DONE


def result(state: NewtonState, settings: Settings, scale) -> tuple[OptimizeResult, jax.Array]:
    """Return the run's outcome in ``params``, and the per-row Hessian of ``f`` there.

    ``scale`` is the coordinate scale (powers of two), so the conversion is exact.
    """
    outcome = OptimizeResult(
        params=state.z / scale,
        value=state.value + _penalty(state.z, settings),
        optimality=_optimality(state.z, state.grad, settings),
        n_iter=state.n_iter,
        n_passes=state.n_passes,
        status=state.status,
        history=state.history,
    )
    return outcome, state.hess * jnp.outer(scale, scale)


def _value_only(objective: ScaledObjective, z):
    """``(value, 0, 0)``: a VALUE evaluation shaped like a full one."""
    n_params = z.shape[0]
    return objective.value(z), jnp.zeros(n_params), jnp.zeros((n_params, n_params))


@partial(jax.jit, static_argnames="max_iter")
def minimize_in_memory(problem: Problem, params0, tol, max_iter: int):
    """Newton on data held by the device: one ``lax.while_loop``, one compiled program.

    Returns the :class:`OptimizeResult` and the per-row Hessian of ``f`` (with respect to
    ``params``) at the result, shape (p + 1, p + 1).
    """
    objective = ScaledObjective.of(problem, params0.shape[0])
    settings = Settings(*objective.l1_weights(), tol)
    z0 = params0 * objective.scale
    state = init(
        z0, objective.value_grad_hess(z0), settings, max_iter=max_iter, has_l1=problem.has_l1
    )

    def evaluate_and_step(s):
        evaluation = jax.lax.cond(
            s.request == VALUE, partial(_value_only, objective), objective.value_grad_hess, s.point
        )
        return step(s, evaluation, settings, max_iter=max_iter, has_l1=problem.has_l1)

    state = jax.lax.while_loop(lambda s: ~is_done(s), evaluate_and_step, state)
    return result(state, settings, objective.scale)


_init_on_host = jax.jit(init, static_argnames=("max_iter", "has_l1", "exact"))
_step_on_host = jax.jit(step, static_argnames=("max_iter", "has_l1"))
_result_on_host = jax.jit(result)


def minimize_on_host(
    objective: HostObjective, params0, tol: float, max_iter: int, hess0=None
) -> tuple[OptimizeResult, np.ndarray]:
    """Newton driven by a Python loop: each evaluation is a host pass over the data.

    Parameters
    ----------
    objective : HostObjective
        ``f`` over row chunks of host data or over rows sharded across devices.
    params0 : array_like of shape (p + 1,)
    tol : float
        Stop when the largest entry of the minimum-norm subgradient of F (per row,
        unit-scale coordinates) is at most ``tol``.
    max_iter : int
    hess0 : ndarray of shape (p + 1, p + 1), optional
        Approximation of the per-row Hessian of ``f`` (in ``params``) at ``params0``, e.g.
        a subsample's: passes skip the Hessian, the most expensive part, while
        quasi-Newton steps on it shrink the gradient fast; the last pass always
        computes it.

    Returns
    -------
    OptimizeResult
        NumPy values.
    hess : ndarray of shape (p + 1, p + 1)
        The per-row Hessian of ``f`` (in ``params``) at the result.
    """
    scale = objective.scale
    settings = Settings(*objective.l1_weights(), np.float64(tol))
    z0 = np.asarray(params0, dtype=np.float64) * scale
    if hess0 is None:
        evaluation = objective.evaluate(z0, VALUE_GRAD_HESS)
    else:
        evaluation = (*objective.evaluate(z0, VALUE_GRAD)[:2], hess0 / np.outer(scale, scale))
    has_l1 = objective.has_l1
    state = _init_on_host(
        z0, evaluation, settings, max_iter=max_iter, has_l1=has_l1, exact=hess0 is None
    )
    while not is_done(state):
        evaluation = objective.evaluate(np.asarray(state.point), int(state.request))
        state = _step_on_host(state, evaluation, settings, max_iter=max_iter, has_l1=has_l1)
    outcome, hess = _result_on_host(state, settings, scale)
    return OptimizeResult(*(np.asarray(part) for part in outcome)), np.asarray(hess)
