"""NUTS under a prior without a useful mode (the regularized horseshoe).

Such a prior is sampled in its unconstrained latents
(:meth:`~bayeslogreg.priors.Prior.coef_from_latent`), so the chains cannot start from
the Laplace approximation at the MAP: they start from the prior's own start point, and
each position (intercept, latents...) becomes the reported (intercept, coef...), its
log prior (Jacobians included: the density the sampler used) and the prior's named
hyperparameters.
"""

import jax
import numpy as np

from bayeslogreg.estimators._objective import priors_latent_log_density
from bayeslogreg.estimators._samplers import NUTS
from bayeslogreg.priors import Normal, Prior

__all__ = ["DEFAULT_SAMPLER", "draws_of_positions", "start_prior", "starts"]

#: NUTS's defaults under such a prior: small steps for the funnel between the global
#: scale and the coefficients near 0, and a diagonal mass matrix adapted in warm-up
#: (there is no Laplace covariance to start from).
DEFAULT_SAMPLER = NUTS(target_accept=0.99, dense_mass=False)


def start_prior(prior: Prior) -> Normal:
    """``Normal(0, slab_scale)``: the MAP under it gives the chains' starting intercept."""
    return Normal(0.0, prior.slab_scale)


def starts(normals: np.ndarray, intercept: float, intercept_sd: float, prior: Prior):
    """One start per chain, shape (chains, d), from standard normals (chains, d).

    ``d = 1 + prior.latent_size(p)`` for p coefficients.
    The intercept is ``intercept`` plus ``intercept_sd`` times a normal; the latents are
    the prior's start (z = 0, every scale at its prior median) plus a normal each, on
    their unconstrained scale (z a draw of its N(0, 1), a scale within a factor e).
    """
    center = np.concatenate([[intercept], prior.start_latent(normals.shape[1] - 1)])
    spread = np.concatenate([[intercept_sd], np.ones(len(center) - 1)])
    return center + normals * spread


@jax.jit
def _of_positions(positions, intercept_prior: Prior, prior: Prior):
    params, log_prior = jax.vmap(priors_latent_log_density, in_axes=(0, None, None))(
        positions, intercept_prior, prior
    )
    return params, log_prior, jax.vmap(prior.hyperparameters)(positions[:, 1:])


def draws_of_positions(positions: np.ndarray, intercept_prior: Prior, prior: Prior):
    """``(draws, log_prior, hyperparameters)`` of NUTS positions (chains, draws, d).

    ``draws`` (chains, draws, p + 1) intercept first; ``log_prior`` (chains, draws) in
    nats; ``hyperparameters`` maps names to arrays (chains, draws, ...).
    """
    chains, n_draws = positions.shape[:2]
    flat = positions.reshape(chains * n_draws, -1)
    params, log_prior, named = _of_positions(flat, intercept_prior, prior)
    reshaped = {
        k: np.asarray(v).reshape(chains, n_draws, *np.shape(v)[1:]) for k, v in named.items()
    }
    return (
        np.asarray(params).reshape(chains, n_draws, -1),
        np.asarray(log_prior).reshape(chains, n_draws),
        reshaped,
    )
