"""DeLong placement values of one score, from cases and controls sorted apart.

A case's placement is the weight of the controls it outscores, ties counting 1/2; a
control's is the weight of the cases that outscore it (Sun & Xu's midrank differences,
DeLong's V10 and V01 before the division by n0 and n1). Sorting the cases and the
controls apart and counting with ``np.searchsorted`` (sides "left" and "right" bound a
run of tied scores) gives them directly: two sorts of n1 and n0 scores instead of one
argsort of all n, and no pass over pooled midranks. Equal scores have equal placements,
so each side searches once per distinct score: with many ties (scores rounded to 1e-4,
say) the searches cost next to nothing. ``np.sort`` suffices where the rows' order is not
needed (``auc_ci``: the variance needs only each distinct score's placement and weight);
the paired test needs every row's placement, in the order of ``y``, and so an argsort.

Counts are int64 and each placement is one half-integer divided once, so the values
equal those of :func:`bayeslogreg.metrics._roc._outscored` bit for bit (sums below 2**52).
For 1-D scores; (n_draws, n_samples) scores keep ``_outscored``'s vectorised sort.
"""

from typing import NamedTuple

import numpy as np


class _SortedClass(NamedTuple):
    """One class's scores in ascending order, and its runs of equal scores."""

    scores: np.ndarray  # (m,) ascending
    order: np.ndarray | None  # (m,) argsort of the class's scores, where it was needed
    cumulative: np.ndarray | None  # (m + 1,) weight of the first k sorted rows; None: k
    run_starts: np.ndarray  # (r,) sorted index where each distinct score begins


class Placements(NamedTuple):
    """AUC and placements of one score; see :func:`delong_placements_1d`."""

    auc: float
    v10: np.ndarray
    v01: np.ndarray
    case_weight: np.ndarray | None
    control_weight: np.ndarray | None


def _sort_class(scores: np.ndarray, weight: np.ndarray | None, keep_order: bool) -> _SortedClass:
    if weight is None and not keep_order:
        return _with_runs(np.sort(scores), None, None)
    order = np.argsort(scores)
    cumulative = None
    if weight is not None:
        cumulative = np.zeros(scores.shape[0] + 1, dtype=weight.dtype)
        np.cumsum(weight[order], out=cumulative[1:])
    return _with_runs(scores[order], order, cumulative)


def _with_runs(sorted_scores: np.ndarray, order, cumulative) -> _SortedClass:
    starts = np.empty(sorted_scores.shape, dtype=bool)
    starts[:1] = True
    np.not_equal(sorted_scores[1:], sorted_scores[:-1], out=starts[1:])
    return _SortedClass(sorted_scores, order, cumulative, np.flatnonzero(starts))


def _run_weights(sorted_class: _SortedClass) -> np.ndarray:
    """Weight (or row count) of each run of equal scores, shape (r,)."""
    bounds = np.append(sorted_class.run_starts, sorted_class.scores.shape[0])
    if sorted_class.cumulative is None:
        return np.diff(bounds)
    return np.diff(sorted_class.cumulative[bounds])


def _below_plus_half_tied(keys: np.ndarray, other: _SortedClass) -> np.ndarray:
    """Weight of ``other``'s scores below each key plus half of those equal to it."""
    low = np.searchsorted(other.scores, keys, side="left")
    high = np.searchsorted(other.scores, keys, side="right")
    if other.cumulative is not None:
        low, high = other.cumulative[low], other.cumulative[high]
    # An integer sum halved once: exact, as the pooled midranks' half-integers are.
    return (low + high) / 2


def _per_row(per_run: np.ndarray, sorted_class: _SortedClass) -> np.ndarray:
    """Spread each run's value over its rows, back in the class's original order."""
    counts = np.diff(np.append(sorted_class.run_starts, sorted_class.scores.shape[0]))
    values = np.empty(sorted_class.scores.shape[0])
    values[sorted_class.order] = np.repeat(per_run, counts)
    return values


def delong_placements_1d(
    y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None, *, per_row: bool
) -> Placements:
    """AUC and DeLong placements of a 1-D score, from cases and controls sorted apart.

    ``y`` (bool, shape (n,)), ``scores`` (shape (n,)) and whole-number ``weight``
    (int64, > 0, or None) are validated. With ``per_row=True``, ``v10`` has shape (n1,)
    and ``v01`` shape (n0,), in the order of ``y`` as in ``_delong_placements``, and the
    weights are ``weight[y]`` and ``weight[~y]``. With ``per_row=False`` they hold one
    entry per distinct score of each class, in ascending order, and the weights are the
    runs' row counts (or summed weights): the same weighted means and covariances.
    """
    keep_order = per_row
    case_weight = None if weight is None else weight[y]
    control_weight = None if weight is None else weight[~y]
    cases = _sort_class(scores[y], case_weight, keep_order)
    controls = _sort_class(scores[~y], control_weight, keep_order)
    n_positive = cases.scores.shape[0] if weight is None else case_weight.sum().item()
    n_negative = controls.scores.shape[0] if weight is None else control_weight.sum().item()
    case_runs, control_runs = _run_weights(cases), _run_weights(controls)
    controls_outscored = _below_plus_half_tied(cases.scores[cases.run_starts], controls)
    cases_above = n_positive - _below_plus_half_tied(controls.scores[controls.run_starts], cases)
    auc = np.sum(case_runs * controls_outscored).item() / (n_positive * n_negative)
    v10, v01 = controls_outscored / n_negative, cases_above / n_positive
    if per_row:
        return Placements(
            auc, _per_row(v10, cases), _per_row(v01, controls), case_weight, control_weight
        )
    return Placements(auc, v10, v01, case_runs, control_runs)
