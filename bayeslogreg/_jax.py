"""JAX settings: float64 and the persistent compilation cache, without changing the user's.

JAX's ``jax_enable_x64`` switch is global. Rather than flip it on import (which would
silently change every other JAX program in the user's process), every public entry point
that runs JAX code does so inside :func:`entry_point`: 64-bit mode as a thread-local
context, and JAX's persistent compilation cache (:func:`use_compilation_cache`).

Why the cache: a fresh process spends most of a small fit compiling many small programs
(``docs/design.md`` has the measurements). JAX writes a program to its cache only when
it took over a second to compile, which none of those do, so within bayeslogreg's calls
the threshold is 0 (reading one back takes a few milliseconds).
"""

import contextlib
import functools
import os
import warnings
from pathlib import Path

import jax

__all__ = [
    "COMPILATION_CACHE_ENV",
    "entry_point",
    "float64",
    "prune_cache",
    "settings_of_this_thread",
    "use_compilation_cache",
]

#: Environment variable: the directory of JAX's persistent compilation cache, where
#: compiled programs are kept between processes; an empty value turns the cache off.
COMPILATION_CACHE_ENV = "BAYESLOGREG_JAX_CACHE_DIR"
#: Size bound of the cache directory bayeslogreg sets up, in bytes: past it, the files
#: written or used longest ago are deleted down to 3/4 of it (a program costs ~10 kB to
#: ~1 MB; a deleted one is traced and compiled again when next needed).
CACHE_MAX_BYTES = 2**30


def float64():
    """Context manager that runs JAX in 64-bit mode for the enclosed block only."""
    return jax.enable_x64(True)


def use_compilation_cache() -> Path | None:
    """Keep compiled programs on disk between processes (JAX's persistent cache).

    JAX can keep compiled programs in a directory and reuse them in later processes;
    this points it at the directory named by the environment variable
    ``BAYESLOGREG_JAX_CACHE_DIR``, by default ``$XDG_CACHE_HOME/bayeslogreg/jax``
    (``~/.cache/bayeslogreg/jax``). The data are arguments of the compiled programs,
    not constants in them, so the cache holds no data and serves every data set of the
    same shape. A cached program is the same program: the same seed gives the same
    numbers with or without it.

    JAX's cache is one per process: this sets it only when the user has not
    (``jax.config.jax_compilation_cache_dir`` is unset), and then it serves the
    user's other JAX programs too (those that take over a second to compile). Set
    ``BAYESLOGREG_JAX_CACHE_DIR=""`` to turn it off. Only the user should be able to
    write to the directory: JAX trusts what it finds there. Its size is bounded by
    :data:`CACHE_MAX_BYTES` (:func:`prune_cache`, once per process) unless JAX's own
    bound, ``jax_compilation_cache_max_size``, is set.

    Returns
    -------
    Path or None
        The cache directory in use, or None when there is none.
    """
    configured = jax.config.jax_compilation_cache_dir
    if configured:
        return Path(configured)
    setting = os.environ.get(COMPILATION_CACHE_ENV)
    if setting == "":
        return None
    if setting is None:
        setting = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        setting = setting / "bayeslogreg" / "jax"
    path = Path(setting).expanduser()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        warnings.warn(
            f"cannot create the compilation cache {path} ({error}); compiling without it. "
            f"Set {COMPILATION_CACHE_ENV} to a writable directory, or to '' to silence this.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    if getattr(jax.config, "jax_compilation_cache_max_size", -1) == -1:  # else JAX's LRU
        prune_cache(path, CACHE_MAX_BYTES)
    jax.config.update("jax_compilation_cache_dir", str(path))
    return path


def prune_cache(path: Path, max_bytes: int = CACHE_MAX_BYTES) -> None:
    """Bound a cache directory: past ``max_bytes``, delete its oldest files to 3/4 of it.

    "Oldest" is by modification time: when JAX wrote a compiled program, and when
    bayeslogreg last loaded a kept program (it touches the file). Files another
    process deletes meanwhile are skipped.
    """
    files = []
    for file in path.rglob("*"):
        with contextlib.suppress(OSError):
            if file.is_file():
                stat = file.stat()
                files.append((stat.st_mtime_ns, stat.st_size, file))
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return
    for _, size, file in sorted(files, key=lambda entry: entry[0]):
        if total <= max_bytes * 3 // 4:
            break
        with contextlib.suppress(OSError):
            file.unlink()
        total -= size


def _cache_threshold():
    """JAX's setting of the compile time above which programs are cached (None if absent)."""
    from jax._src import config  # JAX exposes this threshold's context only here

    return getattr(config, "persistent_cache_min_compile_time_secs", None)


def _cache_every_program():
    """Thread-local: cache programs however fast they compiled (a no-op if JAX lacks it)."""
    threshold = _cache_threshold()
    return contextlib.nullcontext() if threshold is None else threshold(0.0)


def settings_of_this_thread():
    """Capture this thread's 64-bit mode and cache threshold, to enter in another thread.

    JAX keeps both per thread, so work handed to a worker thread would otherwise run in
    32-bit mode and cache only slow compiles.

    Returns
    -------
    callable
        Returns a context manager that sets both as they are in this thread now.
    """
    x64 = bool(jax.config.jax_enable_x64)
    threshold = _cache_threshold()
    seconds = None if threshold is None else threshold.value

    @contextlib.contextmanager
    def settings():
        with jax.enable_x64(x64):
            if threshold is None:
                yield
            else:
                with threshold(seconds):
                    yield

    return settings


def entry_point(func):
    """Decorate a public function that runs JAX: float64 and the compilation cache."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        use_compilation_cache()
        with float64(), _cache_every_program():
            return func(*args, **kwargs)

    return wrapper
