"""Multi-path Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022), pure JAX.

L-BFGS (optax's, with its zoom line search) climbs the log density from a start. At each
iterate ``theta_l`` the L-BFGS inverse Hessian ``H_l`` (the last ``history_size`` pairs
that meet the curvature condition, over the paper's diagonal estimate, its Algorithm 3)
gives a local normal ``N(theta_l + H_l grad log p(theta_l), H_l)``; its ELBO is estimated
from ``num_elbo_draws`` draws (the same standard normals at every iterate), and the normal with
the highest ELBO gives the path's draws. :func:`multipath` runs ``num_paths`` such paths
from dispersed starts and pools their draws, each with the log density of the mixture
of the paths' normals, for importance resampling (``vi.py``, on the host).

``H_l`` is formed dense, by the BFGS recursion over the pairs ((p+1)^2 numbers per
iterate, one at a time): the same matrix as the paper's low-rank factors, simpler to
check, and cheap for the tens to hundreds of parameters of a logistic regression.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

__all__ = [
    "MultiPathResult",
    "PathfinderOptions",
    "PathfinderResult",
    "map_points",
    "multipath",
    "normal_draws",
    "pathfinder",
]

# A pair (s, y) enters the inverse Hessian only if s.y > _CURVATURE * |y|^2 (blackjax's).
_CURVATURE = 1e-12
# L-BFGS stops when the objective changes by less than this times its size (Stan's
# tol_rel_obj, 1e4 machine epsilons) or the gradient's largest entry is below _GRAD_TOL.
_REL_OBJ_TOL = 1e4 * 2.2e-16
_GRAD_TOL = 1e-8
# Log densities of many points are evaluated this many point-rows at a time (lax.map's
# batches), so that large data never hold a (points, rows) array at once.
_BATCH_ELEMENTS = 2**22
# Multi-path starts are uniform on (-_INIT_RADIUS, _INIT_RADIUS) in every coordinate
# (the paper's and Stan's dispersed initialisation).
_INIT_RADIUS = 2.0


class PathfinderOptions(NamedTuple):
    """What a Pathfinder program bakes in."""

    max_iterations: int
    history_size: int
    num_elbo_draws: int
    num_draws: int
    num_paths: int = 1


class PathfinderResult(NamedTuple):
    """Outputs of :func:`pathfinder`; ``L`` = max_iterations, ``d`` = dimension.

    ``path`` (L + 1, d) holds the start and the L-BFGS iterates, ``num_iterations``
    how many are real (later rows repeat the last); ``elbo`` (L + 1,) the ELBO of each
    iterate's normal (-inf for the start and beyond ``num_iterations``), ``best`` the
    chosen iterate, whose normal has mean ``mean`` (d,) and Cholesky factor ``chol``
    (d, d). ``draws`` (num_draws, d) come from that normal, with their log density
    ``log_p`` and the normal's ``log_q`` (both (num_draws,), nats).
    """

    draws: jax.Array
    log_p: jax.Array
    log_q: jax.Array
    path: jax.Array
    elbo: jax.Array
    best: jax.Array
    num_iterations: jax.Array
    mean: jax.Array
    chol: jax.Array


class MultiPathResult(NamedTuple):
    """Outputs of :func:`multipath`; ``K`` = num_paths, ``M`` = num_draws per path.

    ``draws`` (K M, d): every path's draws, path by path; ``log_p`` (K M,) their log
    density and ``log_q`` (K M,) that of the equal mixture of the K paths' normals,
    nats. ``path`` (K, L + 1, d), ``elbo`` (K, L + 1), ``best`` (K,) and
    ``num_iterations`` (K,) are each path's, as in :class:`PathfinderResult`.
    """

    draws: jax.Array
    log_p: jax.Array
    log_q: jax.Array
    path: jax.Array
    elbo: jax.Array
    best: jax.Array
    num_iterations: jax.Array


def _lbfgs_path(log_density, start, options: PathfinderOptions):
    """Run L-BFGS on -log_density from ``start``.

    Returns the iterates (L + 1, d), the gradients of -log_density there (L + 1, d) and
    the number of iterations; rows past it repeat the last iterate.
    """

    def loss(z):
        return -log_density(z)

    optimizer = optax.lbfgs(memory_size=options.history_size)
    value_and_grad = optax.value_and_grad_from_state(loss)

    def cond(carry):
        i, *_, done = carry
        return (i < options.max_iterations) & ~done

    def body(carry):
        i, z, state, path, grads, _ = carry
        value, grad = value_and_grad(z, state=state)
        grads = grads.at[i].set(grad)
        updates, state = optimizer.update(grad, state, z, value=value, grad=grad, value_fn=loss)
        new = optax.apply_updates(z, updates)
        new_value = loss(new)
        finite = jnp.isfinite(new_value) & jnp.all(jnp.isfinite(new))
        scale = jnp.maximum(jnp.maximum(jnp.abs(value), jnp.abs(new_value)), 1.0)
        small = jnp.abs(value - new_value) <= _REL_OBJ_TOL * scale
        flat = jnp.max(jnp.abs(grad)) < _GRAD_TOL
        z = jnp.where(finite, new, z)
        path = path.at[i + 1].set(z)
        return i + finite.astype(i.dtype), z, state, path, grads, ~finite | small | flat

    path = jnp.broadcast_to(start, (options.max_iterations + 1, start.shape[0]))
    init = (jnp.asarray(0), start, optimizer.init(start), path, path, jnp.asarray(False))
    count, last, _, path, grads, _ = lax.while_loop(cond, body, init)
    # Rows past the last iterate repeat it (their ELBO is not estimated).
    rows = jnp.arange(options.max_iterations + 1)[:, None]
    last_grad = jax.grad(loss)(last)
    return jnp.where(rows <= count, path, last), jnp.where(rows < count, grads, last_grad), count


def _next_alpha(alpha, s, y):
    """Diagonal inverse-Hessian estimate after the pair (s, y) (the paper's Algorithm 3)."""
    a, b, c = y @ (alpha * y), y @ s, s @ (s / alpha)
    return 1.0 / (a / (b * alpha) + y**2 / b - a * s**2 / (b * c * alpha**2))


def _histories(path, grads, history_size: int):
    """For each iterate: its last ``history_size`` accepted pairs, their mask, and alpha.

    Pairs are (J, d) arrays, oldest first; ``grads`` are of -log p.
    """
    d = path.shape[1]

    def step(carry, pair):
        S, Y, mask, alpha = carry
        s, y = pair
        accept = (s @ y > _CURVATURE * (y @ y)) & jnp.all(jnp.isfinite(s) & jnp.isfinite(y))
        rolled = (jnp.roll(S, -1, 0).at[-1].set(s), jnp.roll(Y, -1, 0).at[-1].set(y))
        S, Y = jnp.where(accept, rolled[0], S), jnp.where(accept, rolled[1], Y)
        mask = jnp.where(accept, jnp.roll(mask, -1).at[-1].set(True), mask)
        alpha = jnp.where(accept, _next_alpha(alpha, s, y), alpha)
        return (S, Y, mask, alpha), (S, Y, mask, alpha)

    zeros = jnp.zeros((history_size, d))
    init = (zeros, zeros, jnp.zeros(history_size, dtype=bool), jnp.ones(d))
    _, histories = lax.scan(step, init, (jnp.diff(path, axis=0), jnp.diff(grads, axis=0)))
    return histories


def _inverse_hessian(S, Y, mask, alpha):
    """Return the L-BFGS inverse Hessian (d, d): diag(alpha) updated by the masked pairs."""
    eye = jnp.eye(alpha.shape[0])

    def update(H, pair):
        s, y, use = pair
        rho = 1.0 / jnp.where(use, s @ y, 1.0)
        V = eye - rho * jnp.outer(y, s)
        return jnp.where(use, V.T @ H @ V + rho * jnp.outer(s, s), H), None

    H, _ = lax.scan(update, jnp.diag(alpha), (S, Y, mask))
    return H


def _normal(theta, grad, history):
    """Mean (d,) and Cholesky factor (d, d) of an iterate's local normal."""
    H = _inverse_hessian(*history)
    return theta - H @ grad, jnp.linalg.cholesky(H)


def map_points(function, points, n_rows: int):
    """Apply ``function`` to each row of ``points`` (m, d), in batches of bounded size."""
    batch = max(1, min(points.shape[0], _BATCH_ELEMENTS // max(1, n_rows)))
    return lax.map(function, points, batch_size=batch)


def normal_draws(key, mean, chol, num: int, log_density, n_rows: int):
    """``num`` draws (num, d) of N(mean, chol chol^T), with log p and log q of each.

    ``n_rows``: rows of data behind ``log_density`` (bounds the batches of
    :func:`map_points`).
    """
    u = jax.random.normal(key, (num, mean.shape[0]))
    draws = mean + u @ chol.T
    log_q = (
        -0.5 * jnp.sum(u**2, axis=1)
        - jnp.sum(jnp.log(jnp.diag(chol)))
        - 0.5 * mean.shape[0] * jnp.log(2 * jnp.pi)
    )
    return draws, map_points(log_density, draws, n_rows), log_q


def pathfinder(
    key, log_density, start, options: PathfinderOptions, n_rows: int = 1
) -> PathfinderResult:
    """Pathfinder's draws from ``log_density`` (a JAX function of a (d,) vector), from ``start``.

    Jit it whole; ``options`` must be static. ``n_rows``: rows of data behind
    ``log_density``, which bounds how many points are evaluated at once.
    """
    path, grads, count = _lbfgs_path(log_density, start, options)
    indices = jnp.arange(options.max_iterations + 1)
    histories = _histories(path, grads, options.history_size)
    # One key for every iterate's ELBO draws: the same standard normals (common random
    # numbers), so that the choice of iterate is not decided by the noise of the estimates.
    elbo_key, draw_key = jax.random.split(key)

    def elbo(index):
        history = jax.tree.map(lambda h: h[index - 1], histories)

        def estimate():
            mean, chol = _normal(path[index], grads[index], history)
            draws = normal_draws(elbo_key, mean, chol, options.num_elbo_draws, log_density, n_rows)
            log_p, log_q = draws[1], draws[2]
            value = jnp.mean(log_p - log_q)
            return jnp.where(jnp.isfinite(value), value, -jnp.inf)

        return lax.cond((index >= 1) & (index <= count), estimate, lambda: -jnp.inf)

    elbos = lax.map(elbo, indices)
    best = jnp.argmax(elbos)
    history = jax.tree.map(lambda h: h[jnp.maximum(best, 1) - 1], histories)
    mean, chol = _normal(path[best], grads[best], history)
    draws, log_p, log_q = normal_draws(draw_key, mean, chol, options.num_draws, log_density, n_rows)
    return PathfinderResult(draws, log_p, log_q, path, elbos, best, count, mean, chol)


def _mixture_log_density(points, means, chols):
    """Log density (m,) at ``points`` (m, d) of the equal mixture of K normals.

    ``means`` (K, d), ``chols`` (K, d, d) their Cholesky factors.
    """

    def one(mean, chol):
        u = jax.scipy.linalg.solve_triangular(chol, (points - mean).T, lower=True)
        return (
            -0.5 * jnp.sum(u**2, axis=0)
            - jnp.sum(jnp.log(jnp.diag(chol)))
            - 0.5 * mean.shape[0] * jnp.log(2 * jnp.pi)
        )

    log_q = jax.vmap(one)(means, chols)  # (K, m)
    return jax.scipy.special.logsumexp(log_q, axis=0) - jnp.log(means.shape[0])


def multipath(key, log_density, dimension: int, options: PathfinderOptions, n_rows: int = 1):
    """``options.num_paths`` Pathfinder paths from starts uniform on (-2, 2)^d, pooled.

    Jit it whole; ``options`` must be static. The paths run one after another
    (``lax.map``): under ``vmap`` each would run every other's iterations.
    """
    start_key, paths_key = jax.random.split(key)
    starts = jax.random.uniform(
        start_key, (options.num_paths, dimension), minval=-_INIT_RADIUS, maxval=_INIT_RADIUS
    )
    keys = jax.random.split(paths_key, options.num_paths)
    paths = lax.map(
        lambda pair: pathfinder(pair[0], log_density, pair[1], options, n_rows), (keys, starts)
    )
    draws = paths.draws.reshape(-1, dimension)
    log_q = _mixture_log_density(draws, paths.mean, paths.chol)
    return MultiPathResult(
        draws,
        paths.log_p.reshape(-1),
        log_q,
        paths.path,
        paths.elbo,
        paths.best,
        paths.num_iterations,
    )
