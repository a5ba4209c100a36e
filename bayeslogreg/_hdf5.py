"""Checks of an untrusted HDF5 (NetCDF4) file, made before any reader touches its data.

HDF5 lets a file's arrays read other files: external storage (an array's bytes are raw
bytes of another file), virtual datasets (an array mapped from datasets of other files)
and external links (a group member that is an object of another file). NetCDF4 readers
(h5netcdf, hence xarray and ArviZ) follow all three, so a crafted file can hand the
bytes of any local file to its reader as numbers. A file can also make its reader
allocate far more memory than the file's size: chunks that were never written read as
the fill value, whatever the array's shape, and compressed data expands.

:func:`check_untrusted` walks every link, object and attribute of a file with h5py and
refuses such a file with a ``ValueError`` naming it and the object. It reads the file's
own metadata only, and of its data only text (variable-length strings), in bounded
pieces; it never opens another file. Imports nothing from the package.
"""

import math
import os
from typing import NamedTuple

import numpy as np

__all__ = ["EXPANSION_ALLOWANCE", "MAX_EXPANSION", "Limits", "check_untrusted"]

#: Arrays may take at most this many times the file's size in memory (plus
#: :data:`EXPANSION_ALLOWANCE`). Deflate (gzip), the compression NetCDF4 writers use,
#: expands data at most 1032-fold (a 258-byte match coded in 2 bits), so every file
#: whose arrays were all written passes, whatever they hold; past it, the data come from
#: chunks never written, which read as the fill value (or from a compression that
#: NetCDF4 writers do not use).
MAX_EXPANSION = 1032
#: Bytes of arrays allowed beyond ``MAX_EXPANSION`` times the file's size: small arrays
#: that were never written (a NetCDF dimension without a coordinate is one) stay readable.
EXPANSION_ALLOWANCE = 2**26
#: Variable-length text is read this many values at a time to measure it: each value is
#: at most the file's size, so measuring takes at most this many times the file's size.
_TEXT_BATCH = 64
#: HDF5's largest rank: a variable-length attribute of a bayeslogreg file holds one text
#: or one reference list per dimension. Each value is read to measure it (values may share
#: one stored string), so this bounds what reading one attribute takes.
_MAX_VLEN_ATTRIBUTE_VALUES = 32
_VLEN_REFERENCE_BYTES = 16
_NOT_OURS = (
    "bayeslogreg never writes that, so the file was made or changed by other software; "
    "it is not read. Load only files that bayeslogreg saved."
)


class Limits(NamedTuple):
    """Memory that the arrays of a file may take once read.

    ``max_array_bytes`` bounds each array, ``max_total_bytes`` all of them together
    (text counted by its length, attributes included).
    """

    max_array_bytes: int
    max_total_bytes: int


class _Array(NamedTuple):
    name: str
    logical: int  # bytes in memory once read
    stored: int  # bytes allocated in the file


def check_untrusted(path, limits: Limits) -> None:
    """Refuse an HDF5 file whose reading would read other files or allocate without bound.

    Refused, with a ``ValueError`` naming ``path`` and the object: external storage,
    virtual datasets, external, soft and user-defined links, an object under two names
    (a second hard link: read twice, or a cycle), types other than numbers and text
    (compound, opaque, references, variable-length sequences), text in more than one
    dimension, an array (or chunk) over ``limits.max_array_bytes``, arrays over
    ``limits.max_total_bytes`` together, or over :data:`MAX_EXPANSION` times the file's
    size plus :data:`EXPANSION_ALLOWANCE` (unwritten chunks read as fill values).

    Parameters
    ----------
    path : str or Path
        An HDF5 file (check its signature first: h5py's errors on other files are vague).
    limits : Limits

    Raises
    ------
    OSError
        If h5py cannot read the file (cut short or damaged).
    ValueError
        If the file is refused.
    """
    import h5py

    file_bytes = os.path.getsize(path)
    try:
        with h5py.File(path, "r") as root:
            arrays = _Walk(h5py, path, limits).arrays(root.id)
    except (KeyError, RuntimeError) as error:  # how h5py reports some damaged metadata
        raise OSError(str(error)) from None
    total = sum(array.logical for array in arrays)
    if total > limits.max_total_bytes:
        raise ValueError(
            f"{path}: its arrays would take {total:,} bytes in memory, more than the "
            f"{limits.max_total_bytes:,} that a bayeslogreg file's arrays take at most. "
            f"{_NOT_OURS}"
        )
    if total > MAX_EXPANSION * file_bytes + EXPANSION_ALLOWANCE:
        worst = max(arrays, key=lambda array: array.logical - MAX_EXPANSION * array.stored)
        raise ValueError(
            f"{path}: its arrays would take {total:,} bytes in memory, from a file of "
            f"{file_bytes:,} bytes: more than {MAX_EXPANSION} times its size, which "
            "compressed data never reaches. The rest would be chunks never written, read "
            f"as the fill value: e.g. {worst.name} stores {worst.stored:,} bytes for "
            f"{worst.logical:,}. {_NOT_OURS}"
        )


class _Walk:
    """One pass over the links, objects and attributes of an open file.

    On h5py's low-level identifiers: its high-level objects would make the check cost
    several times as much, for nothing used here.
    """

    def __init__(self, h5py, path, limits: Limits):
        self.h5py, self.path, self.limits = h5py, path, limits

    def arrays(self, file_id) -> list[_Array]:
        """Check every object reachable from the root; return its arrays and attributes."""
        h5py, found, seen = self.h5py, [], set()
        pending = [("/", h5py.h5o.open(file_id, b"/"))]
        while pending:  # a stack, not recursion: nesting depth is the file's choice
            name, obj = pending.pop()
            info = h5py.h5o.get_info(obj)
            if info.addr in seen or info.rc > 1:
                raise ValueError(
                    f"{self.path}: {name} is a second name of an object that the file "
                    f"holds under another name too (a second hard link). {_NOT_OURS}"
                )
            seen.add(info.addr)
            found.append(self._attributes(obj, name))
            if info.type == h5py.h5o.TYPE_DATASET:
                found.append(self._dataset(obj, name))
            elif info.type == h5py.h5o.TYPE_GROUP:
                prefix = name.rstrip("/")
                pending += [
                    (f"{prefix}/{member.decode('utf-8', 'replace')}", h5py.h5o.open(obj, member))
                    for member in obj
                    if self._is_hard_link(obj, prefix, member)
                ]
            else:
                raise ValueError(
                    f"{self.path}: {name} is a named type, neither an array nor a group. "
                    f"{_NOT_OURS}"
                )
        return found

    def _is_hard_link(self, group, prefix: str, member: bytes) -> bool:
        """Return True for an ordinary member; raise for links that point elsewhere."""
        h5py = self.h5py
        kind = group.links.get_info(member).type
        if kind == h5py.h5l.TYPE_HARD:
            return True
        where = f"{prefix}/{member.decode('utf-8', 'replace')}"
        # The link's value only: nothing is opened or followed.
        value = group.links.get_val(member)
        if kind == h5py.h5l.TYPE_EXTERNAL:
            target_file, target = (part.decode("utf-8", "replace") for part in value)
            raise ValueError(
                f"{self.path}: {where} is an external link to {target} in the file "
                f"{target_file!r}, which reading would open. {_NOT_OURS}"
            )
        if kind == h5py.h5l.TYPE_SOFT:
            raise ValueError(
                f"{self.path}: {where} is a soft link to {value.decode('utf-8', 'replace')}, "
                f"which can lead to another file or show one array under many names. "
                f"{_NOT_OURS}"
            )
        raise ValueError(f"{self.path}: {where} is a user-defined link. {_NOT_OURS}")

    def _dataset(self, dataset, name: str) -> _Array:
        h5py = self.h5py
        plist = dataset.get_create_plist()
        if plist.get_external_count():
            files = sorted(
                {plist.get_external(i)[0].decode() for i in range(plist.get_external_count())}
            )
            raise ValueError(
                f"{self.path}: the array {name} keeps its data in another file {files} "
                f"(HDF5 external storage), which reading would read. {_NOT_OURS}"
            )
        if plist.get_layout() == h5py.h5d.VIRTUAL:
            files = sorted(
                {plist.get_virtual_filename(i) for i in range(plist.get_virtual_count())}
            )
            raise ValueError(
                f"{self.path}: the array {name} is a virtual dataset, mapped from data in "
                f"the files {files}, which reading would open. {_NOT_OURS}"
            )
        dtype = dataset.dtype
        text = h5py.check_string_dtype(dtype)
        is_number = dtype.kind in "biuf" and dtype.names is None and dtype.subdtype is None
        if text is None and not is_number:
            raise ValueError(
                f"{self.path}: the array {name} has the type {dtype} (compound, opaque, "
                "reference or variable-length sequence), where bayeslogreg files hold only "
                f"numbers and text. {_NOT_OURS}"
            )
        stored = dataset.get_storage_size()
        shape = dataset.shape
        if shape is None:  # an empty (null) dataspace: no values
            return _Array(name, 0, stored)
        is_text = text is not None and text.length is None
        # A variable-length value is stored as a 16-byte reference into the file's heap.
        value_bytes = _VLEN_REFERENCE_BYTES if is_text else dtype.itemsize
        chunk = 0
        if plist.get_layout() == h5py.h5d.CHUNKED:  # a chunk is read whole, even past the shape
            chunk = math.prod(plist.get_chunk()) * value_bytes
            self._check_array_size(name, chunk, shape, dtype)
        if is_text:
            return _Array(name, self._text_bytes(h5py.Dataset(dataset), name), stored)
        logical = max(math.prod(shape) * value_bytes, chunk)
        self._check_array_size(name, logical, shape, dtype)
        return _Array(name, logical, stored)

    def _check_array_size(self, name: str, logical: int, shape, dtype) -> None:
        if logical > self.limits.max_array_bytes:
            raise ValueError(
                f"{self.path}: the array {name} of shape {shape} ({dtype}) would take "
                f"{logical:,} bytes in memory, more than the "
                f"{self.limits.max_array_bytes:,} that the largest array of a bayeslogreg "
                f"file takes. {_NOT_OURS}"
            )

    def _text_bytes(self, dataset, name: str) -> int:
        """Bytes of the variable-length strings of a 0-D or 1-D array, read in batches."""
        if dataset.ndim > 1:
            raise ValueError(
                f"{self.path}: the array {name} holds text in {dataset.ndim} dimensions, "
                f"where bayeslogreg files hold text only as labels (1-D). {_NOT_OURS}"
            )
        if dataset.ndim == 0:
            return _bytes_of(dataset[()])
        total = 0
        # Values may share one stored string, so their stored size says nothing: measure.
        for start in range(0, dataset.shape[0], _TEXT_BATCH):
            total += _bytes_of(dataset[start : start + _TEXT_BATCH])
            self._check_array_size(name, total, dataset.shape, "text")
        return total

    def _attributes(self, obj, owner: str) -> _Array:
        """Measure the attributes of ``obj`` together, reading the variable-length ones."""
        h5py, listed, logical, stored = self.h5py, [], 0, 0
        # Iterating is the cheap way to the sizes; raising inside h5py's callback is not.
        h5py.h5a.iterate(obj, lambda name, info: listed.append((name, info.data_size)), info=True)
        for name, size in listed:
            attribute = h5py.h5a.open(obj, name)
            kind = attribute.get_type()
            stored += size
            if kind.get_class() != h5py.h5t.VLEN and not (
                kind.get_class() == h5py.h5t.STRING and kind.is_variable_str()
            ):
                logical += size  # fixed size: in memory as stored
                continue
            space = attribute.get_space()
            values = space.get_simple_extent_npoints()
            if values > _MAX_VLEN_ATTRIBUTE_VALUES:
                raise ValueError(
                    f"{self.path}: the attribute {name.decode('utf-8', 'replace')!r} of "
                    f"{owner} holds {values} variable-length values, where bayeslogreg "
                    f"files have at most {_MAX_VLEN_ATTRIBUTE_VALUES}. {_NOT_OURS}"
                )
            # Values may share one stored string or sequence: read them to measure them.
            value = np.empty(space.shape or (), dtype=attribute.dtype)
            attribute.read(value)
            logical += _bytes_of(value)
        return _Array(f"the attributes of {owner}", logical, stored)


def _bytes_of(value) -> int:
    """Bytes that a value read by h5py takes, counting each string and sequence it holds."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return sum(_bytes_of(item) for item in value.flat) + 8 * value.size
    return int(getattr(value, "nbytes", 8))
