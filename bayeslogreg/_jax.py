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
import tempfile
import threading
import warnings
from pathlib import Path

import jax
from jax.experimental.compilation_cache.compilation_cache import reset_cache

from bayeslogreg.exceptions import CacheWarning

__all__ = [
    "COMPILATION_CACHE_ENV",
    "entry_point",
    "float64",
    "prune_cache",
    "settings_of_this_thread",
    "stop_caching",
    "use_compilation_cache",
]

#: Environment variable: the directory of JAX's persistent compilation cache, where
#: compiled programs are kept between processes; an empty value turns the cache off.
COMPILATION_CACHE_ENV = "BAYESLOGREG_JAX_CACHE_DIR"
#: Size bound of the cache directory bayeslogreg sets up, in bytes: past it, the files
#: written or used longest ago are deleted down to 3/4 of it (a program costs ~10 kB to
#: ~1 MB; a deleted one is traced and compiled again when next needed).
CACHE_MAX_BYTES = 2**30
#: Per directory, whether it could be written when first used in this process.
_writable: dict[Path, bool] = {}
#: Directories that bayeslogreg (not the user) pointed JAX's persistent cache at.
_set_by_us: set[Path] = set()
_lock = threading.RLock()
#: JAX's warnings when it cannot read or write an entry of its persistent cache (a full
#: disk, an entry damaged by one): it then compiles the program afresh, with the same
#: result. Inside bayeslogreg's calls they are ignored, so that they cannot fail a fit
#: where warnings are errors; failures to write bayeslogreg's own files warn once.
_JAX_CACHE_ERRORS = r"Error (reading|writing) persistent compilation cache entry"


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

    The cache is optional: a directory that cannot be created or written (read-only,
    full) is tried once per process, and bayeslogreg runs without it, with one
    :class:`~bayeslogreg.CacheWarning` (see also :func:`stop_caching`).

    Returns
    -------
    Path or None
        The cache directory in use, or None when there is none.
    """
    configured = jax.config.jax_compilation_cache_dir
    if configured:
        path = Path(configured)
    else:
        setting = os.environ.get(COMPILATION_CACHE_ENV)
        if setting == "":
            return None
        if setting is None:
            setting = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            setting = setting / "bayeslogreg" / "jax"
        path = Path(setting).expanduser()
    with _lock:
        if path not in _writable:
            error = _write_error(path)
            _writable[path] = error is None
            if error is not None:
                _warn_unwritable(path, error)
            elif not configured and getattr(jax.config, "jax_compilation_cache_max_size", -1) == -1:
                prune_cache(path, CACHE_MAX_BYTES)  # else JAX's own LRU bound applies
        if not _writable[path]:
            return None
        if not configured:
            jax.config.update("jax_compilation_cache_dir", str(path))
            _set_by_us.add(path)
    return path


def _write_error(path: Path) -> OSError | None:
    """Create ``path`` and write a byte to a file in it; the OSError that stopped it, if any."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-check-")
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as error:
        return error
    return None


def _warn_unwritable(path: Path, error: OSError) -> None:
    warnings.warn(
        f"cannot write to the cache of compiled programs {path} ({error}); programs are "
        "traced and compiled afresh in every run, which takes longer but gives the same "
        f"results. Set {COMPILATION_CACHE_ENV} to a writable folder to keep them, or to '' "
        "to run without the cache and silence this.",
        CacheWarning,
        stacklevel=4,
    )


def stop_caching(path: Path, error: OSError) -> None:
    """Stop using the cache directory ``path`` in this process after ``error`` writing to it.

    Called when writing a kept program fails (e.g. the disk filled up). Warns once
    per process and directory, and turns JAX's persistent cache off if bayeslogreg
    had pointed it there (a directory the user configured is left configured).
    """
    with _lock:
        if _writable.get(path) is False:
            return
        _writable[path] = False
        _warn_unwritable(path, error)
        if path in _set_by_us and jax.config.jax_compilation_cache_dir == str(path):
            jax.config.update("jax_compilation_cache_dir", None)
            reset_cache()  # JAX keeps the cache it opened until told to let go
        _set_by_us.discard(path)


def forget() -> None:
    """Forget which cache directories were found writable (what a new process starts with)."""
    with _lock:
        _writable.clear()
        _set_by_us.clear()


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


def _cache_every_program():
    """Thread-local: cache programs however fast they compiled (a no-op if JAX lacks it)."""
    from jax._src import config  # JAX exposes this threshold's context only here

    threshold = getattr(config, "persistent_cache_min_compile_time_secs", None)
    return contextlib.nullcontext() if threshold is None else threshold(0.0)


def settings_of_this_thread():
    """Capture the JAX settings made in this thread, to enter them in another thread.

    JAX keeps the settings of its context managers per thread (``jax.enable_x64``,
    ``jax.default_device``, the cache threshold, ...), so work handed to a worker thread
    would otherwise run in 32-bit mode, on the default device, caching only slow compiles.
    JAX has no public way to list them: this reads its registry of settings, and
    captures only 64-bit mode where that registry is missing.

    Returns
    -------
    callable
        Returns a context manager that sets them as they are in this thread now.
    """
    from jax._src import config  # the registry of settings lives only here

    states = getattr(config, "config_states", None)
    unset = getattr(getattr(config, "config_ext", None), "unset", None)
    if states is None or unset is None:
        x64 = bool(jax.config.jax_enable_x64)
        return lambda: jax.enable_x64(x64)
    local = {state: state.get_local() for state in states.values()}
    local = {state: value for state, value in local.items() if value is not unset}

    @contextlib.contextmanager
    def settings():
        # As JAX's own context manager, without parsing the parsed values again.
        previous = {state: state.swap_local(value) for state, value in local.items()}
        try:
            for state, value in local.items():
                if state._update_thread_local_hook:
                    state._update_thread_local_hook(value)
            yield
        finally:
            for state, value in previous.items():
                state.set_local(value)
                if state._update_thread_local_hook:
                    state._update_thread_local_hook(None if value is unset else value)

    return settings


def entry_point(func):
    """Decorate a public function that runs JAX: float64 and the compilation cache."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        use_compilation_cache()
        with float64(), _cache_every_program(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_JAX_CACHE_ERRORS, category=UserWarning)
            return func(*args, **kwargs)

    return wrapper
