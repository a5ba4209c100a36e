"""The speed options of sample_posterior: the persistent compilation cache."""

import jax
import numpy as np
import pytest
from jax._src import compilation_cache

from bayeslogreg import sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators.nuts import COMPILATION_CACHE_ENV, use_compilation_cache

# NumPyro's compiled warm-up and sampling loop, as JAX names it in the cache.
SAMPLER_PROGRAM = "jit__fori_collect_loop"
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
    jax.clear_caches()


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
    with pytest.warns(RuntimeWarning, match="cannot create the compilation cache"):
        assert use_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir is None


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_cached_programs_give_the_same_draws_and_serve_new_data(fresh_jax_cache, tmp_path):
    cache = tmp_path / "jax"
    fresh_jax_cache.setenv(COMPILATION_CACHE_ENV, str(cache))
    # NUTS takes seconds to compile; 0.2 s keeps out the many tiny programs (~10 ms each)
    # whose cache writes would only slow the test.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    data = simulate(60, [1.0, -0.5], seed=4)
    # Compiled afresh (and written to the cache) ...
    written = sample_posterior(data.X, data.y, **SHORT)
    sampler = set(cache.glob(f"{SAMPLER_PROGRAM}-*"))
    assert len(sampler) == 1, "the compiled sampler was not written to the cache"
    # ... and loaded from it, once the in-memory programs are dropped: the same draws.
    jax.clear_caches()
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
    # Other data of the same shape reuse the same programs: the data are not baked in.
    other = simulate(60, [0.5, 0.5], seed=5)
    jax.clear_caches()
    sample_posterior(other.X, other.y, **SHORT)
    assert set(cache.glob(f"{SAMPLER_PROGRAM}-*")) == sampler
