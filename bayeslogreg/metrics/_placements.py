"""DeLong placement values of one score, from cases and controls sorted apart.

A case's placement is the weight of the controls it outscores, ties counting 1/2; a
control's is the weight of the cases that outscore it (Sun & Xu's midrank differences,
DeLong's V10 and V01 before the division by n0 and n1). Sorting the cases and the
controls apart gives them directly: two sorts of n1 and n0 scores instead of one argsort
of all n, and no pass over pooled midranks. Equal scores have equal placements, so each
class is reduced to its runs of tied scores, and one ``np.searchsorted`` of the case
runs among the control runs counts both ways: with many ties (scores rounded to 1e-4,
say) it costs next to nothing. ``np.sort`` suffices where the rows' order is not
needed (``auc_ci``: the variance needs only each distinct score's placement and weight);
the paired test needs every row's placement, in the order of ``y``, and so an argsort.

Counts are int64 and each placement is one half-integer divided once, so the values
equal those of :func:`bayeslogreg.metrics._roc._outscored` bit for bit (sums below 2**52).
For 1-D scores; (n_draws, n_samples) scores keep ``_outscored``'s vectorised sort.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

# Classes of at least this many rows are sorted in two threads (NumPy's sorts release the
# GIL); below it a thread's start costs more than it saves.
THREAD_MIN_ROWS = 2**18


class _Runs(NamedTuple):
    """One class's distinct scores, ascending, and the weight of its runs of equal scores."""

    keys: np.ndarray  # (r,) distinct scores, ascending
    cumulative: np.ndarray  # (r + 1,) int64 weight (row count) of the rows in the first k runs
    row_runs: np.ndarray | None  # (m,) run of each row, in the class's original order


class Placements(NamedTuple):
    """AUC and DeLong placements of one score, per run of equal scores or per row.

    ``v10`` (cases) and ``v01`` (controls) weigh as ``case_weight`` and
    ``control_weight`` say (None: each entry once). Where ``case_rows`` is given, ``v10``
    holds one entry per run and ``v10[case_rows]`` is each case's, in the order of
    ``y`` (likewise ``control_rows``); where it is None, ``v10`` is already per row.
    """

    auc: float | np.ndarray
    v10: np.ndarray
    v01: np.ndarray
    case_weight: np.ndarray | None
    control_weight: np.ndarray | None
    case_rows: np.ndarray | None = None
    control_rows: np.ndarray | None = None


def _runs(scores: np.ndarray, weight: np.ndarray | None, per_row: bool) -> _Runs:
    """Sort one class's scores (shape (m,)) into runs of equal scores."""
    # np.sort's SIMD sort is several times faster than argsort and than gathering
    # scores[order], so the sorted scores always come from it; the argsort, where one is
    # needed, only orders the weights and the rows' runs.
    sorted_scores = np.sort(scores)
    order = None if weight is None and not per_row else np.argsort(scores)
    # starts[k]: a run begins at sorted index k; the extra last entry closes the last run.
    starts = np.empty(scores.shape[0] + 1, dtype=bool)
    starts[0] = starts[-1] = True
    np.not_equal(sorted_scores[1:], sorted_scores[:-1], out=starts[1:-1])
    bounds = np.flatnonzero(starts)
    if weight is None:
        cumulative = bounds
    else:
        so_far = np.zeros(scores.shape[0] + 1, dtype=np.int64)
        np.cumsum(weight[order], out=so_far[1:])
        cumulative = so_far[bounds]
    row_runs = None
    if per_row:
        # The smallest integer type holding the run numbers keeps this scatter in cache.
        run_of_sorted = np.cumsum(starts[:-1], dtype=np.min_scalar_type(bounds.shape[0])) - 1
        row_runs = np.empty_like(run_of_sorted)
        row_runs[order] = run_of_sorted
    return _Runs(sorted_scores[bounds[:-1]], cumulative, row_runs)


def _outscored(cases: _Runs, controls: _Runs) -> tuple[np.ndarray, np.ndarray]:
    """Return the weight of the other class below each run, plus half of that tied with it.

    Shapes (r1,): controls per case run, and (r0,): cases per control run. One search
    places the case runs among the control runs; the control runs' counts follow from
    those positions (a merge of two sorted lists), without a second search.
    """
    n_control_runs = controls.keys.shape[0]
    below = np.searchsorted(controls.keys, cases.keys, side="left")
    at_or_above = controls.keys[np.minimum(below, n_control_runs - 1)]
    tied = (below < n_control_runs) & (at_or_above == cases.keys)
    # An integer sum halved once: exact, as the pooled midranks' half-integers are.
    controls_outscored = (controls.cumulative[below] + controls.cumulative[below + tied]) / 2
    # Case runs scored at most each control run: those placed at or before it.
    up_to = np.cumsum(np.bincount(below, minlength=n_control_runs + 1)[:n_control_runs])
    tied_control = np.zeros(n_control_runs, dtype=up_to.dtype)
    tied_control[below[tied]] = 1
    cases_below = (cases.cumulative[up_to - tied_control] + cases.cumulative[up_to]) / 2
    return controls_outscored, cases_below


def _class_runs(scores: np.ndarray, weight, rows: np.ndarray, per_row: bool) -> _Runs:
    # take() with row numbers is about 3x faster than indexing with a boolean mask.
    return _runs(scores.take(rows), None if weight is None else weight.take(rows), per_row)


def _both_classes(y: np.ndarray, scores: np.ndarray, weight, per_row: bool):
    """Return the runs of the cases and of the controls, in two threads for large classes."""
    cases, controls = np.flatnonzero(y), np.flatnonzero(~y)
    if min(cases.shape[0], controls.shape[0]) < THREAD_MIN_ROWS:
        return _class_runs(scores, weight, cases, per_row), _class_runs(
            scores, weight, controls, per_row
        )
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(_class_runs, scores, weight, controls, per_row)
        return _class_runs(scores, weight, cases, per_row), later.result()


def delong_placements_1d(
    y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None, *, per_row: bool
) -> Placements:
    """AUC and DeLong placements of a 1-D score, from cases and controls sorted apart.

    ``y`` (bool, shape (n,)), ``scores`` (shape (n,)) and ``weight`` (integers > 0,
    shape (n,), or None) are validated. ``v10`` and ``v01`` hold one entry per distinct
    score of the cases and of the controls, ascending, weighted by the runs' row counts
    (or summed weights): the weighted means and variances are those of the rows. With
    ``per_row=True`` the rows' runs come too (an argsort of each class), to pair the
    rows of two scores.
    """
    cases, controls = _both_classes(y, scores, weight, per_row)
    n_positive, n_negative = cases.cumulative[-1].item(), controls.cumulative[-1].item()
    case_runs, control_runs = np.diff(cases.cumulative), np.diff(controls.cumulative)
    controls_outscored, cases_below = _outscored(cases, controls)
    cases_above = n_positive - cases_below
    auc = np.sum(case_runs * controls_outscored).item() / (n_positive * n_negative)
    v10, v01 = controls_outscored / n_negative, cases_above / n_positive
    return Placements(auc, v10, v01, case_runs, control_runs, cases.row_runs, controls.row_runs)
