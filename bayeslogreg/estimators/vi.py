"""Variational approximations of the posterior: ADVI (mean-field, full-rank) and Pathfinder.

Each fits normal distributions to the posterior of :func:`~bayeslogreg.sample_posterior`
(the same priors, weights, counts and offsets, and the same target function) and returns
draws as a :class:`VariationalPosterior`, which has the face of a
:class:`~bayeslogreg.Posterior`: ADVI's from its normal, Pathfinder's from its paths'
normals, importance-resampled. How far the normals are from the posterior is measured
by the Pareto k-hat of the draws' importance ratios p(theta, y) / q(theta) (Yao,
Vehtari, Simpson and Gelman 2018), with an :class:`~bayeslogreg.ApproximationWarning`
above 0.7.
"""

import dataclasses
import time
import warnings
from dataclasses import dataclass

import jax
import numpy as np

from bayeslogreg import _arviz, _interrupt, _programs, model
from bayeslogreg._jax import entry_point, use_compilation_cache
from bayeslogreg._validation import (
    check_bool,
    check_choice,
    check_int,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from bayeslogreg.estimators._nuts_program import _log_posterior
from bayeslogreg.estimators._pathfinder import MultiPathResult, PathfinderOptions, multipath
from bayeslogreg.estimators._prior_choice import PriorChoice
from bayeslogreg.estimators._prior_choice import resolve as resolve_priors
from bayeslogreg.estimators._svi import SVIOptions, SVIResult, svi
from bayeslogreg.estimators.nuts import (
    MAX_POINTWISE_ELEMENTS,
    MIN_DRAWS_PER_CHAIN,
    Posterior,
    _assemble,
    _laplace_cholesky,
    _map_start,
    _posterior_data,
    _target,
)
from bayeslogreg.exceptions import ApproximationWarning
from bayeslogreg.priors import NO_MODE_MESSAGE, Prior, canonical

__all__ = ["METHODS", "VariationalPosterior", "fit_vi"]

#: The approximations :func:`fit_vi` offers, and what each is called in results.
METHODS = {
    "meanfield": "ADVI (mean-field)",
    "fullrank": "ADVI (full-rank)",
    "pathfinder": "Pathfinder",
}
#: Warn when the Pareto k-hat of the importance ratios exceeds this (Yao et al. 2018).
KHAT_THRESHOLD = 0.7
# Defaults, measured on German credit (docs/estimators.md): the options each method uses.
# ADVI, in coordinates whitened by the Laplace approximation (_svi.py): 400 steps of 0.01
# with 16 draws each left the full-rank means within 0.07 sd over seeds 0-3 (2000 steps
# of 0.02 within 0.07 sd, 200 steps within 0.10 sd; 4 draws per step left the means up
# to 0.15 sd off by the gradients' noise alone).
# Pathfinder: 4 paths (the paper's and Stan's). 6 L-BFGS pairs (the paper's) gave normals
# too narrow for importance resampling on German credit (ESS 450-880 of 16,000 draws,
# means up to 0.15 sd off); 25 pairs ESS 1,700-4,400 and means within 0.065 sd.
_DEFAULTS = {
    "meanfield": {"num_steps": 400, "step_size": 0.01, "num_elbo_draws": 16},
    "fullrank": {"num_steps": 400, "step_size": 0.01, "num_elbo_draws": 16},
    "pathfinder": {"max_iterations": 1000, "history_size": 25, "num_elbo_draws": 5, "num_paths": 4},
}


@dataclass(frozen=True, repr=False)
class VariationalPosterior(Posterior):
    """Result of :func:`fit_vi`: a :class:`~bayeslogreg.Posterior` of the approximation.

    Its draws are one "chain": independent draws from ADVI's normal, or Pathfinder's
    resampled draws (some repeat); ``num_warmup`` and ``num_divergences`` are 0,
    ``sampler`` None.

    Attributes
    ----------
    (beside those of :class:`~bayeslogreg.Posterior`)
    method : {"meanfield", "fullrank", "pathfinder"}
    options : dict
        The options the method used (``num_steps``, ``step_size``, ``num_elbo_draws``;
        or ``max_iterations``, ``history_size``, ``num_elbo_draws``).
    elbo : ndarray
        The ELBO (nats): per optimisation step for ADVI, shape (num_steps,), each a
        noisy estimate from ``num_elbo_draws`` draws; per path and iterate of
        Pathfinder, shape (num_paths, n_iterations + 1), -inf for the starts and past
        each path's end (``n_iterations`` is the longest path's).
    path : ndarray or None
        Pathfinder's L-BFGS iterates, shape (num_paths, n_iterations + 1, p + 1),
        intercept first, the start first; rows past a path's end repeat its last
        iterate. None for ADVI.
    pareto_k : float
        Pareto k-hat of the importance ratios p(theta, y) / q(theta) of the normal's
        draws (for Pathfinder: of all paths' draws, q the mixture of their normals,
        before resampling): below 0.5 the normal is close to the posterior, above 0.7
        it is not to be trusted.
    """

    method: str = "fullrank"
    options: dict | None = None
    elbo: np.ndarray | None = None
    path: np.ndarray | None = None
    pareto_k: float = float("nan")

    @property
    def sampler_name(self) -> str:
        """What made the draws, e.g. ``"ADVI (full-rank)"`` or ``"Pathfinder"``."""
        return METHODS[self.method]

    def _title(self) -> str:
        return (
            f"VariationalPosterior({self.sampler_name}, {self.num_samples} draws, "
            f"Pareto k-hat {self.pareto_k:.2f}, n={self.n_rows})"
        )


def _method_options(method: str, given: dict) -> dict:
    """Return the method's options: its defaults, updated by those given (None: not given).

    An option the method does not use is refused, never ignored.
    """
    defaults = _DEFAULTS[method]
    unused = sorted(
        name for name, value in given.items() if value is not None and name not in defaults
    )
    if unused:
        raise ValueError(
            f"method={method!r} does not use {unused}; its options are {sorted(defaults)}. "
            "Leave the others unset."
        )
    options = {
        name: given[name] if given[name] is not None else value for name, value in defaults.items()
    }
    for name in ("num_steps", "num_elbo_draws", "max_iterations", "history_size", "num_paths"):
        if name in options:
            options[name] = check_positive_int(options[name], name)
    if "step_size" in options:
        options["step_size"] = check_positive_float(options["step_size"], "step_size")
    return options


def _program(method: str, options: dict, num_draws: int, treedef):
    """Return the function of (key, start, scale, step size, X_t, signs, priors), its settings."""
    if method == "pathfinder":
        settings = PathfinderOptions(num_draws=num_draws, **options)
    else:
        baked = {name: value for name, value in options.items() if name != "step_size"}
        settings = SVIOptions(fullrank=method == "fullrank", num_draws=num_draws, **baked)

    def run(key_data, start, scale, step_size, X_t, signs, prior_leaves):
        intercept_prior, prior = jax.tree.unflatten(treedef, prior_leaves)

        def log_density(z):
            return _log_posterior(z, X_t, signs, intercept_prior, prior)

        key, n_rows = jax.random.wrap_key_data(key_data), X_t.shape[1]
        if method == "pathfinder":  # only start's size: the paths start dispersed
            return multipath(key, log_density, start.shape[0], settings, n_rows)._asdict()
        return svi(key, log_density, start, scale, step_size, settings, n_rows)._asdict()

    return run, settings


def _approximate(X, target, start, map_fit, method: str, options: dict, num_draws: int, seed):
    """Run the method's kept program; return its outputs by name, as NumPy arrays."""
    canonical_priors = canonical(map_fit.intercept_prior, map_fit.prior, X.shape[1])
    leaves, treedef = jax.tree.flatten(canonical_priors)
    run, settings = _program(method, options, num_draws, treedef)
    # As run_chains: device_put, not jnp.asarray (a program per shape to load).
    args = jax.device_put(
        (
            np.asarray(jax.random.key_data(jax.random.key(seed))),
            np.asarray(start, dtype=np.float64),
            _whitening(map_fit, diagonal=method == "meanfield"),
            np.float64(options.get("step_size", np.nan)),  # Pathfinder has none
            np.ascontiguousarray(np.asarray(X, dtype=np.float64).T),
            (
                jax.tree.map(lambda v: np.asarray(v, dtype=np.float64), target)
                if isinstance(target, model.Counts)
                else 2.0 * np.asarray(target, dtype=np.float64) - 1.0
            ),
            tuple(np.asarray(leaf, dtype=np.float64) for leaf in leaves),
        )
    )
    program = _programs.compiled(
        f"vi-{method}", run, args, settings=settings, cache_dir=use_compilation_cache()
    )
    outputs = _interrupt.call(program, *args)
    # The program returns the leaves of a dict: its values in the order of sorted keys.
    fields = MultiPathResult._fields if method == "pathfinder" else SVIResult._fields
    return dict(zip(sorted(fields), (np.asarray(x) for x in outputs), strict=True))


def _whitening(map_fit, *, diagonal: bool) -> np.ndarray:
    """ADVI's whitening (p + 1, p + 1): a Cholesky factor of the Laplace covariance.

    For mean-field its diagonal: the Laplace approximation's conditional sds, 1 /
    sqrt(diag(precision)), which a mean-field normal fits. Pathfinder ignores it.
    """
    chol = _laplace_cholesky(map_fit)
    if not diagonal:
        return chol
    precision = np.linalg.inv(chol @ chol.T)
    return np.diag(1.0 / np.sqrt(np.diag(precision)))


def _check_finite_elbo(method: str, outputs: dict, options: dict) -> None:
    """Refuse a diverged optimisation: a non-finite ELBO or draws, never NaN draws."""
    if method == "pathfinder":
        if not np.isfinite(outputs["elbo"]).any() or not np.isfinite(outputs["draws"]).all():
            raise ValueError(
                "Pathfinder found no normal approximation with a finite ELBO along its "
                f"L-BFGS paths ({outputs['num_iterations'].tolist()} iterations): the log "
                "posterior is not finite or not concave enough near the path. Check the "
                "data's scale (standardise the features), or use method='fullrank' or "
                "sample_posterior."
            )
        return
    elbo = outputs["elbo"]
    if np.isfinite(elbo).all() and np.isfinite(outputs["draws"]).all():
        return
    bad = np.flatnonzero(~np.isfinite(elbo))
    where = f"from step {bad[0] + 1} of {len(elbo)}" if bad.size else "at the end"
    step_size = options["step_size"]
    raise ValueError(
        f"the {METHODS[method]} optimisation diverged: the ELBO is NaN or infinite {where} "
        f"(step_size={step_size!r}). Pass a smaller step_size, e.g. "
        f"step_size={step_size / 10!r}, or standardise the features."
    )


def _importance_resample(log_ratios: np.ndarray, num_draws: int, seed: int):
    """Return ``num_draws`` indices into the draws of ``log_ratios`` (m,), and PSIS's k-hat.

    Systematic resampling on the Pareto-smoothed weights (one uniform, ``num_draws``
    evenly spaced points through their cumulative sum: less noise than independent
    picks), in a random order, so that a draw's position says nothing of its path.
    """
    log_weights, khat = _arviz.psis(log_ratios)
    rng = np.random.default_rng(seed)
    points = (rng.random() + np.arange(num_draws)) / num_draws
    index = np.searchsorted(np.cumsum(np.exp(log_weights)), points)
    return rng.permutation(np.minimum(index, len(log_ratios) - 1)), khat


def _warn_if_far(posterior: VariationalPosterior) -> None:
    if posterior.pareto_k > KHAT_THRESHOLD:
        remedy = "sample the posterior with sample_posterior"
        if posterior.method == "meanfield":
            remedy = f"use method='fullrank' (mean-field ignores correlations) or {remedy}"
        warnings.warn(
            f"the {posterior.sampler_name} approximation is far from the posterior: the "
            f"Pareto k-hat of its draws' importance ratios is {posterior.pareto_k:.2f} > "
            f"{KHAT_THRESHOLD}, so its means, sds and intervals may be off. To be sure, "
            f"{remedy}.",
            ApproximationWarning,
            stacklevel=4,  # this function, fit_vi, its entry_point wrapper, the caller
        )


@entry_point
def fit_vi(
    X,
    y=None,
    *,
    data=None,
    missing: str = "raise",
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    method: str = "fullrank",
    seed: int = 0,
    num_draws: int = 1000,
    num_steps: int | None = None,
    step_size: float | None = None,
    num_elbo_draws: int | None = None,
    max_iterations: int | None = None,
    history_size: int | None = None,
    num_paths: int | None = None,
    feature_names=None,
    store_log_likelihood: bool = True,
    sample_weight=None,
    trials=None,
    offset=None,
) -> VariationalPosterior:
    """Approximate the posterior by a normal distribution: ADVI or Pathfinder.

    Parameters
    ----------
    X, y, data, missing, prior, intercept_prior, autoscale, feature_names
        As in :func:`~bayeslogreg.sample_posterior`.
    sample_weight, trials, offset : array_like of shape (n_samples,), optional
        As in :func:`~bayeslogreg.sample_posterior`: the same model and the same
        posterior, which the methods approximate.
    method : {"fullrank", "meanfield", "pathfinder"}
        ``"meanfield"``: ADVI with independent normals (NumPyro's ``AutoNormal``; its sds
        are too small where parameters are correlated). ``"fullrank"``: ADVI with a
        correlated normal (``AutoMultivariateNormal``). Both maximise the ELBO with
        Adam, in coordinates whitened by the Laplace approximation at the MAP (its
        Cholesky factor; for mean-field its conditional sds), starting from it.
        ``"pathfinder"``: multi-path Pathfinder (Zhang et al. 2022): ``num_paths``
        L-BFGS paths from starts uniform on (-2, 2) in every coordinate, on each the
        normal of the iterate with the best ELBO; their ``num_draws`` draws each are
        pooled and importance-resampled to ``num_draws`` (Pareto-smoothed weights
        p / q, q the mixture of the paths' normals; systematic resampling).
    seed : int
        The same seed gives the same draws.
    num_draws : int
        Draws from the fitted normal (one "chain"; at least 4, ArviZ's minimum); for
        Pathfinder, draws per path and, after resampling, in the result (there some
        repeat: as many distinct ones as the importance weights allow).
    num_steps, step_size : int, float, optional
        ADVI only: Adam's steps (default 400) and step size (default 0.01, in
        whitened coordinates: about a hundredth of a posterior sd; decayed linearly to
        0 over the second half of the steps).
    num_elbo_draws : int, optional
        Draws per ELBO estimate: per ADVI step (default 16), per Pathfinder iterate
        (default 5).
    max_iterations, history_size, num_paths : int, optional
        Pathfinder only: L-BFGS iterations at most (default 1000), the pairs its
        inverse Hessian keeps (default 25) and the paths (default 4).
    store_log_likelihood : bool
        Store per-row log-likelihoods of the draws, for LOO/WAIC.

    Returns
    -------
    VariationalPosterior
        An :class:`~bayeslogreg.ApproximationWarning` is issued when the Pareto k-hat
        of the draws exceeds 0.7.

    Raises
    ------
    ValueError
        As :func:`~bayeslogreg.sample_posterior` for bad data and improper posteriors;
        for an option the method does not use (``method="pathfinder", step_size=0.1``);
        and when the optimisation diverges (a NaN or infinite ELBO), suggesting a
        smaller ``step_size``.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> approx = fit_vi(data.X, data.y, method="pathfinder", seed=1)
    >>> approx.summary()[["mean", "sd"]].round(2)  # doctest: +SKIP
    >>> approx.pareto_k  # doctest: +SKIP
    """
    start = time.perf_counter()
    X, y, names, observations, formula, origin = _posterior_data(
        X, y, data, feature_names, missing, (sample_weight, trials, offset)
    )
    seed = check_seed(seed)
    method = check_choice(method, "method", tuple(METHODS))
    num_draws = check_int(num_draws, "num_draws", minimum=MIN_DRAWS_PER_CHAIN)
    store_log_likelihood = check_bool(store_log_likelihood, "store_log_likelihood")
    if store_log_likelihood and num_draws * X.shape[0] > MAX_POINTWISE_ELEMENTS:
        raise ValueError(
            f"storing per-row log-likelihoods would take {num_draws * X.shape[0] * 8 / 2**30:.1f} "
            f"GiB ({num_draws} draws x {X.shape[0]} rows); pass store_log_likelihood=False."
        )
    given = {
        "num_steps": num_steps,
        "step_size": step_size,
        "num_elbo_draws": num_elbo_draws,
        "max_iterations": max_iterations,
        "history_size": history_size,
        "num_paths": num_paths,
    }
    options = _method_options(method, given)
    row_weights = None if observations is None else observations.weighted_rows()
    choice = PriorChoice(prior, intercept_prior, autoscale)
    intercept_prior, prior, record = resolve_priors(choice, X, row_weights, names)
    if not prior.has_mode:
        raise ValueError(
            f"fit_vi starts from the MAP, but prior={prior!r} has none: {NO_MODE_MESSAGE}"
        )
    map_fit = _map_start(X, y, names, prior, intercept_prior, observations)
    map_fit = dataclasses.replace(
        map_fit, feature_names_origin=origin, formula=formula, prior_choice=record
    )
    target = _target(X, y, observations)
    outputs = _approximate(X, target, map_fit.params, map_fit, method, options, num_draws, seed)
    _check_finite_elbo(method, outputs, options)
    if method == "pathfinder":
        kept, pareto_k = _importance_resample(outputs["log_p"] - outputs["log_q"], num_draws, seed)
    else:
        kept, pareto_k = slice(None), _arviz.pareto_khat(outputs["log_p"] - outputs["log_q"])
    posterior = _assemble(
        outputs["draws"][kept][None],
        {"lp": outputs["log_p"][kept][None], "log_q": outputs["log_q"][kept][None]},
        X,
        y,
        names,
        map_fit,
        None,
        prior=prior,
        num_warmup=0,
        seed=seed,
        store_log_likelihood=store_log_likelihood,
        start=start,
        observations=observations,
    )
    if method == "pathfinder":
        count = int(outputs["num_iterations"].max())
        elbo, path = outputs["elbo"][:, : count + 1], outputs["path"][:, : count + 1]
    else:
        elbo, path = outputs["elbo"], None
    fields = {f.name: getattr(posterior, f.name) for f in dataclasses.fields(Posterior)}
    result = VariationalPosterior(
        **fields,
        method=method,
        options=options,
        elbo=elbo,
        path=path,
        pareto_k=pareto_k,
    )
    _warn_if_far(result)
    return result
