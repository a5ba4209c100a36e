"""The full posterior, sampled with NumPyro's NUTS.

The sampler's target is the MAP objective itself: the prior objects' log-densities plus
the log-likelihood of :mod:`bayeslogreg.model`, so MAP and NUTS share one definition of
the model. Sampling starts from the MAP: each chain's first point is a draw from the
Laplace approximation, whose covariance is also the inverse mass matrix. The chains run
as compiled programs kept between processes (:mod:`._nuts_program`).
"""

import dataclasses
import functools
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pandas as pd
from scipy import special

from bayeslogreg import _arviz, _interrupt, model
from bayeslogreg._formula import FormulaEncoding, resolve
from bayeslogreg._hdf5 import Limits
from bayeslogreg._io import atomic_write_bytes
from bayeslogreg._jax import entry_point, use_compilation_cache
from bayeslogreg._validation import (
    check_bool,
    check_choice,
    check_draws_per_chain,
    check_level,
    check_positive_int,
    check_seed,
    degenerate_columns,
    feature_names_origin,
)
from bayeslogreg.estimators import (
    _effects,
    _hierarchical,
    _large_posterior,
    _persist,
    _sensitivity,
)
from bayeslogreg.estimators._nuts_program import SamplerSettings, run_chains
from bayeslogreg.estimators._objective import jeffreys_log_prior
from bayeslogreg.estimators._observations import Observations, check_fit_data
from bayeslogreg.estimators._options import from_keywords
from bayeslogreg.estimators._point_estimate import Estimate, PointEstimate
from bayeslogreg.estimators._prior_choice import PriorChoice
from bayeslogreg.estimators._prior_choice import resolve as resolve_priors
from bayeslogreg.estimators._samplers import IMH, NUTS, Sampler, as_sampler
from bayeslogreg.estimators.point import find_unidentified, fit_map
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import NO_MODE_MESSAGE, Jeffreys, Prior

__all__ = ["Posterior", "sample_posterior"]

#: Refuse to store more per-row log-likelihoods than this (float64: 2 GiB).
MAX_POINTWISE_ELEMENTS = 2**28
#: What the arrays of a file may take when Posterior.load reads it. The largest array a
#: saved posterior holds is its per-row log-likelihood, refused beyond
#: MAX_POINTWISE_ELEMENTS float64 numbers when sampling: no array may take more. Only the
#: coefficient draws come near it (chains x draws x p, p < n_rows); the rest (intercept,
#: sampler statistics, labels, names) is far smaller, so four such arrays bound the whole.
FILE_LIMITS = Limits(
    max_array_bytes=8 * MAX_POINTWISE_ELEMENTS, max_total_bytes=4 * 8 * MAX_POINTWISE_ELEMENTS
)
#: Warn when split R-hat exceeds this (Vehtari et al. 2021).
RHAT_THRESHOLD = 1.01
#: Warn when bulk ESS is below this many effective draws per chain.
MIN_ESS_PER_CHAIN = 100
#: Fewer draws per chain than this leave R-hat and ESS undefined (ArviZ's minimum).
MIN_DRAWS_PER_CHAIN = 4
# Per-draw log-likelihoods are computed this many numbers at a time.
_CHUNK_ELEMENTS = 2**24
# Saved files keep the fields other than these in a root attribute of this name.
_METADATA_ATTR = "bayeslogreg"
_IN_IDATA = ("idata", "draws")


@dataclass(frozen=True, repr=False)
class Posterior(Estimate):
    """Result of :func:`sample_posterior`.

    Attributes
    ----------
    idata : arviz.InferenceData (ArviZ 0.23) or xarray.DataTree (ArviZ 1.x)
        Groups ``posterior`` (``intercept`` and ``coef`` over dimension ``feature``;
        under a :class:`~bayeslogreg.priors.RegularizedHorseshoe` also its ``tau``,
        ``lambda`` (over ``feature``) and ``c2``),
        ``sample_stats``, ``log_likelihood`` (when stored), ``log_prior`` (variable
        ``log_prior``: each draw's log prior density as used, nats; absent from files
        saved before it was stored) and ``observed_data``.
    draws : ndarray of shape (num_chains, num_samples, p + 1)
        Posterior draws, intercept first.
    feature_names : tuple of str
    map_estimate : PointEstimate
        The MAP fit the chains started from (under a regularized horseshoe, which has no
        useful mode, the MAP under ``Normal(0, slab_scale)``, whose intercept starts
        the chains); it records the weights, counts and offsets
        of the data (``n_obs``, ``weighted``, ``binomial``, ``has_offset``).
    prior, intercept_prior : Prior
    num_warmup : int
    num_divergences : int
        Divergent transitions after warm-up.
    n_rows : int
        Rows of data.
    fit_time : float
        Seconds, the MAP fit and compilation included.
    seed : int
    data_sha256 : str or None
        SHA-256 of the validated data (as :attr:`PointEstimate.data_sha256`).
    versions : dict or None
        Versions of Python and the packages that sampled it.
    sampler : NUTS, IMH or None
        The sampler object that drew it (:mod:`bayeslogreg.samplers`), with its
        options; None for a posterior loaded from a file saved before bayeslogreg
        recorded it.
    feature_names_origin : {"columns", "given", "generated"}
        As for :class:`PointEstimate`.
    formula : FormulaEncoding or None
        As for :class:`PointEstimate`: new frames are encoded with it.
    """

    idata: object
    draws: np.ndarray
    feature_names: tuple[str, ...]
    map_estimate: PointEstimate
    prior: Prior
    intercept_prior: Prior
    num_warmup: int
    num_divergences: int
    n_rows: int
    fit_time: float
    seed: int
    data_sha256: str | None = None
    versions: dict | None = None
    sampler: Sampler | None = None
    feature_names_origin: str | None = None
    formula: FormulaEncoding | None = None

    @property
    def prior_choice(self) -> dict | None:
        """The priors as given, as the MAP start keeps them (see :meth:`prior_summary`)."""
        return self.map_estimate.prior_choice

    @property
    def num_chains(self) -> int:
        """Number of chains."""
        return self.draws.shape[0]

    @property
    def num_samples(self) -> int:
        """Draws per chain after warm-up."""
        return self.draws.shape[1]

    @property
    def flat_draws(self) -> np.ndarray:
        """All draws pooled over chains, shape (num_chains * num_samples, p + 1)."""
        return self.draws.reshape(-1, self.draws.shape[-1])

    @property
    def params(self) -> np.ndarray:
        """Posterior means, shape (p + 1,), intercept first."""
        return self.flat_draws.mean(axis=0)

    @property
    def cov(self) -> np.ndarray:
        """Posterior covariance, shape (p + 1, p + 1)."""
        return np.atleast_2d(np.cov(self.flat_draws, rowvar=False))

    @property
    def stderr(self) -> np.ndarray:
        """Posterior standard deviations, shape (p + 1,)."""
        return self.flat_draws.std(axis=0, ddof=1)

    def summary(
        self, level: float = 0.95, ci_kind: str = "hdi", *, ci_prob: float | None = None
    ) -> pd.DataFrame:
        """ArviZ summary: mean, sd, interval, MCSE, bulk/tail ESS and R-hat per parameter.

        Parameters
        ----------
        level : float
            Probability of the credible interval (``ci_lower``, ``ci_upper``).
        ci_kind : {"hdi", "eti"}
            Highest-density or equal-tailed interval.
        ci_prob : float, optional
            Deprecated name of ``level`` (a ``FutureWarning``); pass ``level``.

        Returns
        -------
        DataFrame
            Indexed by parameter name (``intercept`` and the feature names), with columns
            mean, sd, ci_lower, ci_upper, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat.
        """
        if ci_prob is not None:
            if level != 0.95:
                raise ValueError(
                    f"level={level!r} and ci_prob={ci_prob!r} both set the interval's "
                    "probability; ci_prob= is deprecated: drop it and keep level=."
                )
            warnings.warn(
                f"ci_prob= is deprecated; pass level={ci_prob!r}", FutureWarning, stacklevel=2
            )
            level = ci_prob
        check_choice(ci_kind, "ci_kind", ("hdi", "eti"))
        var_names = ["intercept", "coef"] if self.feature_names else ["intercept"]
        table = _arviz.summary(self.idata, var_names, level=check_level(level), ci_kind=ci_kind)
        table.index = pd.Index(self.param_names, name="parameter")
        return table

    def conf_int(self, level: float = 0.95, kind: str = "hdi") -> np.ndarray:
        """Credible interval per parameter, shape (p + 1, 2)."""
        return self.summary(level, kind)[["ci_lower", "ci_upper"]].to_numpy()

    def predict_proba(self, X, offset=None, *, return_draws: bool = False):
        """Posterior mean of P(y = 1) for each row of X, shape (n_samples,).

        This is the posterior predictive probability, accumulated over chunks of draws
        so that at most about 2**24 draw-row probabilities exist at once. With
        ``return_draws=True`` also the per-draw probabilities, shape
        (num_chains * num_samples, n_samples), which do take that much memory. Columns
        are matched to ``feature_names`` as in :meth:`PointEstimate.predict_proba`;
        ``offset`` (n_samples,) is added to each row's log-odds, as there.
        """
        X, offset = self._checked_X_offset(X, offset)
        if return_draws:
            draws = self.flat_draws
            eta = draws[:, :1] + draws[:, 1:] @ X.T
            probs = special.expit(eta if offset is None else eta + offset)
            return probs.mean(axis=0), probs
        return self._predict(X, offset)

    def _predict(self, X: np.ndarray, offset=None) -> np.ndarray:
        """:meth:`predict_proba` of rows already checked (an array in fitted order)."""
        draws = self.flat_draws
        total, step = np.zeros(X.shape[0]), max(1, _CHUNK_ELEMENTS // X.shape[0])
        for start in range(0, len(draws), step):
            chunk = draws[start : start + step]
            eta = chunk[:, 1:] @ X.T
            eta += chunk[:, :1] if offset is None else chunk[:, :1] + offset
            # 1 / (1 + exp(-eta)) in place: twice as fast as expit on HIGGS-sized test
            # sets (exp is vectorised), within 4e-16 of it; exp overflowing gives 0.
            with np.errstate(over="ignore"):
                np.exp(np.negative(eta, out=eta), out=eta)
            eta += 1.0
            total += np.reciprocal(eta, out=eta).sum(axis=0)
        return total / len(draws)

    def odds_ratios(self, level: float = 0.95) -> pd.DataFrame:
        """Odds ratios: posterior mean of ``exp(coef)`` and the HDI of ``exp`` of the draws.

        The HDI is computed on ``exp(draws)`` (an HDI is not invariant under ``exp``).

        Returns
        -------
        DataFrame
            Indexed by feature (no intercept), columns ``estimate``, ``ci_lower`` and
            ``ci_upper``: the factor by which the odds of y = 1 change per unit.
        """
        ratios = np.exp(self.draws[..., 1:])
        lower, upper = _arviz.hdi(ratios, check_level(level)).reshape(-1, 2).T
        columns = {"estimate": ratios.mean(axis=(0, 1)), "ci_lower": lower, "ci_upper": upper}
        return pd.DataFrame(columns, index=pd.Index(self.feature_names, name="parameter"))

    def marginal_effects(
        self, X, *, level: float = 0.95, dummy: bool = True, offset=None, sample_weight=None
    ) -> pd.DataFrame:
        """Average marginal effects over the rows ``X``: per draw, then mean, sd and HDI.

        Each draw's effects are those of :meth:`PointEstimate.marginal_effects` at that
        draw (``dummy``, ``offset``, ``sample_weight`` and formula frames alike).

        Returns
        -------
        DataFrame
            Indexed by feature, columns ``estimate`` (posterior mean, probability per
            unit of x_j), ``sd``, ``ci_lower`` and ``ci_upper`` (HDI).
        """
        checked, offset = self._checked_X_offset(X, offset)
        weights = _effects.row_weights(sample_weight, checked.shape[0], X)
        return self._marginal_effects(checked, offset, weights, level=level, dummy=dummy)

    def _marginal_effects(self, X, offset, weights, *, level: float, dummy: bool):
        """:meth:`marginal_effects` of checked rows ``X`` and averaging ``weights``."""
        dummies = _effects.dummy_columns(X) if dummy else np.empty(0, dtype=int)
        draws, step = self.flat_draws, max(1, _CHUNK_ELEMENTS // max(1, X.shape[0]))
        parts = (X, offset, weights, dummies)
        chunks = range(0, len(draws), step)
        effects = np.concatenate(
            [_effects.average_marginal_effects(draws[i : i + step], *parts) for i in chunks]
        )
        effects = effects.reshape(self.num_chains, self.num_samples, -1)
        lower, upper = _arviz.hdi(effects, check_level(level)).reshape(-1, 2).T
        columns = {"estimate": effects.mean(axis=(0, 1)), "sd": effects.std(axis=(0, 1), ddof=1)}
        columns |= {"ci_lower": lower, "ci_upper": upper}
        return pd.DataFrame(columns, index=pd.Index(self.feature_names, name="parameter"))

    @entry_point  # files without the log_prior group compute it in JAX, in float64
    def prior_sensitivity(self) -> pd.DataFrame:
        """Sensitivity of each parameter's posterior to the prior and to the likelihood.

        Power-scaling (Kallioinen et al. 2024, through ArviZ): the prior, or the
        likelihood, is raised to the power 1 / 1.01 and 1.01 by importance-weighting the
        draws (Pareto-smoothed), and the cumulative Jensen-Shannon distance between
        weighted and unweighted draws, per unit of log2 alpha, is the sensitivity. At
        or above 0.05 to both it is a prior-data conflict; to the prior alone, the prior
        dominates a weak likelihood. Flat priors have prior sensitivity 0.

        Returns
        -------
        DataFrame
            Indexed by parameter (``intercept`` and the feature names), columns
            ``prior`` and ``likelihood`` (unitless, 0: insensitive) and ``diagnosis``
            ("prior-data conflict", "prior-dominated" or "").

        Raises
        ------
        ValueError
            If the posterior did not store the per-row log-likelihood.

        Examples
        --------
        >>> post.prior_sensitivity()  # doctest: +SKIP
        """
        if not _arviz.has_group(self.idata, "log_likelihood"):
            raise ValueError(
                "prior_sensitivity needs the per-row log-likelihood to power-scale the "
                "likelihood, which this posterior does not store (sample_posterior(..., "
                "store_log_likelihood=False)). Sample with store_log_likelihood=True."
            )
        index = pd.Index(self.param_names, name="parameter")
        return _sensitivity.power_scaling(
            self.idata, self.draws, self.intercept_prior, self.prior, index
        )

    @property
    def sampler_name(self) -> str:
        """``"NUTS"`` or ``"IMH"``: the kind of :attr:`sampler` (of any saved file too)."""
        if self.sampler is not None:
            return type(self.sampler).__name__
        # Files saved before the sampler was recorded: IMH's draws record acceptances.
        return "IMH" if "accepted" in _arviz.sample_stat_names(self.idata) else "NUTS"

    def _title(self) -> str:
        return (
            f"Posterior({self.sampler_name}, {self.num_chains} chains x {self.num_samples} draws, "
            f"{self.num_divergences} divergences, n={self.n_rows})"
        )

    def _table(self) -> pd.DataFrame:
        return self.summary()[["mean", "sd", "ci_lower", "ci_upper", "ess_bulk", "r_hat"]]

    def save(self, path) -> Path:
        """Write this posterior to ``path`` as a NetCDF4 file, atomically.

        The ArviZ groups become NetCDF groups, so ArviZ and xarray can read the file
        too. The other fields (feature names, priors, the MAP fit, the sampler, counts,
        timing, seed) are a JSON document, exact as in :meth:`PointEstimate.save`, in the root
        attribute ``bayeslogreg``; ``draws`` are rebuilt from the posterior group.

        The file is made in memory, written to a temporary file beside ``path`` and
        renamed over it: a failed save (a full disk) raises one ``OSError`` naming
        ``path`` and the cause, and leaves an older file intact and no temporary file.
        Temporary files that a killed save left are removed by the next save to
        ``path``.

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> post.save("effort_posterior.nc")  # doctest: +SKIP
        >>> Posterior.load("effort_posterior.nc").summary()  # doctest: +SKIP
        """
        metadata = _persist.dumps(self, exclude=_IN_IDATA)
        return atomic_write_bytes(
            path, _arviz.netcdf_bytes(self.idata, attrs={_METADATA_ATTR: metadata})
        )

    @classmethod
    def load(cls, path) -> "Posterior":
        """Read a posterior written by :meth:`save`, wholly into memory.

        The same draws and the same :meth:`summary` as the saved one. Nothing in the
        file is executed or unpickled, and an untrusted file cannot make loading read
        other files or allocate without bound: before its data is read, the file is
        refused if it uses HDF5 external storage, virtual datasets or links other than
        plain group members, holds types other than numbers and text, or its arrays
        would take more memory than :data:`FILE_LIMITS` or than 1032 times the file's
        size (``docs/failures.md`` lists each case).

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file is empty, cut short, not a Posterior file (e.g. NetCDF written
            by other software, or a :meth:`PointEstimate.save` file), or written in a
            newer format version than this bayeslogreg reads, or refused as above
            (the message names the object).
        """
        idata, found = _arviz.from_netcdf(path, attrs=(_METADATA_ATTR,), limits=FILE_LIMITS)
        if _METADATA_ATTR not in found:
            raise ValueError(
                f"{path} is not a Posterior file: it is NetCDF4 but lacks the "
                f"{_METADATA_ATTR!r} attribute that Posterior.save writes."
            )
        fields = _persist.loads(found[_METADATA_ATTR], cls, path, exclude=_IN_IDATA)
        coef = _arviz.posterior_draws(idata, "coef") if fields["feature_names"] else None
        draws = _stack_draws(_arviz.posterior_draws(idata, "intercept"), coef)
        return cls(idata=idata, draws=draws, **fields)


def _stack_draws(intercept: np.ndarray, coef: np.ndarray | None) -> np.ndarray:
    """Draws of shape (chains, draws, p + 1), intercept first, from the two sites."""
    return np.concatenate([intercept[..., None]] + ([] if coef is None else [coef]), axis=-1)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _chain_randomness(seed, num_chains: int, n_params: int):
    """Draw the starts' standard normals (chains, n_params) and the chains' raw keys.

    Keys are (chains, 2), from ``seed`` by ``jax.random``; all in one program (eagerly,
    each operation would be a program of its own to load in a fresh process).
    """
    init_key, chains_key = jax.random.split(jax.random.key(seed))
    normals = jax.random.normal(init_key, (num_chains, n_params))
    return normals, jax.random.key_data(jax.random.split(chains_key, num_chains))


def _laplace_cholesky(map_fit: PointEstimate) -> np.ndarray:
    """Lower Cholesky factor (p + 1, p + 1) of the MAP's Laplace covariance.

    0.1 times the identity where the covariance is not finite (an unidentified direction).
    """
    cov = map_fit.cov
    if not np.isfinite(cov).all():
        cov = np.diag(np.full(len(map_fit.params), 1e-2))
    return np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)))


def _initial_points(normals: np.ndarray, map_fit: PointEstimate) -> np.ndarray:
    """One start per chain (a row of ``normals`` each) from the Laplace approximation."""
    return map_fit.params + normals @ _laplace_cholesky(map_fit).T


def _pointwise_log_likelihood(draws: np.ndarray, X, y) -> np.ndarray:
    """Log-likelihood of every row under every draw, shape (chains, draws, n_samples).

    ``y`` is 0/1 labels or :class:`~bayeslogreg.model.Counts` (weighted rows, without
    the binomial coefficients' constant).
    """
    rows = jax.jit(jax.vmap(model.log_likelihood_rows, in_axes=(0, None, None)))
    flat = draws.reshape(-1, draws.shape[-1])
    chunk = max(1, _CHUNK_ELEMENTS // X.shape[0])
    parts = []
    for i in range(0, len(flat), chunk):
        _interrupt.check()
        parts.append(np.asarray(rows(flat[i : i + chunk], X, y)))
    return np.concatenate(parts).reshape(*draws.shape[:2], X.shape[0])


def _imh_posterior(X, y, map_fit, sampler: IMH, *, num_chains, num_warmup, num_samples, seed):
    """Draws and sample stats of :func:`~._large_posterior.sample_independence_mh`."""
    result = _large_posterior.sample_independence_mh(
        X,
        y,
        mode=map_fit.params,
        cov=map_fit.cov,
        intercept_prior=map_fit.intercept_prior,
        prior=map_fit.prior,
        num_chains=num_chains,
        num_warmup=num_warmup,
        num_samples=num_samples,
        seed=seed,
        df=sampler.df,
    )
    stats = {
        "lp": result.log_posterior,
        "acceptance_rate": result.acceptance_prob,
        "accepted": result.accepted,
        "diverging": np.zeros(result.accepted.shape, dtype=bool),
    }
    return result.draws, stats


def _nuts_posterior(
    X, y, map_fit, sampler: NUTS, *, prior, num_chains, num_warmup, num_samples, seed
):
    """Draws, sample stats and the hierarchy (None, or log prior and hyperparameters).

    Chains start from the Laplace approximation at the MAP; under a prior without a
    mode (:mod:`._hierarchical`), from the prior, with a unit mass matrix to adapt.
    """
    n_position = 1 + prior.latent_size(X.shape[1])
    # Off the main thread, as every compile (:mod:`bayeslogreg._interrupt`).
    normals, key_data = _interrupt.call(_chain_randomness, seed, num_chains, n_position)
    laplace = prior.has_mode and bool(np.isfinite(map_fit.cov).all())
    if prior.has_mode:
        starts = _initial_points(np.asarray(normals), map_fit)
    else:
        intercept_sd = np.sqrt(map_fit.cov[0, 0]) if np.isfinite(map_fit.cov[0, 0]) else 0.1
        starts = _hierarchical.starts(np.asarray(normals), map_fit.params[0], intercept_sd, prior)
    laplace_cov = map_fit.cov if laplace else np.eye(n_position)
    adapt = sampler.adapt_mass_matrix
    settings = SamplerSettings(
        num_warmup=num_warmup,
        num_samples=num_samples,
        target_accept=sampler.target_accept,
        max_tree_depth=sampler.max_tree_depth,
        dense_mass=sampler.dense_mass,
        adapt_mass_matrix=not laplace if adapt is None else adapt,
    )
    draws, stats = run_chains(
        np.asarray(key_data),
        starts,
        X,
        y,
        laplace_cov if sampler.dense_mass else np.diag(laplace_cov),
        map_fit.intercept_prior,
        prior,
        settings,
        chain_method=sampler.chain_method,
        cache_dir=use_compilation_cache(),
        progress_bar=sampler.progress_bar,
    )
    sample_stats = {
        "diverging": stats["diverging"],
        "energy": stats["energy"],
        "lp": -stats["potential_energy"],
        "acceptance_rate": stats["accept_prob"],
        "step_size": stats["step_size"],
        "n_steps": stats["num_steps"],
        "tree_depth": np.ceil(np.log2(stats["num_steps"] + 1)).astype(np.int64),
    }
    if prior.latents_are_coef:
        return draws, sample_stats, None
    draws, *hierarchy = _interrupt.call(
        _hierarchical.draws_of_positions, draws, map_fit.intercept_prior, prior
    )
    return draws, sample_stats, hierarchy


@jax.jit
def _jeffreys_log_prior_rows(flat_draws, X, y):
    # One draw at a time (lax.map): each draw's information is a pass over the rows.
    return jax.lax.map(lambda params: jeffreys_log_prior(params, X, y), flat_draws)


def _jeffreys_log_prior_draws(draws: np.ndarray, X, y) -> np.ndarray:
    """Jeffreys log prior of each draw of (chains, draws, p + 1) on the rows X: (chains, draws)."""
    flat = draws.reshape(-1, draws.shape[-1])
    return np.asarray(_jeffreys_log_prior_rows(flat, X, y)).reshape(draws.shape[:2])


def _assemble(
    draws,
    sample_stats,
    X,
    y,
    names,
    map_fit,
    sampler,
    *,
    prior: Prior,
    hierarchy=None,
    num_warmup,
    seed,
    store_log_likelihood,
    start,
    observations: Observations | None = None,
) -> Posterior:
    """Build the Posterior of ``draws`` (chains, draws, p + 1), whichever sampler drew them.

    ``sample_stats`` (arrays of shape (chains, draws)) holds ``diverging`` for a sampler
    (none for the independent draws of :func:`~bayeslogreg.fit_vi`: no divergences); each
    draw's log prior density is added (``hierarchy``'s, with its hyperparameters, for a
    prior sampled in latents: see :func:`_nuts_posterior`), and the per-row
    log-likelihood when ``store_log_likelihood`` (weighted, and with its row's ``w log
    C(n, k)``, for weights and counts: they sum to the log-likelihood).
    """
    posterior_group = {"intercept": draws[..., 0]}
    if names:
        posterior_group["coef"] = draws[..., 1:]
    dims = {"coef": ["feature"], "y": ["obs_id"]}
    if isinstance(prior, Jeffreys):  # its density is of the data too
        target = _target(X, y, observations)
        log_prior = _interrupt.call(_jeffreys_log_prior_draws, draws, X, target)
    elif hierarchy is None:
        log_prior = _interrupt.call(
            _sensitivity.log_prior_draws, draws, map_fit.intercept_prior, prior
        )
    else:
        log_prior, hyperparameters = hierarchy
        posterior_group |= hyperparameters
        dims |= {name: ["feature"] for name, v in hyperparameters.items() if v.ndim == 3}
    groups = {
        "posterior": posterior_group,
        "sample_stats": sample_stats,
        "log_prior": {"log_prior": log_prior},
        "observed_data": {"y": y},
    }
    if store_log_likelihood:
        target = _target(X, y, observations)
        pointwise = _interrupt.call(_pointwise_log_likelihood, draws, X, target)
        if observations is not None:  # each row's share of the log-likelihood's constant
            pointwise = pointwise + observations.weights * model.log_binomial_coefficients(
                y, observations.trials
            )
        groups["log_likelihood"] = {"y": pointwise}
    idata = _arviz.from_samples(
        groups,
        coords={"feature": list(names), "obs_id": np.arange(len(y))},
        dims=dims,
    )
    return Posterior(
        idata=idata,
        draws=draws,
        feature_names=names,
        map_estimate=map_fit,
        prior=prior,
        intercept_prior=map_fit.intercept_prior,
        num_warmup=num_warmup,
        num_divergences=int(sample_stats["diverging"].sum()) if "diverging" in sample_stats else 0,
        n_rows=len(y),
        fit_time=time.perf_counter() - start,
        seed=seed,
        data_sha256=map_fit.data_sha256,
        versions=map_fit.versions,
        sampler=sampler,
        feature_names_origin=map_fit.feature_names_origin,
        formula=map_fit.formula,
    )


def _higher_target_accept(sampler: NUTS | None) -> str:
    """``sampler=NUTS(target_accept=...)`` one step above the sampler's, its mass kept."""
    current = 0.8 if sampler is None else sampler.target_accept
    higher = next((value for value in (0.95, 0.99, 0.999) if value > current), 0.9999)
    diagonal = ", dense_mass=False" if sampler is not None and not sampler.dense_mass else ""
    return f"sampler=bayeslogreg.samplers.NUTS(target_accept={higher}{diagonal})"


def _warn_if_unreliable(posterior: Posterior) -> None:
    table = posterior.summary()
    problems = []
    worst_rhat = table["r_hat"].max()
    if worst_rhat > RHAT_THRESHOLD:
        problems.append(
            f"R-hat up to {worst_rhat:.3f} > {RHAT_THRESHOLD} "
            f"({list(table.index[table['r_hat'] > RHAT_THRESHOLD])})"
        )
    min_ess = MIN_ESS_PER_CHAIN * posterior.num_chains
    low_ess = table["ess_bulk"] < min_ess
    if low_ess.any():
        problems.append(
            f"bulk ESS as low as {table['ess_bulk'].min():.0f} < {min_ess} "
            f"({list(table.index[low_ess])})"
        )
    if posterior.num_divergences:
        problems.append(f"{posterior.num_divergences} divergent transitions after warm-up")
    if problems:
        remedy = (
            "sample with NUTS (sampler='nuts'), which does not rely on the Laplace approximation"
            if isinstance(posterior.sampler, IMH)
            else f"raise target_accept ({_higher_target_accept(posterior.sampler)})"
        )
        warnings.warn(
            "the posterior draws may be unreliable: "
            + "; ".join(problems)
            + f". Run more warm-up and draws (num_warmup, num_samples), {remedy}, "
            "or reconsider the priors.",
            ConvergenceWarning,
            stacklevel=4,  # this function, sample_posterior, its entry_point wrapper, the caller
        )


@entry_point
def sample_posterior(
    X,
    y=None,
    *,
    data=None,
    missing: str = "raise",
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    autoscale: bool | None = None,
    sampler: Sampler | str | None = None,
    num_chains: int = 4,
    num_warmup: int = 500,
    num_samples: int = 1000,
    seed: int = 0,
    feature_names=None,
    store_log_likelihood: bool = True,
    sample_weight=None,
    trials=None,
    offset=None,
    **deprecated,
) -> Posterior:
    """Sample the posterior of logistic regression by MCMC: NUTS, or IMH for large data.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features), or str
        Features, or a formula on the columns of ``data`` (see :func:`fit_mle`).
    y : array_like of shape (n_samples,), 0/1 labels; None with a formula
        With ``trials``, the successes of each row.
    data, missing
        As in :func:`fit_mle`: the frame of a formula, and what to do with its rows
        that miss values.
    prior, intercept_prior, autoscale
        As in :func:`~bayeslogreg.fit_map`: by default ``Normal(0, 2.5 / s_j)`` on the
        coefficients (``s_j`` the spread of column j) and ``Centered(Normal(0, 2.5))``
        on the intercept, rstanarm's defaults. A
        :class:`~bayeslogreg.priors.RegularizedHorseshoe` is sampled in its latents,
        the chains starting from the prior (``docs/priors.md``).
    sampler : NUTS, IMH, "nuts" or "imh", optional
        The sampler and its options, an object of :mod:`bayeslogreg.samplers`; the
        strings stand for ``NUTS()`` and ``IMH()``. Default: ``NUTS()``, and
        ``NUTS(target_accept=0.99, dense_mass=False)`` under a regularized horseshoe.
    num_chains, num_warmup, num_samples : int
        Chains, warm-up iterations per chain (discarded) and kept draws per chain.
        Warm-up is half the usual 1000 because the chains start at the MAP with the
        Laplace covariance as mass matrix, so warm-up only tunes the step size. Raise it
        when the warning about R-hat, ESS or divergences appears.
    seed : int
        The same seed gives the same draws, on any machine and number of cores.
    feature_names : sequence of str, optional
    store_log_likelihood : bool
        Store per-row log-likelihoods (chains x draws x n numbers) for LOO/WAIC. With
        weights or counts each row's entry is its weighted log-likelihood, ``w log C(n,
        k)`` included (LOO then leaves out a row with all its weight).
    sample_weight, trials, offset : array_like of shape (n_samples,), optional
        Frequency weights, binomial trials (``y`` the successes) and a known term of the
        linear predictor, as in :func:`~bayeslogreg.fit_mle`: the likelihood of both
        samplers (NUTS and IMH) and of the MAP they start from is that of the weighted
        rows or counts; the prior is not weighted.
    **deprecated
        ``target_accept``, ``max_tree_depth``, ``dense_mass``, ``adapt_mass_matrix``,
        ``chain_method``, ``progress_bar`` (options of :class:`~bayeslogreg.samplers.NUTS`)
        and ``method`` (now ``sampler``) still work, with a ``FutureWarning`` that says
        what to write instead.

    Returns
    -------
    Posterior
        A :class:`~bayeslogreg.exceptions.ConvergenceWarning` is issued when R-hat > 1.01,
        bulk ESS < 100 per chain, or there were divergences.

    Raises
    ------
    ValueError
        If the posterior is improper: the classes are separated (completely or
        quasi-completely, see :func:`bayeslogreg.separation.detect_separation`) along
        parameters that all have a flat prior, or parameters with a flat prior are not
        identified (constant, repeated or collinear columns). Also for an option the
        chosen sampler does not use (``sampler="imh", target_accept=0.9``), an option
        given both as a keyword and in the sampler object, or ``method`` beside
        ``sampler``; for IMH under a regularized horseshoe (it has no mode to propose
        around). And for bad weights, counts or offsets, as :func:`~bayeslogreg.fit_mle`;
        for the Jeffreys prior with IMH or with collinear columns.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> from bayeslogreg.samplers import NUTS
    >>> data = load_effort()
    >>> post = sample_posterior(data.X, data.y, num_samples=500, seed=1)
    >>> post.summary()[["mean", "sd", "r_hat"]].round(2)  # doctest: +SKIP
    >>> post.sampler  # doctest: +NORMALIZE_WHITESPACE
    NUTS(target_accept=0.8, max_tree_depth=10, dense_mass=True, adapt_mass_matrix=None,
         chain_method='parallel', progress_bar=False)
    >>> sampler = NUTS(target_accept=0.95)
    >>> careful = sample_posterior(data.X, data.y, sampler=sampler)  # doctest: +SKIP
    """
    start = time.perf_counter()
    X, y, names, observations, formula, origin = _posterior_data(
        X, y, data, feature_names, missing, (sample_weight, trials, offset)
    )
    seed = check_seed(seed)
    num_chains = check_positive_int(num_chains, "num_chains")
    num_warmup = check_positive_int(num_warmup, "num_warmup")
    num_samples = check_draws_per_chain(num_samples, MIN_DRAWS_PER_CHAIN)
    store_log_likelihood = check_bool(store_log_likelihood, "store_log_likelihood")
    pointwise = num_chains * num_samples * X.shape[0]
    if store_log_likelihood and pointwise > MAX_POINTWISE_ELEMENTS:
        raise ValueError(
            f"storing per-row log-likelihoods would take {pointwise * 8 / 2**30:.1f} GiB "
            f"({num_chains} chains x {num_samples} draws x {X.shape[0]} rows); pass "
            "store_log_likelihood=False (LOO and WAIC then need a subsample of the rows)."
        )
    # A prior without a mode (the horseshoe) has NUTS defaults of its own.
    has_mode = getattr(prior, "has_mode", True)  # not a prior: refused by the MAP fit
    default = "nuts" if has_mode else _hierarchical.DEFAULT_SAMPLER
    sampler = from_keywords(
        sampler,
        deprecated,
        kind="sampler",
        classes=(NUTS, IMH),
        resolve=lambda choice, name: as_sampler(default if choice is None else choice, name),
        function="sample_posterior",
        stacklevel=4,  # from_keywords, sample_posterior, its entry_point wrapper, the caller
    )
    row_weights = None if observations is None else observations.weighted_rows()
    choice = PriorChoice(prior, intercept_prior, autoscale)
    intercept_prior, prior, record = resolve_priors(choice, X, row_weights, names)
    if isinstance(prior, Jeffreys) and isinstance(sampler, IMH):
        raise ValueError(
            "sampler IMH does not take the Jeffreys prior: its blocked passes evaluate "
            "priors without the data, and the Jeffreys density is of the Fisher "
            "information. Use sampler='nuts'."
        )
    if isinstance(sampler, IMH) and not has_mode:
        raise ValueError(
            f"sampler=IMH proposes around the MAP, but prior={prior!r} has none: "
            f"{NO_MODE_MESSAGE} Use sampler='nuts'."
        )
    start_prior = prior if has_mode else _hierarchical.start_prior(prior)
    map_fit = _map_start(X, y, names, start_prior, intercept_prior, observations)
    map_fit = dataclasses.replace(
        map_fit, feature_names_origin=origin, formula=formula, prior_choice=record
    )
    run_arguments = dict(num_chains=num_chains, num_warmup=num_warmup, num_samples=num_samples)
    target = _target(X, y, observations)
    if isinstance(sampler, IMH):
        draws, sample_stats = _imh_posterior(
            X, target, map_fit, sampler, seed=seed, **run_arguments
        )
        hierarchy = None
    else:
        draws, sample_stats, hierarchy = _nuts_posterior(
            X, target, map_fit, sampler, prior=prior, seed=seed, **run_arguments
        )
    posterior = _assemble(
        draws,
        sample_stats,
        X,
        y,
        names,
        map_fit,
        sampler,
        prior=prior,
        hierarchy=hierarchy,
        num_warmup=num_warmup,
        seed=seed,
        store_log_likelihood=store_log_likelihood,
        start=start,
        observations=observations,
    )
    _warn_if_unreliable(posterior)
    return posterior


def _posterior_data(X, y, data, feature_names, missing: str, rows: tuple):
    """Check the data of a posterior (sampled or approximated) as every fit checks them.

    ``X, y`` are arrays or a formula with ``data``; ``rows`` is (sample_weight, trials,
    offset). Returns ``X, y, names, observations, formula, origin`` (the feature names'
    origin, see :func:`~bayeslogreg._validation.feature_names_origin`).
    """
    X, y, feature_names, formula, rows = resolve(
        X, y, data=data, feature_names=feature_names, missing=missing, rows=rows
    )
    origin = feature_names_origin(X, feature_names)
    sample_weight, trials, offset = rows
    X, y, names, observations = check_fit_data(
        X, y, feature_names, sample_weight=sample_weight, trials=trials, offset=offset
    )
    return X, y, names, observations, formula, origin


def _target(X, y, observations: Observations | None):
    """Return what the samplers' likelihood takes: 0/1 labels, or Counts in float64."""
    return y if observations is None else observations.counts(np.float64)


def _map_start(
    X, y, names, prior: Prior, intercept_prior: Prior, observations: Observations | None = None
) -> PointEstimate:
    """Fit the MAP the chains start from; refuse an improper posterior.

    Rows of weight 0 play no part in identifying the parameters.
    """
    arguments = {} if observations is None else observations.arguments()
    weighted = None if observations is None else observations.weighted_rows() > 0
    # Only rows of weight 0 are left out: X itself when there are none (no copy).
    weighted_X = X if weighted is None or weighted.all() else X[weighted]
    unidentified = find_unidentified(weighted_X, names, intercept_prior, prior)
    if unidentified:
        causes = "; ".join(degenerate_columns(weighted_X, names)) or "exactly collinear columns"
        raise ValueError(
            f"the posterior is improper: parameters {unidentified} have flat priors and the "
            f"data cannot identify them ({causes}), so the likelihood is constant along a "
            "direction and the posterior does not integrate. Drop the redundant columns or "
            "use a proper prior, e.g. prior=Normal(0, 2.5)."
        )
    with warnings.catch_warnings():
        # The MAP fit runs the separation check; its warning becomes the error below.
        warnings.simplefilter("ignore", SeparationWarning)
        map_fit = fit_map(
            X,
            y,
            prior=prior,
            # The Jeffreys prior is joint: its intercept part is given by leaving this unset.
            intercept_prior=None if isinstance(prior, Jeffreys) else intercept_prior,
            feature_names=names,
            solver="newton",
            **arguments,
        )
    if map_fit.separation is not None:
        raise ValueError(
            f"the posterior is improper: {map_fit.separation}, and all of these have a flat "
            "prior, so the likelihood does not fall off along the separating direction and "
            "the posterior does not integrate (no sampler can converge). Use a proper prior, "
            "e.g. prior=Normal(0, 2.5) on standardised features."
        )
    return map_fit
