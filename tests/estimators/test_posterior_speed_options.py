"""What makes a fresh process fast: programs kept on disk, compiled code cached, threads."""

import os

import jax
import numpy as np
import pytest
from jax._src import compilation_cache

from bayeslogreg import CacheWarning, _jax, _programs, fit_map, sample_posterior
from bayeslogreg._jax import COMPILATION_CACHE_ENV, prune_cache, use_compilation_cache
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _nuts_program, nuts
from bayeslogreg.priors import Normal
from bayeslogreg.samplers import NUTS

SHORT = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 3}


@pytest.fixture
def fresh_jax_cache(monkeypatch):
    """Unset JAX's cache directory (JAX keeps one cache per process) and restore it after."""
    saved_dir = jax.config.jax_compilation_cache_dir
    saved_time = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_compilation_cache_dir", None)
    compilation_cache.reset_cache()
    yield monkeypatch
    jax.config.update("jax_compilation_cache_dir", saved_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", saved_time)
    compilation_cache.reset_cache()
    _forget_compiled_programs()


@pytest.fixture
def cache(fresh_jax_cache, tmp_path):
    """A fresh, empty cache directory that bayeslogreg uses."""
    path = tmp_path / "jax"
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(path))
    return path


def _forget_compiled_programs():
    """What a new process starts with: nothing compiled in memory."""
    jax.clear_caches()
    _programs.forget()


def _kept(cache, name: str) -> set:
    """The exported programs of ``name`` kept in ``cache``."""
    return set((cache / _programs.PROGRAM_DIR).glob(f"{name}-*.jaxexport"))


def test_cache_directory_comes_from_the_environment(fresh_jax_cache, tmp_path):
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(tmp_path / "jax"))
    assert use_compilation_cache() == tmp_path / "jax"
    assert (tmp_path / "jax").is_dir()
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax")


def test_an_empty_variable_turns_the_cache_off(fresh_jax_cache):
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, "")
    assert use_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir is None


def test_the_users_own_cache_directory_wins(fresh_jax_cache, tmp_path):
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(tmp_path / "ours"))
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "theirs"))
    assert use_compilation_cache() == tmp_path / "theirs"
    assert not (tmp_path / "ours").exists()


def test_an_unwritable_cache_directory_warns_and_samples_without(fresh_jax_cache, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(blocker / "jax"))
    with pytest.warns(CacheWarning, match="cannot write to the cache of compiled programs"):
        assert use_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir is None


def _files_aged(directory, sizes):
    """Files of the given sizes in ``directory`` (one nested), oldest first; their paths."""
    paths = []
    for age, size in enumerate(sizes):
        path = directory / ("nested" if age % 2 else "") / f"file{age}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, ns=(10**18 + age, 10**18 + age))
        paths.append(path)
    return paths


def test_a_cache_past_its_bound_loses_its_oldest_files_down_to_three_quarters(tmp_path):
    paths = _files_aged(tmp_path, [100] * 5)
    prune_cache(tmp_path, max_bytes=500)
    assert all(path.exists() for path in paths)
    prune_cache(tmp_path, max_bytes=400)
    assert [path.exists() for path in paths] == [False, False, True, True, True]


def test_the_cache_bayeslogreg_sets_up_is_bounded(fresh_jax_cache, tmp_path):
    paths = _files_aged(tmp_path / "jax", [100] * 4)
    fresh_jax_cache.setattr(_jax, "CACHE_MAX_BYTES", 200)
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(tmp_path / "jax"))
    assert use_compilation_cache() == tmp_path / "jax"
    assert [path.exists() for path in paths] == [False, False, False, True]


def test_loading_a_kept_program_marks_it_used(cache):
    data = simulate(200, [1.0, -0.5], seed=0)
    fit_map(data.X, data.y, prior=Normal(0.0, 1.0))
    (program,) = _kept(cache, "fit-newton")
    os.utime(program, ns=(10**18, 10**18))
    _forget_compiled_programs()
    fit_map(data.X, data.y, prior=Normal(0.0, 1.0))
    assert program.stat().st_mtime_ns > 10**18


def test_fast_compiling_programs_are_cached_inside_calls_only(cache):
    threshold = jax.config.jax_persistent_cache_min_compile_time_secs
    data = simulate(50, [0.5, -1.0], seed=2)
    fit_map(data.X, data.y)
    # The fit's programs (the kept fit and its log prior) compile in well under JAX's
    # 1 s threshold, and are cached all the same.
    assert len(list(cache.glob("*-cache"))) >= 2
    assert jax.config.jax_persistent_cache_min_compile_time_secs == threshold
    before = set(cache.glob("*-cache"))
    jax.jit(lambda x: jax.numpy.cos(x) * 7.0)(1.0).block_until_ready()
    assert set(cache.glob("*-cache")) == before, "a user's fast program was cached"


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_kept_programs_give_the_same_draws_and_serve_new_data(cache):
    data = simulate(60, [1.0, -0.5], seed=4)
    # Traced, exported and compiled afresh (and written to disk) ...
    written = sample_posterior(data.X, data.y, **SHORT)
    programs = _kept(cache, "nuts")
    # One program starts the chains, one runs a stretch of 10 of the 200 iterations.
    assert len(_kept(cache, "nuts-start")) == len(_kept(cache, "nuts-steps")) == 1
    assert len(programs) == 2, "the exported sampler was not written"
    # ... and read back, with its compiled code, once nothing is left in memory.
    _forget_compiled_programs()
    hits = []

    def listener(event, **kwargs):
        hits.append(event == "/jax/compilation_cache/cache_hits")

    jax.monitoring.register_event_listener(listener)
    try:
        read = sample_posterior(data.X, data.y, **SHORT)
    finally:
        jax.monitoring.unregister_event_listener(listener)
    assert sum(hits) >= 1, "nothing was loaded from the cache"
    np.testing.assert_array_equal(read.draws, written.draws)
    # Other data of the same shape, and other prior scales, reuse the same program.
    other = simulate(60, [0.5, 0.5], seed=5)
    _forget_compiled_programs()
    sample_posterior(other.X, other.y, prior=Normal(0.0, 1.0), **SHORT)
    assert _kept(cache, "nuts") == programs


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_point_fits_run_kept_programs_with_the_same_results(cache, method):
    data = simulate(70, [0.5, -1.0, 2.0], seed=9)
    written = fit_map(data.X, data.y, solver=method)
    kept = _kept(cache, f"fit-{method}")
    assert len(kept) == 1
    _forget_compiled_programs()
    read = fit_map(data.X, data.y, solver=method, prior=Normal(0.0, 1.0))
    assert _kept(cache, f"fit-{method}") == kept
    _forget_compiled_programs()
    again = fit_map(data.X, data.y, solver=method)
    np.testing.assert_array_equal(again.params, written.params)
    np.testing.assert_array_equal(again.stderr, written.stderr)
    assert not np.array_equal(read.params, written.params)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_an_unreadable_kept_program_is_rebuilt(cache):
    data = simulate(60, [1.0, -0.5], seed=4)
    written = sample_posterior(data.X, data.y, **SHORT)
    (program,) = _kept(cache, "nuts-steps")
    program.write_bytes(b"truncated")
    _forget_compiled_programs()
    read = sample_posterior(data.X, data.y, **SHORT)
    np.testing.assert_array_equal(read.draws, written.draws)
    assert program.stat().st_size > 1000, "the unreadable file was not replaced"


def test_runs_are_split_into_stretches_of_equal_length():
    assert _nuts_program._segments(1500) == [75] * 20
    assert _nuts_program._segments(1001) == [51] * 19 + [32]
    assert _nuts_program._segments(5) == [1] * 5


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_draws_do_not_depend_on_the_cores_or_the_progress_bar(fresh_jax_cache, monkeypatch):
    data = simulate(80, [0.3, 1.0, -1.0], seed=6)
    # 157 iterations: 19 stretches of 8 and one of 5 (two programs).
    settings = {**SHORT, "num_chains": 4, "num_warmup": 57}
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, "")
    reference = sample_posterior(data.X, data.y, **settings)
    monkeypatch.setattr(_nuts_program.os, "cpu_count", lambda: 1)
    one_core = sample_posterior(data.X, data.y, **settings)
    with_bar = sample_posterior(data.X, data.y, sampler=NUTS(progress_bar=True), **settings)
    np.testing.assert_array_equal(one_core.draws, reference.draws)
    np.testing.assert_array_equal(with_bar.draws, reference.draws)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_parallel_and_sequential_chains_are_the_same_programs():
    data = simulate(80, [0.3, 1.0], seed=7)
    runs = {
        method: sample_posterior(
            data.X, data.y, sampler=NUTS(chain_method=method), **{**SHORT, "num_chains": 3}
        )
        for method in ("parallel", "sequential", "vectorized")
    }
    assert runs["parallel"].draws.shape == (3, SHORT["num_samples"], data.X.shape[1] + 1)
    np.testing.assert_array_equal(runs["parallel"].draws, runs["sequential"].draws)
    assert runs["vectorized"].draws.shape == runs["parallel"].draws.shape
    assert runs["vectorized"].idata.sample_stats["n_steps"].shape == (3, SHORT["num_samples"])


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_mass_matrix_is_adapted_only_on_request(monkeypatch):
    seen = []
    run_chains = _nuts_program.run_chains

    def spy(*args, **kwargs):
        seen.append(args[7].adapt_mass_matrix)
        return run_chains(*args, **kwargs)

    monkeypatch.setattr(nuts, "run_chains", spy)
    data = simulate(200, [0.3, 1.0], seed=8)
    kept = sample_posterior(data.X, data.y, **SHORT)
    adapted = sample_posterior(data.X, data.y, sampler=NUTS(adapt_mass_matrix=True), **SHORT)
    assert seen == [False, True]
    assert not np.array_equal(kept.draws, adapted.draws)
