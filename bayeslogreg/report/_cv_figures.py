"""Figures of a cross-validated comparison: ROC curves over folds, metrics per fold."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayeslogreg.report.figures import _color, _escape, _legend

__all__ = ["cv_metrics_figure", "cv_roc_figure"]

#: False-positive rates at which the folds' ROC curves are averaged.
_FPR_GRID = np.linspace(0.0, 1.0, 201)
_SHOWN_METRICS = {"auc": "AUC", "log_loss": "log-loss", "brier": "Brier score", "ece": "ECE"}


def _on_grid(fpr: np.ndarray, tpr: np.ndarray) -> np.ndarray:
    """True-positive rate of a ROC curve at each point of :data:`_FPR_GRID` (its upper step)."""
    return np.interp(_FPR_GRID, fpr, tpr, left=0.0, right=1.0)


def cv_roc_figure(curves: dict) -> Figure:
    """Mean ROC curve per estimator over the folds, shaded from the lowest to the highest fold.

    ``curves`` maps each estimator's name to its folds' ``(fpr, tpr)`` pairs.
    """
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--")
    handles = []
    for i, pairs in enumerate(curves.values()):
        tprs = np.array([_on_grid(fpr, tpr) for fpr, tpr in pairs])
        ax.fill_between(_FPR_GRID, tprs.min(axis=0), tprs.max(axis=0), color=_color(i), alpha=0.15)
        (line,) = ax.plot(_FPR_GRID, tprs.mean(axis=0), color=_color(i), lw=1.6)
        handles.append(line)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"ROC over {len(next(iter(curves.values())))} folds (band: range of folds)")
    _legend(ax, handles, list(curves), loc="lower right")
    return fig


def cv_metrics_figure(folds: pd.DataFrame, names) -> Figure:
    """Each fold's AUC, log-loss, Brier score and ECE per estimator, with mean +- se."""
    fig = Figure(figsize=(10, 1.6 + 0.45 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(_SHOWN_METRICS), sharey=True)
    positions = np.arange(len(names))[::-1]
    for ax, (metric, label) in zip(axes, _SHOWN_METRICS.items(), strict=True):
        for i, (name, y) in enumerate(zip(names, positions, strict=True)):
            values = folds.loc[name, metric].to_numpy()
            mean, se = values.mean(), values.std(ddof=1) / np.sqrt(values.size)
            ax.plot(values, np.full(values.size, y), "o", color=_color(i), alpha=0.5, ms=4)
            ax.errorbar(mean, y, xerr=se, fmt="D", color=_color(i), ms=6, capsize=3)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(positions, [_escape(name) for name in names])
    axes[0].set_ylim(positions.min() - 0.7, positions.max() + 0.7)
    markers = [
        Line2D([], [], ls="", marker="o", color="0.4", alpha=0.5),
        Line2D([], [], ls="", marker="D", color="0.4"),
    ]
    fig.legend(markers, ["one fold", "mean +- se"], loc="outside lower center", ncols=2)
    return fig
