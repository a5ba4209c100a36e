"""NUTS chains as compiled programs kept on disk between processes, on parallel threads.

NumPyro's ``MCMC`` traces its sampler afresh in every process (plus many small programs
compiled one operation at a time while the chains are set up), and JAX's persistent
cache only saves the compile.
Here two functions run the chains: one starts them (NumPyro's NUTS kernel,
``numpyro.infer.hmc.hmc``, initialised with its warm-up adaptation), the other runs a
stretch of iterations from a state, called SEGMENTS times (warm-up, then draws, as the
state counts them; a progress bar moves between calls, so the draws do not depend on
it). Both are kept on disk by :mod:`bayeslogreg._programs`, so a later process loads
them and their compiled code instead of tracing and compiling.

Each chain is its own program (``chain_method="parallel"``), run on as many threads as
there are cores; a chain's draws do not depend on the thread it ran on, so the same seed
gives the same draws on any machine. One chain per program was faster than vectorised
chains on 2 cores (vectorised products of two chains cost XLA three times one; the
measurements are in ``docs/design.md``).

The target's data are stored feature-major (``X.T``, contiguous) with value and gradient
from one pass (:func:`bayeslogreg.model.log_likelihood_sum_feature_major`).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from numpyro.infer.hmc import hmc
from tqdm.auto import tqdm

from bayeslogreg import _interrupt, _programs, model
from bayeslogreg.estimators._objective import priors_latent_log_density
from bayeslogreg.priors import Jeffreys, Prior, canonical

__all__ = ["FIELDS", "SamplerSettings", "run_chains"]

#: What each draw records beside the position: NumPyro's names.
FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "potential_energy", "step_size")
#: A run is this many calls of a kept program per chain (group), the progress bar moving
#: after each: the draws are the same with and without the bar.
SEGMENTS = 20


@dataclass(frozen=True)
class SamplerSettings:
    """What the compiled program fixes, beside the shapes of its arguments."""

    num_warmup: int
    num_samples: int
    target_accept: float
    max_tree_depth: int
    dense_mass: bool
    adapt_mass_matrix: bool


def _log_posterior(z, X_t, signs, intercept_prior: Prior, prior: Prior):
    """Log prior + log-likelihood at position ``z`` = (intercept, the prior's latents...).

    The latents are the coefficients (the MAP objective) except for hierarchical priors
    (:meth:`~bayeslogreg.priors.Prior.coef_from_latent`). ``X_t`` is X transposed,
    shape (p, n); ``signs`` is 2y - 1, shape (n,), or :class:`~bayeslogreg.model.Counts`
    (weights, binomial counts, offsets).
    """
    if isinstance(prior, Jeffreys):  # 0.5 log det of the information on these rows
        params = z
        information = model.fisher_information_feature_major(z, X_t, signs)
        log_prior = Jeffreys.log_density_of_information(information)
    else:
        params, log_prior = priors_latent_log_density(z, intercept_prior, prior)
    if isinstance(signs, model.Counts):
        return log_prior + model.log_likelihood_sum_counts_feature_major(params, X_t, signs)
    return log_prior + model.log_likelihood_sum_feature_major(params, X_t, signs)


def _kernels(settings: SamplerSettings, priors_treedef, X_t, signs, inverse_mass, prior_leaves):
    """NumPyro's NUTS ``(init, step)`` for this target, vectorised over chains.

    ``init(key_data, starts)`` takes raw keys (chains, 2) and starts (chains, d).
    NumPyro's step reads settings that its init stores: init must be traced first.
    """
    intercept_prior, prior = jax.tree.unflatten(priors_treedef, prior_leaves)

    def potential(z):
        return -_log_posterior(z, X_t, signs, intercept_prior, prior)

    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")

    def init(key, z):
        return init_kernel(
            z,
            settings.num_warmup,
            inverse_mass_matrix=inverse_mass,
            adapt_mass_matrix=settings.adapt_mass_matrix,
            dense_mass=settings.dense_mass,
            target_accept_prob=settings.target_accept,
            max_tree_depth=settings.max_tree_depth,
            rng_key=key,
        )

    return jax.vmap(init), jax.vmap(sample_kernel)


def _start_program(settings: SamplerSettings, priors_treedef):
    """(keys, starts, X_t, signs, inverse mass, prior leaves) -> the chains' state leaves."""

    def start(key_data, starts, *target):
        init, _ = _kernels(settings, priors_treedef, *target)
        return jax.tree.leaves(init(key_data, starts))

    return start


def _steps_program(settings: SamplerSettings, priors_treedef, n_steps: int):
    """(state leaves, keys, starts, target...) -> (state leaves, the steps' FIELDS...).

    Runs ``n_steps`` iterations (warm-up ones adapt, as NumPyro's state counts them);
    outputs are (chains, n_steps, ...): the position, then FIELDS.
    """

    def steps(state_leaves, key_data, starts, *target):
        init, step = _kernels(settings, priors_treedef, *target)
        # Traced for NumPyro's settings and the state's structure; its values are unused.
        state = jax.tree.unflatten(jax.tree.structure(init(key_data, starts)), state_leaves)

        def one(s, _):
            s = step(s)
            fields = (s.diverging, s.energy, s.num_steps, s.accept_prob, s.potential_energy)
            return s, (s.z, *fields, s.adapt_state.step_size)

        state, out = lax.scan(one, state, length=n_steps)
        # (steps, chains, ...) -> (chains, steps, ...)
        return jax.tree.leaves(state), tuple(jnp.swapaxes(x, 0, 1) for x in out)

    return steps


def _segments(total: int) -> list[int]:
    """Split ``total`` iterations into SEGMENTS calls of equal length (the last may be shorter)."""
    length = -(-total // SEGMENTS)
    return [length] * (total // length) + ([total % length] if total % length else [])


def run_chains(
    key_data: np.ndarray,
    starts: np.ndarray,
    X,
    y,
    inverse_mass: np.ndarray,
    intercept_prior: Prior,
    prior: Prior,
    settings: SamplerSettings,
    *,
    chain_method: str = "parallel",
    cache_dir: Path | None = None,
    progress_bar: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run ``len(starts)`` NUTS chains; return positions (chains, draws, d) and FIELDS.

    A position is the intercept and the prior's d - 1 latents (the coefficients, d =
    p + 1, except for hierarchical priors). ``starts`` has shape (chains, d),
    ``inverse_mass`` (d, d) when ``settings.dense_mass`` else (d,). ``key_data``
    (chains, 2) holds each chain's raw key (``jax.random.key_data``): chain ``i`` uses
    row ``i``, whatever the grouping. ``cache_dir``: where exported programs are kept
    (None: traced in every process). ``y`` is 0/1 labels (n,) or :class:`~bayeslogreg.model.Counts`.
    """
    num_chains = len(starts)
    # One program for every prior of the same kinds, whatever their values' shapes.
    leaves, treedef = jax.tree.flatten(canonical(intercept_prior, prior, np.shape(X)[1]))
    # device_put, not jnp.asarray: that compiles a program per shape (~20 ms each to
    # load in a fresh process).
    shared = jax.device_put(
        (
            np.ascontiguousarray(np.asarray(X, dtype=np.float64).T),
            (
                jax.tree.map(lambda v: np.asarray(v, dtype=np.float64), y)
                if isinstance(y, model.Counts)
                else 2.0 * np.asarray(y, dtype=np.float64) - 1.0
            ),
            np.asarray(inverse_mass, dtype=np.float64),
            tuple(np.asarray(leaf, dtype=np.float64) for leaf in leaves),
        )
    )
    # Programs for all chains vectorised, or for one chain (on parallel threads or not).
    chains = np.arange(num_chains)
    groups = [chains] if chain_method == "vectorized" else chains[:, None]

    def group_args(chains):
        return (*jax.device_put((key_data[chains], starts[chains].astype(np.float64))), *shared)

    args = [group_args(chains) for chains in groups]
    start = _programs.compiled(
        "nuts-start",
        _start_program(settings, treedef),
        args[0],
        settings=settings,
        cache_dir=cache_dir,
    )
    # Starting is one gradient evaluation per chain: done here, it also gives the state
    # that shapes the steps programs.
    states = [start(*group) for group in args]
    lengths = _segments(settings.num_warmup + settings.num_samples)
    steps = {
        length: _programs.compiled(
            "nuts-steps",
            _steps_program(settings, treedef, length),
            (states[0], *args[0]),
            settings=(settings, length),
            cache_dir=cache_dir,
        )
        for length in set(lengths)
    }
    n_state, n_out = len(states[0]), 1 + len(FIELDS)
    with tqdm(
        total=num_chains * sum(lengths), desc="NUTS iterations", disable=not progress_bar
    ) as bar:

        def run_group(index):
            chains, state, parts = groups[index], states[index], []
            for length in lengths:
                _interrupt.check()  # Ctrl-C stops the chains between segments
                leaves = steps[length](state, *args[index])
                state, out = leaves[:n_state], leaves[n_state:]
                parts.append([np.asarray(x) for x in out])
                bar.update(length * len(chains))
            return [
                np.concatenate([part[k] for part in parts], axis=1)[:, settings.num_warmup :]
                for k in range(n_out)
            ]

        threads = min(num_chains, os.cpu_count() or 1) if chain_method == "parallel" else 1
        results = _interrupt.gather(run_group, range(len(groups)), max_workers=threads)
    out = [np.concatenate([r[k] for r in results]) for k in range(len(results[0]))]
    return out[0], dict(zip(FIELDS, out[1:], strict=True))
