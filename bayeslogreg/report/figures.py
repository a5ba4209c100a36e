r"""Figures that compare estimators: ROC, forest, likelihood surface, convergence, calibration.

Every function takes results that were already computed (nothing is fitted here) and
returns a :class:`matplotlib.figure.Figure` made with the object API: it is not registered
with pyplot, so it is never shown and is freed when dropped. Estimator and parameter names
are drawn as given: a ``$`` in a name does not start mathtext and names never go through
LaTeX. :func:`figure_to_png` and :func:`figure_to_svg` render a figure for embedding.

Examples
--------
>>> import numpy as np
>>> from bayeslogreg.report.figures import figure_to_png, roc_figure
>>> fig = roc_figure({"MLE": (np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.9, 1.0]))})
>>> figure_to_png(fig).startswith(b"\x89PNG")
True
"""

import functools
import io
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from numpy.typing import ArrayLike

from bayeslogreg import _arviz, model
from bayeslogreg._jax import float64
from bayeslogreg._validation import (
    check_int,
    check_positive_float,
    check_positive_int,
    check_X,
    check_X_y,
)
from bayeslogreg.estimators._objective import priors_log_density
from bayeslogreg.priors import Prior
from bayeslogreg.report._prior_figures import prior_posterior_figure, prior_predictive_figure

__all__ = [
    "calibration_figure",
    "convergence_figure",
    "figure_to_png",
    "figure_to_svg",
    "forest_figure",
    "log_density_grid",
    "prior_posterior_figure",
    "prior_predictive_figure",
    "rank_figure",
    "roc_figure",
    "surface_figure",
    "trace_figure",
]

_CHANCE_STYLE = {"color": "0.6", "linestyle": "--", "linewidth": 1.0}
_ZERO_STYLE = {"color": "0.5", "linestyle": ":", "linewidth": 1.0}
# Contours of the surfaces sit where a Gaussian's log density is k^2 / 2 below its
# maximum (k = 1..5): on the posterior panel the Laplace k-sigma ellipses trace them when
# the posterior is close to Gaussian.
_SURFACE_DROPS = -0.5 * np.arange(5, 0, -1) ** 2
_SURFACE_FLOOR = -20.0
# Grid points times rows per block of the vectorised surface: bounds its temporaries.
_SURFACE_ELEMENTS = 2**22
_MAX_SCATTER = 1000


def _color(i: int) -> str:
    return f"C{i % 10}"


def _escape(name: str) -> str:
    """Escape ``$`` so that tick labels (which cannot turn mathtext off) show it literally."""
    return name.replace("$", r"\$")


def _literal(text: Text) -> None:
    text.set_parse_math(False)
    text.set_usetex(False)


def _legend(ax, handles, labels, **kwargs):
    """Legend from explicit handles (so names starting with "_" are kept), drawn literally."""
    legend = ax.legend(handles, labels, **kwargs)
    for text in [*legend.get_texts(), legend.get_title()]:
        _literal(text)
    return legend


def _check_names(mapping, what: str, *, allow_empty: bool = False) -> dict:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{what} must be a mapping of name to data; got {type(mapping).__name__}.")
    if not mapping and not allow_empty:
        raise ValueError(f"{what} is empty; give at least one named entry.")
    bad = [name for name in mapping if not isinstance(name, str)]
    if bad:
        raise ValueError(f"the names in {what} must be strings; got {bad!r}.")
    return dict(mapping)


def _vector(values, what: str, size: int | None = None) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a 1-D array of numbers; got {values!r}.") from None
    if array.ndim != 1 or (size is not None and array.shape != (size,)):
        expected = "a 1-D array" if size is None else f"shape ({size},)"
        raise ValueError(f"{what} must have {expected}; got shape {array.shape}.")
    return array


def _unpack(value, size: int, what: str, expected: str) -> tuple:
    """``tuple(value)`` if it has ``size`` parts (a tuple, list or leading axis), else raise."""
    try:
        parts = tuple(value)
    except TypeError:
        parts = ()
    if isinstance(value, str) or len(parts) != size:
        raise ValueError(f"{what} must be {expected}; got {type(value).__name__}.")
    return parts


def _curve(pair, what: str) -> tuple[np.ndarray, np.ndarray]:
    pair = _unpack(pair, 2, what, "a pair (fpr, tpr) of 1-D arrays")
    fpr = _vector(pair[0], f"the fpr of {what}")
    tpr = _vector(pair[1], f"the tpr of {what}", fpr.size)
    if not (np.isfinite(fpr).all() and np.isfinite(tpr).all()):
        raise ValueError(f"{what} must hold finite rates.")
    return fpr, tpr


def roc_figure(
    curves: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    bands: Mapping[str, object] | None = None,
    aucs: Mapping[str, str] | None = None,
) -> Figure:
    """ROC curves of several estimators on one panel, with the chance diagonal.

    Parameters
    ----------
    curves : mapping of str to (fpr, tpr)
        Estimator name to its false and true positive rates, 1-D arrays of equal length
        (e.g. from :func:`bayeslogreg.metrics.roc_curve`).
    bands : mapping of str to band, optional
        Posterior ROC bands, drawn shaded in the colour of the curve of the same name,
        or with their ``median`` as the curve where ``curves`` has no such name. Each band
        has attributes ``fpr``, ``lower``, ``upper`` (1-D arrays of equal length) and
        ``level``, like ``bayeslogreg.diagnostics.RocBand``.
    aucs : mapping of str to str, optional
        Text added to an entry's legend label, e.g. ``"AUC 0.84 [0.80, 0.88]"``.

    Returns
    -------
    Figure
        One axes; one legend entry per name, curves first, in the given order.

    Examples
    --------
    >>> import numpy as np
    >>> fig = roc_figure({"MAP": (np.array([0.0, 0.2, 1.0]), np.array([0.0, 0.7, 1.0]))},
    ...                  aucs={"MAP": "AUC 0.75"})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['MAP (AUC 0.75)']
    """
    curves = _check_names(curves, "curves", allow_empty=bands is not None)
    bands = _check_names({} if bands is None else bands, "bands", allow_empty=True)
    aucs = _check_names({} if aucs is None else aucs, "aucs", allow_empty=True)
    names = [*curves, *(name for name in bands if name not in curves)]
    if not names:
        raise ValueError("curves and bands are both empty; give at least one named entry.")
    unknown = sorted(set(aucs) - set(names))
    if unknown:
        raise ValueError(f"aucs names {unknown} have no curve or band; known names {names}.")

    fig = Figure(figsize=(5.6, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], **_CHANCE_STYLE)
    handles, labels, levels = [], [], []
    for i, name in enumerate(names):
        parts = []
        if name in bands:
            fpr, lower, upper, level = _band(bands[name], f"bands[{name!r}]")
            levels.append(level)
            parts.append(
                ax.fill_between(fpr, lower, upper, color=_color(i), alpha=0.25, linewidth=0)
            )
        if name in curves:
            fpr, tpr = _curve(curves[name], f"curves[{name!r}]")
            parts.extend(ax.plot(fpr, tpr, color=_color(i), linewidth=1.6))
        elif getattr(bands[name], "median", None) is not None:
            median = _vector(bands[name].median, f"bands[{name!r}].median", fpr.size)
            parts.extend(ax.plot(fpr, median, color=_color(i), linewidth=1.6))
        handles.append(parts[0] if len(parts) == 1 else tuple(parts))
        labels.append(f"{name} ({aucs[name]})" if name in aucs else name)
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal", title="ROC curves")
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    title = None
    if levels:
        shown = ", ".join(f"{100 * level:g}%" for level in dict.fromkeys(levels))
        title = f"shaded: {shown} posterior band"
    _legend(ax, handles, labels, loc="lower right", title=title, fontsize="small")
    return fig


def _band(band, what: str):
    try:
        fpr, lower, upper, level = band.fpr, band.lower, band.upper, band.level
    except AttributeError:
        raise ValueError(
            f"{what} must have attributes fpr, lower, upper and level (a posterior ROC "
            f"band); got {type(band).__name__}."
        ) from None
    fpr = _vector(fpr, f"{what}.fpr")
    lower = _vector(lower, f"{what}.lower", fpr.size)
    upper = _vector(upper, f"{what}.upper", fpr.size)
    return fpr, lower, upper, float(level)


def forest_figure(
    intervals: Mapping[str, tuple[ArrayLike, ArrayLike, ArrayLike]],
    param_names: Sequence[str],
) -> Figure:
    """Estimates and intervals of every parameter, estimators side by side.

    Parameters
    ----------
    intervals : mapping of str to (estimate, lower, upper)
        Estimator name to three arrays of shape (k,), one entry per parameter, with
        ``lower <= estimate <= upper`` (NaN entries are left out).
    param_names : sequence of str, length k
        Row labels, top to bottom (e.g. ``PointEstimate.param_names``).

    Returns
    -------
    Figure
        One axes; one row per parameter, one error bar per estimator within it, a
        vertical line at zero and a legend of the estimators.

    Examples
    --------
    >>> fig = forest_figure({"MLE": ([0.1, 2.0], [-0.2, 1.5], [0.4, 2.5])}, ["intercept", "x"])
    >>> len(fig.axes)
    1
    """
    intervals = _check_names(intervals, "intervals")
    param_names = [str(name) for name in param_names]
    k = len(param_names)
    if k == 0:
        raise ValueError("param_names is empty; give one name per parameter.")
    step = min(0.8 / len(intervals), 0.25)
    offsets = (np.arange(len(intervals)) - (len(intervals) - 1) / 2) * step

    fig = Figure(figsize=(6.4, 1.2 + 0.3 * k * max(2, len(intervals))), layout="constrained")
    ax = fig.add_subplot()
    ax.axvline(0.0, **_ZERO_STYLE)
    handles = []
    for i, (name, triple) in enumerate(intervals.items()):
        estimate, lower, upper = _interval(triple, f"intervals[{name!r}]", k)
        handles.append(
            ax.errorbar(
                estimate,
                np.arange(k) + offsets[i],
                xerr=np.vstack([estimate - lower, upper - estimate]),
                fmt="o",
                color=_color(i),
                markersize=4,
                capsize=3,
                linewidth=1.4,
            )
        )
    ax.set_yticks(np.arange(k), [_escape(name) for name in param_names])
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlabel("estimate and interval")
    ax.set_ylabel("parameter")
    _legend(ax, handles, list(intervals), loc="best", fontsize="small")
    return fig


def _interval(triple, what: str, k: int):
    triple = _unpack(triple, 3, what, "a triple (estimate, lower, upper) of arrays")
    estimate, lower, upper = (_vector(v, f"{what}[{j}]", k) for j, v in enumerate(triple))
    with np.errstate(invalid="ignore"):
        disordered = (lower > estimate) | (estimate > upper)
    if disordered.any():
        raise ValueError(
            f"{what} needs lower <= estimate <= upper; it does not hold for the "
            f"parameters at positions {np.flatnonzero(disordered).tolist()}."
        )
    return estimate, lower, upper


def log_density_grid(
    X: ArrayLike,
    y: ArrayLike,
    intercepts: ArrayLike,
    slopes: ArrayLike,
    *,
    prior: Prior,
    intercept_prior: Prior,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood and unnormalised log posterior over an (intercept, slope) grid.

    Vectorised over the grid with :func:`jax.vmap` of :mod:`bayeslogreg.model`'s
    log-likelihood and the priors' log densities, in float64.

    Parameters
    ----------
    X : array_like of shape (n_samples, 1)
    y : array_like of shape (n_samples,), 0/1 labels
    intercepts : array_like of shape (n_intercepts,)
    slopes : array_like of shape (n_slopes,)
    prior, intercept_prior : Prior
        Priors of the slope and of the intercept.

    Returns
    -------
    log_likelihood, log_posterior : ndarray of shape (n_slopes, n_intercepts)
        In nats; row ``j``, column ``i`` is at ``(intercepts[i], slopes[j])``.

    Examples
    --------
    >>> from bayeslogreg.priors import Normal
    >>> loglik, logpost = log_density_grid(
    ...     [[0.0], [1.0], [2.0]], [0, 1, 1], [-1.0, 0.0], [0.5, 1.0, 2.0],
    ...     prior=Normal(0, 1), intercept_prior=Normal(0, 10))
    >>> loglik.shape
    (3, 2)
    """
    X, y = _one_feature(X, y)
    _check_priors(prior, intercept_prior)
    intercepts = _vector(intercepts, "intercepts")
    slopes = _vector(slopes, "slopes")
    block_rows = max(1, _SURFACE_ELEMENTS // (intercepts.size * slopes.size))
    with float64():
        loglik, logprior = _grid_values(
            jnp.asarray(intercepts),
            jnp.asarray(slopes),
            jnp.asarray(X),
            jnp.asarray(y),
            prior,
            intercept_prior,
            block_rows,
        )
    loglik = np.asarray(loglik)
    return loglik, loglik + np.asarray(logprior)


@functools.partial(jax.jit, static_argnames="block_rows")
def _grid_values(intercepts, slopes, X, y, prior, intercept_prior, block_rows):
    intercept, slope = jnp.meshgrid(intercepts, slopes)
    params = jnp.stack([intercept.ravel(), slope.ravel()], axis=1)
    loglik = jax.vmap(lambda p: model.log_likelihood_sum(p, X, y, block_rows))(params)
    logprior = jax.vmap(priors_log_density, in_axes=(0, None, None))(params, intercept_prior, prior)
    return loglik.reshape(intercept.shape), logprior.reshape(intercept.shape)


def _one_feature(X, y) -> tuple[np.ndarray, np.ndarray]:
    n_features = check_X(X).shape[1]
    if n_features != 1:
        raise ValueError(
            "the likelihood surface is drawn over (intercept, slope), so X must have exactly "
            f"one feature; got {n_features}. Select one column, e.g. X[:, [0]]."
        )
    X, y, _ = check_X_y(X, y)
    return X.astype(np.float64), y.astype(np.float64)


def _check_priors(prior, intercept_prior) -> None:
    for name, value in (("prior", prior), ("intercept_prior", intercept_prior)):
        if not isinstance(value, Prior):
            raise ValueError(
                f"{name} must be a prior from bayeslogreg.priors (e.g. Normal(0, 2.5)); "
                f"got {value!r}."
            )
    prior.check_size(1, "the slope")
    intercept_prior.check_size(1, "the intercept")


def _surface_inputs(mle, map_, map_cov, draws):
    mle = None if mle is None else _vector(getattr(mle, "params", mle), "mle", 2)
    map_ = None if map_ is None else _vector(getattr(map_, "params", map_), "map_", 2)
    for name, point in (("mle", mle), ("map_", map_)):
        if point is not None and not np.isfinite(point).all():
            raise ValueError(f"{name} must be finite (intercept, slope); got {point}.")
    if map_cov is not None:
        if map_ is None:
            raise ValueError("map_cov is the Laplace covariance at the MAP; give map_ too.")
        map_cov = np.asarray(map_cov, dtype=np.float64)
        if map_cov.shape != (2, 2) or not np.isfinite(map_cov).all():
            raise ValueError(f"map_cov must be a finite (2, 2) matrix; got shape {map_cov.shape}.")
        if not np.allclose(map_cov, map_cov.T) or np.linalg.eigvalsh(map_cov).min() <= 0:
            raise ValueError("map_cov must be symmetric positive definite.")
    if draws is not None:
        draws = np.asarray(draws, dtype=np.float64)
        if draws.ndim < 2 or draws.shape[-1] != 2:
            raise ValueError(
                "draws must have shape (n_draws, 2) or (chains, draws, 2), intercept first; "
                f"got {draws.shape}."
            )
        draws = draws.reshape(-1, 2)
        draws = draws[np.isfinite(draws).all(axis=1)]
    points = [p[None] for p in (mle, map_) if p is not None]
    if draws is not None and len(draws):
        points.append(draws)
    if map_cov is not None:
        reach = 2.5 * np.sqrt(np.diag(map_cov))
        points.append(np.stack([map_ - reach, map_ + reach]))
    if not points:
        raise ValueError("give at least one of mle, map_ or draws to place the grid.")
    return mle, map_, map_cov, draws, np.concatenate(points)


def _grid_axes(points: np.ndarray, grid_size: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - 0.25 * span, high + 0.25 * span
    return np.linspace(low[0], high[0], grid_size), np.linspace(low[1], high[1], grid_size)


def surface_figure(
    X: ArrayLike,
    y: ArrayLike,
    *,
    prior: Prior,
    intercept_prior: Prior,
    mle: ArrayLike | None = None,
    map_: ArrayLike | None = None,
    map_cov: ArrayLike | None = None,
    draws: ArrayLike | None = None,
    grid_size: int = 80,
) -> Figure:
    """Log-likelihood and log-posterior surfaces of a one-feature model, side by side.

    The grid covers the MLE, the MAP, the draws and the Laplace 2.5-sigma box, with a
    quarter of the span as margin. Shading is the drop below the grid maximum (clipped
    at -20 nats); contours are drawn at drops of k^2 / 2, k = 1..5.

    Parameters
    ----------
    X : array_like of shape (n_samples, 1)
    y : array_like of shape (n_samples,), 0/1 labels
    prior, intercept_prior : Prior
        Priors of the slope and of the intercept (as given to ``fit_map``).
    mle, map_ : array_like of shape (2,) or PointEstimate, optional
        ``(intercept, slope)``, marked on both panels.
    map_cov : array_like of shape (2, 2), optional
        Laplace covariance at ``map_``: its 1- and 2-sigma ellipses go on the posterior
        panel.
    draws : array_like of shape (n_draws, 2) or (chains, draws, 2), optional
        Posterior draws, intercept first; at most 1000 (a seeded subsample) are scattered
        on the posterior panel.
    grid_size : int
        Grid points per axis (at least 5).

    Returns
    -------
    Figure
        Two axes (log-likelihood, log posterior); each shows its surface as an image
        whose pixel centres are the grid points.

    Examples
    --------
    >>> from bayeslogreg.priors import Normal
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1]
    >>> fig = surface_figure(X, y, prior=Normal(0, 1), intercept_prior=Normal(0, 10),
    ...                      mle=[-0.5, 0.4], grid_size=20)
    >>> len(fig.axes)
    2
    """
    X, y = _one_feature(X, y)
    _check_priors(prior, intercept_prior)
    grid_size = check_int(grid_size, "grid_size", minimum=5)
    mle, map_, map_cov, draws, points = _surface_inputs(mle, map_, map_cov, draws)
    intercepts, slopes = _grid_axes(points, grid_size)
    surfaces = log_density_grid(
        X, y, intercepts, slopes, prior=prior, intercept_prior=intercept_prior
    )

    fig = Figure(figsize=(11.0, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    titles = (
        "log-likelihood",
        f"log posterior\nslope ~ {prior!r}, intercept ~ {intercept_prior!r}",
    )
    for ax, surface, title in zip(axes, surfaces, titles, strict=True):
        _draw_surface(ax, intercepts, slopes, surface)
        handles = _mark_points(ax, mle, map_)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("intercept")
        ax.set_ylabel("slope")
        if ax is axes[1]:
            handles.extend(_draw_posterior(ax, map_, map_cov, draws))
        handles.append(Line2D([], [], color="white", linewidth=0.8))
        labels = [handle.get_label() for handle in handles[:-1]]
        labels.append("contours: max - k\N{SUPERSCRIPT TWO}/2, k = 1..5")
        _legend(ax, handles, labels, loc="upper right", fontsize="x-small", facecolor="0.85")
    return fig


def _draw_surface(ax, intercepts, slopes, surface) -> None:
    drop = surface - np.max(surface)
    d_int, d_slope = intercepts[1] - intercepts[0], slopes[1] - slopes[0]
    extent = (
        intercepts[0] - d_int / 2,
        intercepts[-1] + d_int / 2,
        slopes[0] - d_slope / 2,
        slopes[-1] + d_slope / 2,
    )
    ax.imshow(
        drop,
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap="viridis",
        vmin=_SURFACE_FLOOR,
        vmax=0.0,
        interpolation="bilinear",
    )
    ax.contour(
        intercepts,
        slopes,
        drop,
        levels=_SURFACE_DROPS,
        colors="white",
        linewidths=0.8,
        linestyles="solid",
    )


def _mark_points(ax, mle, map_) -> list:
    handles = []
    if mle is not None:
        handles.extend(
            ax.plot(*mle, "X", color="black", markeredgecolor="white", markersize=9, label="MLE")
        )
    if map_ is not None:
        handles.extend(
            ax.plot(*map_, "P", color="C3", markeredgecolor="white", markersize=9, label="MAP")
        )
    return handles


def _draw_posterior(ax, map_, map_cov, draws) -> list:
    handles = []
    if draws is not None and len(draws):
        if len(draws) > _MAX_SCATTER:
            keep = np.random.default_rng(0).choice(len(draws), _MAX_SCATTER, replace=False)
            draws = draws[np.sort(keep)]
        handles.append(
            ax.scatter(
                draws[:, 0],
                draws[:, 1],
                s=4,
                color="C1",
                alpha=0.35,
                linewidths=0,
                rasterized=True,
                label="posterior draws",
            )
        )
    if map_cov is not None:
        angle = np.linspace(0.0, 2.0 * np.pi, 181)
        circle = np.stack([np.cos(angle), np.sin(angle)])
        root = np.linalg.cholesky(map_cov)
        for k, style in ((1, "-"), (2, "--")):
            ellipse = map_[:, None] + k * root @ circle
            handles.extend(
                ax.plot(
                    *ellipse,
                    style,
                    color="C3",
                    linewidth=1.3,
                    label=f"Laplace {k}\N{GREEK SMALL LETTER SIGMA}",
                )
            )
    return handles


def convergence_figure(
    histories: Mapping[str, tuple[ArrayLike, ArrayLike | float | None]],
    *,
    best: float | Mapping[str, float] | None = None,
) -> Figure:
    """Objective gap ``best - value`` per iteration (and per pass over the data), log scale.

    Parameters
    ----------
    histories : mapping of str to (objective, passes)
        Estimator name to its objective at the start and after each iteration, shape
        (n_records,) (e.g. ``PointEstimate.history``; ascent, so it increases), and
        either None, the passes over the data per iteration (a number, e.g.
        ``fit.n_passes / fit.n_iter``), or the cumulative passes at each record, shape
        (n_records,).
    best : float or mapping of str to float, optional
        Value the gaps are measured from: one number for every history (e.g. the optimum
        of an objective they share), or one per name. Histories without one use their
        own best value, since different estimators maximise different objectives; their
        last point then sits at the floor. Gaps below ``eps * max(1, |best|)`` are drawn
        at that floor.

    Returns
    -------
    Figure
        One axes against iteration, plus one against passes over the data when any
        history gives passes; legend on the first.

    Examples
    --------
    >>> fig = convergence_figure({"gd": ([-10.0, -6.0, -5.1, -5.0], 2.0)})
    >>> len(fig.axes)
    2
    """
    histories = _check_names(histories, "histories")
    records = {}
    for name, pair in histories.items():
        what = f"histories[{name!r}]"
        pair = _unpack(pair, 2, what, "a pair (objective, passes); passes may be None")
        objective = _vector(pair[0], f"the objective of {what}")
        if objective.size == 0 or not np.isfinite(objective).any():
            raise ValueError(f"the objective of {what} has no finite value.")
        records[name] = (objective, _passes(pair[1], objective.size, what))
    if isinstance(best, Mapping):
        unknown = sorted(set(best) - set(records), key=str)
        if unknown:
            raise ValueError(f"best names {unknown} have no history; known names {list(records)}.")
        targets = {name: float(value) for name, value in best.items()}
    else:
        targets = dict.fromkeys(records, None if best is None else float(best))
    with_passes = any(passes is not None for _, passes in records.values())

    fig = Figure(figsize=(11.0 if with_passes else 6.0, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 2 if with_passes else 1, sharey=True))
    handles = []
    for i, (name, (objective, passes)) in enumerate(records.items()):
        target = targets.get(name)
        target = np.nanmax(objective) if target is None else target
        if not np.isfinite(target):
            raise ValueError(f"best for {name!r} must be finite; got {target}.")
        gap = np.maximum(target - objective, np.finfo(np.float64).eps * max(1.0, abs(target)))
        style = {"color": _color(i), "linewidth": 1.4, "marker": "o" if gap.size <= 30 else ""}
        handles.extend(axes[0].plot(np.arange(gap.size), gap, markersize=3, **style))
        if passes is not None:
            axes[1].plot(passes, gap, markersize=3, **style)
    for ax, xlabel in zip(axes, ("iteration", "passes over the data"), strict=False):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("objective gap: best - value")
    axes[0].set_title("convergence of the objective", fontsize="medium")
    _legend(axes[0], handles, list(records), loc="upper right", fontsize="small")
    return fig


def _passes(passes, size: int, what: str) -> np.ndarray | None:
    if passes is None:
        return None
    if np.ndim(passes) == 0:
        per_iteration = check_positive_float(passes, f"the passes per iteration of {what}")
        return per_iteration * np.arange(size)
    return _vector(passes, f"the passes of {what}", size)


def calibration_figure(curves: Mapping[str, object]) -> Figure:
    """Reliability diagram: observed frequency against mean predicted probability.

    Parameters
    ----------
    curves : mapping of str to CalibrationCurve
        Estimator name to :func:`bayeslogreg.metrics.calibration_curve`'s result (or any
        object with its fields ``observed``, ``mean_predicted``, ``count``, ``lower``,
        ``upper``, ``bin_lower``, ``bin_upper``, ``level``).

    Returns
    -------
    Figure
        Two axes sharing x: the diagram with Wilson intervals as error bars and the
        diagonal of perfect calibration; below it, the rows per bin.

    Examples
    --------
    >>> from bayeslogreg.metrics import calibration_curve
    >>> curve = calibration_curve([0, 0, 1, 1, 1, 0], [0.1, 0.3, 0.6, 0.8, 0.9, 0.4], n_bins=2)
    >>> len(calibration_figure({"MLE": curve}).axes)
    2
    """
    curves = _check_names(curves, "curves")
    fig = Figure(figsize=(5.6, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], **_CHANCE_STYLE)
    handles, levels = [], []
    for i, (name, curve) in enumerate(curves.items()):
        fields = _calibration_fields(curve, f"curves[{name!r}]")
        observed, predicted, count, lower, upper, bin_lower, bin_upper, level = fields
        levels.append(level)
        handles.append(
            top.errorbar(
                predicted,
                observed,
                yerr=np.vstack([observed - lower, upper - observed]).clip(min=0),
                fmt="o-",
                color=_color(i),
                markersize=4,
                capsize=2,
                linewidth=1.2,
            )
        )
        bottom.bar(
            bin_lower,
            count,
            width=bin_upper - bin_lower,
            align="edge",
            fill=False,
            edgecolor=_color(i),
            linewidth=1.2,
        )
    top.set(xlim=(0, 1), ylim=(-0.02, 1.02), title="calibration")
    top.set_ylabel("observed frequency of y = 1")
    bottom.set_xlabel("mean predicted probability")
    bottom.set_ylabel("rows per bin")
    shown = ", ".join(f"{100 * level:g}%" for level in dict.fromkeys(levels))
    _legend(
        top,
        handles,
        list(curves),
        loc="upper left",
        title=f"{shown} Wilson intervals",
        fontsize="small",
    )
    return fig


def _calibration_fields(curve, what: str):
    names = ("observed", "mean_predicted", "count", "lower", "upper", "bin_lower", "bin_upper")
    try:
        values = [getattr(curve, field) for field in names]
        level = float(curve.level)
    except AttributeError:
        raise ValueError(
            f"{what} must be a CalibrationCurve (from bayeslogreg.metrics.calibration_curve); "
            f"got {type(curve).__name__}."
        ) from None
    first = _vector(values[0], f"{what}.observed")
    rest = [
        _vector(v, f"{what}.{field}", first.size)
        for v, field in zip(values[1:], names[1:], strict=True)
    ]
    return (first, *rest, level)


def _posterior_var_names(posterior) -> list[str]:
    return ["intercept", "coef"] if posterior.feature_names else ["intercept"]


def _literal_labels(fig: Figure) -> Figure:
    """Draw the titles, axis labels and legends of an ArviZ figure literally (names)."""
    texts = [text for legend in fig.legends for text in (*legend.get_texts(), legend.get_title())]
    for ax in fig.axes:
        texts.extend([ax.title, ax.xaxis.label, ax.yaxis.label])
        legend = ax.get_legend()
        if legend is not None:
            texts.extend([*legend.get_texts(), legend.get_title()])
    for text in texts:
        _literal(text)
    return fig


def trace_figure(posterior) -> Figure:
    """Trace plot of a :class:`~bayeslogreg.Posterior`: each chain's density and draws.

    Drawn by ArviZ (``plot_trace`` on 0.23, ``arviz_plots.plot_trace_dist`` on 1.x).

    Parameters
    ----------
    posterior : Posterior

    Returns
    -------
    Figure
        ArviZ's panels, with a legend of the chains; not registered with pyplot.
    """
    return _literal_labels(_arviz.plot_trace(posterior.idata, _posterior_var_names(posterior)))


def rank_figure(posterior) -> Figure:
    """Rank plot of a :class:`~bayeslogreg.Posterior`: one panel per parameter.

    Drawn by ArviZ: per-chain histograms of ranks on 0.23, per-chain Delta-ECDFs of
    fractional ranks on 1.x. Chains that sample the same distribution have uniform ranks
    (flat bars; curves near zero).

    Parameters
    ----------
    posterior : Posterior

    Returns
    -------
    Figure
        One axes per parameter, with a legend of the chains; not registered with pyplot.
    """
    return _literal_labels(_arviz.plot_rank(posterior.idata, _posterior_var_names(posterior)))


def figure_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render a figure as PNG bytes (e.g. for a base64 ``<img>``).

    Figures from this module are not registered with pyplot, so there is nothing to
    close: the figure is freed when the caller drops it.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=check_positive_int(dpi, "dpi"))
    return buffer.getvalue()


def figure_to_svg(fig: Figure) -> str:
    """Render a figure as SVG text (an XML document, without a creation date).

    Text is drawn as paths; names only appear in XML comments, where matplotlib escapes
    ``<``, ``>`` and ``&``.
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
