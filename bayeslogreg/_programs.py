"""Programs kept on disk between processes: traced once per shape, then only loaded.

JAX's persistent cache saves compiling but not tracing, which is Python and happens in
every process, and it was most of a fresh process's first NUTS run or MAP fit
(``docs/design.md``). :func:`compiled` exports a function with
:mod:`jax.export` once per argument shapes and settings, keeps the serialised program in
``bayeslogreg-programs/`` beside JAX's compilation cache (:func:`._jax.use_compilation_cache`),
and in a later process loads it (milliseconds) and its compiled code from JAX's cache.
The data and prior parameters are arguments, not constants: nothing of them is kept.

A kept program is the program that would be traced: the file name hashes the source
of the package, the versions of JAX and NumPyro, the backend, the argument shapes and
dtypes, the pytree structure (prior classes included) and the settings baked in.
Every call goes through the exported program, kept or not, so results do not depend
on whether a file was there.

Keeping programs is optional: a file that cannot be read, or is damaged (its checksum
fails, it does not deserialise, lower or compile), is traced again and replaced; a
folder that cannot be written turns keeping off for the process, with one warning
(:func:`._jax.stop_caching`).
"""

import contextlib
import functools
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import numpyro
from jax import export

from bayeslogreg import _interrupt
from bayeslogreg._io import atomic_write_bytes
from bayeslogreg._jax import stop_caching

__all__ = ["PROGRAM_DIR", "compiled"]

#: Subdirectory of the compilation cache that holds exported programs.
PROGRAM_DIR = "bayeslogreg-programs"
_in_memory: dict[tuple[str, Path | None], Callable] = {}
_lock = threading.Lock()


@functools.cache
def _source_hash() -> str:
    """Hash of the package's source: changed code never reads programs traced from old."""
    sources = sorted(Path(__file__).parent.rglob("*.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()


def _key(name: str, treedef, leaves, settings) -> str:
    shapes = [(np.shape(leaf), str(leaf.dtype)) for leaf in leaves]
    parts = (
        _source_hash(),
        jax.__version__,
        numpyro.__version__,
        jax.default_backend(),
        name,
        repr(settings),
        str(treedef),
        shapes,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _arrays(leaves: list) -> list:
    """Python scalars (e.g. prior parameters) as float64/int64 arrays; arrays as they are."""
    return [x if isinstance(x, jax.Array | np.ndarray) else np.asarray(x) for x in leaves]


def _framed(key: str, payload: bytes) -> bytes:
    """Frame ``payload`` for its file: the key and its SHA-256 on one line, then itself."""
    return f"{key} {hashlib.sha256(payload).hexdigest()}\n".encode() + payload


def _unframed(key: str, data: bytes) -> bytes | None:
    """Return the payload of a file :func:`_framed` wrote for ``key``; None if it is not one.

    Overwritten bytes in a serialised program may still deserialise, and even compile to
    a program that computes something else: the checksum makes sure they never run.
    """
    header, newline, payload = data.partition(b"\n")
    expected = f"{key} {hashlib.sha256(payload).hexdigest()}".encode()
    return payload if newline and header == expected else None


def _load(path: Path, key: str) -> export.Exported | None:
    """Read the program kept at ``path`` for ``key``; None if it is missing or damaged."""
    try:
        payload = _unframed(key, path.read_bytes())
        if payload is None:
            return None
        program = export.deserialize(bytearray(payload))
    except Exception:  # noqa: BLE001 - whatever is wrong with the file, it is traced again
        return None
    with contextlib.suppress(OSError):  # used now: the last to be pruned
        os.utime(path)
    return program


def _trace(function, treedef, leaves) -> export.Exported:
    def flat(*flat_args):
        return jax.tree.leaves(function(*jax.tree.unflatten(treedef, flat_args)))

    return export.export(jax.jit(flat))(*leaves)


def _compile(program: export.Exported, leaves: list):
    return jax.jit(program.call).lower(*leaves).compile()


def _keep(cache_dir: Path, path: Path, key: str, program: export.Exported) -> None:
    """Write ``program`` to ``path``; if that fails, stop keeping programs in ``cache_dir``."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_bytes(path, _framed(key, program.serialize()))
    except OSError as error:
        stop_caching(cache_dir, error)


def _executable(function, treedef, leaves, name: str, key: str, cache_dir: Path | None):
    """Compile the program kept in ``cache_dir``, or trace it (and keep it there).

    Anything that goes wrong with a kept program, from reading it to compiling it, is
    the file's fault, not the caller's: the program is traced again and the file
    replaced. Errors while tracing or compiling a fresh program are the caller's.
    """
    path = None if cache_dir is None else cache_dir / PROGRAM_DIR / f"{name}-{key}.jaxexport"
    program = None if path is None else _load(path, key)
    if program is not None:
        try:
            return _compile(program, leaves)
        except Exception:  # noqa: BLE001 - traced again below, and the file replaced
            pass
    program = _trace(function, treedef, leaves)
    executable = _compile(program, leaves)
    if path is not None:
        _keep(cache_dir, path, key, program)
    return executable


def compiled(
    name: str, function, args: tuple, *, settings=(), cache_dir: Path | None
) -> Callable[..., list[jax.Array]]:
    """Compile ``function(*args)`` through a kept program; return it as a callable.

    Parameters
    ----------
    name : str
        Names the program's file.
    function : callable
        Takes ``*args`` (pytrees of arrays) and returns a pytree of arrays; it may close
        over Python values, which must then all be in ``settings``.
    args : tuple
        Example arguments: only their shapes, dtypes and structure matter.
    settings : hashable
        Everything ``function`` bakes in beside its arguments (its ``repr`` is hashed).
    cache_dir : Path or None
        The compilation cache directory, or None to keep nothing on disk.

    Returns
    -------
    callable
        Takes arguments shaped as ``args`` and returns the output's leaves, a list of
        arrays in ``jax.tree.leaves`` order. One per process and key.
    """
    leaves, treedef = jax.tree.flatten(args)
    leaves = _arrays(leaves)
    key = _key(name, treedef, leaves, settings)
    # Off the main thread: Ctrl-C there would abandon XLA's compile, not stop it
    # (:mod:`bayeslogreg._interrupt`).
    return _interrupt.call(_load_or_compile, name, function, treedef, leaves, key, cache_dir)


def _load_or_compile(name: str, function, treedef, leaves, key: str, cache_dir: Path | None):
    """Return the compiled program of :func:`compiled`, made once per process and key."""
    with _lock:
        if (key, cache_dir) not in _in_memory:
            executable = _executable(function, treedef, leaves, name, key, cache_dir)
            _in_memory[key, cache_dir] = lambda *call: executable(*_arrays(jax.tree.leaves(call)))
        return _in_memory[key, cache_dir]


def forget() -> None:
    """Drop the compiled programs of this process (what a new process starts with)."""
    with _lock:
        _in_memory.clear()
