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
  each evaluation is a pass over data the device does not hold at once. There the same
  step runs eagerly in NumPy (the :data:`NUMPY` backend): the passes are the work, and
  compiling the step would cost a fresh process more than running it
  (``docs/design.md``).

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
    "JAX",
    "NUMPY",
    "VALUE",
    "VALUE_GRAD",
    "VALUE_GRAD_HESS",
    "Backend",
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
_TRIAL, _BACKTRACK, _REFRESH, _FINAL, _START, _DONE, _ITERATED, _STARTED = range(8)
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


class Backend(NamedTuple):
    """What the step needs of an array library: NumPy on the host, JAX under ``jit``.

    xp : the array module; switch, cond : branch on a value (``lax.switch``/``lax.cond``,
    or plain Python on concrete values); set_at : ``array`` with one entry replaced;
    eigh : symmetric eigendecomposition; l1_point : :func:`l1_newton_point`.
    """

    xp: object
    switch: object
    cond: object
    set_at: object
    eigh: object
    l1_point: object


def _set_at_numpy(array, index, value):
    array = array.copy()
    array[int(index)] = value
    return array


def _eigh_numpy(matrix):
    """``np.linalg.eigh``, with NaNs (as JAX gives) where it cannot converge."""
    try:
        return np.linalg.eigh(matrix)
    except np.linalg.LinAlgError:
        return np.full(matrix.shape[0], np.nan), np.full(matrix.shape, np.nan)


def _accepted(new_total, old_total, t, decrease, xp):
    return new_total <= old_total + ARMIJO * t * decrease + slack(old_total, xp=xp)


def psd_solve(hess, grad, backend=None):
    """Solve ``hess @ x = grad`` with eigenvalues replaced by max(|lambda|, tiny).

    The result is always a descent direction, also where a heavy-tailed prior makes the
    Hessian indefinite.
    """
    backend = backend or JAX
    xp = backend.xp
    eigenvalues, vectors = backend.eigh(hess)
    floor = 1e-12 * xp.maximum(1.0, xp.max(xp.abs(eigenvalues)))
    return vectors @ ((vectors.T @ grad) / xp.maximum(xp.abs(eigenvalues), floor))


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


_l1_newton_point_jit = jax.jit(l1_newton_point)

#: The step traced by JAX (inside one compiled loop).
JAX = Backend(
    jnp,
    jax.lax.switch,
    jax.lax.cond,
    lambda array, index, value: array.at[index].set(value),
    jnp.linalg.eigh,
    l1_newton_point,
)
#: The same step run eagerly in NumPy, for a host loop: nothing to trace or compile.
NUMPY = Backend(
    np,
    lambda index, branches, operand: branches[int(index)](operand),
    lambda pred, if_true, if_false, operand: (if_true if pred else if_false)(operand),
    _set_at_numpy,
    _eigh_numpy,
    lambda *args: np.asarray(_l1_newton_point_jit(*args)),
)


def _bfgs_update(hess, step, grad_change, xp):
    """BFGS update of a Hessian approximation by a step and its gradient change.

    Kept only where the curvature ``step . grad_change`` is positive (always, for the
    strictly convex ``f``), so the approximation stays positive definite.
    """
    curvature = step @ grad_change
    hess_step = hess @ step
    step_hess_step = step @ hess_step
    updated = (
        hess
        + xp.outer(grad_change, grad_change) / curvature
        - xp.outer(hess_step, hess_step) / step_hess_step
    )
    return xp.where((curvature > 0) & (step_hess_step > 0), updated, hess)


def _select(condition, if_true: NewtonState, if_false: NewtonState, xp) -> NewtonState:
    return jax.tree.map(lambda a, b: xp.where(condition, a, b), if_true, if_false)


def _penalty(z, settings: Settings, xp):
    return l1_penalty(z, settings.weights, settings.centres, xp=xp)


def _optimality(z, grad, settings: Settings, xp):
    return optimality(z, grad, settings.weights, settings.centres, xp=xp)


def _plan(s: NewtonState, settings: Settings, *, has_l1: bool, backend: Backend) -> NewtonState:
    """After an iteration (or at the start): the next step's trial point, or the end.

    The end asks for one more evaluation with the Hessian where the state holds only an
    approximation of it.
    """
    xp = backend.xp

    def start_step(s):
        opt = _optimality(s.z, s.grad, settings, xp)
        want_hess = (
            s.exact | (s.contraction > FROZEN_CONTRACTION) | (opt * s.contraction <= settings.tol)
        )
        if has_l1:
            weights, centres = settings.weights, settings.centres
            direction = backend.l1_point(s.z, s.grad, s.hess, weights, centres) - s.z
        else:
            direction = -psd_solve(s.hess, s.grad, backend)
        decrease = (
            s.grad @ direction
            + _penalty(s.z + direction, settings, xp)
            - _penalty(s.z, settings, xp)
        )
        return s._replace(
            point=s.z + direction,
            request=xp.where(want_hess, VALUE_GRAD_HESS, VALUE_GRAD),
            phase=xp.asarray(_TRIAL),
            direction=direction,
            decrease=decrease,
            old_total=s.value + _penalty(s.z, settings, xp),
            t=xp.ones_like(s.t),
            halvings=xp.zeros_like(s.halvings),
            ok=xp.asarray(True),
            opt=opt,
        )

    def stop(s):
        phase = xp.where(s.exact, _DONE, _FINAL)
        return s._replace(point=s.z, request=xp.asarray(VALUE_GRAD_HESS), phase=phase)

    return backend.cond(s.status == RUNNING, start_step, stop, s)


def init(z0, *, max_iter: int, exact: bool = True) -> NewtonState:
    """Return the state that asks for the first evaluation, at ``z0`` (unit-scale coordinates).

    With ``exact=False`` it asks for the value and gradient only, and the caller gives
    an approximate Hessian (a subsample's, say) for quasi-Newton steps to start from.
    The run stops after at most ``max_iter`` iterations. Built from constants (NumPy
    scalars and arrays of fixed dtype), so that a JAX loop carries the same types.
    """
    n_params = z0.shape[0]
    zero, index = np.float64(0.0), np.int64(0)
    return NewtonState(
        z=z0,
        value=zero,
        grad=np.zeros(n_params),
        hess=np.zeros((n_params, n_params)),
        exact=np.bool_(exact),
        point=z0,
        request=np.int64(VALUE_GRAD_HESS if exact else VALUE_GRAD),
        phase=np.int64(_START),
        direction=np.zeros(n_params),
        decrease=zero,
        old_total=zero,
        t=np.float64(1.0),
        halvings=index,
        ok=np.bool_(True),
        opt=zero,
        contraction=np.float64(FROZEN_CONTRACTION),
        n_iter=index,
        n_passes=index,
        status=np.int64(RUNNING),
        history=np.full(max_iter + 1, np.nan),
    )


def _after_start(s: NewtonState, evaluation, settings: Settings, backend: Backend):
    """Take the first evaluation: iteration 0, planned like any other."""
    xp = backend.xp
    value, grad, hess = evaluation
    total = value + _penalty(s.point, settings, xp)
    opt = _optimality(s.point, grad, settings, xp)
    return s._replace(
        z=s.point,
        value=value,
        grad=grad,
        hess=hess,
        old_total=total,
        opt=opt,
        status=next_status(0, value, opt, settings.tol, 1, xp=xp),
        history=backend.set_at(s.history, 0, total),
        phase=xp.asarray(_STARTED),
    )


def _after_trial(s: NewtonState, evaluation, settings: Settings, backend: Backend):
    """Take the full step if it decreases F enough; otherwise halve it."""
    xp = backend.xp
    value, grad, hess = evaluation
    with_hess = s.request == VALUE_GRAD_HESS
    new_opt = _optimality(s.point, grad, settings, xp)
    quasi_newton = _bfgs_update(s.hess, s.point - s.z, grad - s.grad, xp)
    moved = s._replace(
        z=s.point,
        value=value,
        grad=grad,
        hess=xp.where(with_hess, hess, quasi_newton),
        exact=with_hess,
        phase=xp.asarray(_ITERATED),
        contraction=xp.where(s.opt > 0, new_opt / s.opt, 0.0),
    )
    t = 0.5 * s.t
    halved = s._replace(
        point=s.z + t * s.direction,
        request=xp.asarray(VALUE),
        phase=xp.asarray(_BACKTRACK),
        t=t,
        halvings=s.halvings + 1,
    )
    ok = _accepted(value + _penalty(s.point, settings, xp), s.old_total, s.t, s.decrease, xp)
    return _select(ok, moved, halved, xp)


def _after_backtrack(s: NewtonState, evaluation, settings: Settings, backend: Backend):
    """Settle a halved step (take it, or give up after MAX_HALVINGS), or halve it again."""
    xp = backend.xp
    total = evaluation[0] + _penalty(s.point, settings, xp)
    ok = _accepted(total, s.old_total, s.t, s.decrease, xp)
    settled = s._replace(
        point=xp.where(ok, s.z + s.t * s.direction, s.z),
        request=xp.asarray(VALUE_GRAD_HESS),
        phase=xp.asarray(_REFRESH),
        ok=ok,
    )
    t = 0.5 * s.t
    halved = s._replace(point=s.z + t * s.direction, t=t, halvings=s.halvings + 1)
    return _select(ok | (s.halvings >= MAX_HALVINGS), settled, halved, xp)


def _after_refresh(s: NewtonState, evaluation, settings: Settings, backend: Backend):
    """Value, gradient and Hessian where the line search settled."""
    value, grad, hess = evaluation
    return s._replace(
        z=s.point,
        value=value,
        grad=grad,
        hess=hess,
        exact=backend.xp.asarray(True),
        phase=backend.xp.asarray(_ITERATED),
    )


def _after_final(s: NewtonState, evaluation, settings: Settings, backend: Backend):
    """Keep the Hessian at the last iterate, which the state held only approximately."""
    value, grad, hess = evaluation
    xp = backend.xp
    return s._replace(
        value=value, grad=grad, hess=hess, exact=xp.asarray(True), phase=xp.asarray(_DONE)
    )


def _count_iteration(s: NewtonState, settings: Settings, max_iter: int, backend: Backend):
    xp = backend.xp
    it = s.n_iter + 1
    opt = _optimality(s.z, s.grad, settings, xp)
    total = s.value + _penalty(s.z, settings, xp)
    return s._replace(
        n_iter=it,
        status=next_status(it, s.value, opt, settings.tol, max_iter, s.ok, xp=xp),
        history=backend.set_at(s.history, it, total),
    )


def step(
    state: NewtonState,
    evaluation,
    settings: Settings,
    *,
    max_iter: int,
    has_l1: bool,
    backend: Backend = None,
) -> NewtonState:
    """Take the evaluation ``(value, grad, hess)`` of ``f`` at ``state.point``.

    Entries that ``state.request`` did not ask for may hold anything (zeros, say). The
    returned state asks for the next evaluation, or has ``phase`` done (:func:`is_done`).
    ``backend`` is :data:`JAX` (the default: traceable) or :data:`NUMPY` (eager).
    """
    backend = backend or JAX
    xp = backend.xp
    branches = (_after_trial, _after_backtrack, _after_refresh, _after_final, _after_start)
    branches = [
        partial(branch, evaluation=evaluation, settings=settings, backend=backend)
        for branch in branches
    ]
    new = backend.switch(state.phase, branches, state)
    new = new._replace(n_passes=new.n_passes + 1)
    count = partial(_count_iteration, settings=settings, max_iter=max_iter, backend=backend)
    new = backend.cond(new.phase == _ITERATED, count, lambda s: s, new)
    plan = partial(_plan, settings=settings, has_l1=has_l1, backend=backend)
    new = backend.cond((new.phase == _ITERATED) | (new.phase == _STARTED), plan, lambda s: s, new)
    # The input's dtypes, weak types made strong: one compiled step serves a whole run.
    return jax.tree.map(lambda a, b: xp.asarray(a, dtype=b.dtype), new, state)


def is_done(state: NewtonState):
    """Whether the run has ended and the state holds the Hessian at its last iterate."""
    return state.phase == _DONE


def result(state: NewtonState, settings: Settings, scale, backend: Backend = None):
    """Return the run's outcome in ``params``, and the per-row Hessian of ``f`` there.

    ``scale`` is the coordinate scale (powers of two), so the conversion is exact.
    """
    xp = (backend or JAX).xp
    outcome = OptimizeResult(
        params=state.z / scale,
        value=state.value + _penalty(state.z, settings, xp),
        optimality=_optimality(state.z, state.grad, settings, xp),
        n_iter=state.n_iter,
        n_passes=state.n_passes,
        status=state.status,
        history=state.history,
    )
    return outcome, state.hess * xp.outer(scale, scale)


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
    state = init(params0 * objective.scale, max_iter=max_iter)

    def evaluate_and_step(s):
        evaluation = jax.lax.cond(
            s.request == VALUE, partial(_value_only, objective), objective.value_grad_hess, s.point
        )
        return step(s, evaluation, settings, max_iter=max_iter, has_l1=problem.has_l1)

    state = jax.lax.while_loop(lambda s: ~is_done(s), evaluate_and_step, state)
    return result(state, settings, objective.scale)


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
    scale, has_l1 = objective.scale, objective.has_l1
    settings = Settings(*objective.l1_weights(), np.float64(tol))
    state = init(
        np.asarray(params0, dtype=np.float64) * scale, max_iter=max_iter, exact=hess0 is None
    )
    # Where JAX would give inf or NaN silently, so does NumPy: the status reports them.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while state.phase != _DONE:
            evaluation = objective.evaluate(state.point, int(state.request))
            if state.phase == _START and hess0 is not None:
                evaluation = (*evaluation[:2], hess0 / np.outer(scale, scale))
            state = step(
                state, evaluation, settings, max_iter=max_iter, has_l1=has_l1, backend=NUMPY
            )
        return result(state, settings, scale, NUMPY)
