"""First-order optimizers of the point estimators: L-BFGS, gradient and stochastic ascent.

Each maximises the log posterior by minimising ``F = f + L1`` of
:mod:`bayeslogreg.estimators._objective` and is one jitted ``lax.while_loop`` over a small
state, on data held by the device (Newton's method is in :mod:`._newton`). Laplace priors
make ``F`` non-smooth at ``loc``; gradient and stochastic ascent then take proximal
steps (soft-thresholding), and L-BFGS refuses. Every method moves in the unit-scale
coordinates ``z = params * scale`` of
:func:`~bayeslogreg.estimators._objective.parameter_scale`, takes and returns ``params``,
and stops when the largest entry of the minimum-norm subgradient of F (a per-row
quantity) with respect to ``z`` is at most ``tol`` (status codes of
:mod:`._optimizer`).
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from bayeslogreg.estimators._objective import (
    Problem,
    ScaledObjective,
    l1_penalty,
    optimality,
    soft_threshold,
)
from bayeslogreg.estimators._optimizer import (
    MAX_HALVINGS,
    RUNNING,
    OptimizeResult,
    initial_status,
    next_status,
    slack,
)


def _prox(point, threshold, centres):
    """Proximal map of ``sum_j threshold_j |x_j - c_j|``."""
    return centres + soft_threshold(point - centres, threshold)


class _State(NamedTuple):
    params: jax.Array
    value: jax.Array
    grad: jax.Array
    hess: jax.Array
    aux: jax.Array
    n_iter: jax.Array
    n_passes: jax.Array
    status: jax.Array
    history: jax.Array


def _finish(state: _State, weights, centres, scale) -> OptimizeResult:
    total = state.value + l1_penalty(state.params, weights, centres)
    opt = optimality(state.params, state.grad, weights, centres)
    return OptimizeResult(
        state.params / scale, total, opt, state.n_iter, state.n_passes, state.status, state.history
    )


@partial(jax.jit, static_argnames="max_iter")
def gradient_ascent(problem: Problem, params0, tol, max_iter: int) -> OptimizeResult:
    """Full-batch (proximal) gradient ascent with a backtracking line search.

    Each iteration first tries twice the last accepted step size, then halves it until
    the quadratic upper bound ``f(z) <= f(x) + g.(z - x) + |z - x|^2 / (2 t)`` holds.
    Near the optimum, where f changes by less than its rounding error, the bound is
    checked on the gradients instead: ``(g(z) - g(x)).(z - x) <= |z - x|^2 / t``.
    """
    objective = ScaledObjective.of(problem, params0.shape[0])
    weights, centres = objective.l1_weights()
    params0 = params0 * objective.scale

    def body(s: _State) -> _State:
        def attempt(t):
            point = _prox(s.params - t * s.grad, t * weights, centres)
            value, grad = objective.value_and_grad(point)
            step = point - s.params
            bound = s.value + s.grad @ step + step @ step / (2.0 * t)
            # Within rounding of f the value test would let ever longer steps overshoot
            # (gradient ascent then stalls with |g| ~ sqrt(curvature * rounding of f),
            # ~1e-8); the secant curvature, from accurate gradients, still sees them.
            secant_ok = (grad - s.grad) @ step <= step @ step / t
            ok = (value <= bound) | ((value <= bound + slack(s.value)) & secant_ok)
            return point, value, grad, ok

        def halve(c):
            t, *_, k = c
            return (0.5 * t, *attempt(0.5 * t), k + 1)

        def keep_going(c):
            *_, ok, k = c
            return ~ok & (k < MAX_HALVINGS)

        t0 = 2.0 * s.aux
        t, params, value, grad, ok, k = jax.lax.while_loop(keep_going, halve, (t0, *attempt(t0), 0))
        params = jnp.where(ok, params, s.params)
        value, grad = jnp.where(ok, value, s.value), jnp.where(ok, grad, s.grad)
        it = s.n_iter + 1
        opt = optimality(params, grad, weights, centres)
        status = next_status(it, value, opt, tol, max_iter, ok)
        total = value + l1_penalty(params, weights, centres)
        history = s.history.at[it].set(total)
        return _State(params, value, grad, s.hess, t, it, s.n_passes + k + 1, status, history)

    value, grad = objective.value_and_grad(params0)
    status = initial_status(value, optimality(params0, grad, weights, centres), tol)
    total = value + l1_penalty(params0, weights, centres)
    history = jnp.full(max_iter + 1, jnp.nan).at[0].set(total)
    step = jnp.asarray(0.5, dtype=value.dtype)
    state = _State(params0, value, grad, jnp.zeros(()), step, 0, 1, status, history)
    state = jax.lax.while_loop(lambda s: s.status == RUNNING, body, state)
    return _finish(state, weights, centres, objective.scale)


@partial(jax.jit, static_argnames=("max_iter", "memory_size"))
def lbfgs(problem: Problem, params0, tol, max_iter: int, memory_size: int = 10) -> OptimizeResult:
    """L-BFGS (optax, zoom line search) for smooth objectives."""
    objective = ScaledObjective.of(problem, params0.shape[0])
    weights, centres = objective.l1_weights()
    params0 = params0 * objective.scale
    f = objective.value

    solver = optax.lbfgs(memory_size=memory_size)
    value_and_grad = optax.value_and_grad_from_state(f)

    def body(carry):
        s, opt_state = carry
        value, grad = value_and_grad(s.params, state=opt_state)
        updates, opt_state = solver.update(
            grad, opt_state, s.params, value=value, grad=grad, value_fn=f
        )
        params = optax.apply_updates(s.params, updates)
        value = optax.tree_utils.tree_get(opt_state, "value")
        grad = optax.tree_utils.tree_get(opt_state, "grad")
        steps = optax.tree_utils.tree_get(opt_state, "num_linesearch_steps")
        it = s.n_iter + 1
        status = next_status(it, value, optimality(params, grad, weights, centres), tol, max_iter)
        history = s.history.at[it].set(value)
        state = _State(params, value, grad, s.hess, s.aux, it, s.n_passes + steps, status, history)
        return state, opt_state

    value, grad = objective.value_and_grad(params0)
    status = initial_status(value, optimality(params0, grad, weights, centres), tol)
    history = jnp.full(max_iter + 1, jnp.nan).at[0].set(value)
    zero = jnp.zeros(())
    state = _State(params0, value, grad, zero, zero, 0, 1, status, history)
    state, _ = jax.lax.while_loop(
        lambda c: c[0].status == RUNNING, body, (state, solver.init(params0))
    )
    return _finish(state, weights, centres, objective.scale)


@partial(jax.jit, static_argnames=("batch_size", "epochs", "average", "learning_rate"))
def stochastic_ascent(
    problem: Problem,
    params0,
    key,
    tol,
    *,
    batch_size: int,
    epochs: int,
    learning_rate,
    average: bool,
) -> OptimizeResult:
    """(Mini-batch) stochastic (proximal) gradient ascent with seeded reshuffling.

    Each epoch visits ``n // batch_size`` batches of a fresh permutation of the rows
    (the few rows left over are visited in other epochs). ``learning_rate`` is a
    float-valued function of the step number (an optax schedule). With ``average`` the
    estimate is the mean of the iterates over the last epoch (Polyak-Ruppert
    averaging), which removes most of the noise that a final iterate carries. After each
    epoch the full objective and gradient are evaluated: one more pass. Rows are drawn
    uniformly whatever their weights: a weight scales the row's gradient, it does not
    make the row drawn more often.
    """
    objective = ScaledObjective.of(problem, params0.shape[0])
    weights, centres = objective.l1_weights()
    params0 = params0 * objective.scale
    n_rows = problem.n_rows
    steps_per_epoch = max(1, n_rows // batch_size)
    optimizer = optax.sgd(learning_rate)

    def sgd_step(perm, epoch):
        def step(i, carry):
            params, opt_state, mean = carry
            rows = jax.lax.dynamic_slice(perm, (i * batch_size,), (batch_size,))
            y_rows = jax.tree.map(lambda v: v[rows], problem.y)
            _, grad = objective.batch_value_and_grad(params, problem.X[rows], y_rows)
            updates, opt_state = optimizer.update(grad, opt_state)
            rate = learning_rate(epoch * steps_per_epoch + i)
            params = _prox(optax.apply_updates(params, updates), rate * weights, centres)
            return params, opt_state, mean + (params - mean) / (i + 1)

        return step

    def body(carry):
        s, last, opt_state, key = carry
        key, subkey = jax.random.split(key)
        perm = jax.random.permutation(subkey, n_rows)
        last, opt_state, mean = jax.lax.fori_loop(
            0, steps_per_epoch, sgd_step(perm, s.n_iter), (last, opt_state, last)
        )
        params = mean if average else last
        value, grad = objective.value_and_grad(params)
        it = s.n_iter + 1
        status = next_status(it, value, optimality(params, grad, weights, centres), tol, epochs)
        history = s.history.at[it].set(value + l1_penalty(params, weights, centres))
        state = _State(params, value, grad, s.hess, s.aux, it, s.n_passes + 2, status, history)
        return state, last, opt_state, key

    value, grad = objective.value_and_grad(params0)
    status = initial_status(value, optimality(params0, grad, weights, centres), tol)
    history = jnp.full(epochs + 1, jnp.nan).at[0].set(value + l1_penalty(params0, weights, centres))
    zero = jnp.zeros(())
    state = _State(params0, value, grad, zero, zero, 0, 1, status, history)
    init = (state, params0, optimizer.init(params0), key)
    state, *_ = jax.lax.while_loop(lambda c: c[0].status == RUNNING, body, init)
    return _finish(state, weights, centres, objective.scale)
