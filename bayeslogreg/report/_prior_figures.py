"""Figures of the priors: the prior predictive probabilities, and prior against posterior."""

import numpy as np
from matplotlib.figure import Figure

from bayeslogreg._jax import float64
from bayeslogreg.diagnostics._prior_predictive import EXTREME, PriorPredictive

__all__ = ["prior_posterior_figure", "prior_predictive_figure"]

_GRID_POINTS = 400


def prior_predictive_figure(check: PriorPredictive, bins: int = 50) -> Figure:
    """Histogram of the probabilities that the priors alone predict.

    Parameters
    ----------
    check : PriorPredictive
        From :func:`~bayeslogreg.diagnostics.prior_predictive`.
    bins : int

    Returns
    -------
    Figure
        The share of probabilities below 0.01 or above 0.99 shaded and written in the
        title; not registered with pyplot.
    """
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.hist(check.prob.ravel(), bins=np.linspace(0.0, 1.0, bins + 1), density=True, color="C0")
    for low, high in ((0.0, EXTREME), (1.0 - EXTREME, 1.0)):
        ax.axvspan(low, high, color="C3", alpha=0.2, linewidth=0)
    ax.set(xlabel="predicted probability under the priors alone", ylabel="density", xlim=(0, 1))
    ax.set_title(
        f"prior predictive: {check.extreme_share:.0%} of probabilities below {EXTREME} "
        f"or above {1 - EXTREME}",
        fontsize="medium",
    )
    return fig


def prior_posterior_figure(posterior) -> Figure:
    """Each coefficient's prior density against its posterior draws, one panel each.

    The coefficients' priors are independent, so each panel's curve is that
    coefficient's own prior (as used: autoscaled where it was); the intercept is left
    out, since a centred intercept prior is a prior on a sum of parameters. A flat prior
    has no curve, nor has a regularized horseshoe (no closed-form marginal).

    Parameters
    ----------
    posterior : Posterior

    Returns
    -------
    Figure
        One axes per coefficient; not registered with pyplot.
    """
    names, draws = posterior.feature_names, posterior.flat_draws[:, 1:]
    n_features = len(names)
    columns = min(n_features, 4) or 1
    rows = -(-max(n_features, 1) // columns)
    fig = Figure(figsize=(3.2 * columns, 2.6 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n_features:]:
        ax.set_visible(False)
    for j, (ax, name) in enumerate(zip(axes, names, strict=False)):
        values = draws[:, j]
        ax.hist(values, bins=40, density=True, color="C0", alpha=0.6, label="posterior")
        grid = _grid(values, posterior.prior, j, n_features)
        density = _prior_density(posterior.prior, grid, j, n_features)
        if density is not None:
            ax.plot(grid, density, color="C1", label="prior")
        ax.set_title(str(name).replace("$", r"\$"), fontsize="medium")
        ax.set_yticks([])
    if n_features:
        axes[0].legend(fontsize="small")
    return fig


def _grid(values: np.ndarray, prior, j: int, n_features: int) -> np.ndarray:
    """Points spanning the draws and the prior's central part (± 2 of its scales)."""
    low, high = np.quantile(values, [0.001, 0.999])
    scale = getattr(prior, "scale", None)
    if scale is not None:
        loc = float(np.broadcast_to(getattr(prior, "loc", 0.0), n_features)[j])
        width = 2.0 * float(np.broadcast_to(scale, n_features)[j])
        low, high = min(low, loc - width), max(high, loc + width)
    return np.linspace(low, high, _GRID_POINTS)


def _prior_density(prior, grid: np.ndarray, j: int, n_features: int) -> np.ndarray | None:
    """Coefficient ``j``'s prior density on ``grid``; None for a flat prior.

    None too for a prior without a mode (the regularized horseshoe), whose marginal
    density of a coefficient has no closed form.
    """
    if not prior.is_proper or not prior.has_mode:
        return None
    with float64():
        batch = prior.distribution((n_features,)).base_dist
        values = np.broadcast_to(grid[:, None], (len(grid), n_features))
        return np.exp(np.asarray(batch.log_prob(values))[:, j])
