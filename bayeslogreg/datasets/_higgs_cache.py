"""The memory-mapped cache of a HIGGS file, and the record with which it verifies itself.

A cache is three files: ``<stem>.X.npy`` (n_rows x 28 in the dtype asked for),
``<stem>.y.npy`` (int8 labels) and ``<stem>.json``, the record of what was written. The
record holds the source's path, size and modification time: a source changed since
makes the cache stale, and it is rebuilt without a word. For each ``.npy`` file it holds
what was written: the size in bytes, the SHA-256 of the data, and the SHA-256 of
:data:`SAMPLE_BLOCKS` blocks of :data:`SAMPLE_BLOCK_BYTES` bytes at offsets spread
evenly over the file, the first and the last block included (the offsets are recorded
too, so a later version may choose others).

Opening checks each file's size, its ``.npy`` header (the one its shape and dtype give,
byte for byte) and the sampled blocks' checksum (``verify="sample"``): 128 KiB read of
each file, about 0.15 ms of a 0.45 ms reload of an 11M-row cache of 2.5 GB from the page
cache (``docs/design.md`` has the measurements). That finds a cut or extended file, a
damaged header, a tail of zeros after a crash, a file replaced by another; a few changed
bytes elsewhere only ``verify="full"``, which hashes every byte (about 3 s at 11M rows).
A cache that fails is rebuilt from the source, with a warning saying why; one that cannot
be rebuilt is never served: :func:`write_cache` raises.
"""

import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bayeslogreg._io import atomic_write_text

__all__ = [
    "SAMPLE_BLOCKS",
    "SAMPLE_BLOCK_BYTES",
    "VERIFY_LEVELS",
    "Opened",
    "cache_files",
    "open_cache",
    "write_cache",
]

#: Blocks of each ``.npy`` file whose checksum opening checks (``verify="sample"``).
SAMPLE_BLOCKS = 32
#: Bytes per sampled block: one page of the usual 4 KiB.
SAMPLE_BLOCK_BYTES = 4096
#: What opening a cache checks: ``"sample"`` sizes, headers and the sampled blocks;
#: ``"full"`` also the SHA-256 of every byte.
VERIFY_LEVELS = ("sample", "full")
_FORMAT = 2
_HASH_READ_BYTES = 2**24


class Opened(NamedTuple):
    """What :func:`open_cache` found.

    ``arrays`` is ``(X, y)``, read-only memory maps, or None; ``damage`` says what does
    not match what was written, or is None. Both None: no cache, or a stale one.
    """

    arrays: tuple[np.ndarray, np.ndarray] | None
    damage: str | None


def cache_files(path: Path, cache_dir, dtype: np.dtype, n_rows: int | None) -> dict:
    """Name the cache's three files for ``path`` read as ``dtype``, by part (``X.npy``, ...)."""
    folder = Path(cache_dir) if cache_dir is not None else path.parent / f"{path.name}.cache"
    stem = folder / f"{path.name}-{dtype.name}-{'all' if n_rows is None else n_rows}"
    return {part: Path(f"{stem}.{part}") for part in ("X.npy", "y.npy", "json")}


def source_signature(path: Path) -> dict:
    """Return the source's path, size and modification time, as the record keeps them."""
    stat = path.stat()
    return {"source": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _npy_header(dtype: np.dtype, shape: tuple) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    np.lib.format.write_array_header_1_0(buffer, {**header, "shape": shape})
    return buffer.getvalue()


def _layouts(dtype: np.dtype, n_rows: int, n_features: int) -> dict:
    """(dtype, shape) of the array of each .npy file, by part; the record's key is part[0]."""
    return {"X.npy": (dtype, (n_rows, n_features)), "y.npy": (np.dtype(np.int8), (n_rows,))}


def _sample_offsets(size: int) -> list[int]:
    """Offsets of the sampled blocks of a file of ``size`` bytes: first, last, evenly between."""
    last = max(size - SAMPLE_BLOCK_BYTES, 0)
    return sorted({round(last * i / (SAMPLE_BLOCKS - 1)) for i in range(SAMPLE_BLOCKS)})


def _sample_digest(handle, offsets, block_bytes: int) -> str:
    """SHA-256 of the blocks of ``block_bytes`` bytes at ``offsets`` of an open file."""
    digest = hashlib.sha256()
    for offset in offsets:
        handle.seek(offset)
        digest.update(handle.read(block_bytes))
    return digest.hexdigest()


def _data_digest(handle, start: int) -> str:
    """SHA-256 of a file's bytes from ``start`` to its end."""
    handle.seek(start)
    digest = hashlib.sha256()
    while block := handle.read(_HASH_READ_BYTES):
        digest.update(block)
    return digest.hexdigest()


def open_cache(path: Path, files: dict, dtype: np.dtype, n_features: int, verify: str) -> Opened:
    """Memory-map the cache in ``files`` if it matches the source as it is now and what was written.

    ``verify`` is one of :data:`VERIFY_LEVELS`. Never raises for a damaged cache: the
    damage is returned, for the caller to say and rebuild.
    """
    record_file = files["json"]
    try:
        record = json.loads(record_file.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return Opened(None, None)
    except (OSError, ValueError) as error:
        return Opened(None, f"its record {record_file.name} cannot be read as JSON ({error})")
    if not isinstance(record, dict):
        return Opened(None, f"its record {record_file.name} is not a JSON object")
    if record.get("format") == 1:
        # Written before the sampled checksums, so it cannot be checked cheaply: rebuilt
        # without a word, like a stale cache.
        return Opened(None, None)
    if record.get("format") != _FORMAT:
        return Opened(None, f"its record {record_file.name} has format {record.get('format')!r}")
    if any(record.get(key) != value for key, value in source_signature(path).items()):
        return Opened(None, None)  # the source changed: stale, not damaged
    try:
        found = _verified_maps(record, files, dtype, n_features, verify)
    except (KeyError, TypeError, ValueError) as error:
        found = f"its record {record_file.name} is damaged ({type(error).__name__}: {error})"
    return Opened(None, found) if isinstance(found, str) else Opened(found, None)


def _verified_maps(record: dict, files: dict, dtype: np.dtype, n_features: int, verify: str):
    """Memory-map X and y if they are what ``record`` says was written; else say how not.

    Each file is opened once: checked, then mapped from the same handle past the header
    it was checked to have. A record that contradicts itself raises ``ValueError``.
    """
    if record["dtype"] != dtype.name:
        return f"its record is of dtype {record['dtype']!r}, not {dtype.name!r}"
    n_rows = record["n_rows"]
    if not isinstance(n_rows, int) or n_rows < 0:
        raise ValueError(f"n_rows {n_rows!r}")
    maps = []
    for part, (kind, shape) in _layouts(dtype, n_rows, n_features).items():
        written, file = record["files"][part[0]], files[part]
        header = _npy_header(kind, shape)
        size = len(header) + math.prod(shape) * kind.itemsize
        if written["bytes"] != size:
            raise ValueError(f"{part[0]} has {written['bytes']} bytes for {shape} {kind}")
        try:
            handle = open(file, "rb", buffering=0)
        except OSError as error:
            return f"{file.name} cannot be opened ({error.strerror})"
        with handle:
            found = os.fstat(handle.fileno()).st_size
            if found != size:
                return f"{file.name} has {found:,} bytes where {size:,} were written"
            if handle.read(len(header)) != header:
                return f"{file.name}'s .npy header differs from the one written for {shape}"
            offsets, block_bytes = written["sample_offsets"], written["sample_block_bytes"]
            valid = isinstance(block_bytes, int) and 0 < block_bytes <= 2**20
            if not (valid and all(isinstance(o, int) and 0 <= o < size for o in offsets)):
                raise ValueError(f"sampled blocks {block_bytes!r} at {offsets!r:.80}")
            if _sample_digest(handle, offsets, block_bytes) != written["sample_sha256"]:
                return (
                    f"{file.name}'s sampled blocks differ from what was written (checksum of "
                    f"{len(offsets)} blocks of {block_bytes} bytes)"
                )
            full = record["sha256"][part[0]]
            if verify == "full" and _data_digest(handle, len(header)) != full:
                return f"{file.name}'s SHA-256 differs from the one recorded when it was written"
            # What np.load(mmap_mode="r") returns, without parsing the header again.
            maps.append(np.memmap(handle, dtype=kind, mode="r", offset=len(header), shape=shape))
    return tuple(maps)


def write_cache(
    path: Path,
    files: dict,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    n_rows: int | None,
    dtype: np.dtype,
    feature_names: tuple[str, ...],
):
    """Write ``chunks`` (y, X) straight into the cache's .npy files; return their maps.

    The arrays go to temporary files that replace the old ones when complete, then the
    record is written, atomically: a crash leaves no record, hence no cache that opens.

    Raises
    ------
    ValueError
        If the folder cannot be written (saying to pass ``cache_dir=`` or
        ``cache=False``), or the source changed while it was read.
    """
    folder = files["json"].parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Removing the record first marks the old arrays invalid while they are replaced.
        files["json"].unlink(missing_ok=True)
        temporary = {}
        for part in ("X.npy", "y.npy"):
            handle, name = tempfile.mkstemp(dir=folder, prefix=f".{files[part].name}.")
            os.close(handle)
            temporary[part] = Path(name)
    except OSError as error:
        raise ValueError(
            f"Cannot write the cache of {path} in {folder} ({error}); pass a writable "
            "cache_dir=, or cache=False to parse without caching."
        ) from None
    layouts = _layouts(dtype, 0, len(feature_names))
    hashes = {part: hashlib.sha256() for part in temporary}
    signature = source_signature(path)
    written = {}
    try:
        with open(temporary["X.npy"], "wb+") as x_out, open(temporary["y.npy"], "wb+") as y_out:
            outs = {"X.npy": x_out, "y.npy": y_out}
            # numpy pads .npy headers so that the row count can grow in place: write one for
            # 0 rows now and the real count at the end, without copying the data.
            for part, (kind, shape) in layouts.items():
                outs[part].write(_npy_header(kind, shape))
            n_done = 0
            for y_chunk, X_chunk in chunks:
                for part, chunk in (("X.npy", X_chunk), ("y.npy", y_chunk)):
                    outs[part].write(chunk.data)
                    hashes[part].update(chunk.data)
                n_done += y_chunk.shape[0]
            if source_signature(path) != signature:
                raise ValueError(
                    f"{path} changed while it was being read; load it again once it is "
                    "completely written."
                )
            for part, (kind, shape) in layouts.items():
                final = _npy_header(kind, (n_done, *shape[1:]))
                if len(final) != len(_npy_header(kind, shape)):
                    raise RuntimeError("numpy changed its .npy header padding; report this.")
                out = outs[part]
                out.seek(0)
                out.write(final)
                out.flush()
                os.fsync(out.fileno())
                size = os.fstat(out.fileno()).st_size
                offsets = _sample_offsets(size)
                written[part[0]] = {
                    "bytes": size,
                    "sample_block_bytes": SAMPLE_BLOCK_BYTES,
                    "sample_offsets": offsets,
                    "sample_sha256": _sample_digest(out, offsets, SAMPLE_BLOCK_BYTES),
                }
        for part in temporary:
            os.chmod(temporary[part], 0o644)
            os.replace(temporary[part], files[part])
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
    record = {
        "format": _FORMAT,
        **signature,
        "requested_rows": n_rows,
        "n_rows": n_done,
        "dtype": dtype.name,
        "feature_names": list(feature_names),
        "sha256": {part[0]: digest.hexdigest() for part, digest in hashes.items()},
        "files": written,
    }
    atomic_write_text(files["json"], json.dumps(record, indent=2) + "\n")
    return np.load(files["X.npy"], mmap_mode="r"), np.load(files["y.npy"], mmap_mode="r")
