"""Every ArviZ call, for both generations, in one place.

ArviZ 0.23 (Python 3.11) builds ``InferenceData``; ArviZ 1.x (Python 3.12+) builds an
xarray ``DataTree`` and changed ``from_dict`` and ``summary`` (1.x defaults to an 89%
equal-tailed interval and rounds its output). Callers get the same groups, the same
summary columns and raw numbers from either generation. ArviZ is imported on first use:
it takes about two seconds, which the command line should not pay for ``--help``.
"""

import contextlib
import functools
import io
import logging
import os
import sys
import tempfile
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from bayeslogreg import _hdf5

__all__ = [
    "SUMMARY_COLUMNS",
    "ElpdEstimate",
    "arviz",
    "from_netcdf",
    "from_samples",
    "has_group",
    "is_arviz_1",
    "with_log_prior",
    "log_likelihood_draws",
    "log_prior_draws",
    "loo",
    "netcdf_bytes",
    "pareto_khat",
    "psis",
    "plot_rank",
    "plot_trace",
    "posterior_draws",
    "power_scaling_sensitivity",
    "summary",
    "waic",
]

#: Column order of :func:`summary`, identical for both ArviZ generations.
SUMMARY_COLUMNS = [
    "mean",
    "sd",
    "ci_lower",
    "ci_upper",
    "mcse_mean",
    "mcse_sd",
    "ess_bulk",
    "ess_tail",
    "r_hat",
]


@functools.cache
def arviz():
    """Import ArviZ once, without its 0.23 refactor announcement (not about our code)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing", category=FutureWarning)
        try:
            import arviz as az
        except OSError:
            az = _import_arviz_with_a_temporary_cache()
    return az


def _import_arviz_with_a_temporary_cache():
    """Import ArviZ 0.23 with its user cache folder in a temporary folder.

    On import, ArviZ 0.23 writes the date of its announcement under the user's cache
    folder (``$XDG_CACHE_HOME/arviz``, ``~/.cache/arviz``); where that cannot be
    written (a read-only home), the import fails, and with it a finished NUTS run.
    """
    for name in [name for name in sys.modules if name.split(".")[0] == "arviz"]:
        del sys.modules[name]  # what the failed import left half made
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory(prefix="bayeslogreg-arviz-") as folder:
        os.environ["XDG_CACHE_HOME"] = folder
        try:
            import arviz as az
        finally:
            if saved is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    return az


def is_arviz_1() -> bool:
    """Whether the installed ArviZ is the 1.x (DataTree) generation."""
    return int(arviz().__version__.split(".")[0]) >= 1


def from_samples(groups: dict[str, dict[str, np.ndarray]], *, coords: dict, dims: dict):
    """Build ArviZ data from NumPy arrays.

    Parameters
    ----------
    groups : dict
        Group name (``posterior``, ``sample_stats``, ``log_likelihood``, ``log_prior``,
        ``observed_data``) to a dict of arrays; sampled groups have leading dims
        (chain, draw).
    coords, dims : dict
        Coordinate values and the dimension names of each variable.

    Returns
    -------
    InferenceData (ArviZ 0.23) or xarray.DataTree (ArviZ 1.x)
    """
    az = arviz()
    if is_arviz_1():
        return az.from_dict(groups, coords=coords, dims=dims)
    groups = dict(groups)
    log_prior = groups.pop("log_prior", None)  # 0.23's from_dict has no such argument
    data = az.from_dict(**groups, coords=coords, dims=dims)
    return data if log_prior is None else with_log_prior(data, log_prior["log_prior"])


def with_log_prior(data, log_prior: np.ndarray):
    """Return ``data`` with a ``log_prior`` group holding ``log_prior`` (chain, draw).

    ``data`` itself is not changed; the new group's one variable is ``log_prior``.
    """
    import xarray as xr

    variable = xr.DataArray(
        np.asarray(log_prior, dtype=np.float64),
        dims=("chain", "draw"),
        coords={"chain": data.posterior["chain"].values, "draw": data.posterior["draw"].values},
    )
    group = xr.Dataset({"log_prior": variable})
    if is_arviz_1():
        tree = data.copy(deep=False)
        tree["log_prior"] = group
        return tree
    extended = arviz().InferenceData(**{name: data[name] for name in data.groups()})
    extended.attrs = dict(data.attrs)
    extended.add_groups({"log_prior": group})
    return extended


# Files are NetCDF4, that is HDF5, written and read with h5netcdf (pure Python over h5py).
_NETCDF_ENGINE = "h5netcdf"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def netcdf_bytes(data, *, attrs: dict[str, str]) -> memoryview:
    """Write ArviZ data as a NetCDF4 file in memory, one NetCDF group per ArviZ group.

    In memory so that HDF5 never meets a failing disk: h5py writing to a full disk can
    raise from its buffers' clean-up, or crash the process. Written out with the
    package's atomic writer instead, a full disk is an ordinary ``OSError``. The file
    holds what ArviZ's own writer puts in it: the same groups, variables, attributes and
    compression (zlib in ArviZ 0.23, none in 1.x).

    Parameters
    ----------
    data : InferenceData or DataTree
    attrs : dict of str to str
        Added to the root attributes in the file; ``data`` itself is not changed.

    Returns
    -------
    memoryview
        The file's bytes.
    """
    import xarray as xr

    buffer = io.BytesIO()
    root_attrs = {**data.attrs, **attrs}
    if is_arviz_1():
        tree = data.copy(deep=False)
        tree.attrs = root_attrs
        tree.to_netcdf(buffer, engine=_NETCDF_ENGINE)
        return buffer.getbuffer()
    # InferenceData.to_netcdf takes only a path name; this is its loop (root attributes,
    # then each group, numeric variables compressed), writing into the buffer.
    xr.Dataset(attrs=root_attrs).to_netcdf(buffer, mode="w", engine=_NETCDF_ENGINE, group="/")
    for name in data.groups():
        group = data[name]
        encoding = {
            var: {"zlib": True}
            for var, values in group.variables.items()
            if values.dtype.kind in "biufcS"
        }
        group.to_netcdf(buffer, mode="a", engine=_NETCDF_ENGINE, group=name, encoding=encoding)
    return buffer.getbuffer()


def from_netcdf(
    path, *, attrs: tuple[str, ...], limits: _hdf5.Limits
) -> tuple[object, dict[str, str]]:
    """Read a NetCDF4 file of ArviZ data wholly into memory; the file is closed again.

    The file is untrusted: before xarray opens it, :func:`bayeslogreg._hdf5.check_untrusted`
    refuses one whose reading would read other files (external storage, virtual
    datasets, external links) or allocate beyond ``limits``.

    Parameters
    ----------
    path : str or Path
    attrs : tuple of str
        Root attributes to take out of the data and return, e.g. those that
        :func:`to_netcdf` added.
    limits : bayeslogreg._hdf5.Limits
        The most memory the file's arrays may take, each and together.

    Returns
    -------
    data : InferenceData (ArviZ 0.23) or xarray.DataTree (ArviZ 1.x)
    found : dict of str to str
        The string-valued attributes named in ``attrs`` that the file has.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        Naming ``path``, if it is empty, not an HDF5 file, cut short or damaged, or
        refused by :func:`bayeslogreg._hdf5.check_untrusted` (naming the object too).
    """
    with open(path, "rb") as handle:
        signature = handle.read(len(_HDF5_SIGNATURE))
    if signature != _HDF5_SIGNATURE:
        what = "empty" if not signature else "not a NetCDF4 (HDF5) file"
        raise ValueError(f"{path} is {what}.")
    try:
        _hdf5.check_untrusted(path, limits)
        if is_arviz_1():
            import xarray as xr

            data = xr.load_datatree(path, engine=_NETCDF_ENGINE)
        else:
            az = arviz()
            with az.rc_context({"data.load": "eager"}):
                data = az.from_netcdf(str(path), engine=_NETCDF_ENGINE)
    except OSError as exc:
        raise ValueError(f"{path} cannot be read as NetCDF4; is it cut short? ({exc})") from None
    found = {name: data.attrs[name] for name in attrs if isinstance(data.attrs.get(name), str)}
    data.attrs = {key: value for key, value in data.attrs.items() if key not in attrs}
    return data, found


def posterior_draws(data, name: str) -> np.ndarray:
    """Draws of one posterior variable as an array of shape (chain, draw, ...)."""
    return np.asarray(data.posterior[name].values)


def _detached(figure):
    """Lay out an ArviZ-made figure and unregister it from pyplot.

    Neither generation lays its figure out (titles overlap the tick labels above them,
    two-line titles are cut off), so constrained layout is switched on. pyplot keeps every
    figure it opens alive; once closed there, the figure stays usable (``savefig`` works)
    but is never shown and is freed when the caller drops it, like one made with the
    object API.
    """
    import matplotlib.pyplot as plt

    figure.set_layout_engine("constrained")
    plt.close(figure)
    return figure


# Longest legend kept on a trace panel (one entry per line drawn).
_MAX_LEGEND_ENTRIES = 10


def plot_trace(data, var_names: list[str]):
    """Trace plot: each chain's marginal density beside its draws against iteration.

    ArviZ 0.23 draws ``arviz.plot_trace``; ArviZ 1.x its counterpart
    ``arviz_plots.plot_trace_dist`` (1.x's ``plot_trace`` drops the density column).

    Parameters
    ----------
    data : InferenceData or DataTree
    var_names : list of str
        Posterior variables; vector variables share one row of panels (compact).

    Returns
    -------
    matplotlib.figure.Figure
        With a legend of the chains; not registered with pyplot.
    """
    az = arviz()
    if is_arviz_1():
        return _chains_figure(az.plot_trace_dist, data, var_names)
    with warnings.catch_warnings():
        # ArviZ 0.23 passes a dict to matplotlib's normalize_kwargs, deprecated in 3.11.
        warnings.filterwarnings(
            "ignore", message="Passing a dict or None as alias_mapping", category=DeprecationWarning
        )
        axes = az.plot_trace(data, var_names=var_names, compact=True, legend=True, show=False)
    for ax in np.ravel(axes):
        legend = ax.get_legend()
        # Compact panels label every coefficient's line: with many features that legend
        # is taller than the figure and collapses its layout. The names are in the table.
        if legend is not None and len(legend.get_texts()) > _MAX_LEGEND_ENTRIES:
            legend.remove()
    return _detached(np.ravel(axes)[0].figure)


def plot_rank(data, var_names: list[str]):
    """Rank plot: how each chain's draws rank among all chains' draws, per parameter.

    If the chains sample the same distribution, every chain's ranks are uniform. ArviZ
    0.23 draws one histogram of ranks per chain (bars); ArviZ 1.x draws the difference
    between each chain's ECDF of fractional ranks and the uniform CDF (Delta-ECDF),
    marking the draws that make a multi-chain uniformity test fail.

    ``data`` and ``var_names`` are as for :func:`plot_trace`, with one panel per scalar
    parameter; so is the Figure returned.
    """
    az = arviz()
    if is_arviz_1():
        return _chains_figure(az.plot_rank, data, var_names)
    from matplotlib.patches import Patch

    num_chains = data.posterior.sizes["chain"]
    colors = [f"C{chain % 10}" for chain in range(num_chains)]
    axes = az.plot_rank(data, var_names=var_names, colors=colors, show=False)
    figure = _detached(np.ravel(axes)[0].figure)
    handles = [Patch(color=color) for color in colors]
    labels = [str(chain) for chain in range(num_chains)]
    figure.legend(handles, labels, title="chain", loc="outside right upper")
    return figure


def _chains_figure(plot, data, var_names: list[str]):
    """Draw an ArviZ 1.x plot of ``var_names`` with a legend of the chains, as a Figure."""
    collection = plot(data, var_names=var_names, backend="matplotlib")
    collection.add_legend("chain")
    return _detached(collection.get_viz("figure"))


def summary(data, var_names: list[str], *, level: float, ci_kind: str = "hdi") -> pd.DataFrame:
    """Posterior summary with columns :data:`SUMMARY_COLUMNS`, unrounded.

    Parameters
    ----------
    data : InferenceData or DataTree
    var_names : list of str
        Posterior variables, in the order of the rows.
    level : float
        Probability mass of the credible interval.
    ci_kind : {"hdi", "eti"}
        Highest-density or equal-tailed interval.

    Returns
    -------
    DataFrame
        One row per scalar parameter, labelled as ArviZ labels them (``coef[name]``).
    """
    az = arviz()
    if is_arviz_1():
        table = az.summary(
            data, var_names=var_names, ci_prob=level, ci_kind=ci_kind, round_to="none"
        )
        table = pd.DataFrame(table)
    else:
        with _one_chain_quietly():
            table = az.summary(data, var_names=var_names, hdi_prob=level, round_to="none")
    interval = [c for c in table.columns if c not in SUMMARY_COLUMNS]
    table = table.rename(columns=dict(zip(interval, ["ci_lower", "ci_upper"], strict=True)))
    table = table[SUMMARY_COLUMNS].astype(float)
    if ci_kind == "eti" and not is_arviz_1():
        # ArviZ 0.23's summary has no equal-tailed interval; same quantiles as 1.x's.
        draws = [posterior_draws(data, v) for v in var_names]
        flat = np.concatenate([d.reshape(d.shape[0] * d.shape[1], -1) for d in draws], axis=1)
        tail = (1.0 - level) / 2
        table["ci_lower"], table["ci_upper"] = np.quantile(flat, [tail, 1 - tail], axis=0)
    return table


def hdi(draws: np.ndarray, level: float) -> np.ndarray:
    """Highest-density interval of each column of ``draws`` (chains, samples, k): (k, 2).

    Chains are pooled, as in :func:`summary`'s HDI.
    """
    if is_arviz_1():
        from arviz_stats.base import array_stats

        return np.asarray(array_stats.hdi(draws, level, axis=(0, 1)))
    with _one_chain_quietly():
        return np.asarray(arviz().hdi(draws, hdi_prob=level))


class _OneChainFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Shape validation failed")


@contextlib.contextmanager
def _one_chain_quietly():
    """Silence ArviZ 0.23's log line about one chain (fit_vi's draws).

    R-hat is then NaN, as in ArviZ 1.x, which says nothing. 0.23 logs through its own
    ``Logger`` object (``arviz._log``), not one that ``logging.getLogger`` returns.
    """
    logger, quiet = arviz()._log, _OneChainFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# ---------------------------------------------------------------------------------------
# Pointwise predictive accuracy: PSIS-LOO and WAIC.

# ArviZ warns about unreliable estimates itself; those become ``ElpdEstimate.warning``.
_ELPD_WARNINGS = (
    r"(Estimated shape parameter of Pareto|For one or more samples the posterior variance"
    r"|The point-wise)"
)


class ElpdEstimate(NamedTuple):
    """Expected log pointwise predictive density, the same fields for both generations.

    ``kind`` is "loo" or "waic"; ``elpd`` (log scale, higher is better), its standard error
    ``se`` and the effective number of parameters ``p`` are floats; ``elpd_pointwise``
    has shape (n_rows,). ``pareto_k`` (shape (n_rows,)), ``max_pareto_k`` and ``good_k``
    (the threshold ``min(1 - 1 / log10(n_draws), 0.7)``) are None for WAIC. ``warning``
    is True when some Pareto k > good_k (LOO) or some posterior variance of a row's
    log-likelihood > 0.4 (WAIC).
    """

    kind: str
    elpd: float
    se: float
    p: float
    elpd_pointwise: np.ndarray
    pareto_k: np.ndarray | None
    max_pareto_k: float | None
    good_k: float | None
    warning: bool


def has_group(data, name: str) -> bool:
    """Whether ``data`` (InferenceData or DataTree) has the group ``name``."""
    return name in data


def sample_stat_names(data) -> set[str]:
    """Names of the variables in the ``sample_stats`` group (empty without one)."""
    return set(data.sample_stats.data_vars) if has_group(data, "sample_stats") else set()


def log_likelihood_draws(data, var_name: str = "y") -> np.ndarray:
    """Pointwise log-likelihood, shape (chain, draw, n_rows)."""
    return np.asarray(data.log_likelihood[var_name].values)


def log_prior_draws(data) -> np.ndarray:
    """Log prior density of each draw, shape (chain, draw), from the ``log_prior`` group."""
    return np.asarray(data.log_prior["log_prior"].values)


def power_scaling_sensitivity(data, var_names: list[str], component: str, delta: float):
    """Power-scaling sensitivity of each scalar in ``var_names`` to the prior or likelihood.

    Kallioinen et al. (2024): the cumulative Jensen-Shannon distance between the draws
    and the draws with Pareto-smoothed importance weights for the ``component`` raised
    to the power alpha, for alpha = 1 / (1 + delta) and 1 + delta, summed and divided
    by ``2 log2(1 + delta)``. That is 0.23's ``az.psens``; 1.x's ``psense`` divides each
    alpha's distance by its own ``|log2 alpha|`` and averages, the same number for these
    two alphas (its default alphas, 0.99 and 1.01, are not symmetric on the log scale).

    Parameters
    ----------
    data : InferenceData or DataTree
        With a ``log_prior`` group (``component="prior"``) or a ``log_likelihood`` group.
    var_names : list of str
        Posterior variables, in the order of the result.
    component : {"prior", "likelihood"}
    delta : float

    Returns
    -------
    ndarray of shape (n_scalars,)
        The variables' values flattened in order, unitless (0: insensitive).
    """
    az = arviz()
    if is_arviz_1():
        alphas = (1 / (1 + delta), 1 + delta)
        result = az.psense(data, var_names=var_names, group=component, alphas=alphas)
    else:
        result = az.psens(data, var_names=var_names, component=component, delta=delta)
        if len(var_names) == 1 and not hasattr(result, "data_vars"):
            return np.ravel(np.asarray(result.values))  # 0.23 returns one variable bare
    return np.concatenate([np.ravel(np.asarray(result[name].values)) for name in var_names])


def psis(log_ratios: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed importance weights of ratios given as logs, shape (n_draws,).

    Returns the smoothed log weights, normalised (their exps sum to 1), shape (n_draws,),
    and the Pareto k-hat: ArviZ 0.23's ``psislw``, 1.x's ``arviz_stats`` ``psislw``
    (relative efficiency 1: independent draws). Below 0.5 the ratios have a finite
    variance; above 0.7 importance sampling, and the proposal as an approximation, are
    unreliable (Vehtari et al. 2024).
    """
    log_ratios = np.asarray(log_ratios, dtype=np.float64)
    shifted = log_ratios - log_ratios.max()  # exp of the largest is 1: no overflow
    if is_arviz_1():
        from arviz_stats.base import array_stats

        # 1.x's psislw takes log-likelihoods, whose negatives are LOO's log ratios.
        log_weights, khat = array_stats.psislw(-shifted, r_eff=1.0)
    else:
        log_weights, khat = _quietly(arviz().psislw, shifted)
    log_weights = np.asarray(log_weights, dtype=np.float64)
    top = log_weights.max()
    log_weights = log_weights - (top + np.log(np.sum(np.exp(log_weights - top))))
    return log_weights, float(np.asarray(khat))


def pareto_khat(log_ratios: np.ndarray) -> float:
    """Pareto k-hat of importance ratios given as logs, shape (n_draws,): :func:`psis`'s."""
    return psis(log_ratios)[1]


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ELPD_WARNINGS, category=UserWarning)
        return function(*args, **kwargs)


def loo(data, var_name: str = "y") -> ElpdEstimate:
    """PSIS-LOO (``az.loo``, pointwise) of the ``log_likelihood`` group, normalized."""
    result = _quietly(arviz().loo, data, pointwise=True, var_name=var_name)
    if is_arviz_1():
        names = ("elpd", "se", "p", "elpd_i", "pareto_k", "warning", "good_k")
        values = [getattr(result, name) for name in names]
    else:
        names = ("elpd_loo", "se", "p_loo", "loo_i", "pareto_k", "warning", "good_k")
        values = [result[name] for name in names]
    elpd, se, p, elpd_i, pareto_k, warning, good_k = values
    pareto_k = np.asarray(pareto_k, dtype=np.float64).ravel()
    return ElpdEstimate(
        "loo",
        float(elpd),
        float(se),
        float(p),
        np.asarray(elpd_i, dtype=np.float64).ravel(),
        pareto_k,
        float(pareto_k.max()),
        float(good_k),
        bool(warning),
    )


def waic(data, var_name: str = "y") -> ElpdEstimate:
    """WAIC (``az.waic``, pointwise, log scale) of the ``log_likelihood`` group, normalized.

    ArviZ 1.x has no WAIC, so there it is computed with ArviZ 0.23's formulas (Vehtari,
    Gelman and Gabry 2017, eqs. 11-12, 23; variances over draws with ddof=0).
    """
    if is_arviz_1():
        return _waic_from_log_likelihood(log_likelihood_draws(data, var_name))
    result = _quietly(arviz().waic, data, pointwise=True, var_name=var_name, scale="log")
    return ElpdEstimate(
        "waic",
        float(result["elpd_waic"]),
        float(result["se"]),
        float(result["p_waic"]),
        np.asarray(result["waic_i"], dtype=np.float64).ravel(),
        None,
        None,
        None,
        bool(result["warning"]),
    )


def _waic_from_log_likelihood(log_lik: np.ndarray) -> ElpdEstimate:
    samples = log_lik.reshape(-1, log_lik.shape[-1])
    lppd = special.logsumexp(samples, axis=0) - np.log(samples.shape[0])
    p_waic = samples.var(axis=0)
    elpd = lppd - p_waic
    se = float(np.sqrt(elpd.size * elpd.var()))
    warning = bool((p_waic > 0.4).any())
    return ElpdEstimate(
        "waic", float(elpd.sum()), se, float(p_waic.sum()), elpd, None, None, None, warning
    )
