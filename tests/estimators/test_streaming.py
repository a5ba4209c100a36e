"""Mini-batch ascent over chunks read from disk: optimum, checkpoint/resume, bad input."""

import json

import numpy as np
import pytest

from bayeslogreg import fit_map, fit_mle
from bayeslogreg._jax import float64
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import streaming
from bayeslogreg.estimators.streaming import fit_streaming
from bayeslogreg.exceptions import ConvergenceWarning
from bayeslogreg.priors import Flat, Laplace, Normal

SETTINGS = {"chunk_rows": 1000, "batch_size": 64, "progress": False}
# Runs of a few epochs, for replaying them exactly: a tol they cannot reach keeps them
# from stopping early, so they end with a ConvergenceWarning.
SHORT = {**SETTINGS, "tol": 1e-300}
short_run = pytest.mark.filterwarnings("ignore::bayeslogreg.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    sim = simulate(4000, [1.0, -0.5, 0.25, 0.0], intercept=0.3, seed=1)
    return sim.X, sim.y


@pytest.fixture(scope="module")
def on_disk(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "X.npy"
    np.save(path, data[0].astype(np.float32))
    return np.load(path, mmap_mode="r"), data[1]


def test_reaches_the_full_batch_mle_from_a_memory_map(on_disk):
    X, y = on_disk
    fit = fit_streaming(X, y, **SETTINGS)
    reference = fit_mle(np.asarray(X), y)
    # Both stop at a largest per-row gradient entry of at most 1e-6 (unit-scale
    # coordinates; the features here have unit scale), so with a per-row Hessian whose
    # smallest eigenvalue is ~0.2 they are within ~1e-5 of the optimum. The issue asks
    # for 1e-3; plain averaged SGD got to 3e-3 in 40 epochs here.
    assert fit.converged and fit.grad_norm <= 1e-6
    assert np.abs(fit.params - reference.params).max() < 1e-5
    np.testing.assert_allclose(fit.stderr, reference.stderr, rtol=1e-5)
    assert fit.method == "streaming" and fit.history.shape == (fit.n_iter + 1,)
    assert fit.n_passes == 2 * fit.n_iter + 2  # 2 per epoch, the stopping check, the last
    assert np.all(np.diff(fit.history) > 0)  # the log-likelihood rises epoch by epoch
    assert fit.llnull == reference.llnull  # the same closed form of the same labels
    # Hashed chunk by chunk as it is read: the same digest as the in-memory fit's.
    assert fit.data_sha256 == reference.data_sha256 is not None


def test_reaches_the_map_with_a_normal_prior(data):
    X, y = data
    fit = fit_streaming(X, y, prior=Normal(0, 0.3), **SETTINGS)
    reference = fit_map(X, y, prior=Normal(0, 0.3), intercept_prior=Flat())
    assert fit.estimator == "map" and fit.converged
    assert np.abs(fit.params - reference.params).max() < 1e-5


@short_run
def test_resumed_run_equals_uninterrupted_run(data, tmp_path, monkeypatch):
    X, y = data
    settings = {**SHORT, "epochs": 3, "seed": 7}
    uninterrupted = fit_streaming(X, y, **settings)
    checkpoint = tmp_path / "run.json"
    save = streaming._save_checkpoint
    calls = []

    def crash_after_second_save(*args):
        save(*args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(streaming, "_save_checkpoint", crash_after_second_save)
    with pytest.raises(KeyboardInterrupt):
        fit_streaming(X, y, checkpoint=checkpoint, checkpoint_every=100, **settings)
    state = json.loads(checkpoint.read_text())["state"]
    assert 0 < state["step"] < 3 * 62  # interrupted mid-run
    monkeypatch.setattr(streaming, "_save_checkpoint", save)
    resumed = fit_streaming(X, y, checkpoint=checkpoint, checkpoint_every=100, **settings)
    np.testing.assert_array_equal(resumed.params, uninterrupted.params)
    np.testing.assert_array_equal(resumed.history, uninterrupted.history)


@short_run
def test_finished_run_can_be_extended(data, tmp_path):
    X, y = data
    checkpoint = tmp_path / "run.json"
    fit_streaming(X, y, epochs=2, checkpoint=checkpoint, **SHORT)
    extended = fit_streaming(X, y, epochs=4, checkpoint=checkpoint, **SHORT)
    direct = fit_streaming(X, y, epochs=4, **SHORT)
    np.testing.assert_array_equal(extended.params, direct.params)


@short_run
def test_bad_checkpoint_files_are_refused(data, tmp_path):
    X, y = data
    checkpoint = tmp_path / "run.json"
    checkpoint.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable fit_streaming checkpoint"):
        fit_streaming(X, y, epochs=1, checkpoint=checkpoint, **SHORT)
    fit_streaming(X, y, epochs=1, checkpoint=checkpoint.with_name("ok.json"), **SHORT)
    with pytest.raises(ValueError, match="other settings"):
        fit_streaming(
            X, y, epochs=1, checkpoint=checkpoint.with_name("ok.json"), **{**SHORT, "seed": 1}
        )


def test_bad_arguments(data):
    X, y = data
    with pytest.raises(ValueError, match="smooth priors"):
        fit_streaming(X, y, prior=Laplace(0, 1), **SETTINGS)
    with pytest.raises(ValueError, match="2-D float32/float64"):
        fit_streaming(X.tolist(), y, **SETTINGS)
    bad = X.copy()
    bad[2500, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        fit_streaming(bad, y, **SETTINGS)


def test_too_few_epochs_warn_and_report_not_converged(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="did not converge.*after 1 epochs"):
        fit = fit_streaming(X, y, epochs=1, **SETTINGS)
    assert not fit.converged and fit.grad_norm > 1e-6 and np.isfinite(fit.params).all()


def test_an_error_mid_run_closes_the_progress_bar(data, monkeypatch):
    from tqdm import tqdm

    X, y = data
    step = streaming.chunk_step

    def fail_on_the_third_chunk(state, *args):
        if state.chunk == 2:
            raise RuntimeError("disk gone")
        return step(state, *args)

    monkeypatch.setattr(streaming, "chunk_step", fail_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="disk gone"):
        fit_streaming(X, y, epochs=1, **{**SHORT, "progress": True})
    assert not [bar for bar in tqdm._instances if not bar.disable]


def test_the_state_steps_are_pure(data):
    X, y = data
    settings = streaming.StreamingSettings(len(y), X.shape[1], 32, 500, 0.5, 3, ("a", "b"))
    start = streaming.init_state(np.zeros(X.shape[1] + 1))
    epoch = streaming.start_epoch(start, 0.7, np.ones(X.shape[1] + 1))
    scale, priors = np.ones(X.shape[1] + 1), (Flat(), Flat())
    with float64():
        after = streaming.chunk_step(epoch, X, y.astype(float), scale, 0.1, settings, priors)
        again = streaming.chunk_step(epoch, X, y.astype(float), scale, 0.1, settings, priors)
    # The input state is unchanged and the same input gives the same output.
    assert start.history == () and epoch.history == (0.7,) and epoch.chunk == 0
    assert after.chunk == 1 and after.step == 500 // 32
    np.testing.assert_array_equal(after.z, again.z)
    assert streaming.end_epoch(after)[3:5] == (1, 0)
