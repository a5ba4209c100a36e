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


def _export(function, treedef, leaves, path: Path | None) -> export.Exported:
    """Read the exported program at ``path``, or trace it (and save it there)."""
    if path is not None and path.is_file():
        try:
            program = export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # noqa: BLE001 - an unreadable file is traced again below
            pass
        else:
            with contextlib.suppress(OSError):  # used now: the last to be pruned
                os.utime(path)
            return program

    def flat(*flat_args):
        return jax.tree.leaves(function(*jax.tree.unflatten(treedef, flat_args)))

    program = export.export(jax.jit(flat))(*leaves)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_bytes(path, program.serialize())
    return program


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
            path = None
            if cache_dir is not None:
                path = cache_dir / PROGRAM_DIR / f"{name}-{key}.jaxexport"
            program = _export(function, treedef, leaves, path)
            executable = jax.jit(program.call).lower(*leaves).compile()
            _in_memory[key, cache_dir] = lambda *call: executable(*_arrays(jax.tree.leaves(call)))
        return _in_memory[key, cache_dir]


def forget() -> None:
    """Drop the compiled programs of this process (what a new process starts with)."""
    with _lock:
        _in_memory.clear()
