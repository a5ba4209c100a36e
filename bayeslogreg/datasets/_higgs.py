"""The UCI HIGGS file: a chunked loader with a memory-mapped cache, and synthetic look-alikes.

The UCI file (``HIGGS.csv.gz``, 11,000,000 rows) has no header; each line is the label
(``1.000000000000000000e+00`` for signal, ``0.0...`` for background) and then the 28
features, all printed as ``%.18e`` and separated by commas. By the UCI convention the last
500,000 rows are the test set.

Reading is a pipeline over blocks of whole lines: one thread inflates the gzip stream with
ISA-L (the ``isal`` package, about 3x zlib) while polars' multi-threaded CSV reader parses
the block before (correctly rounded, so the values are those of ``pandas.read_csv`` with
``float_precision="round_trip"``); a block polars refuses is parsed by pandas' C reader,
the reference. The rows go straight into ``.npy`` files that later calls memory-map, so
the text, the whole array and a copy are never in memory at once. Every check that fails
names the file and the 1-based line (a slow scan with the standard library finds it).
"""

import csv
import gzip
import io
import sys
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bayeslogreg._io import atomic_write
from bayeslogreg._validation import check_choice, check_int, check_positive_int
from bayeslogreg.datasets._dataset import Dataset
from bayeslogreg.datasets._higgs_cache import VERIFY_LEVELS, cache_files, open_cache, write_cache

__all__ = [
    "HIGGS_FEATURES",
    "HIGGS_LIKE_COEF",
    "HIGGS_LIKE_INTERCEPT",
    "HiggsLikeFile",
    "HiggsSplit",
    "load_higgs",
    "write_higgs_like",
]

HIGGS_FEATURES: tuple[str, ...] = (
    "lepton_pT",
    "lepton_eta",
    "lepton_phi",
    "missing_energy_magnitude",
    "missing_energy_phi",
    *(f"jet{k}{part}" for k in range(1, 5) for part in ("pt", "eta", "phi", "b-tag")),
    "m_jj",
    "m_jjj",
    "m_lv",
    "m_jlv",
    "m_bb",
    "m_wbb",
    "m_wwbb",
)
UCI_ROWS = 11_000_000
UCI_TEST_ROWS = 500_000
_N_FIELDS = 1 + len(HIGGS_FEATURES)
# Text per parsed block: about 12,000 lines of the UCI file (700 bytes each). Below glibc's
# 32 MiB ceiling for reusing freed heap memory: larger blocks are fresh pages each time,
# whose page faults cost more than parsing them (measured: docs/design.md).
_PARSE_BLOCK_BYTES = 2**23
# Fixed, so that a seed gives the same bytes for any n_rows and a shorter file is a prefix.
_WRITE_CHUNK_ROWS = 100_000
# Synthetic values lie on a grid of 2**-16 (like the float32 values of the UCI file), so
# value * 10**16 is an integer below 2**63 and its %.18e text is exact and vectorisable.
_GRID_BITS = 16
_MAX_ABS = 255.0

# The true logistic model of write_higgs_like: logit P(y=1) = intercept + x @ coef.
_TRUE_COEF = {
    "lepton_pT": 0.4,
    "lepton_eta": 0.05,
    "missing_energy_magnitude": 0.3,
    "jet1pt": 0.3,
    "jet1b-tag": 0.3,
    "jet2pt": -0.2,
    "jet2b-tag": 0.2,
    "jet3b-tag": 0.15,
    "jet4b-tag": 0.1,
    "m_jj": -0.3,
    "m_jjj": 0.5,
    "m_lv": 0.2,
    "m_jlv": -0.4,
    "m_bb": -1.2,
    "m_wbb": 0.6,
    "m_wwbb": -0.8,
}
HIGGS_LIKE_INTERCEPT = 0.3
HIGGS_LIKE_COEF = np.array([_TRUE_COEF.get(name, 0.0) for name in HIGGS_FEATURES])
HIGGS_LIKE_COEF.flags.writeable = False


@dataclass(frozen=True)
class HiggsLikeFile:
    """What :func:`write_higgs_like` wrote, with the true parameters of its labels.

    Attributes
    ----------
    path : Path
    n_rows : int
    seed : int
    intercept : float
        True intercept of ``logit P(y = 1) = intercept + x @ coef``.
    coef : ndarray of shape (28,)
        True coefficients, in the order of :data:`HIGGS_FEATURES`.
    feature_names : tuple of str
    """

    path: Path
    n_rows: int
    seed: int
    intercept: float
    coef: np.ndarray
    feature_names: tuple[str, ...] = HIGGS_FEATURES


class HiggsSplit(NamedTuple):
    """Training and test part of a HIGGS file; unpacks as ``train, test = ...``."""

    train: "Dataset"
    test: "Dataset"

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The 28 UCI feature names."""
        return self.train.feature_names


def _higgs_like_chunk(seed: int, index: int, n_rows: int):
    """Draw rows ``index * _WRITE_CHUNK_ROWS`` on: (y of shape (n,), X of shape (n, 28))."""
    # One generator per column and chunk: the first k draws do not depend on n_rows, so a
    # shorter file is a prefix of a longer one.
    rngs = [np.random.default_rng([seed, index, column]) for column in range(_N_FIELDS)]
    columns = {}
    for name, rng in zip(HIGGS_FEATURES, rngs[1:], strict=True):
        if name.endswith(("pT", "pt", "magnitude")):
            # Transverse momenta: positive, right-skewed, mean 1 as in the UCI file.
            columns[name] = 0.25 + rng.gamma(2.5, 0.3, n_rows)
        elif name.endswith("eta"):
            # Pseudorapidity: symmetric, inside the detector's |eta| < 2.5.
            columns[name] = 2.5 * np.tanh(rng.normal(0.0, 0.5, n_rows))
        elif name.endswith("phi"):
            columns[name] = rng.uniform(-np.pi, np.pi, n_rows)
        elif name.endswith("b-tag"):
            columns[name] = rng.choice([0.0, 1.0865, 2.1731], n_rows, p=[0.55, 0.25, 0.2])
        else:
            # Invariant masses: positive, right-skewed, near 1.
            columns[name] = 0.3 + rng.gamma(4.0, 0.175, n_rows)
    X = np.column_stack([columns[name] for name in HIGGS_FEATURES])
    X = np.clip(np.rint(X * 2.0**_GRID_BITS), -_MAX_ABS * 2**_GRID_BITS, _MAX_ABS * 2**_GRID_BITS)
    # + 0.0 turns -0.0 into 0.0, which prints without a sign.
    X = X * 2.0**-_GRID_BITS + 0.0
    eta = HIGGS_LIKE_INTERCEPT + X @ HIGGS_LIKE_COEF
    # Uniform draw against sigmoid(eta) on the log scale: no overflow in exp.
    y = (np.log(rngs[0].uniform(size=n_rows)) < -np.logaddexp(0.0, -eta)).astype(np.float64)
    return y, X


_POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)
# The six ASCII digits of every number below 10**6, for printing six digits per lookup.
_SIX_DIGITS = ((np.arange(10**6)[:, None] // 10 ** np.arange(5, -1, -1)) % 10 + ord("0")).astype(
    np.uint8
)


def _format_rows(table: np.ndarray) -> bytes:
    """Print a (n, k) table of grid values as ``%.18e`` CSV lines, without a Python loop."""
    scaled = np.rint(table * 2.0**_GRID_BITS).astype(np.int64).reshape(-1)
    # value = digits * 1e-16 exactly, digits an integer of at most 19 decimal digits.
    digits = np.abs(scaled).astype(np.uint64) * np.uint64(5**_GRID_BITS)
    n_digits = np.maximum(np.searchsorted(_POW10, digits, side="right"), 1)
    mantissa = digits * _POW10[19 - n_digits]
    exponent = np.where(digits == 0, 0, n_digits - 1 - _GRID_BITS).astype(np.int64)
    leading = (mantissa // _POW10[18]).astype(np.int64)
    # x - (x // d) * d: numpy's floor division by a scalar is far faster than its modulo.
    rest = (mantissa - leading.astype(np.uint64) * _POW10[18]).astype(np.int64)
    top, low = rest // 10**12, rest // 10**6
    chars = np.empty((scaled.shape[0], 26), dtype=np.uint8)
    chars[:, 0] = ord("-")
    chars[:, 1] = ord("0") + leading
    chars[:, 2] = ord(".")
    chars[:, 3:9] = _SIX_DIGITS[top]
    chars[:, 9:15] = _SIX_DIGITS[low - top * 10**6]
    chars[:, 15:21] = _SIX_DIGITS[rest - low * 10**6]
    chars[:, 21] = ord("e")
    chars[:, 22] = np.where(exponent < 0, ord("-"), ord("+"))
    chars[:, 23:25] = _SIX_DIGITS[np.abs(exponent), 4:]
    chars = chars.reshape(table.shape + (26,))
    chars[..., 25] = ord(",")
    chars[:, -1, 25] = ord("\n")
    keep = np.ones(chars.shape, dtype=bool)
    keep[..., 0] = (scaled < 0).reshape(table.shape)
    return chars[keep].tobytes()


def write_higgs_like(path, n_rows: int, seed: int = 0, *, compresslevel: int = 1) -> HiggsLikeFile:
    """Write a synthetic file in exactly the UCI HIGGS format, with labels from a known model.

    Features have HIGGS-like marginals (momenta and masses positive, right-skewed, near 1;
    eta symmetric in (-2.5, 2.5); phi uniform in [-pi, pi]; b-tags three discrete values),
    drawn independently and printed like the UCI file: ``%.18e``, comma separated, label
    first, no header. Labels follow ``logit P(y = 1) = intercept + x @ coef`` with the
    parameters returned, so fits can be checked against them; the classes overlap.

    Parameters
    ----------
    path : str or Path
        Target; a name ending in ``.gz`` is gzip-compressed. Written atomically.
    n_rows : int
        Number of lines (the UCI file has 11,000,000).
    seed : int
        The same seed gives the same bytes, and a file of fewer rows is a prefix of one of
        more rows with the same seed.
    compresslevel : int
        gzip level, 1 (fast; default) to 9 (small).

    Returns
    -------
    HiggsLikeFile
        The path and the true ``intercept`` and ``coef`` (shape (28,)).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     info = write_higgs_like(pathlib.Path(folder) / "HIGGS_like.csv", 3, seed=1)
    ...     fields = info.path.read_text().splitlines()[0].split(",")
    >>> len(fields), fields[0] in ("0.000000000000000000e+00", "1.000000000000000000e+00")
    (29, True)
    """
    path = Path(path)
    n_rows = check_positive_int(n_rows, "n_rows")
    compresslevel = check_int(compresslevel, "compresslevel", minimum=1, maximum=9)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as raw, ThreadPoolExecutor(max_workers=1) as writer:
            out = raw
            if path.suffix.lower() == ".gz":
                # No file name and mtime 0 in the header: the same seed gives the same bytes.
                out = gzip.GzipFile("", "wb", compresslevel, fileobj=raw, mtime=0)
            # zlib releases the GIL: one thread compresses and writes chunk i (in order)
            # while this one formats chunk i + 1; at most one chunk waits.
            pending = None
            for index, start in enumerate(range(0, n_rows, _WRITE_CHUNK_ROWS)):
                y, X = _higgs_like_chunk(seed, index, min(_WRITE_CHUNK_ROWS, n_rows - start))
                text = _format_rows(np.column_stack([y, X]))
                if pending is not None:
                    pending.result()
                pending = writer.submit(out.write, text)
            pending.result()
            if out is not raw:
                out.close()

    atomic_write(path, write)
    return HiggsLikeFile(path, n_rows, seed, HIGGS_LIKE_INTERCEPT, HIGGS_LIKE_COEF.copy())


class _Progress:
    """Rows parsed and MB/s of the source, to stderr every few seconds; silent if off."""

    def __init__(self, path: Path, enabled: bool, interval: float = 5.0):
        self.path, self.enabled, self.interval = path, enabled, interval
        self.size = path.stat().st_size
        self.start = self.last = time.perf_counter()

    def update(self, rows: int, consumed: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not final and now - self.last < self.interval):
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        state = "parsed" if final else "parsing"
        print(
            f"load_higgs: {state} {rows:,} rows of {self.path.name} "
            f"({100 * consumed / max(self.size, 1):.0f}% of {self.size / 1e6:,.0f} MB, "
            f"{consumed / 1e6 / elapsed:.1f} MB/s, {elapsed:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


def _open_text(path: Path, gzip_file=gzip.GzipFile):
    """Open ``path`` for binary reading, through gzip when it starts with gzip's magic bytes.

    ``gzip_file`` inflates: the standard library's by default (the slow scan, whose
    messages quote its errors), ``isal.igzip.IGzipFile`` for speed (the same bytes).
    """
    raw = open(path, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return raw, gzip_file(fileobj=raw, mode="rb")
    raw.seek(0)
    return raw, raw


def _line_blocks(stream, block_bytes: int):
    """Yield ``stream``'s bytes as blocks of whole lines (the last may lack its newline).

    The next block is read, and inflated, in a second thread while the caller parses the
    current one; ISA-L and polars both release the GIL, so the two overlap.
    """

    def read_next(rest: bytes):
        data = stream.read(block_bytes)
        if not data:
            return rest, None
        cut = data.rfind(b"\n") + 1
        if cut == 0:  # no line ends in this read
            return b"", rest + data
        # One copy of the text (slicing bytes copies; a memoryview does not).
        return b"".join((rest, memoryview(data)[:cut])), data[cut:]

    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(read_next, b"")
        while True:
            block, rest = pending.result()
            if rest is not None:
                pending = reader.submit(read_next, rest)
            if block:
                yield block
            if rest is None:
                return


def _parse_block(block: bytes, limit: int | None) -> np.ndarray:
    """Parse whole lines into a (m, 29) float64 table; m is at most ``limit``.

    polars first; pandas' C reader, the reference, where polars refuses the text (trailing
    spaces, say). A blank line or an empty field is a row of NaN, which the caller refuses.
    """
    import polars as pl

    schema = {f"column_{k}": pl.Float64 for k in range(_N_FIELDS)}
    try:
        frame = pl.read_csv(block, has_header=False, schema=schema, quote_char=None, n_rows=limit)
        return frame.to_numpy()
    except pl.exceptions.PolarsError:
        pass
    import pandas as pd

    # Before 3.1, pandas' default converter rounds some long decimals differently from
    # polars (and from Python's float); 3.1 rounds them all correctly and deprecates this.
    version = tuple(int(part) for part in pd.__version__.split(".")[:2])
    exact = {"float_precision": "round_trip"} if version < (3, 1) else {}
    frame = pd.read_csv(
        io.BytesIO(block),
        **exact,
        header=None,
        names=list(range(_N_FIELDS)),
        dtype=np.float64,
        engine="c",
        nrows=limit,
        # A row per line, always: blank lines and quotes must not shift line numbers.
        skip_blank_lines=False,
        quoting=csv.QUOTE_NONE,
        na_filter=False,
    )
    return frame.to_numpy()


def _line_problem(line: bytes) -> str | None:
    """Say what is wrong with one line of a HIGGS file, or None if it is valid."""
    text = line.rstrip(b"\r\n").decode("ascii", errors="replace")
    if not text.strip():
        return "is empty"
    if "_" in text or " " in text:
        return "has spaces or underscores; values must be plain numbers like 1.5e-01"
    fields = text.split(",")
    if len(fields) != _N_FIELDS:
        return f"has {len(fields)} comma-separated fields, expected {_N_FIELDS}"
    for column, field in enumerate(fields):
        name = "the label" if column == 0 else f"field {column + 1} ({HIGGS_FEATURES[column - 1]})"
        try:
            value = float(field)
        except ValueError:
            return f"has a non-numeric value {field.strip()[:40]!r} in {name}"
        if not np.isfinite(value):
            return f"has {field.strip()!r} in {name}; every value must be finite"
        if column == 0 and value not in (0.0, 1.0):
            return f"has label {field.strip()!r}; labels must be 0 or 1"
    return None


def _find_bad_line(path: Path, first_line: int) -> tuple[int, str] | None:
    """Scan from 1-based ``first_line`` for the first invalid line (the slow, error path)."""
    raw, stream = _open_text(path)
    number = 0
    with raw, stream:
        try:
            for number, line in enumerate(stream, start=1):
                if number >= first_line:
                    problem = _line_problem(line)
                    if problem is not None:
                        return number, problem
        except (EOFError, OSError, zlib.error) as error:
            # EOFError: a truncated .gz file; OSError covers gzip.BadGzipFile.
            return number + 1, (
                f"cannot be read: the compressed data is damaged or ends early "
                f"({type(error).__name__}: {error})"
            )
    return None


def _parse_error(path: Path, line: int, problem: str) -> ValueError:
    return ValueError(
        f"{path}: line {line} {problem}. A HIGGS file has one row per line: the 0/1 label, "
        f"then {len(HIGGS_FEATURES)} numbers, comma separated, no header. Fix or remove "
        "that line, or re-download the file if it is damaged."
    )


def _parse_chunks(path: Path, n_rows: int | None, dtype, progress: _Progress):
    """Yield (y of shape (m,) int8, X of shape (m, 28) in dtype) chunks, checked, in order."""
    from isal.igzip import IGzipFile
    from isal.isal_zlib import error as isal_error

    # ISA-L inflates about 3x faster than zlib.
    raw, stream = _open_text(path, IGzipFile)
    done, failure = 0, None
    with raw, stream:
        try:
            for block in _line_blocks(stream, _PARSE_BLOCK_BYTES):
                table = _parse_block(block, None if n_rows is None else n_rows - done)
                bad = ~np.isfinite(table).all(axis=1)
                bad |= (table[:, 0] != 0.0) & (table[:, 0] != 1.0)
                if bad.any():
                    done += int(np.argmax(bad))
                    failure = "a label other than 0/1, or a value that is not finite"
                    break
                yield table[:, 0].astype(np.int8), np.ascontiguousarray(table[:, 1:], dtype)
                done += table.shape[0]
                progress.update(done, raw.tell())
                if done == n_rows:
                    break
        except (ValueError, EOFError, OSError, zlib.error, isal_error) as error:
            # pandas' ParserError is a ValueError; EOFError: a truncated .gz file; OSError
            # covers gzip.BadGzipFile. The slow scan below finds the line and the reason.
            failure = f"{type(error).__name__}: {error}"
    if failure is not None:
        found = _find_bad_line(path, done + 1)
        if found is None:
            raise ValueError(
                f"{path}: lines after line {done} could not be parsed ({failure}); check "
                "the file's format."
            )
        raise _parse_error(path, *found)
    if done == 0:
        raise ValueError(
            f"{path}: line 1 is missing: the file has no data rows. Check that it is the "
            "HIGGS file and that it was completely downloaded."
        )
    progress.update(done, progress.size, final=True)


def _from_cache(path: Path, cache_dir, n_rows, dtype: np.dtype, verify, report: _Progress):
    """Memory-map the cache of ``path`` (of ``n_rows``, or of all rows) once verified, or write it.

    A cache that does not match what was written is never served: a ``UserWarning`` says
    what differs, and the cache asked for is rebuilt (``write_cache`` raises if it cannot).
    """
    files = cache_files(path, cache_dir, dtype, n_rows)
    candidates = [files] + ([] if n_rows is None else [cache_files(path, cache_dir, dtype, None)])
    damaged, found = [], None
    for candidate in candidates:
        opened = open_cache(path, candidate, dtype, len(HIGGS_FEATURES), verify or "sample")
        if opened.damage is not None:
            damaged.append((candidate, opened.damage))
        if opened.arrays is not None:
            found = opened.arrays
            break
    for candidate, damage in damaged:
        rebuilt = found is None and candidate is files
        warnings.warn(
            f"The cache of {path.name} in {candidate['json'].parent} does not match what was "
            f"written: {damage}. "
            + (f"It is rebuilt from {path.name}." if rebuilt else "It is not used."),
            UserWarning,
            stacklevel=3,
        )
    if found is None:
        chunks = _parse_chunks(path, n_rows, dtype, report)
        return write_cache(path, files, chunks, n_rows, dtype, HIGGS_FEATURES)
    X, y = found[0][:n_rows], found[1][:n_rows]
    if report.enabled:
        print(
            f"load_higgs: memory-mapped {len(y):,} rows of {path.name} from its cache",
            file=sys.stderr,
            flush=True,
        )
    return X, y


def _check_dtype(dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32; got {dtype!r}.")
    return dtype


def load_higgs(
    path,
    *,
    n_rows: int | None = None,
    test_rows: int | None = None,
    dtype=np.float64,
    cache: bool = True,
    cache_dir=None,
    progress: bool = True,
    test_size: int | None = None,
    verify: str | None = None,
) -> HiggsSplit:
    """Load the UCI HIGGS file (or one of its format) as a training and a test part.

    The first call parses the text (inflated by ISA-L while polars parses, in parallel)
    into ``.npy`` files (the cache); later calls memory-map them, in milliseconds. The cache
    is rebuilt when the source's size or modification time changes, and, with a
    ``UserWarning`` saying why, when its files do not match what was written (see
    ``verify``).

    Parameters
    ----------
    path : str or Path
        ``HIGGS.csv.gz`` or ``HIGGS.csv`` (gzip is recognised by content): no header, the
        0/1 label first, then the 28 features of :data:`HIGGS_FEATURES`.
    n_rows : int, optional
        Read only the first ``n_rows`` lines; default all.
    test_rows : int, optional
        Number of rows, taken from the end of the rows read, that form the test part.
        Default: the UCI convention, the last 500,000 of 11,000,000 rows, scaled to the
        rows read (``round(n * 500_000 / 11_000_000)``); 0 gives an empty test part.
    dtype : {numpy.float64, numpy.float32}
        Type of ``X``; float32 halves memory (fits still accumulate in float64).
    cache : bool
        Convert once to a memory-mapped cache (default), or parse into memory each call
        (the chunks and their concatenation: twice the array's memory at the peak).
    cache_dir : str or Path, optional
        Folder of the cache; default ``<path>.cache`` beside the file.
    progress : bool
        Report rows parsed and MB/s on stderr while parsing.
    test_size : int, optional
        Deprecated name of ``test_rows`` (a ``FutureWarning``): a row count, where
        :func:`train_test_split`'s ``test_size`` is a fraction.
    verify : {"sample", "full"}, optional
        How a cache found on disk is checked against the record written with it before
        it is memory-mapped. ``"sample"`` (the default): each file's size, its ``.npy``
        header and the SHA-256 of 32 blocks of 4 KiB at recorded offsets (a fraction of
        a millisecond). ``"full"``: also the SHA-256 of every byte, which reads the
        whole cache (seconds at 11M rows) and finds a changed byte anywhere. Only with
        ``cache=True``.

    Returns
    -------
    HiggsSplit
        ``(train, test)`` :class:`~bayeslogreg.datasets.Dataset` objects: ``X`` of shape
        (n_part, 28) in ``dtype`` (read-only memory maps when cached), ``y`` of shape
        (n_part,) int8 0/1 (1 = signal), ``feature_names`` = :data:`HIGGS_FEATURES`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a line is malformed (the message names the file and the 1-based line), the file
        is empty or truncated, an argument is invalid, or the cache cannot be written
        (a damaged cache is never served, even from a read-only folder).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     info = write_higgs_like(pathlib.Path(folder) / "HIGGS_like.csv.gz", 2_200)
    ...     train, test = load_higgs(info.path, progress=False)
    >>> train.X.shape, test.X.shape, train.feature_names[:2]
    ((2100, 28), (100, 28), ('lepton_pT', 'lepton_eta'))
    """
    if test_size is not None:
        if test_rows is not None:
            raise ValueError("pass test_rows only; test_size is its deprecated name.")
        warnings.warn(
            f"test_size= is deprecated; pass test_rows={test_size!r} (a number of rows).",
            FutureWarning,
            stacklevel=2,
        )
        test_rows = test_size
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No HIGGS file at {str(path)!r}; download HIGGS.csv.gz from the UCI Machine "
            "Learning Repository or write a synthetic one with write_higgs_like()."
        )
    if n_rows is not None:
        n_rows = check_positive_int(n_rows, "n_rows")
    dtype = _check_dtype(dtype)
    if verify is not None:
        check_choice(verify, "verify", VERIFY_LEVELS)
        if not cache:
            raise ValueError(
                f"verify={verify!r} checks the cache, and cache=False has none: the file is "
                "parsed on every call. Drop verify=, or keep cache=True."
            )
    report = _Progress(path, progress)
    if not cache:
        chunks = list(_parse_chunks(path, n_rows, dtype, report))
        X = np.concatenate([X_chunk for _, X_chunk in chunks])
        y = np.concatenate([y_chunk for y_chunk, _ in chunks])
    else:
        X, y = _from_cache(path, cache_dir, n_rows, dtype, verify, report)
    n = y.shape[0]
    if test_rows is None:
        test_rows = round(n * UCI_TEST_ROWS / UCI_ROWS)
    cut = n - check_int(test_rows, "test_rows", minimum=0, maximum=n - 1)
    name = path.name
    return HiggsSplit(
        Dataset(X[:cut], y[:cut], HIGGS_FEATURES, description=f"{name}: rows 1-{cut}"),
        Dataset(X[cut:], y[cut:], HIGGS_FEATURES, description=f"{name}: rows {cut + 1}-{n}"),
    )
