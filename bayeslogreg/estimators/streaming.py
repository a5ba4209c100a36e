"""Mini-batch stochastic gradient ascent over data read from disk chunk by chunk.

For data larger than memory: ``X`` is typically a memory-mapped ``.npy`` file
(``np.load(path, mmap_mode="r")``), read ``chunk_rows`` contiguous rows at a time. Each
epoch visits the chunks in a seeded random order and the rows of each chunk in a seeded
random order, in mini-batches of ``batch_size`` rows (the few rows of a chunk that do
not fill a batch wait for another epoch). All batches of a chunk run in one jitted
``lax.scan``. The state after each chunk (parameters, running average, step count,
position) is everything the run needs, so it can be checkpointed to a file and resumed
with the same result as an uninterrupted run.
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
from bayeslogreg._jax import in_float64
from bayeslogreg._provenance import versions
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
    optimality,
    parameter_scale,
    priors_l1_weights,
    priors_smooth_log_density,
)
from bayeslogreg.estimators.point import PointEstimate, _covariance, find_separation
from bayeslogreg.exceptions import ConvergenceWarning, SeparationWarning
from bayeslogreg.priors import Flat, Laplace, Prior

__all__ = ["fit_streaming"]

_FORMAT = "bayeslogreg-streaming-checkpoint"
_VERSION = 1


def _batch_terms(z, X, y, scale, n_samples, priors):
    """Per-row objective estimate and its gradient in ``z`` from one batch (float64)."""

    def value(point):
        params = point / scale
        X64, y64 = X.astype(jnp.float64), y.astype(jnp.float64)
        loglik = jnp.mean(model.log_likelihood_rows(params, X64, y64))
        return -loglik - priors_smooth_log_density(params, *priors) / n_samples

    return jax.value_and_grad(value)(z)


@jax.jit
def _chunk_steps(carry, X_batches, y_batches, scale, n_samples, priors, rate0, steps_per_epoch):
    """SGD over the batches (n_batches, batch_size, p) of one chunk; running mean of z."""

    def step(carry, batch):
        z, mean, count, step_index, objective_sum = carry
        value, grad = _batch_terms(z, *batch, scale, n_samples, priors)
        z = z - rate0 / jnp.sqrt(1.0 + step_index / steps_per_epoch) * grad
        count = count + 1
        return (z, mean + (z - mean) / count, count, step_index + 1, objective_sum + value), None

    carry, _ = jax.lax.scan(step, carry, (X_batches, y_batches))
    return carry


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
        for key in ("z", "mean"):
            state[key] = np.asarray(state[key], dtype=np.float64)
            if state[key].shape != (n_params,):
                raise ValueError(f"{key} has the wrong shape")
        state["history"] = [float(v) for v in state["history"]]
        for key in ("epoch", "chunk", "step", "count", "epoch_batches"):
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
    """Validate a chunk at a time; return y (float64), names and the parameter scale."""
    n_samples, n_features = X.shape
    y = check_y(y, n_samples=n_samples)
    for start in range(0, n_samples, chunk_rows):
        check_X(X[start : start + chunk_rows], name="X")
    names = [f"x{j + 1}" for j in range(n_features)] if feature_names is None else feature_names
    return y, check_feature_names(names, n_features), parameter_scale(X)


@in_float64
def fit_streaming(
    X,
    y,
    *,
    prior: Prior | None = None,
    intercept_prior: Prior | None = None,
    epochs: int = 20,
    batch_size: int = 256,
    chunk_rows: int = 2**16,
    learning_rate: float = 1.0,
    tol: float = 1e-3,
    seed: int = 0,
    feature_names=None,
    checkpoint=None,
    checkpoint_every: int = 1000,
    progress: bool = True,
) -> PointEstimate:
    """Fit by mini-batch stochastic gradient ascent, reading X chunk by chunk.

    Maximises the log posterior (the log-likelihood when both priors are flat, the
    default) with steps ``z <- z + rate_t * gradient`` in the unit-scale coordinates of
    :func:`~bayeslogreg.estimators._objective.parameter_scale`, ``rate_t = learning_rate
    / sqrt(1 + t / steps_per_epoch)``, and reports the average of the iterates of the
    second half of the epochs (Polyak-Ruppert), which removes most of the noise.

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
        Passes over the data.
    batch_size : int
        Rows per stochastic gradient step.
    chunk_rows : int
        Rows read from disk at a time.
    learning_rate : float
        Initial step size, in the unit-scale coordinates.
    tol : float
        ``converged`` is True when the largest entry of the full per-row gradient at the
        result (computed in a final pass) is at most ``tol``; otherwise a
        ConvergenceWarning is issued.
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
        ``method="streaming"``; ``n_iter`` is the number of epochs; ``n_passes`` counts
        the epochs and the final evaluation pass; ``history`` holds the per-row
        objective at the start (exact) and, after each epoch, the mean of the
        mini-batch objectives of that epoch times ``-n_samples`` (an estimate); ``cov``,
        ``log_likelihood`` and ``grad_norm`` come from the final full pass.

    Examples
    --------
    >>> from bayeslogreg import fit_mle
    >>> from bayeslogreg.datasets import simulate
    >>> data = simulate(2000, [1.0, -0.5], seed=0)
    >>> fit = fit_streaming(data.X, data.y, epochs=30, progress=False)
    >>> bool(np.abs(fit.params - fit_mle(data.X, data.y).params).max() < 1e-2)
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
    y, names, scale = _check_source(X, y, feature_names, chunk_rows)
    n_samples, n_features = X.shape
    priors = (intercept_prior, prior)
    separation = find_separation(X, y, names, *priors)
    n_chunks = math.ceil(n_samples / chunk_rows)
    steps_per_epoch = max(
        1,
        sum(
            (min(chunk_rows, n_samples - i) // batch_size) for i in range(0, n_samples, chunk_rows)
        ),
    )
    settings = _settings(n_samples, n_features, batch_size, chunk_rows, rate, seed, priors)
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.exists():
        state = _load_checkpoint(path, settings)
    else:
        mean_y = float(np.mean(y))
        params0 = np.zeros(n_features + 1)
        params0[0] = np.log(mean_y) - np.log1p(-mean_y)
        loglik0 = n_samples * (mean_y * np.log(mean_y) + (1 - mean_y) * np.log1p(-mean_y))
        log_prior0 = float(priors_smooth_log_density(params0, *priors))
        z0 = params0 * scale
        state = {
            "z": z0,
            "mean": z0,
            "epoch": 0,
            "chunk": 0,
            "step": 0,
            "count": 0,
            "objective_sum": 0.0,
            "epoch_batches": 0,
            "history": [-(loglik0 + log_prior0) / n_samples],
        }
    scale_j = jnp.asarray(scale)
    bar = tqdm(
        total=epochs * n_chunks,
        initial=min(state["epoch"] * n_chunks + state["chunk"], epochs * n_chunks),
        disable=not progress,
        file=sys.stderr,
        desc="fit_streaming",
    )
    last_saved = state["step"]
    while state["epoch"] < epochs:
        order = np.random.default_rng([seed, state["epoch"]]).permutation(n_chunks)
        if state["chunk"] == 0:
            # The estimate averages the iterates of the second half of the epochs.
            state.update(objective_sum=0.0, epoch_batches=0)
            if state["epoch"] <= epochs // 2:
                state.update(mean=state["z"], count=0)
        while state["chunk"] < n_chunks:
            index = int(order[state["chunk"]])
            rows = slice(index * chunk_rows, min((index + 1) * chunk_rows, n_samples))
            X_chunk, y_chunk = np.asarray(X[rows]), y[rows]
            perm = np.random.default_rng([seed, state["epoch"], index]).permutation(len(y_chunk))
            n_batches = len(y_chunk) // batch_size
            used = perm[: n_batches * batch_size]
            if n_batches:
                carry = (
                    state["z"],
                    state["mean"],
                    state["count"],
                    state["step"],
                    state["objective_sum"],
                )
                z, mean, count, step, objective_sum = _chunk_steps(
                    carry,
                    X_chunk[used].reshape(n_batches, batch_size, n_features),
                    y_chunk[used].reshape(n_batches, batch_size),
                    scale_j,
                    n_samples,
                    priors,
                    rate,
                    steps_per_epoch,
                )
                state.update(
                    z=np.asarray(z),
                    mean=np.asarray(mean),
                    count=int(count),
                    step=int(step),
                    objective_sum=float(objective_sum),
                    epoch_batches=state["epoch_batches"] + n_batches,
                )
            state["chunk"] += 1
            bar.update(1)
            if path is not None and state["step"] - last_saved >= checkpoint_every:
                _save_checkpoint(path, settings, _as_json(state))
                last_saved = state["step"]
        state["history"].append(state["objective_sum"] / max(state["epoch_batches"], 1))
        state["epoch"] += 1
        state["chunk"] = 0
    bar.close()
    if path is not None:
        _save_checkpoint(path, settings, _as_json(state))
    return _result(X, y, names, priors, scale, state, epochs, tol, separation, start_time, seed)


def _as_json(state: dict) -> dict:
    return {
        key: value.tolist() if isinstance(value, np.ndarray) else value
        for key, value in state.items()
    }


def _result(X, y, names, priors, scale, state, epochs, tol, separation, start_time, seed):
    """One full pass at the averaged iterate: log-likelihood, gradient, covariance."""
    n_samples = X.shape[0]
    params = np.asarray(state["mean"]) / scale
    data = _chunked.ChunkedData(X, y, _chunked.CHUNK_ROWS)
    loglik, grad, hess = data.loglik_grad_hess(params)
    log_prior, prior_grad, prior_hess = _chunked._prior_value_grad_hess(params, *priors)
    grad_z = -(grad + np.asarray(prior_grad)) / n_samples / scale
    weights, centres = priors_l1_weights(*priors, len(params), n_samples)
    grad_norm = float(optimality(params * scale, grad_z, weights, centres))
    information = -(hess + np.asarray(prior_hess))
    outer_scale = np.outer(scale, scale)
    param_names = (INTERCEPT_NAME, *names)
    # Inverted in unit-scale coordinates, as fit_mle does; the columns shown to the
    # singular-matrix warning are those of the first 100k rows (X may not fit in memory).
    cov = _covariance(information / outer_scale, param_names, X[: min(n_samples, 100_000)])
    cov = cov / outer_scale
    converged = grad_norm <= tol and separation is None
    estimator = "map" if any(prior.is_proper for prior in priors) else "mle"
    if separation is not None:
        message = f"{separation}: the estimate does not exist (see fit_mle)."
        warnings.warn(message, SeparationWarning, stacklevel=4)
    elif not converged:
        message = f"largest gradient entry {grad_norm:.3g} > tol {tol:g}"
        warnings.warn(
            f"fit_streaming did not converge: {message} after {epochs} epochs. Increase "
            "epochs or batch_size, or lower learning_rate.",
            ConvergenceWarning,
            stacklevel=4,
        )
    else:
        message = "converged"
    history = -n_samples * np.asarray(state["history"][: epochs + 1])
    return PointEstimate(
        estimator=estimator,
        method="streaming",
        params=params,
        cov=cov,
        feature_names=names,
        log_likelihood=float(loglik),
        log_posterior=float(loglik + log_prior) if estimator == "map" else None,
        converged=converged,
        n_iter=epochs,
        n_passes=epochs + 1,
        grad_norm=grad_norm,
        history=history,
        message=message,
        prior=priors[1],
        intercept_prior=priors[0],
        n_samples=n_samples,
        fit_time=time.perf_counter() - start_time,
        seed=seed,
        separation=separation,
        data_sha256=None,
        versions=versions(),
    )
