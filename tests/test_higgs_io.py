"""HIGGS files: the UCI format, synthetic look-alikes, the loader, its cache and its errors."""

import gzip
import hashlib
import io
import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from bayeslogreg import fit_mle
from bayeslogreg.datasets import HIGGS_FEATURES, Dataset, _higgs, load_higgs, write_higgs_like

FIELD = re.compile(r"-?[0-9]\.[0-9]{18}e[+-][0-9]{2}")
LABELS = ("0.000000000000000000e+00", "1.000000000000000000e+00")


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few rows, so that small files cross chunk boundaries."""
    monkeypatch.setattr(_higgs, "_WRITE_CHUNK_ROWS", 7)
    monkeypatch.setattr(_higgs, "_PARSE_BLOCK_BYTES", 1000)


def expected_rows(seed, n_rows):
    """The rows write_higgs_like draws, straight from the generator."""
    ys, Xs = [], []
    for index, start in enumerate(range(0, n_rows, _higgs._WRITE_CHUNK_ROWS)):
        y, X = _higgs._higgs_like_chunk(seed, index, min(_higgs._WRITE_CHUNK_ROWS, n_rows - start))
        ys.append(y)
        Xs.append(X)
    return np.concatenate(ys), np.concatenate(Xs)


def test_feature_names_follow_uci():
    assert len(HIGGS_FEATURES) == 28 and len(set(HIGGS_FEATURES)) == 28
    assert HIGGS_FEATURES[:6] == (
        "lepton_pT",
        "lepton_eta",
        "lepton_phi",
        "missing_energy_magnitude",
        "missing_energy_phi",
        "jet1pt",
    )
    assert HIGGS_FEATURES[8] == "jet1b-tag" and HIGGS_FEATURES[20] == "jet4b-tag"
    assert HIGGS_FEATURES[21:] == ("m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb")


def test_written_file_is_in_the_uci_format(tmp_path):
    info = write_higgs_like(tmp_path / "h.csv", 300, seed=2)
    text = info.path.read_text()
    assert text.endswith("\n") and "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 300  # no header
    for line in lines:
        fields = line.split(",")
        assert len(fields) == 29 and fields[0] in LABELS
        assert all(FIELD.fullmatch(f) for f in fields)
        # Each field is exactly what C's %.18e prints for its value, as in the UCI file.
        assert all(f"{float(f):.18e}" == f for f in fields)
    X = np.loadtxt(info.path, delimiter=",")[:, 1:]
    assert X[:, [0, 3, 5, 21, 27]].min() > 0  # momenta and masses
    assert np.abs(X[:, [1, 6, 10]]).max() < 2.5  # eta
    assert np.abs(X[:, [2, 4, 7]]).max() <= np.pi  # phi
    assert len(np.unique(X[:, [8, 12, 16, 20]])) == 3  # b-tags


def test_same_seed_gives_same_bytes_and_shorter_files_are_prefixes(tmp_path, small_chunks):
    first = write_higgs_like(tmp_path / "a.csv.gz", 30, seed=5).path.read_bytes()
    again = write_higgs_like(tmp_path / "b.csv.gz", 30, seed=5).path.read_bytes()
    other = write_higgs_like(tmp_path / "c.csv.gz", 30, seed=6).path.read_bytes()
    assert first == again and first != other
    short = write_higgs_like(tmp_path / "d.csv", 17, seed=5).path.read_bytes()
    assert gzip.decompress(first).startswith(short)


def test_gzip_and_plain_files_hold_the_same_text(tmp_path):
    packed = write_higgs_like(tmp_path / "h.csv.gz", 50, seed=1).path.read_bytes()
    plain = write_higgs_like(tmp_path / "h.csv", 50, seed=1).path.read_bytes()
    assert packed[:2] == b"\x1f\x8b" and gzip.decompress(packed) == plain
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file


@pytest.mark.parametrize("name", ["h.csv", "h.csv.gz", "h.txt"])
def test_round_trip_gives_the_same_numbers(tmp_path, small_chunks, name):
    info = write_higgs_like(tmp_path / name, 40, seed=4)
    train, test = load_higgs(info.path, test_rows=9, progress=False)
    assert isinstance(train, Dataset) and train.feature_names == HIGGS_FEATURES
    y, X = expected_rows(4, 40)
    # Exact: the values lie on a 2**-16 grid and their 19-digit text is their exact value.
    np.testing.assert_array_equal(np.concatenate([train.X, test.X]), X)
    np.testing.assert_array_equal(np.concatenate([train.y, test.y]), y)
    reference = np.loadtxt(
        gzip.open(info.path) if name.endswith(".gz") else info.path, delimiter=","
    )
    np.testing.assert_array_equal(np.concatenate([train.X, test.X]), reference[:, 1:])


@pytest.mark.parametrize("block_bytes", [1, 7, 64, 10**6])
@pytest.mark.parametrize("end", [b"", b"\n", b"tail without newline"])
def test_line_blocks_are_whole_lines_of_the_stream(block_bytes, end):
    rng = np.random.default_rng(block_bytes)
    lines = [b"x" * int(n) + b"\n" for n in rng.integers(0, 150, size=60)]
    text = b"".join(lines) + end
    blocks = list(_higgs._line_blocks(io.BytesIO(text), block_bytes))
    assert b"".join(blocks) == text
    assert all(blocks) and all(block.endswith(b"\n") for block in blocks[:-1])


def hard_decimals_file(path, n_rows, seed):
    """A HIGGS-format file of random 19-digit decimals; return it and their nearest doubles."""
    rng = np.random.default_rng(seed)
    mantissa = rng.integers(10**18, 10**19, size=(n_rows, 28), dtype=np.uint64).astype(str)
    exponent = rng.integers(-30, 31, size=(n_rows, 28))
    sign = rng.choice(["", "-"], size=(n_rows, 28))
    labels = rng.integers(0, 2, size=n_rows)
    lines, expected = [], np.empty((n_rows, 28))
    for i in range(n_rows):
        fields = [
            f"{sign[i, j]}{mantissa[i, j][0]}.{mantissa[i, j][1:]}e{exponent[i, j]:+03d}"
            for j in range(28)
        ]
        # Python's float() is correctly rounded: the independent reference.
        expected[i] = [float(field) for field in fields]
        lines.append(f"{labels[i]}.0," + ",".join(fields) + "\n")
    text = "".join(lines).encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    return path, labels, expected


@pytest.mark.parametrize("name", ["hard.csv", "hard.csv.gz"])
def test_values_are_the_nearest_doubles_as_pandas_gives(tmp_path, monkeypatch, name):
    monkeypatch.setattr(_higgs, "_PARSE_BLOCK_BYTES", 50_000)  # many blocks
    path, labels, expected = hard_decimals_file(tmp_path / name, 2_000, seed=3)
    train, _ = load_higgs(path, test_rows=0, cache=False, progress=False)
    assert np.array_equal(train.X.view(np.int64), expected.view(np.int64))
    assert np.array_equal(train.y, labels)
    # The same bits as pandas (its correctly rounded converter; the default from 3.1 on).
    version = tuple(int(part) for part in pd.__version__.split(".")[:2])
    exact = {"float_precision": "round_trip"} if version < (3, 1) else {}
    frame = pd.read_csv(path, header=None, dtype=np.float64, **exact)
    assert np.array_equal(frame.to_numpy()[:, 1:].view(np.int64), expected.view(np.int64))
    # Lines polars refuses (spaces before commas) go to pandas' reader: the same values.
    spaced = tmp_path / "spaced.csv"
    spaced.write_bytes(
        (gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()).replace(
            b",", b" ,"
        )
    )
    train, _ = load_higgs(spaced, test_rows=0, cache=False, progress=False)
    assert np.array_equal(train.X.view(np.int64), expected.view(np.int64))


def test_float32_holds_the_same_values(tmp_path):
    path = write_higgs_like(tmp_path / "h.csv.gz", 200, seed=1).path
    wide = load_higgs(path, progress=False)
    narrow = load_higgs(path, dtype=np.float32, progress=False)
    assert narrow.train.X.dtype == np.float32 and wide.train.X.dtype == np.float64
    # Grid values have at most 24 significant bits, so float32 holds them exactly.
    np.testing.assert_array_equal(narrow.train.X.astype(np.float64), wide.train.X)


def test_cache_is_written_once_then_memory_mapped(tmp_path, monkeypatch):
    path = write_higgs_like(tmp_path / "h.csv.gz", 120, seed=1).path
    first = load_higgs(path, progress=False)
    meta_path = tmp_path / "h.csv.gz.cache" / "h.csv.gz-float64-all.json"
    meta = json.loads(meta_path.read_text())
    assert meta["n_rows"] == 120 and meta["dtype"] == "float64"
    assert meta["size"] == path.stat().st_size and meta["source"] == str(path.resolve())
    X = np.concatenate([first.train.X, first.test.X])
    y = np.concatenate([first.train.y, first.test.y])
    assert meta["sha256"]["X"] == hashlib.sha256(np.ascontiguousarray(X)).hexdigest()
    assert meta["sha256"]["y"] == hashlib.sha256(np.ascontiguousarray(y)).hexdigest()

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(_higgs, "_parse_chunks", no_parsing)
    second = load_higgs(path, progress=False)
    assert isinstance(second.train.X, np.memmap) and isinstance(second.test.y, np.memmap)
    assert not second.train.X.flags.writeable
    np.testing.assert_array_equal(second.train.X, first.train.X)
    # A row limit is served from the cache of the whole file.
    limited = load_higgs(path, n_rows=50, test_rows=10, progress=False)
    assert isinstance(limited.train.X, np.memmap)
    np.testing.assert_array_equal(limited.test.X, X[40:50])


def test_cache_is_rebuilt_when_the_file_changes(tmp_path):
    path = tmp_path / "h.csv"
    write_higgs_like(path, 60, seed=1)
    before = load_higgs(path, progress=False)
    write_higgs_like(path, 60, seed=2)  # same size, other numbers
    after = load_higgs(path, progress=False)
    y, X = expected_rows(2, 60)
    np.testing.assert_array_equal(np.concatenate([after.train.X, after.test.X]), X)
    assert not np.array_equal(before.train.X, after.train.X)
    # A touched file (same content, new mtime) is parsed again too.
    meta_path = tmp_path / "h.csv.cache" / "h.csv-float64-all.json"
    old_meta = json.loads(meta_path.read_text())
    os.utime(path, ns=(old_meta["mtime_ns"] + 10**9, old_meta["mtime_ns"] + 10**9))
    load_higgs(path, progress=False)
    assert json.loads(meta_path.read_text())["mtime_ns"] == old_meta["mtime_ns"] + 10**9


def test_cache_dir_and_no_cache(tmp_path):
    path = write_higgs_like(tmp_path / "data" / "h.csv.gz", 80, seed=1).path
    load_higgs(path, cache_dir=tmp_path / "cache", progress=False)
    assert (tmp_path / "cache" / "h.csv.gz-float64-all.X.npy").is_file()
    assert not (tmp_path / "data" / "h.csv.gz.cache").exists()
    direct = load_higgs(path, cache=False, progress=False)
    assert type(direct.train.X) is np.ndarray and direct.train.X.shape == (76, 28)
    assert not (tmp_path / "data" / "h.csv.gz.cache").exists()


def test_unwritable_cache_folder_says_what_to_do(tmp_path):
    path = write_higgs_like(tmp_path / "h.csv", 20, seed=1).path
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(ValueError, match="cache_dir=, or cache=False"):
        load_higgs(path, cache_dir=tmp_path / "blocker" / "cache", progress=False)


def test_row_limit_and_uci_test_split(tmp_path, small_chunks):
    path = write_higgs_like(tmp_path / "h.csv.gz", 50, seed=3).path
    y, X = expected_rows(3, 50)
    part = load_higgs(path, n_rows=44, progress=False)
    # UCI: the last 500,000 of 11,000,000 rows are the test set; scaled: round(44 / 22) = 2.
    assert part.train.X.shape == (42, 28) and part.test.X.shape == (2, 28)
    np.testing.assert_array_equal(part.test.X, X[42:44])
    assert part.feature_names == HIGGS_FEATURES
    assert round(_higgs.UCI_ROWS * _higgs.UCI_TEST_ROWS / _higgs.UCI_ROWS) == 500_000
    whole = load_higgs(path, n_rows=10**6, test_rows=0, progress=False)
    assert whole.train.X.shape == (50, 28) and whole.test.X.shape == (0, 28)
    np.testing.assert_array_equal(whole.train.y, y)
    assert whole.train.y.dtype == np.int8 and set(np.unique(whole.train.y)) <= {0, 1}


def test_progress_goes_to_stderr_only_when_asked(tmp_path, capsys):
    path = write_higgs_like(tmp_path / "h.csv", 30, seed=1).path
    load_higgs(path, progress=False)
    load_higgs(path, progress=False)
    assert capsys.readouterr() == ("", "")
    load_higgs(path, n_rows=20, progress=True, cache_dir=tmp_path / "c")
    assert re.search(r"parsed 20 rows of h\.csv .*MB/s", capsys.readouterr().err)
    load_higgs(path, n_rows=20, progress=True, cache_dir=tmp_path / "c")
    assert "memory-mapped 20 rows" in capsys.readouterr().err


def corrupt(tmp_path, line_number, replace):
    """A 12-row file whose line ``line_number`` (1-based) is ``replace(line)``."""
    path = write_higgs_like(tmp_path / "h.csv", 12, seed=1).path
    lines = path.read_text().splitlines(keepends=True)
    lines[line_number - 1] = replace(lines[line_number - 1])
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (lambda s: s.replace("\n", ",1.0\n"), "has 30 comma-separated fields, expected 29"),
        (lambda s: s.rsplit(",", 1)[0] + "\n", "has 28 comma-separated fields, expected 29"),
        (lambda s: s.replace(",", ",abc", 1), "non-numeric value 'abc"),
        (lambda s: s.replace(",", ",,", 1), "has 30 comma-separated fields"),
        (lambda s: "2" + s[1:], "has label '2.000000000000000000e"),
        (lambda s: s.split(",", 1)[0] + ",nan," + s.split(",", 2)[2], "'nan' in field 2"),
        (lambda s: s.split(",", 1)[0] + ",inf," + s.split(",", 2)[2], "'inf' in field 2"),
        (lambda s: "\n", "line 8 is empty"),
        (lambda s: s.replace("e-01", "e-0_1", 1), "spaces or underscores"),
    ],
)
@pytest.mark.parametrize("block_bytes", [100, 3000, 10**6])
def test_malformed_lines_are_named(tmp_path, monkeypatch, replace, message, block_bytes):
    monkeypatch.setattr(_higgs, "_PARSE_BLOCK_BYTES", block_bytes)
    path = corrupt(tmp_path, 8, replace)
    with pytest.raises(ValueError, match=r"h\.csv: line 8 ") as error:
        load_higgs(path, progress=False)
    assert message in str(error.value) and "Fix or remove that line" in str(error.value)
    assert not list((tmp_path / "h.csv.cache").glob("*.json"))  # no cache of bad data
    # Rows before the bad line are fine.
    assert load_higgs(path, n_rows=7, test_rows=0, progress=False).train.X.shape == (7, 28)


def test_empty_files(tmp_path):
    for path, data in ((tmp_path / "e.csv", b""), (tmp_path / "e.csv.gz", gzip.compress(b""))):
        path.write_bytes(data)
        with pytest.raises(ValueError, match=r"e\.csv(\.gz)?: line 1 is missing: .* no data"):
            load_higgs(path, progress=False)


def test_truncated_gzip_names_the_line(tmp_path):
    path = write_higgs_like(tmp_path / "h.csv.gz", 400, seed=1).path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    # Count the complete lines that survive, independently of the loader.
    complete = 0
    with gzip.open(path, "rb") as stream:
        with pytest.raises(EOFError):
            for _ in stream:
                complete += 1
    with pytest.raises(ValueError, match=rf"h\.csv\.gz: line {complete + 1} .*ends early"):
        load_higgs(path, progress=False)


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No HIGGS file at .*nope\.csv.*write_higgs_like"):
        load_higgs(tmp_path / "nope.csv")
    path = write_higgs_like(tmp_path / "h.csv", 30, seed=1).path
    with pytest.raises(ValueError, match="dtype must be float64 or float32"):
        load_higgs(path, dtype=np.int32, progress=False)
    with pytest.raises(ValueError, match="n_rows must be an integer >= 1; got 0"):
        load_higgs(path, n_rows=0, progress=False)
    with pytest.raises(ValueError, match="test_rows must be an integer from 0 to 29; got 30"):
        load_higgs(path, test_rows=30, progress=False)
    with pytest.raises(ValueError, match="test_rows must be an integer from 0 to 29; got 0.1"):
        load_higgs(path, test_rows=0.1, progress=False)
    with pytest.raises(ValueError, match="n_rows must be an integer >= 1"):
        write_higgs_like(tmp_path / "x.csv", 0)
    with pytest.raises(ValueError, match="compresslevel must be an integer from 1 to 9"):
        write_higgs_like(tmp_path / "x.csv.gz", 5, compresslevel=0)


def test_fit_recovers_the_true_parameters(tmp_path):
    info = write_higgs_like(tmp_path / "h.csv.gz", 50_000, seed=11)
    train, test = load_higgs(info.path, test_rows=0, progress=False)
    assert 0.4 < train.y.mean() < 0.7  # both classes well represented
    fit = fit_mle(train.X, train.y)
    assert fit.converged and fit.separation is None
    truth = np.concatenate([[info.intercept], info.coef])
    se = np.sqrt(np.diag(fit.cov))
    # 29 parameters: each within 4 standard errors (a false alarm has probability ~0.2%).
    assert np.all(np.abs(fit.params - truth) < 4 * se), (fit.params - truth) / se
    # The classes overlap: a logistic fit is far from perfect.
    assert fit.log_likelihood < -0.5 * len(train.y)


def test_a_file_changed_while_converting_is_not_cached(tmp_path, monkeypatch, small_chunks):
    path = write_higgs_like(tmp_path / "h.csv", 20, seed=1).path
    original = _higgs._parse_chunks

    def touching(*args):
        for index, chunk in enumerate(original(*args)):
            if index == 1:
                os.utime(path, ns=(10**9, 10**9))
            yield chunk

    monkeypatch.setattr(_higgs, "_parse_chunks", touching)
    with pytest.raises(ValueError, match=r"h\.csv changed while it was being read"):
        load_higgs(path, progress=False)
    assert not list((tmp_path / "h.csv.cache").iterdir())  # no metadata, no temporary files


def test_test_size_is_a_deprecated_name_of_test_rows(tmp_path):
    info = write_higgs_like(tmp_path / "HIGGS.csv", 40)
    with pytest.warns(FutureWarning, match=r"pass test_rows=7 \(a number of rows\)"):
        old = load_higgs(info.path, test_size=7, cache=False, progress=False)
    new = load_higgs(info.path, test_rows=7, cache=False, progress=False)
    assert np.array_equal(old.test.X, new.test.X) and len(new.test.y) == 7
    with pytest.raises(ValueError, match="pass test_rows only"):
        load_higgs(info.path, test_rows=7, test_size=7, progress=False)
