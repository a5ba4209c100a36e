"""Detect separation, the case where the maximum-likelihood estimate does not exist.

With ``s_i = 2 y_i - 1`` and ``x~_i = (1, x_i)``, the data are *separated* when some
direction ``beta != 0`` has margins ``m_i = s_i x~_i . beta >= 0`` for every row and
``> 0`` for at least one (Albert and Anderson 1984). Moving the parameters along such a
direction never lowers the log-likelihood and raises it towards its supremum, so the MLE
diverges, and under flat priors on those parameters the posterior is improper.
Separation is *complete* when some direction has every margin ``> 0``, *quasi-complete*
otherwise: the rows that no direction separates lie on the separating hyperplane
("tied").

Following Konis (2007), as R's safeBinaryRegression and detectseparation do, the question
is a linear program, solved with SciPy's HiGHS::

    maximise  sum_i m_i   subject to   m_i >= 0 for every row,  sum_j |beta_j| <= 1.

The optimum is 0 when the classes overlap and positive when they are separated. (The
L1 ball, rather than Konis' box, has sparse vertices, so directions tend to use only
the features they need.) An optimal vertex may leave separable rows at margin 0, so a
second program maximises the smallest margin of those rows: if it is positive, the
separation is complete. Otherwise summed-margin programs over the rows still at 0 are
added until none of them can be raised; the sum of the directions is then positive on
exactly the rows that some direction separates, and the others are the tied rows.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from bayeslogreg._validation import INTERCEPT_NAME, check_X_y

__all__ = ["Separation", "detect_separation"]

#: Margins are computed with every column centred at its mean (when the intercept is
#: free) and divided by its largest absolute deviation, so each entry lies in [-1, 1]
#: whatever the units (1e-6 or 1e6), and along directions of L1 norm at most 1. A margin
#: above MARGIN_TOL is positive, one at or below it a tie, one below -MARGIN_TOL a
#: violated constraint. HiGHS meets constraints to 1e-7 and exact ties come out at
#: ~1e-14, so 1e-6 tells them apart; classes that overlap by less than ~1e-6 of a
#: column's range count as quasi-completely separated.
MARGIN_TOL = 1e-6
#: ``features`` names the parameters whose component of the scaled direction is at
#: least this fraction of the largest: smaller ones only nudge the margins.
INVOLVED_FRACTION = 1e-2
#: The programs start from the constraints of a random subsample of this many rows
#: (see :func:`detect_separation`).
SCREEN_ROWS = 2000
_BLOCK_ROWS = 2**16
_FOLD_ROWS = 64
_NAMES_SHOWN = 5


@dataclass(frozen=True)
class Separation:
    """A separating direction found by :func:`detect_separation`.

    Attributes
    ----------
    kind : {"complete", "quasi-complete"}
    features : tuple of str
        Parameters (``"intercept"`` or feature names) with a non-negligible component of
        the direction once every column is scaled to [-1, 1], largest first.
    direction : ndarray of shape (p + 1,)
        Intercept first, on the scale of ``X``, unit Euclidean norm, oriented so that
        ``(2 y - 1) * (direction[0] + X @ direction[1:]) >= 0`` for every row: the
        log-likelihood increases along it for ever.
    n_tied : int
        Rows on the separating hyperplane (margin 0 along every separating direction);
        0 for complete separation.
    """

    kind: str
    features: tuple[str, ...]
    direction: np.ndarray
    n_tied: int

    def __str__(self) -> str:
        names = ", ".join(self.features[:_NAMES_SHOWN])
        if len(self.features) > _NAMES_SHOWN:
            names += f" and {len(self.features) - _NAMES_SHOWN} more"
        adverb = "completely" if self.kind == "complete" else "quasi-completely"
        tied = f" ({self.n_tied} rows lie on the separating hyperplane)" if self.n_tied else ""
        return f"the data are {adverb} separated by {names}{tied}"


class _SignedDesign:
    """Rows ``s_i x~_i`` over the free parameters, centred and scaled, built on demand.

    Only the rows a linear program needs are materialised, in float64; passes over all
    rows go in blocks, so a large ``X`` is never copied whole.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, free: np.ndarray, origin=None):
        self.X, self.sign, self.intercept = X, 2.0 * y - 1.0, bool(free[0])
        total, high, low, signed_total = self._summary()
        if self.intercept:
            center = total / max(len(y), 1)
        else:  # directions through the origin: rows are measured from it
            center = np.zeros(X.shape[1]) + (0.0 if origin is None else origin)
        scale = np.maximum(high - center, center - low)
        if self.intercept:  # a constant column is the intercept over again
            scale[high == low] = 0.0
        self.columns = np.flatnonzero(free[1:] & (scale > 0))
        self.center, self.scale = center[self.columns], scale[self.columns]
        self._signed_total, self._signed_count = signed_total, self.sign.sum()

    def _summary(self):
        """Column sums, maxima, minima and signed sums ``sign @ X``, in one pass over X."""
        n_features = self.X.shape[1]
        total, signed_total = np.zeros(n_features), np.zeros(n_features)
        high, low = np.full(n_features, -np.inf), np.full(n_features, np.inf)
        for block in self._blocks():
            rows = self.X[block]
            sums = np.stack([np.ones(len(rows)), self.sign[block]]) @ rows
            total, signed_total = total + sums[0], signed_total + sums[1]
            high = np.maximum(high, _column_reduce(np.maximum, rows))
            low = np.minimum(low, _column_reduce(np.minimum, rows))
        return total, high, low, signed_total

    def rows(self, index) -> np.ndarray:
        """Signed scaled rows, shape (n_rows, n_params)."""
        Z = (self.X[index][:, self.columns] - self.center) / self.scale
        if self.intercept:
            Z = np.column_stack([np.ones(len(Z)), Z])
        return Z * self.sign[index, None]

    def _blocks(self):
        return (slice(i, i + _BLOCK_ROWS) for i in range(0, len(self.sign), _BLOCK_ROWS))

    # Passes over all rows apply the centring and scaling to the direction (or the sum)
    # instead of the rows: one matrix-vector product per block, no row copies (measured
    # at 1M x 28: 0.75 s and 1.15 s for margins and row_sum built from rows()).

    def margins(self, direction: np.ndarray) -> np.ndarray:
        """Margin of every row along ``direction`` (n_params,), shape (n_samples,)."""
        coef = np.zeros(self.X.shape[1])
        coef[self.columns] = direction[int(self.intercept) :] / self.scale
        offset = (direction[0] if self.intercept else 0.0) - coef[self.columns] @ self.center
        eta = np.concatenate([self.X[block] @ coef for block in self._blocks()])
        return self.sign * (offset + eta)

    def row_sum(self, selected: np.ndarray) -> np.ndarray:
        """Sum of the ``selected`` (mask of shape (n_samples,)) rows, shape (n_params,)."""
        if selected.all():  # the first program's objective: summed in __init__'s pass
            signed, count = self._signed_total, self._signed_count
        else:
            weights = np.where(selected, self.sign, 0.0)
            signed = sum(weights[block] @ self.X[block] for block in self._blocks())
            count = weights.sum()
        total = (signed[self.columns] - count * self.center) / self.scale
        return np.concatenate([[count], total]) if self.intercept else total

    def to_params(self, direction: np.ndarray, n_features: int) -> np.ndarray:
        """Direction over all parameters on the scale of X, shape (n_features + 1,)."""
        params = np.zeros(n_features + 1)
        coef = direction[int(self.intercept) :] / self.scale
        params[1 + self.columns] = coef
        params[0] = (direction[0] if self.intercept else 0.0) - coef @ self.center
        return params / np.linalg.norm(params)


def _column_reduce(ufunc: np.ufunc, rows: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(rows, axis=0)`` for C-ordered ``rows`` (n, p), shape (p,).

    Reduces _FOLD_ROWS rows' worth of contiguous values at a time first: 2.4x faster
    than a plain axis-0 reduction of a (2**16, 28) block (measured in ``docs/design.md``).
    """
    n_rows, n_columns = rows.shape
    # Without columns there is nothing to fold (and reshape(-1, 0) is undefined).
    folded = n_rows - n_rows % _FOLD_ROWS if n_columns else 0
    parts = [ufunc.reduce(rows[folded:], axis=0)] if folded < n_rows else []
    if folded:
        wide = ufunc.reduce(rows[:folded].reshape(-1, _FOLD_ROWS * n_columns), axis=0)
        parts.append(ufunc.reduce(wide.reshape(_FOLD_ROWS, n_columns), axis=0))
    return ufunc.reduce(np.stack(parts), axis=0)


def _best_direction(design: _SignedDesign, tied: np.ndarray, rows: np.ndarray, *, max_min=False):
    """Raise the margins of the ``tied`` rows as far as possible, keeping every margin >= 0.

    The direction lies in the L1 ball, whose vertices are sparse, so only parameters
    that matter get a nonzero component. The program maximises the summed margins of the
    tied rows or, with ``max_min``, the smallest of them (positive only if every tied row
    can be raised at once). It is solved by constraint generation: with the constraints
    of ``rows`` only, then again with the rows its direction violated added, until none
    is violated; fewer constraints can only allow more, so that direction is optimal.

    Parameters
    ----------
    design : _SignedDesign
    tied : ndarray of bool, shape (n_samples,)
    rows : ndarray of int
        Rows whose constraints start the program.
    max_min : bool

    Returns
    -------
    direction : ndarray of shape (n_params,)
        With ``sum(abs(direction)) <= 1``.
    margins : ndarray of shape (n_samples,)
    rows : ndarray of int
        The rows used, grown.
    """
    n_params = len(design.columns) + design.intercept
    # Variables (u, v, t): direction = u - v with u, v >= 0; t is the smallest tied
    # margin when max_min, else held at 0.
    if max_min:
        objective = np.append(np.zeros(2 * n_params), 1.0)
    else:
        total = design.row_sum(tied)
        objective = np.concatenate([total, -total, [0.0]])
    l1_ball = np.append(np.ones(2 * n_params), 0.0)
    while True:
        A = design.rows(rows)
        result = linprog(
            -objective,
            A_ub=np.vstack([np.column_stack([-A, A, tied[rows]]), l1_ball]),
            b_ub=np.append(np.zeros(len(rows)), 1.0),
            bounds=[(0.0, None)] * (2 * n_params) + [(0.0, None if max_min else 0.0)],
            method="highs",
        )
        if not result.success:
            raise RuntimeError(f"the separation check's linear program failed: {result.message}")
        direction = result.x[:n_params] - result.x[n_params:-1]
        if not max_min and np.abs(direction).sum() <= MARGIN_TOL:
            # Scaled rows lie in [-1, 1], so every |margin| <= sum(|direction|) <=
            # MARGIN_TOL: none is violated or positive, and no pass over X is needed.
            return direction, np.zeros(len(tied)), rows
        margins = design.margins(direction)
        violated = margins < result.x[-1] * tied - MARGIN_TOL
        if not violated.any():
            return direction, margins, rows
        rows = np.union1d(rows, np.flatnonzero(violated))


def detect_separation(X, y, *, feature_names=None, free=None) -> Separation | None:
    """Find complete or quasi-complete separation of the classes by linear programs.

    Parameters
    ----------
    X : array_like or DataFrame of shape (n_samples, n_features)
    y : array_like of shape (n_samples,), 0/1 labels
    feature_names : sequence of str, optional
    free : array_like of bool, shape (n_features + 1,), optional
        Parameters (intercept first) the direction may use; the others stay 0. Default:
        all. Pass the parameters with a flat prior to ask whether the posterior is
        improper.

    Returns
    -------
    Separation or None
        None when no direction over the free parameters separates the classes.

    Notes
    -----
    A program with every row as a constraint is slow for large data, so the programs
    start from the constraints of a random subsample of 2000 rows (fixed seed) and add
    the rows that their direction violates until none does (constraint generation);
    each round costs a program on the rows so far and a pass over X. When the
    subsample's classes overlap, its direction has zero margins and (unless the
    subsample misses something the other rows have, e.g. a rare category) so do all
    rows: one round proves there is no separation. The measured times are in
    ``docs/design.md``.

    Examples
    --------
    >>> detect_separation([[-2.0], [-1.0], [1.0], [2.0]], [0, 0, 1, 1]).kind
    'complete'
    >>> detect_separation([[-2.0], [1.0], [-1.0], [2.0]], [0, 0, 1, 1]) is None
    True
    """
    X, y, names = check_X_y(X, y, feature_names)
    return detect_separation_validated(X, y, names, free)


def detect_separation_validated(X, y, names, free=None, origin=None) -> Separation | None:
    """:func:`detect_separation` on ``X``, ``y`` and ``names`` as ``check_X_y`` returns them.

    ``origin`` (p,), with the intercept not free: the directions searched keep the
    linear predictor fixed at x = origin instead of at x = 0 (a prior on the intercept
    at ``origin``, :class:`~bayeslogreg.priors.Centered`, pins that value).
    """
    n_samples, n_features = X.shape
    free = np.ones(n_features + 1, dtype=bool) if free is None else np.asarray(free)
    if free.dtype != bool or free.shape != (n_features + 1,):
        raise ValueError(
            f"free must be a boolean mask of shape ({n_features + 1},) (intercept first); "
            f"got dtype {free.dtype} and shape {free.shape}."
        )
    design = _SignedDesign(X, y, free, origin)
    if not len(design.columns):  # the intercept alone cannot separate two classes
        return None
    if n_samples > SCREEN_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(n_samples, SCREEN_ROWS, replace=False))
    else:
        rows = np.arange(n_samples)
    direction, margins, rows = _best_direction(design, np.ones(n_samples, dtype=bool), rows)
    if margins.max() <= MARGIN_TOL:
        return None
    tied = margins <= MARGIN_TOL
    if tied.any():  # complete separation if every tied row can be raised at once
        step, step_margins, rows = _best_direction(design, tied, rows, max_min=True)
        direction, margins = direction + step, margins + step_margins
        tied = margins <= MARGIN_TOL
    while tied.any():  # quasi-complete: raise the tied rows that some direction raises
        step, step_margins, rows = _best_direction(design, tied, rows)
        if step_margins[tied].max() <= MARGIN_TOL:
            break
        direction, margins = direction + step, margins + step_margins
        tied = margins <= MARGIN_TOL
    direction = direction / np.abs(direction).max()
    free_names = np.array([INTERCEPT_NAME] * design.intercept + [names[j] for j in design.columns])
    order = np.argsort(-np.abs(direction), kind="stable")
    involved = order[np.abs(direction[order]) > INVOLVED_FRACTION]
    return Separation(
        kind="quasi-complete" if tied.any() else "complete",
        features=tuple(str(name) for name in free_names[involved]),
        direction=design.to_params(direction, n_features),
        n_tied=int(tied.sum()),
    )
