"""Optimizers for the point estimators: Newton, L-BFGS, gradient and stochastic ascent.

Each maximises the log posterior by minimising ``F = f + L1`` of
:mod:`bayeslogreg.estimators._objective` and is one jitted ``lax.while_loop`` over a small
state. Laplace priors make ``F`` non-smooth at ``loc``; Newton then takes proximal Newton
steps (the L1-penalised quadratic model solved by coordinate descent, as in glmnet and
newGLMNET), gradient and stochastic ascent take proximal steps (soft-thresholding), and
L-BFGS refuses. Every method moves in the unit-scale coordinates ``z = params * scale``
of :func:`~bayeslogreg.estimators._objective.parameter_scale`, takes and returns
``params``, and stops when the largest entry of the minimum-norm subgradient of F (a
per-row quantity) with respect to ``z`` is at most ``tol``.

Status codes: 0 converged, 1 iteration limit, 2 line search failed, 3 non-finite value.
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from bayeslogreg.estimators._objective import (
    Problem,
    batch_value_and_grad,
    l1_penalty,
    l1_weights,
    optimality,
    smooth_value,
    smooth_value_and_grad,
    smooth_value_grad_hess,
)

RUNNING, CONVERGED, MAX_ITER, LINE_SEARCH_FAILED, NOT_FINITE = -1, 0, 1, 2, 3

# Armijo sufficient-decrease constant, and the most halvings of a step before giving up.
_ARMIJO = 1e-4
_MAX_HALVINGS = 60


class OptimizeResult(NamedTuple):
    """Outcome of one optimizer run (arrays are JAX arrays).

    params : (p + 1,) final parameters; value : F at params (per row);
    optimality : largest minimum-norm subgradient entry at params;
    n_iter : iterations (epochs for stochastic methods); n_passes : full passes over
    the data; status : see the module docstring; history : (max_iter + 1,) F after each
    iteration, NaN past ``n_iter``.
    """

    params: jax.Array
    value: jax.Array
    optimality: jax.Array
    n_iter: jax.Array
    n_passes: jax.Array
    status: jax.Array
    history: jax.Array


class _Scaled(NamedTuple):
    """The objective of ``problem`` as a function of ``z = params * scale``.

    ``scale`` holds powers of two, so ``z / scale`` is exact: values are those at
    ``params``, gradients those in ``params`` divided by ``scale``, Hessians divided by
    ``outer(scale, scale)``, and the L1 part ``w |params - c|`` is
    ``(w / scale) |z - c * scale|``.
    """

    problem: Problem
    scale: jax.Array

    @classmethod
    def of(cls, problem: Problem, n_params: int) -> "_Scaled":
        scale = jnp.ones(n_params) if problem.scale is None else problem.scale
        return cls(problem, scale)

    def value(self, z):
        return smooth_value(z / self.scale, self.problem)

    def value_and_grad(self, z):
        value, grad = smooth_value_and_grad(z / self.scale, self.problem)
        return value, grad / self.scale

    def value_grad_hess(self, z):
        value, grad, hess = smooth_value_grad_hess(z / self.scale, self.problem)
        return value, grad / self.scale, hess / jnp.outer(self.scale, self.scale)

    def batch_value_and_grad(self, z, X_batch, y_batch):
        value, grad = batch_value_and_grad(z / self.scale, X_batch, y_batch, self.problem)
        return value, grad / self.scale

    def l1_weights(self):
        weights, centres = l1_weights(self.problem, self.scale.shape[0])
        return weights / self.scale, centres * self.scale


def _soft_threshold(x, threshold):
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - threshold, 0.0)


def _prox(point, threshold, centres):
    """Proximal map of ``sum_j threshold_j |x_j - c_j|``."""
    return centres + _soft_threshold(point - centres, threshold)


def _slack(value):
    # Rounding allowance in sufficient-decrease tests, so that a step at the optimum,
    # where F changes by less than its own rounding error, is not declared a failure.
    return 16 * jnp.finfo(value.dtype).eps * (1.0 + jnp.abs(value))


def _next_status(it, value, opt, tol, max_iter, accepted=True):
    status = jnp.where(it >= max_iter, MAX_ITER, RUNNING)
    status = jnp.where(opt <= tol, CONVERGED, status)
    status = jnp.where(jnp.isfinite(value), status, NOT_FINITE)
    return jnp.where(accepted, status, LINE_SEARCH_FAILED)


def _initial_status(value, opt, tol):
    return _next_status(0, value, opt, tol, max_iter=1)


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


def _psd_solve(hess, grad):
    """Solve ``hess @ x = grad`` with eigenvalues replaced by max(|lambda|, tiny).

    The result is always a descent direction, also where a heavy-tailed prior makes the
    Hessian indefinite.
    """
    eigenvalues, vectors = jnp.linalg.eigh(hess)
    floor = 1e-12 * jnp.maximum(1.0, jnp.max(jnp.abs(eigenvalues)))
    return vectors @ ((vectors.T @ grad) / jnp.maximum(jnp.abs(eigenvalues), floor))


def _l1_newton_point(params, grad, hess, weights, centres, max_sweeps=500):
    """Minimiser of ``grad.(z - params) + (z - params).hess.(z - params)/2 + L1(z)``.

    Cyclic coordinate descent keeping ``r = grad + hess (z - params)`` up to date.
    """
    diag = jnp.maximum(jnp.diag(hess), 1e-12)
    scale = 1.0 + jnp.max(jnp.abs(params))

    def coordinate(j, carry):
        z, r, change = carry
        linear = r[j] - diag[j] * (z[j] - centres[j])
        new = centres[j] + _soft_threshold(-linear, weights[j]) / diag[j]
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


@partial(jax.jit, static_argnames="max_iter")
def newton(problem: Problem, params0, tol, max_iter: int) -> OptimizeResult:
    """Damped (proximal) Newton with a backtracking Armijo line search.

    One pass over the data per iteration when the full step is accepted (value,
    gradient and Hessian at the trial point are computed together).
    """
    objective = _Scaled.of(problem, params0.shape[0])
    weights, centres = objective.l1_weights()
    params0 = params0 * objective.scale

    def total(value, params):
        return value + l1_penalty(params, weights, centres)

    def accepted(new_total, old_total, t, decrease):
        return new_total <= old_total + _ARMIJO * t * decrease + _slack(old_total)

    def body(s: _State) -> _State:
        if problem.has_l1:
            direction = _l1_newton_point(s.params, s.grad, s.hess, weights, centres) - s.params
        else:
            direction = -_psd_solve(s.hess, s.grad)
        old = total(s.value, s.params)
        decrease = (
            s.grad @ direction
            + l1_penalty(s.params + direction, weights, centres)
            - l1_penalty(s.params, weights, centres)
        )
        trial = s.params + direction
        value, grad, hess = objective.value_grad_hess(trial)

        def full_step(_):
            return trial, value, grad, hess, jnp.asarray(0), jnp.asarray(True)

        def backtrack(_):
            def halve(c):
                t, _, k = c
                point = s.params + 0.5 * t * direction
                return 0.5 * t, total(objective.value(point), point), k + 1

            def keep_going(c):
                t, new_total, k = c
                return ~accepted(new_total, old, t, decrease) & (k < _MAX_HALVINGS)

            t, new_total, k = jax.lax.while_loop(keep_going, halve, (1.0, total(value, trial), 0))
            ok = accepted(new_total, old, t, decrease)
            point = jnp.where(ok, s.params + t * direction, s.params)
            return (point, *objective.value_grad_hess(point), k + 1, ok)

        ok_full = accepted(total(value, trial), old, 1.0, decrease)
        params, value, grad, hess, extra, ok = jax.lax.cond(ok_full, full_step, backtrack, None)
        it = s.n_iter + 1
        status = _next_status(
            it, value, optimality(params, grad, weights, centres), tol, max_iter, ok
        )
        history = s.history.at[it].set(total(value, params))
        return _State(params, value, grad, hess, s.aux, it, s.n_passes + 1 + extra, status, history)

    value, grad, hess = objective.value_grad_hess(params0)
    status = _initial_status(value, optimality(params0, grad, weights, centres), tol)
    history = jnp.full(max_iter + 1, jnp.nan).at[0].set(total(value, params0))
    state = _State(params0, value, grad, hess, jnp.zeros(()), 0, 1, status, history)
    state = jax.lax.while_loop(lambda s: s.status == RUNNING, body, state)
    return _finish(state, weights, centres, objective.scale)


@partial(jax.jit, static_argnames="max_iter")
def gradient_ascent(problem: Problem, params0, tol, max_iter: int) -> OptimizeResult:
    """Full-batch (proximal) gradient ascent with a backtracking line search.

    Each iteration first tries twice the last accepted step size, then halves it until
    the quadratic upper bound ``f(z) <= f(x) + g.(z - x) + |z - x|^2 / (2 t)`` holds.
    Near the optimum, where f changes by less than its rounding error, the bound is
    checked on the gradients instead: ``(g(z) - g(x)).(z - x) <= |z - x|^2 / t``.
    """
    objective = _Scaled.of(problem, params0.shape[0])
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
            ok = (value <= bound) | ((value <= bound + _slack(s.value)) & secant_ok)
            return point, value, grad, ok

        def halve(c):
            t, *_, k = c
            return (0.5 * t, *attempt(0.5 * t), k + 1)

        def keep_going(c):
            *_, ok, k = c
            return ~ok & (k < _MAX_HALVINGS)

        t0 = 2.0 * s.aux
        t, params, value, grad, ok, k = jax.lax.while_loop(keep_going, halve, (t0, *attempt(t0), 0))
        params = jnp.where(ok, params, s.params)
        value, grad = jnp.where(ok, value, s.value), jnp.where(ok, grad, s.grad)
        it = s.n_iter + 1
        opt = optimality(params, grad, weights, centres)
        status = _next_status(it, value, opt, tol, max_iter, ok)
        total = value + l1_penalty(params, weights, centres)
        history = s.history.at[it].set(total)
        return _State(params, value, grad, s.hess, t, it, s.n_passes + k + 1, status, history)

    value, grad = objective.value_and_grad(params0)
    status = _initial_status(value, optimality(params0, grad, weights, centres), tol)
    total = value + l1_penalty(params0, weights, centres)
    history = jnp.full(max_iter + 1, jnp.nan).at[0].set(total)
    step = jnp.asarray(0.5, dtype=value.dtype)
    state = _State(params0, value, grad, jnp.zeros(()), step, 0, 1, status, history)
    state = jax.lax.while_loop(lambda s: s.status == RUNNING, body, state)
    return _finish(state, weights, centres, objective.scale)


@partial(jax.jit, static_argnames=("max_iter", "memory_size"))
def lbfgs(problem: Problem, params0, tol, max_iter: int, memory_size: int = 10) -> OptimizeResult:
    """L-BFGS (optax, zoom line search) for smooth objectives."""
    objective = _Scaled.of(problem, params0.shape[0])
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
        status = _next_status(it, value, optimality(params, grad, weights, centres), tol, max_iter)
        history = s.history.at[it].set(value)
        state = _State(params, value, grad, s.hess, s.aux, it, s.n_passes + steps, status, history)
        return state, opt_state

    value, grad = objective.value_and_grad(params0)
    status = _initial_status(value, optimality(params0, grad, weights, centres), tol)
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
    epoch the full objective and gradient are evaluated: one more pass.
    """
    objective = _Scaled.of(problem, params0.shape[0])
    weights, centres = objective.l1_weights()
    params0 = params0 * objective.scale
    n_samples = problem.n_samples
    steps_per_epoch = max(1, n_samples // batch_size)
    optimizer = optax.sgd(learning_rate)

    def sgd_step(perm, epoch):
        def step(i, carry):
            params, opt_state, mean = carry
            rows = jax.lax.dynamic_slice(perm, (i * batch_size,), (batch_size,))
            _, grad = objective.batch_value_and_grad(params, problem.X[rows], problem.y[rows])
            updates, opt_state = optimizer.update(grad, opt_state)
            rate = learning_rate(epoch * steps_per_epoch + i)
            params = _prox(optax.apply_updates(params, updates), rate * weights, centres)
            return params, opt_state, mean + (params - mean) / (i + 1)

        return step

    def body(carry):
        s, last, opt_state, key = carry
        key, subkey = jax.random.split(key)
        perm = jax.random.permutation(subkey, n_samples)
        last, opt_state, mean = jax.lax.fori_loop(
            0, steps_per_epoch, sgd_step(perm, s.n_iter), (last, opt_state, last)
        )
        params = mean if average else last
        value, grad = objective.value_and_grad(params)
        it = s.n_iter + 1
        status = _next_status(it, value, optimality(params, grad, weights, centres), tol, epochs)
        history = s.history.at[it].set(value + l1_penalty(params, weights, centres))
        state = _State(params, value, grad, s.hess, s.aux, it, s.n_passes + 2, status, history)
        return state, last, opt_state, key

    value, grad = objective.value_and_grad(params0)
    status = _initial_status(value, optimality(params0, grad, weights, centres), tol)
    history = jnp.full(epochs + 1, jnp.nan).at[0].set(value + l1_penalty(params0, weights, centres))
    zero = jnp.zeros(())
    state = _State(params0, value, grad, zero, zero, 0, 1, status, history)
    init = (state, params0, optimizer.init(params0), key)
    state, *_ = jax.lax.while_loop(lambda c: c[0].status == RUNNING, body, init)
    return _finish(state, weights, centres, objective.scale)
