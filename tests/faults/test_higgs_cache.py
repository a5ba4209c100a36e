"""The HIGGS cache verifies itself: damaged files are found, said and rebuilt, never served."""

import json
import pathlib
import tempfile

import numpy as np
import pytest

from bayeslogreg.datasets import _higgs_cache, load_higgs, write_higgs_like

ROWS = 2000  # X.npy: 448,128 bytes, so 32 blocks of 4 KiB sample under a third of it


@pytest.fixture
def source(tmp_path):
    return write_higgs_like(tmp_path / "h.csv", ROWS, seed=3).path


@pytest.fixture
def cached(source):
    """The source after a first load, which wrote its cache; and the cache's files."""
    load_higgs(source, progress=False)
    files = _higgs_cache.cache_files(source, None, np.dtype(np.float64), None)
    assert all(file.is_file() for file in files.values())
    return source, files


def record(files) -> dict:
    return json.loads(files["json"].read_text())


def flip(path, offset: int) -> None:
    """Invert the bits of one byte of ``path``."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ 0xFF]))


def whole(split) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([split.train.X, split.test.X]), np.concatenate(
        [split.train.y, split.test.y]
    )


def assert_rebuilt_and_right(source, files, split):
    """The data served are the file's, and the cache on disk now verifies in full."""
    X, y = whole(split)
    fresh_X, fresh_y = whole(load_higgs(source, cache=False, progress=False))
    np.testing.assert_array_equal(X, fresh_X)
    np.testing.assert_array_equal(y, fresh_y)
    again = load_higgs(source, verify="full", progress=False)  # no warning: it verifies
    np.testing.assert_array_equal(whole(again)[0], fresh_X)
    assert record(files)["format"] == 2


def test_the_record_holds_sizes_and_checksums_of_sampled_blocks(cached):
    source, files = cached
    written = record(files)["files"]
    size = files["X.npy"].stat().st_size
    offsets = written["X"]["sample_offsets"]
    assert written["X"]["bytes"] == size == 128 + ROWS * 28 * 8
    assert len(offsets) == _higgs_cache.SAMPLE_BLOCKS and offsets == sorted(offsets)
    assert offsets[0] == 0 and offsets[-1] == size - _higgs_cache.SAMPLE_BLOCK_BYTES
    with open(files["X.npy"], "rb") as handle:
        assert written["X"]["sample_sha256"] == _higgs_cache._sample_digest(handle, offsets, 4096)
    # y.npy (2,128 bytes) is smaller than one block: its one block is the whole file.
    assert written["y"]["sample_offsets"] == [0] and written["y"]["bytes"] == 128 + ROWS


def test_a_flipped_byte_in_a_sampled_block_is_found_and_the_cache_rebuilt(cached):
    source, files = cached
    middle = record(files)["files"]["X"]["sample_offsets"][15]
    flip(files["X.npy"], middle + 100)
    with pytest.warns(UserWarning) as caught:
        split = load_higgs(source, progress=False)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"The cache of h.csv in {files['json'].parent} does not match what was written: "
        f"{files['X.npy'].name}'s sampled blocks differ from what was written (checksum of 32 "
        "blocks of 4096 bytes). It is rebuilt from h.csv."
    )
    assert_rebuilt_and_right(source, files, split)


def test_a_flipped_byte_outside_the_sampled_blocks_needs_the_full_check(cached):
    source, files = cached
    written = record(files)["files"]["X"]
    # A byte in the data between two sampled blocks: the cheap check cannot see it.
    outside = written["sample_offsets"][15] + written["sample_block_bytes"] + 100
    assert outside < written["sample_offsets"][16]
    flip(files["X.npy"], outside)
    served, _ = whole(load_higgs(source, progress=False))  # documented: sampling misses it
    fresh, _ = whole(load_higgs(source, cache=False, progress=False))
    assert (served != fresh).sum() == 1
    with pytest.warns(UserWarning, match=r"X\.npy's SHA-256 differs from the one recorded"):
        split = load_higgs(source, verify="full", progress=False)
    assert_rebuilt_and_right(source, files, split)


@pytest.mark.parametrize(("part", "change"), [("X.npy", -100), ("X.npy", +8), ("y.npy", -1)])
def test_a_cut_or_extended_file_is_found_and_rebuilt(cached, part, change):
    source, files = cached
    data = files[part].read_bytes()
    files[part].write_bytes(data[:change] if change < 0 else data + bytes(change))
    found, written = len(data) + change, len(data)
    with pytest.warns(UserWarning, match=rf"{part} has {found:,} bytes where {written:,} were"):
        split = load_higgs(source, progress=False)
    assert_rebuilt_and_right(source, files, split)


def test_a_missing_file_or_a_changed_header_is_found_and_rebuilt(cached):
    source, files = cached
    files["y.npy"].unlink()
    with pytest.warns(UserWarning, match=r"y\.npy cannot be opened \(No such file"):
        load_higgs(source, progress=False)
    data = files["X.npy"].read_bytes()
    # Same length, other shape: numpy would map 2000 x 27 values.
    files["X.npy"].write_bytes(data.replace(b"(2000, 28)", b"(2000, 27)", 1))
    with pytest.warns(UserWarning, match=r"X\.npy's \.npy header differs from the one written"):
        split = load_higgs(source, progress=False)
    assert_rebuilt_and_right(source, files, split)


def _other_checksum(meta):
    meta["files"]["X"]["sample_sha256"] = "0" * 64
    return json.dumps(meta)


def _other_dtype(meta):
    meta["dtype"] = "float32"
    return json.dumps(meta)


def _no_files(meta):
    del meta["files"]
    return json.dumps(meta)


def _bad_offsets(meta):
    meta["files"]["X"]["sample_offsets"] = [-1]
    return json.dumps(meta)


def _other_format(meta):
    meta["format"] = 99
    return json.dumps(meta)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (lambda meta: "not json {", "cannot be read as JSON"),
        (lambda meta: "[1, 2]", "is not a JSON object"),
        (lambda meta: "", "cannot be read as JSON"),
        (_other_checksum, r"X\.npy's sampled blocks differ"),
        (_other_dtype, "its record is of dtype 'float32', not 'float64'"),
        (_no_files, r"is damaged \(KeyError: 'files'\)"),
        (_bad_offsets, r"is damaged \(ValueError: sampled blocks 4096 at \[-1\]\)"),
        (_other_format, "has format 99"),
    ],
)
def test_a_replaced_record_is_found_and_the_cache_rebuilt(cached, replace, message):
    source, files = cached
    files["json"].write_text(replace(record(files)))
    with pytest.warns(UserWarning, match=rf"does not match what was written: .*{message}"):
        split = load_higgs(source, progress=False)
    assert_rebuilt_and_right(source, files, split)


def test_a_cache_of_the_first_format_is_rebuilt_without_a_warning(cached):
    source, files = cached
    old = record(files)
    old["format"] = 1
    del old["files"]
    files["json"].write_text(json.dumps(old))
    split = load_higgs(source, progress=False)  # warnings are errors here
    assert_rebuilt_and_right(source, files, split)


def test_a_damaged_cache_of_all_rows_is_not_used_for_fewer(cached):
    source, files = cached
    flip(files["X.npy"], 200)
    with pytest.warns(UserWarning, match=r"sampled blocks differ .* It is not used\."):
        part = load_higgs(source, n_rows=500, test_rows=0, progress=False)
    fresh, _ = whole(load_higgs(source, cache=False, progress=False))
    np.testing.assert_array_equal(part.train.X, fresh[:500])
    assert _higgs_cache.cache_files(source, None, np.dtype(np.float64), 500)["json"].is_file()


@pytest.fixture
def read_only(monkeypatch):
    """Make a folder refuse new files and removals, as a read-only one does (even for root)."""

    def make(folder):
        folder = pathlib.Path(folder).resolve()
        mkstemp, unlink = tempfile.mkstemp, pathlib.Path.unlink

        def refused_mkstemp(*args, dir=None, **kwargs):
            if dir is not None and pathlib.Path(dir).resolve() == folder:
                raise PermissionError(13, "Permission denied", str(folder))
            return mkstemp(*args, dir=dir, **kwargs)

        def refused_unlink(self, *args, **kwargs):
            if self.resolve().parent == folder:
                raise PermissionError(13, "Permission denied", str(self))
            return unlink(self, *args, **kwargs)

        monkeypatch.setattr(_higgs_cache.tempfile, "mkstemp", refused_mkstemp)
        monkeypatch.setattr(pathlib.Path, "unlink", refused_unlink)

    return make


def test_a_damaged_cache_that_cannot_be_rebuilt_is_never_served(cached, read_only):
    source, files = cached
    flip(files["X.npy"], 200)
    damaged = files["X.npy"].read_bytes()
    read_only(files["json"].parent)
    for _ in range(2):  # and not on the next call either
        with pytest.warns(UserWarning, match="sampled blocks differ"):
            with pytest.raises(ValueError, match=r"Cannot write the cache of .*h\.csv in .*"):
                load_higgs(source, progress=False)
    assert files["X.npy"].read_bytes() == damaged and files["json"].is_file()
    # Parsing without the cache still works, and says nothing about it.
    X, _ = whole(load_higgs(source, cache=False, progress=False))
    assert X.shape == (ROWS, 28)


def test_verify_is_checked_before_any_work(source, monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr("bayeslogreg.datasets._higgs._parse_chunks", no_parsing)
    with pytest.raises(ValueError, match=r"verify must be one of \['full', 'sample'\]; got 'md5'"):
        load_higgs(source, verify="md5", progress=False)
    with pytest.raises(ValueError, match=r"verify='full' checks the cache, and cache=False has"):
        load_higgs(source, verify="full", cache=False, progress=False)
