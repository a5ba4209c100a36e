"""Mini-batch stochastic gradient ascent over data read from disk chunk by chunk.

For data larger than memory: ``X`` is typically a memory-mapped ``.npy`` file
(``np.load(path, mmap_mode="r")``), read ``chunk_rows`` contiguous rows at a time. The
steps are variance-reduced (SVRG, Johnson and Zhang 2013): each epoch starts with one
pass for the full gradient at a snapshot of the parameters, then visits the chunks in a
seeded random order and the rows of each chunk in a seeded random order, in mini-batches
of ``batch_size`` rows, each step using the batch's gradient at the parameters minus its
gradient at the snapshot plus the full one. That estimate's noise vanishes at the
optimum, so a constant step converges to the full-batch optimum itself (linearly),
where plain stochastic ascent stalls at a noise floor. All batches of a chunk run in one
jitted ``lax.scan``. The run is a :class:`StreamingState` (a NamedTuple) changed only
by pure functions (:func:`init_state`, :func:`start_epoch`, :func:`chunk_step`,
:func:`end_epoch`); the state after each chunk is everything the run needs, so it is
the checkpoint, and a resumed run gives the same result as an uninterrupted one.
"""

import json
import math
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from bayeslogreg import model
from bayeslogreg._io import atomic_write_text
from bayeslogreg._jax import entry_point
from bayeslogreg._provenance import ChunkedDataHash
from bayeslogreg._validation import (
    check_column_magnitudes,
    check_feature_names,
    check_positive_float,
    check_positive_int,
    check_seed,
    check_X,
    check_y,
    generated_names,
)
from bayeslogreg.estimators._chunked import ChunkedData
from bayeslogreg.estimators._effects import null_log_likelihood
from bayeslogreg.estimators._objective import (
    HostObjective,
    check_in_memory_prior,
    priors_smooth_log_density,
    scale_from_sum_squares,
)
from bayeslogreg.estimators._optimizer import OptimizeResult, next_status
from bayeslogreg.estimators._point_estimate import FitContext, Optimum, PointEstimate, build
from bayeslogreg.estimators.point import find_separation, initial_params
from bayeslogreg.priors import Flat, Laplace, Prior

__all__ = [
    "StreamingState",
    "chunk_step",
    "end_epoch",
    "fit_streaming",
    "init_state",
    "start_epoch",
]

_FORMAT = "bayeslogreg-streaming-checkpoint"
_VERSION = 2


class StreamingState(NamedTuple):
    """Where a streaming run is: the whole of what a checkpoint holds.

    z : (p + 1,) the iterate, in unit-scale coordinates; snapshot : (p + 1,) SVRG's
    snapshot and full_grad : (p + 1,) the full per-row gradient there; epoch : epochs
    finished; chunk : chunks of the current epoch done; step : stochastic steps taken;
    history : ``f`` at the start of each epoch begun.
    """

    z: np.ndarray
    snapshot: np.ndarray
    full_grad: np.ndarray
    epoch: int
    chunk: int
    step: int
    history: tuple[float, ...]


class StreamingSettings(NamedTuple):
    """What a run fixes; a checkpoint resumes only a run with the same."""

    n_samples: int
    n_features: int
    batch_size: int
    chunk_rows: int
    learning_rate: float
    seed: int
    priors: tuple[str, str]


def _batch_grad(z, X, y, scale, n_samples, priors):
    """Gradient in ``z`` of the per-row objective estimated from one batch (float64)."""

    def value(point):
        params = point / scale
        X64, y64 = X.astype(jnp.float64), y.astype(jnp.float64)
        loglik = jnp.mean(model.log_likelihood_rows(params, X64, y64))
        return -loglik - priors_smooth_log_density(params, *priors) / n_samples

    return jax.grad(value)(z)


@jax.jit
def _chunk_steps(z, X_batches, y_batches, snapshot, full_grad, scale, n_samples, priors, rate):
    """SVRG steps over the batches (n_batches, batch_size, p) of one chunk."""

    def step(z, batch):
        grad = _batch_grad(z, *batch, scale, n_samples, priors)
        grad_at_snapshot = _batch_grad(snapshot, *batch, scale, n_samples, priors)
        return z - rate * (grad - grad_at_snapshot + full_grad), None

    return jax.lax.scan(step, z, (X_batches, y_batches))[0]


def init_state(z0) -> StreamingState:
    """Return the state of a run that has not begun, at ``z0`` (unit-scale coordinates)."""
    z0 = np.asarray(z0, dtype=np.float64)
    return StreamingState(z0, z0, np.zeros_like(z0), 0, 0, 0, ())


def start_epoch(state: StreamingState, value: float, full_grad) -> StreamingState:
    """Record ``f`` at the epoch's start and take the iterate as SVRG's snapshot."""
    history = state.history
    if len(history) == state.epoch:  # not yet recorded (a resumed run may have it)
        history = (*history, float(value))
    return state._replace(snapshot=state.z, full_grad=np.asarray(full_grad), history=history)


def _chunk_order(settings: StreamingSettings, epoch: int, n_chunks: int) -> np.ndarray:
    return np.random.default_rng([settings.seed, epoch]).permutation(n_chunks)


def chunk_step(state: StreamingState, X, y, scale, step_size, settings, priors) -> StreamingState:
    """Take the SVRG steps of the epoch's next chunk (in the epoch's seeded chunk order).

    The chunk's rows are visited in a seeded random order in batches of
    ``settings.batch_size``; rows left over are visited in other epochs.
    """
    chunk_rows, n_samples = settings.chunk_rows, settings.n_samples
    index = int(_chunk_order(settings, state.epoch, math.ceil(n_samples / chunk_rows))[state.chunk])
    rows = slice(index * chunk_rows, min((index + 1) * chunk_rows, n_samples))
    X_chunk, y_chunk = np.asarray(X[rows]), y[rows]
    perm = np.random.default_rng([settings.seed, state.epoch, index]).permutation(len(y_chunk))
    n_batches = len(y_chunk) // settings.batch_size
    if not n_batches:
        return state._replace(chunk=state.chunk + 1)
    used = perm[: n_batches * settings.batch_size]
    z = _chunk_steps(
        state.z,
        X_chunk[used].reshape(n_batches, settings.batch_size, settings.n_features),
        y_chunk[used].reshape(n_batches, settings.batch_size),
        state.snapshot,
        state.full_grad,
        jnp.asarray(scale),
        n_samples,
        priors,
        step_size,
    )
    return state._replace(z=np.asarray(z), chunk=state.chunk + 1, step=state.step + n_batches)


def end_epoch(state: StreamingState) -> StreamingState:
    """Begin the next epoch."""
    return state._replace(epoch=state.epoch + 1, chunk=0)


def _save_checkpoint(path: Path, settings: StreamingSettings, state: StreamingState) -> None:
    fields = {
        name: value.tolist() if isinstance(value, np.ndarray) else value
        for name, value in state._asdict().items()
    }
    fields["history"] = list(state.history)
    document = {
        "format": _FORMAT,
        "version": _VERSION,
        "settings": _settings_json(settings),
        "state": fields,
    }
    atomic_write_text(path, json.dumps(document) + "\n")


def _settings_json(settings: StreamingSettings) -> dict:
    return {**settings._asdict(), "priors": list(settings.priors)}


def _load_checkpoint(path: Path, settings: StreamingSettings) -> StreamingState:
    try:
        document = json.loads(path.read_text())
        if document.get("format") != _FORMAT or document.get("version") != _VERSION:
            raise ValueError("not a checkpoint of this version")
        fields = document["state"]
        vectors = {}
        for name in ("z", "snapshot", "full_grad"):
            vectors[name] = np.asarray(fields[name], dtype=np.float64)
            if vectors[name].shape != (settings.n_features + 1,):
                raise ValueError(f"{name} has the wrong shape")
        state = StreamingState(
            **vectors,
            epoch=int(fields["epoch"]),
            chunk=int(fields["chunk"]),
            step=int(fields["step"]),
            history=tuple(float(value) for value in fields["history"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{path} is not a readable fit_streaming checkpoint ({error}); delete it or pass "
            "another checkpoint path to start afresh."
        ) from None
    if document["settings"] != _settings_json(settings):
        raise ValueError(
            f"{path} was written by a run with other settings ({document['settings']}); "
            f"this run has {_settings_json(settings)}. Delete it or pass another checkpoint "
            "path."
        )
    return state


def _check_source(X, y, feature_names, chunk_rows, priors):
    """Validate (and hash) a chunk at a time.

    Returns y (float64), the feature names, the parameter scale, the mean squared norm
    of a row ``(1, x)`` in the unit-scale coordinates (for the step size), and the
    data's SHA-256 as ``fit_mle`` reports it (X, then y as 0/1 in X's dtype).
    """
    n_samples, n_features = X.shape
    y = check_y(y, n_samples=n_samples)
    sum_squares = np.zeros(n_features)
    digest = ChunkedDataHash()
    digest.start(X.shape, X.dtype)
    for start in range(0, n_samples, chunk_rows):
        chunk = check_X(X[start : start + chunk_rows], name="X")
        digest.update(chunk)
        sum_squares += np.einsum("ij,ij->j", chunk, chunk, dtype=np.float64)
    labels = y.astype(X.dtype)
    digest.start(labels.shape, labels.dtype)
    digest.update(labels)
    names = check_feature_names(
        generated_names(n_features) if feature_names is None else feature_names, n_features
    )
    check_column_magnitudes(X, sum_squares, names, flat_prior=not priors[1].is_proper)
    scale = scale_from_sum_squares(sum_squares, n_samples, priors)
    mean_square_norm = 1.0 + float(np.sum(sum_squares / n_samples / scale[1:] ** 2))
    return y, names, scale, mean_square_norm, digest.hexdigest()


@entry_point
def fit_streaming(
    X,
    y,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    epochs: int = 30,
    batch_size: int = 256,
    chunk_rows: int = 2**16,
    learning_rate: float = 0.5,
    tol: float = 1e-6,
    seed: int = 0,
    feature_names=None,
    checkpoint=None,
    checkpoint_every: int = 1000,
    progress: bool = True,
) -> PointEstimate:
    """Fit by variance-reduced mini-batch stochastic gradient ascent, reading X in chunks.

    Maximises the log posterior (the log-likelihood when both priors are flat, the
    default) by SVRG (see the module docstring) in the unit-scale coordinates of
    :func:`~bayeslogreg.estimators._objective.parameter_scale`, with the constant step
    ``learning_rate / L``, where ``L = (1 + mean squared norm of a row) / 4`` bounds the
    curvature of one row's log-likelihood on average. Each epoch is two passes over X:
    the full gradient at the snapshot, then the stochastic steps. The run stops at the
    start of an epoch whose full gradient is within ``tol``.

    Parameters
    ----------
    X : ndarray or np.memmap of shape (n_samples, n_features), float32 or float64
        Read ``chunk_rows`` rows at a time, so it may be larger than memory; float32
        data are accumulated in float64.
    y : array_like of shape (n_samples,)
        0/1 labels (held in memory: 8 bytes per row).
    prior, intercept_prior : Prior, optional
        Smooth priors (not Laplace). Default flat (maximum likelihood).
    epochs : int
        Most epochs to run.
    batch_size : int
        Rows per stochastic gradient step.
    chunk_rows : int
        Rows read from disk at a time.
    learning_rate : float
        Step size as a fraction of ``1 / L``; lower it if the fit diverges.
    tol : float
        Stop, and report ``converged``, when the largest entry of the full per-row
        gradient (unit-scale coordinates, as for ``fit_mle``) is at most ``tol``;
        otherwise a ConvergenceWarning is issued.
    seed : int
        Seed of the chunk and row orders.
    feature_names : sequence of str, optional
    checkpoint : str or Path, optional
        File for the state of the run. Written atomically (JSON) after a chunk once at
        least ``checkpoint_every`` steps were taken since the last write, and at the
        end. If it exists when the run starts, the run resumes from it; the settings
        (data size, batch_size, chunk_rows, learning_rate, seed, priors) must match.
        ``epochs`` may differ, to extend a finished run.
    checkpoint_every : int
        Steps between checkpoints.
    progress : bool
        Show a progress bar on stderr (one tick per chunk).

    Returns
    -------
    PointEstimate
        ``method="streaming"``; ``n_iter`` is the number of epochs run; ``n_passes``
        counts the passes over X (two per epoch, the stopping check and the final
        one); ``history`` holds the exact log posterior (log-likelihood for the MLE) at
        the start of every epoch; ``cov``, ``log_likelihood`` and ``grad_norm`` come
        from the final full pass.

    Examples
    --------
    >>> from bayeslogreg import fit_mle
    >>> from bayeslogreg.datasets import simulate
    >>> data = simulate(2000, [1.0, -0.5], seed=0)
    >>> fit = fit_streaming(data.X, data.y, progress=False)
    >>> bool(np.abs(fit.params - fit_mle(data.X, data.y).params).max() < 1e-5)
    True
    """
    start_time = time.perf_counter()
    if not hasattr(X, "shape") or len(X.shape) != 2 or X.dtype not in (np.float32, np.float64):
        raise ValueError(
            "X must be a 2-D float32/float64 array or memory map (np.load(path, "
            f"mmap_mode='r')); got {type(X).__name__}."
        )
    priors = (
        Flat() if intercept_prior is None else intercept_prior,
        Flat() if prior is None else prior,
    )
    if any(isinstance(part, Laplace) for part in priors):
        raise ValueError("fit_streaming needs smooth priors; use fit_map for Laplace priors.")
    check_in_memory_prior(priors[1], "fit_streaming")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    batch_size = min(check_positive_int(batch_size, "batch_size"), chunk_rows, X.shape[0])
    rate = check_positive_float(learning_rate, "learning_rate")
    tol = check_positive_float(tol, "tol")
    checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
    source = _check_source(X, y, feature_names, chunk_rows, priors)
    y, names, scale, mean_square_norm, digest = source
    n_samples, n_features = X.shape
    separation = find_separation(X, y, names, *priors)
    n_chunks = math.ceil(n_samples / chunk_rows)
    settings = StreamingSettings(
        n_samples, n_features, batch_size, chunk_rows, rate, seed, tuple(map(repr, priors))
    )
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.exists():
        state = _load_checkpoint(path, settings)
    else:
        state = init_state(initial_params(None, float(np.mean(y)), n_features + 1) * scale)
    step_size = rate / (0.25 * mean_square_norm)
    objective = HostObjective(ChunkedData(X, y), *priors, scale)
    last_saved, n_passes = state.step, 0
    with tqdm(
        total=epochs * n_chunks,
        initial=min(state.epoch * n_chunks + state.chunk, epochs * n_chunks),
        disable=not progress,
        file=sys.stderr,
        desc="fit_streaming",
    ) as bar:
        while state.epoch < epochs:
            if state.chunk == 0:  # a new epoch: the full gradient at the snapshot
                value, full_grad = objective.value_grad(state.z)
                n_passes += 1
                state = start_epoch(state, value, full_grad)
                if np.max(np.abs(full_grad)) <= tol:  # smooth priors: the gradient is all
                    break
            while state.chunk < n_chunks:
                state = chunk_step(state, X, y, scale, step_size, settings, priors)
                bar.update(1)
                if path is not None and state.step - last_saved >= checkpoint_every:
                    _save_checkpoint(path, settings, state)
                    last_saved = state.step
            n_passes += 1
            state = end_epoch(state)
    if path is not None:
        _save_checkpoint(path, settings, state)
    return _result(objective, names, state, tol, separation, start_time, seed, n_passes + 1, digest)


class _Solver(NamedTuple):
    """How a streaming run describes itself to the result and its warnings."""

    tol: float
    name: str = "streaming"
    iteration_unit: str = "epochs"
    remedy: str = "Increase epochs, or lower learning_rate if the history does not rise."


def _result(objective, names, state, tol, separation, start_time, seed, n_passes, digest):
    """One full pass at the last iterate: log-likelihood, gradient, covariance."""
    X, scale, priors = objective.source.X, objective.scale, objective.priors
    value, grad_z, hess_z = objective.value_grad_hess(state.z)
    grad_norm = float(np.max(np.abs(grad_z)))  # smooth priors: the gradient is all
    outcome = OptimizeResult(
        params=state.z / scale,
        value=value,
        optimality=grad_norm,
        n_iter=state.epoch,
        n_passes=n_passes,
        status=next_status(state.epoch, value, grad_norm, tol, state.epoch),
        history=np.asarray(state.history),
    )
    estimator = "map" if any(prior.is_proper for prior in priors) else "mle"
    # The columns shown to the singular-matrix warning are those of the first 100k rows:
    # X may not fit in memory.
    X_sample = X[: min(X.shape[0], 100_000)]
    origin = "generated" if names == generated_names(len(names)) else "given"
    context = FitContext(
        estimator,
        names,
        origin,
        priors,
        X.shape[0],
        scale,
        X_sample,
        separation,
        digest,
        seed,
        start_time,
    )
    null = null_log_likelihood(float(np.sum(objective.source.y)), X.shape[0])
    optimum = Optimum(outcome, hess_z * np.outer(scale, scale), objective.last_loglik)
    return build(context._replace(null_log_likelihood=null), _Solver(tol), optimum)
