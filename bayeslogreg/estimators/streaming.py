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
jitted ``lax.scan``. The state after each chunk is everything the run needs, so it can
be checkpointed to a file and resumed with the same result as an uninterrupted run.
"""

import json
import math
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from bayeslogreg import model
from bayeslogreg._io import atomic_write_text
from bayeslogreg._jax import entry_point
from bayeslogreg._provenance import ChunkedDataHash, versions
from bayeslogreg._validation import (
    INTERCEPT_NAME,
    check_feature_names,
    check_positive_float,
    check_positive_int,
    check_X,
    check_y,
)
from bayeslogreg.estimators import _chunked
from bayeslogreg.estimators._objective import (
    priors_smooth_log_density,
    scale_from_sum_squares,
)
from bayeslogreg.estimators.point import (
    PointEstimate,
    _covariance,
    _initial_params,
    find_separation,
)
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Flat, Laplace, Prior

__all__ = ["fit_streaming"]

_FORMAT = "bayeslogreg-streaming-checkpoint"
_VERSION = 2


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


def _settings(n_samples, n_features, batch_size, chunk_rows, rate, seed, priors) -> dict:
    return {
        "n_samples": n_samples,
        "n_features": n_features,
        "batch_size": batch_size,
        "chunk_rows": chunk_rows,
        "learning_rate": rate,
        "seed": seed,
        "priors": [repr(prior) for prior in priors],
    }


def _save_checkpoint(path: Path, settings: dict, state: dict) -> None:
    document = {"format": _FORMAT, "version": _VERSION, "settings": settings, "state": state}
    atomic_write_text(path, json.dumps(document) + "\n")


def _load_checkpoint(path: Path, settings: dict) -> dict:
    try:
        document = json.loads(path.read_text())
        if document.get("format") != _FORMAT or document.get("version") != _VERSION:
            raise ValueError("not a checkpoint of this version")
        state = document["state"]
        n_params = settings["n_features"] + 1
        for key in ("z", "snapshot", "full_grad"):
            state[key] = np.asarray(state[key], dtype=np.float64)
            if state[key].shape != (n_params,):
                raise ValueError(f"{key} has the wrong shape")
        state["history"] = [float(v) for v in state["history"]]
        for key in ("epoch", "chunk", "step"):
            state[key] = int(state[key])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{path} is not a readable fit_streaming checkpoint ({error}); delete it or pass "
            "another checkpoint path to start afresh."
        ) from None
    if document["settings"] != settings:
        raise ValueError(
            f"{path} was written by a run with other settings ({document['settings']}); "
            f"this run has {settings}. Delete it or pass another checkpoint path."
        )
    return state


def _check_source(X, y, feature_names, chunk_rows):
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
    names = [f"x{j + 1}" for j in range(n_features)] if feature_names is None else feature_names
    scale = scale_from_sum_squares(sum_squares, n_samples)
    mean_square_norm = 1.0 + float(np.sum(sum_squares / n_samples / scale[1:] ** 2))
    return y, check_feature_names(names, n_features), scale, mean_square_norm, digest.hexdigest()


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
    prior = Flat() if prior is None else prior
    intercept_prior = Flat() if intercept_prior is None else intercept_prior
    if isinstance(prior, Laplace) or isinstance(intercept_prior, Laplace):
        raise ValueError("fit_streaming needs smooth priors; use fit_map for Laplace priors.")
    epochs = check_positive_int(epochs, "epochs")
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    batch_size = min(check_positive_int(batch_size, "batch_size"), chunk_rows, X.shape[0])
    rate = check_positive_float(learning_rate, "learning_rate")
    tol = check_positive_float(tol, "tol")
    checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
    y, names, scale, mean_square_norm, digest = _check_source(X, y, feature_names, chunk_rows)
    n_samples, n_features = X.shape
    priors = (intercept_prior, prior)
    separation = find_separation(X, y, names, *priors)
    n_chunks = math.ceil(n_samples / chunk_rows)
    settings = _settings(n_samples, n_features, batch_size, chunk_rows, rate, seed, priors)
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.exists():
        state = _load_checkpoint(path, settings)
    else:
        z0 = _initial_params(None, float(np.mean(y)), n_features + 1) * scale
        state = {
            "z": z0,
            "snapshot": z0,
            "full_grad": np.zeros_like(z0),
            "epoch": 0,
            "chunk": 0,
            "step": 0,
            "history": [],
        }
    step_size = rate / (0.25 * mean_square_norm)
    objective = _chunked._Objective(_chunked.ChunkedData(X, y), *priors, scale)
    scale_j = jnp.asarray(scale)
    bar = tqdm(
        total=epochs * n_chunks,
        initial=min(state["epoch"] * n_chunks + state["chunk"], epochs * n_chunks),
        disable=not progress,
        file=sys.stderr,
        desc="fit_streaming",
    )
    last_saved, n_passes = state["step"], 0
    while state["epoch"] < epochs:
        if state["chunk"] == 0:  # a new epoch: the full gradient at the snapshot
            value, full_grad = objective.value_grad(state["z"])
            n_passes += 1
            if len(state["history"]) == state["epoch"]:
                state["history"].append(value)
            if np.max(np.abs(full_grad)) <= tol:  # smooth priors: the gradient is all
                break
            state.update(snapshot=state["z"], full_grad=full_grad)
        order = np.random.default_rng([seed, state["epoch"]]).permutation(n_chunks)
        while state["chunk"] < n_chunks:
            index = int(order[state["chunk"]])
            rows = slice(index * chunk_rows, min((index + 1) * chunk_rows, n_samples))
            X_chunk, y_chunk = np.asarray(X[rows]), y[rows]
            perm = np.random.default_rng([seed, state["epoch"], index]).permutation(len(y_chunk))
            n_batches = len(y_chunk) // batch_size
            used = perm[: n_batches * batch_size]
            if n_batches:
                z = _chunk_steps(
                    state["z"],
                    X_chunk[used].reshape(n_batches, batch_size, n_features),
                    y_chunk[used].reshape(n_batches, batch_size),
                    state["snapshot"],
                    state["full_grad"],
                    scale_j,
                    n_samples,
                    priors,
                    step_size,
                )
                state.update(z=np.asarray(z), step=state["step"] + n_batches)
            state["chunk"] += 1
            bar.update(1)
            if path is not None and state["step"] - last_saved >= checkpoint_every:
                _save_checkpoint(path, settings, _as_json(state))
                last_saved = state["step"]
        n_passes += 1
        state["epoch"] += 1
        state["chunk"] = 0
    bar.close()
    if path is not None:
        _save_checkpoint(path, settings, _as_json(state))
    return _result(objective, names, state, tol, separation, start_time, seed, n_passes + 1, digest)


def _as_json(state: dict) -> dict:
    return {
        key: value.tolist() if isinstance(value, np.ndarray) else value
        for key, value in state.items()
    }


def _result(objective, names, state, tol, separation, start_time, seed, n_passes, digest):
    """One full pass at the last iterate: log-likelihood, gradient, covariance."""
    X, scale, priors = objective.data.X, objective.scale, objective.priors
    n_samples = X.shape[0]
    _, grad_z, hess_z = objective.value_grad_hess(state["z"])
    loglik, params = objective.last_loglik, state["z"] / scale
    log_prior = float(_chunked._prior_value(params, *priors))
    grad_norm = float(np.max(np.abs(grad_z)))  # smooth priors: the gradient is all
    param_names = (INTERCEPT_NAME, *names)
    # Inverted in unit-scale coordinates, as fit_mle does; the columns shown to the
    # singular-matrix warning are those of the first 100k rows (X may not fit in memory).
    cov = _covariance(n_samples * hess_z, param_names, X[: min(n_samples, 100_000)])
    cov = cov / np.outer(scale, scale)
    converged = grad_norm <= tol and separation is None
    estimator = "map" if any(prior.is_proper for prior in priors) else "mle"
    if separation is not None:
        message = f"{separation}: the estimate does not exist (see fit_mle)."
        warnings.warn(message, SeparationWarning, stacklevel=4)
    elif not converged:
        message = f"largest gradient entry {grad_norm:.3g} > tol {tol:g}"
        warnings.warn(
            f"fit_streaming did not converge: {message} after {state['epoch']} epochs. "
            "Increase epochs, or lower learning_rate if the history does not rise.",
            ConvergenceWarning,
            stacklevel=4,
        )
    else:
        message = "converged"
    history = -n_samples * np.asarray(state["history"])
    return PointEstimate(
        estimator=estimator,
        method="streaming",
        params=params,
        cov=cov,
        feature_names=names,
        log_likelihood=float(loglik),
        log_posterior=float(loglik + log_prior) if estimator == "map" else None,
        converged=converged,
        n_iter=state["epoch"],
        n_passes=n_passes,
        grad_norm=grad_norm,
        history=history,
        message=message,
        prior=priors[1],
        intercept_prior=priors[0],
        n_samples=n_samples,
        fit_time=time.perf_counter() - start_time,
        seed=seed,
        separation=separation,
        data_sha256=digest,
        versions=versions(),
    )
