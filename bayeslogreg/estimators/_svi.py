"""ADVI: NumPyro's SVI with a mean-field (AutoNormal) or full-rank (AutoMultivariateNormal) guide.

The model is one latent vector ``z`` = (intercept, coef...) with a flat base measure and
the MAP objective as a factor (``_nuts_program._log_posterior``): the same target as
MAP and NUTS, not a second copy of the model. It is fitted in whitened coordinates
``u``, ``z = start + scale u`` (``start`` the MAP, ``scale`` a Cholesky factor of the
Laplace covariance, or its diagonal for mean-field), where the posterior is close to
N(0, I): the guide starts there as N(0, I), and Adam's steps, the same size in every
coordinate, are the same fraction of a posterior sd in every direction. Adam, with its
step size decayed linearly to zero over the last half of the steps (the iterates then
settle instead of jittering with the gradient noise), maximises the ELBO.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
import optax
from jax import lax
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal
from numpyro.infer.initialization import init_to_value
from numpyro.optim import optax_to_numpyro

from bayeslogreg.estimators._pathfinder import normal_draws

__all__ = ["SVIOptions", "SVIResult", "svi"]


class SVIOptions(NamedTuple):
    """What an SVI program bakes in (the step size is an argument)."""

    fullrank: bool
    num_steps: int
    num_elbo_draws: int
    num_draws: int


class SVIResult(NamedTuple):
    """Outputs of :func:`svi`.

    ``elbo`` (num_steps,) per step, nats (one estimate each, from ``num_elbo_draws``
    draws); ``mean`` (d,) and ``chol`` (d, d) of the fitted normal; ``draws``
    (num_draws, d) from it with ``log_p`` and ``log_q`` (num_draws,), nats.
    """

    draws: jax.Array
    log_p: jax.Array
    log_q: jax.Array
    elbo: jax.Array
    mean: jax.Array
    chol: jax.Array


def _schedule(step_size, num_steps: int):
    """``step_size`` for the first half of the steps, then linearly down to zero."""
    half = num_steps // 2
    return optax.join_schedules(
        [
            optax.constant_schedule(step_size),
            optax.linear_schedule(step_size, 0.0, num_steps - half),
        ],
        [half],
    )


def svi(
    key, log_density, start, scale, step_size, options: SVIOptions, n_rows: int = 1
) -> SVIResult:
    """Fit the guide to ``log_density`` (a JAX function of a (d,) vector) near ``start``.

    ``scale`` (d, d), lower triangular (diagonal for mean-field), whitens the
    coordinates: the guide N(m, C C^T) of ``u`` is N(start + scale m, (scale C)(scale
    C)^T) of ``z``. Jit it whole; ``options`` must be static, ``step_size`` (Adam's)
    may be traced. ``n_rows``: rows of data behind ``log_density`` (bounds the draws
    evaluated at once).
    """
    d = start.shape[0]
    # The density of u: the ELBO is then that of z, in the same nats.
    log_jacobian = jnp.sum(jnp.log(jnp.abs(jnp.diag(scale))))

    def model():
        flat = dist.ImproperUniform(dist.constraints.real_vector, (), event_shape=(d,))
        u = numpyro.sample("u", flat)
        numpyro.factor("log_density", log_density(start + scale @ u) + log_jacobian)

    guide_class = AutoMultivariateNormal if options.fullrank else AutoNormal
    guide = guide_class(
        model, init_loc_fn=init_to_value(values={"u": jnp.zeros(d)}), init_scale=1.0
    )
    optimizer = optax_to_numpyro(optax.adam(_schedule(step_size, options.num_steps)))
    engine = SVI(model, guide, optimizer, Trace_ELBO(num_particles=options.num_elbo_draws))
    fit_key, draw_key = jax.random.split(key)
    state = engine.init(fit_key)
    state, losses = lax.scan(lambda s, _: engine.update(s), state, length=options.num_steps)
    params = engine.get_params(state)
    if options.fullrank:
        mean, chol = params["auto_loc"], params["auto_scale_tril"]
    else:
        mean, chol = params["u_auto_loc"], jnp.diag(params["u_auto_scale"])
    mean, chol = start + scale @ mean, scale @ chol
    draws, log_p, log_q = normal_draws(draw_key, mean, chol, options.num_draws, log_density, n_rows)
    return SVIResult(draws, log_p, log_q, -losses, mean, chol)
