"""Crafted NetCDF files: Posterior.load never reads other files, nor allocates without bound.

Each hostile file is a genuine saved posterior with one object added by h5py. Where the
object would read another file, a positive control shows that xarray (or the loader
without the check) does read it, and an inotify watch on that file shows that loading
opened nothing: the check runs, and refuses, before xarray or ArviZ see the file.
"""

import ctypes
import os
import shutil
import struct
import sys
import warnings
import zlib

import h5py
import numpy as np
import pytest
import xarray as xr

import bayeslogreg as blr
from bayeslogreg import ConvergenceWarning, Posterior, _arviz, _hdf5
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import nuts

SECRET = b"root:x:0:0:the content of another file, never to be read\n"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A genuine posterior file (2 chains x 50 draws, 3 coefficients, 120 rows)."""
    data = simulate(120, [1.0, -0.5, 0.0], intercept=0.3, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # too few draws for the ESS target
        post = blr.sample_posterior(
            data.X, data.y, sampler="imh", num_chains=2, num_warmup=5, num_samples=50, seed=1
        )
    return post, post.save(tmp_path_factory.mktemp("saved") / "posterior.nc")


@pytest.fixture
def crafted(saved, tmp_path):
    """A copy of the genuine file, to add hostile objects to."""
    return shutil.copy(saved[1], tmp_path / "crafted.nc")


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_bytes(SECRET)
    return path


@pytest.fixture
def secret_hdf5(tmp_path):
    path = tmp_path / "secret.h5"
    with h5py.File(path, "w") as file:
        file["x"] = np.frombuffer(SECRET[:56], dtype="<f8")
    return path


class ReadWatch:
    """Whether any process opens or reads a file, through Linux's inotify."""

    IN_ACCESS, IN_OPEN, IN_NONBLOCK = 0x1, 0x20, 0o4000

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(self.IN_NONBLOCK)
        watch = self.libc.inotify_add_watch(
            self.fd, os.fsencode(path), self.IN_ACCESS | self.IN_OPEN
        )
        assert self.fd >= 0 and watch >= 0, os.strerror(ctypes.get_errno())

    def events(self) -> list[int]:
        """Masks of the events since the last call."""
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return []
        masks, offset = [], 0
        while offset < len(data):
            _, mask, _, length = struct.unpack_from("iIII", data, offset)
            masks.append(mask)
            offset += 16 + length
        return masks

    def close(self):
        os.close(self.fd)


@pytest.fixture
def watch():
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux's")
    watches = []

    def start(path):
        watches.append(ReadWatch(path))
        return watches[-1]

    yield start
    for one in watches:
        one.close()


def refuse_readers(patch):
    """Make every way into xarray and ArviZ fail: the check must come before them."""

    def refuse(*args, **kwargs):
        raise AssertionError("the file reached xarray or ArviZ before it was checked")

    patch.setattr(xr, "load_datatree", refuse, raising=False)
    patch.setattr(xr, "open_dataset", refuse)
    patch.setattr(_arviz.arviz(), "from_netcdf", refuse, raising=False)


@pytest.fixture
def no_reader(monkeypatch):
    refuse_readers(monkeypatch)


def refused(path, *parts):
    """Posterior.load's refusal of ``path``; its message names the file and ``parts``."""
    with pytest.raises(ValueError) as caught:
        Posterior.load(path)
    message = str(caught.value)
    for part in (str(path), *parts, "bayeslogreg never writes that"):
        assert part in message, (part, message)
    return message


def phony_quiet_load(path, group):
    """What xarray reads of a group (h5netcdf warns about unnamed dimensions)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return xr.load_dataset(path, group=group, engine="h5netcdf")


def test_external_storage_is_refused_before_the_other_file_is_read(
    crafted, secret, watch, monkeypatch
):
    # The attack: the intercept's draws are the bytes of another file.
    values = np.frombuffer(SECRET[:48].ljust(800, b"\0"), dtype="<f8")
    secret.write_bytes(values.tobytes())
    with h5py.File(crafted, "a") as file:
        group = file["posterior"]
        attrs = {k: v for k, v in group["intercept"].attrs.items() if k != "DIMENSION_LIST"}
        del group["intercept"]
        stolen = group.create_dataset(
            "intercept", shape=(2, 50), dtype="<f8", external=[(str(secret), 0, 800)]
        )
        stolen.dims[0].attach_scale(group["chain"])
        stolen.dims[1].attach_scale(group["draw"])
        stolen.attrs.update(attrs)
    reads = watch(secret)
    with monkeypatch.context() as patch:
        refuse_readers(patch)
        refused(crafted, "/posterior/intercept", "external storage", str(secret))
    assert reads.events() == []
    # Positive control: without the check, the other file's bytes come back as draws.
    monkeypatch.setattr(_hdf5, "check_untrusted", lambda path, limits: None)
    unchecked = Posterior.load(crafted)
    assert unchecked.draws[..., 0].tobytes() == values.tobytes()
    assert reads.events() != []


@pytest.mark.parametrize("kind", ["virtual dataset", "external link"])
def test_virtual_datasets_and_external_links_are_refused_unopened(
    crafted, secret_hdf5, watch, no_reader, kind
):
    with h5py.File(crafted, "a") as file:
        if kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(7,), dtype="<f8")
            layout[:] = h5py.VirtualSource(str(secret_hdf5), "x", shape=(7,))
            file["posterior"].create_virtual_dataset("elsewhere", layout)
        else:
            file["posterior/elsewhere"] = h5py.ExternalLink(str(secret_hdf5), "/x")
    reads = watch(secret_hdf5)
    refused(crafted, "/posterior/elsewhere", kind, str(secret_hdf5))
    assert reads.events() == []


@pytest.mark.parametrize("kind", ["virtual dataset", "external link"])
def test_xarray_alone_would_read_the_other_file(crafted, secret_hdf5, watch, kind):
    # The positive control of the test above: the same files, read without the check.
    with h5py.File(crafted, "a") as file:
        if kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(7,), dtype="<f8")
            layout[:] = h5py.VirtualSource(str(secret_hdf5), "x", shape=(7,))
            file["posterior"].create_virtual_dataset("elsewhere", layout)
        else:
            file["posterior/elsewhere"] = h5py.ExternalLink(str(secret_hdf5), "/x")
    reads = watch(secret_hdf5)
    data = phony_quiet_load(crafted, "posterior")
    assert data["elsewhere"].values.tobytes() == SECRET[:56]
    assert reads.events() != []


def test_soft_links_and_second_names_are_refused(crafted, no_reader):
    with h5py.File(crafted, "a") as file:
        file["posterior/again"] = h5py.SoftLink("/posterior/coef")
    refused(crafted, "/posterior/again", "soft link to /posterior/coef")
    with h5py.File(crafted, "a") as file:
        del file["posterior/again"]
        file["sample_stats/coef"] = file["posterior/coef"]  # one array, two names
    refused(crafted, "coef", "second hard link")


def test_a_huge_array_of_fill_values_is_refused_unread(crafted, no_reader):
    # 8 GB of float64 from a file of a few kilobytes: no chunk was ever written.
    with h5py.File(crafted, "a") as file:
        file["posterior"].create_dataset("huge", shape=(10**9,), dtype="<f8", fillvalue=7.0)
    limit = f"{nuts.FILE_LIMITS.max_array_bytes:,}"
    refused(crafted, "/posterior/huge", "8,000,000,000 bytes", limit)


def test_arrays_far_larger_than_the_file_are_refused(crafted, no_reader):
    # Each under the array bound, together 2 GiB of fill values from a ~100 kB file.
    with h5py.File(crafted, "a") as file:
        for index in range(2):
            file["posterior"].create_dataset(f"fill{index}", shape=(2**27,), dtype="<f8")
    message = refused(crafted, "/posterior/fill", f"more than {_hdf5.MAX_EXPANSION} times")
    assert "stores 0 bytes for 1,073,741,824" in message


def test_a_chunk_larger_than_any_saved_array_is_refused(crafted, no_reader):
    # Ten values, but a chunk is read whole: 2 GiB + 8 bytes for each read.
    chunk = nuts.FILE_LIMITS.max_array_bytes // 8 + 1
    with h5py.File(crafted, "a") as file:
        file["posterior"].create_dataset(
            "small", shape=(10,), maxshape=(None,), chunks=(chunk,), dtype="<f8"
        )
    refused(crafted, "/posterior/small", f"{8 * chunk:,} bytes")
    # Text too: each value's chunk slot is a 16-byte reference.
    with h5py.File(crafted, "a") as file:
        del file["posterior/small"]
        file["posterior"].create_dataset(
            "labels",
            shape=(3,),
            maxshape=(None,),
            chunks=(chunk // 2 + 1,),
            dtype=h5py.string_dtype(),
        )
    refused(crafted, "/posterior/labels", f"{16 * (chunk // 2 + 1):,} bytes")


def test_the_arrays_together_are_bounded(crafted, no_reader, monkeypatch):
    # Scaled down 2048-fold: arrays each within the bound of one, together beyond it.
    monkeypatch.setattr(nuts, "FILE_LIMITS", _hdf5.Limits(2**20, 2**20))
    with h5py.File(crafted, "a") as file:
        for index in range(3):
            file["posterior"].create_dataset(f"part{index}", data=np.zeros(2**16))
    refused(crafted, "its arrays would take", f"more than the {2**20:,}")


@pytest.mark.parametrize(
    ("dtype", "data"),
    [
        ("compound", np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")])),
        ("opaque", np.void(b"\x01\x02\x03")),
        ("vlen", None),
        ("reference", None),
        ("complex", np.zeros(3, dtype=np.complex128)),
    ],
)
def test_types_that_bayeslogreg_never_writes_are_refused(crafted, no_reader, dtype, data):
    with h5py.File(crafted, "a") as file:
        group = file["posterior"]
        if dtype == "vlen":
            values = np.empty(2, dtype=object)
            values[:] = [np.arange(3), np.arange(2)]
            group.create_dataset("odd", data=values, dtype=h5py.vlen_dtype("<i8"))
        elif dtype == "reference":
            group.create_dataset("odd", data=[group["coef"].ref], dtype=h5py.ref_dtype)
        else:
            group.create_dataset("odd", data=data)
    refused(crafted, "/posterior/odd", "numbers and text")


def test_text_is_measured_and_bounded(crafted, no_reader, monkeypatch):
    with h5py.File(crafted, "a") as file:
        file["posterior"].create_dataset(
            "grid", data=np.array([["a", "b"], ["c", "d"]], dtype=object), dtype=h5py.string_dtype()
        )
    refused(crafted, "/posterior/grid", "text in 2 dimensions")
    with h5py.File(crafted, "a") as file:
        del file["posterior/grid"]
        names = np.array(["x" * 1000] * 200, dtype=object)
        file["posterior"].create_dataset("names", data=names, dtype=h5py.string_dtype())
    # 200,000 bytes of text, over a bound of 100,000 bytes per array (the file's largest
    # numeric array, /log_likelihood/y, takes 96,000).
    monkeypatch.setattr(nuts, "FILE_LIMITS", _hdf5.Limits(100_000, 10**9))
    refused(crafted, "/posterior/names of shape (200,) (text) would take")


def test_long_variable_length_attributes_are_refused(crafted, no_reader):
    with h5py.File(crafted, "a") as file:
        file["posterior"].attrs.create(
            "many", data=np.array(["v"] * 33, dtype=object), dtype=h5py.string_dtype()
        )
    refused(crafted, "the attribute 'many' of /posterior holds 33 variable-length values")


def test_compressed_data_up_to_deflates_limit_is_read_but_fill_values_are_not(tmp_path):
    # Without the allowance for small files, the expansion bound alone: all-zero chunks
    # compressed by deflate (the most it expands, ~1028-fold) pass; the same array never
    # written (read as its fill value) does not.
    limits = _hdf5.Limits(2**30, 2**30)
    chunk = np.zeros(2**17)  # 1 MiB
    packed = zlib.compress(chunk.tobytes(), 9)
    compressed = tmp_path / "compressed.h5"
    with h5py.File(compressed, "w") as file:
        array = file.create_dataset(
            "zeros", shape=(64 * chunk.size,), chunks=chunk.shape, dtype="<f8", compression="gzip"
        )
        for index in range(64):
            array.id.write_direct_chunk((index * chunk.size,), packed)
    unwritten = tmp_path / "unwritten.h5"
    with h5py.File(unwritten, "w") as file:
        file.create_dataset("zeros", shape=(64 * chunk.size,), chunks=chunk.shape, dtype="<f8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_hdf5, "EXPANSION_ALLOWANCE", 0)
        assert 64 * chunk.nbytes / compressed.stat().st_size > 900  # with the file's metadata
        _hdf5.check_untrusted(compressed, limits)
        with pytest.raises(ValueError, match="/zeros stores 0 bytes for 67,108,864"):
            _hdf5.check_untrusted(unwritten, limits)
    # With the allowance, a small unwritten array (a NetCDF dimension without a
    # coordinate, say) still reads.
    _hdf5.check_untrusted(unwritten, limits)


def test_genuine_files_pass_and_load_as_before(saved, tmp_path, no_reader, monkeypatch):
    post, path = saved
    _hdf5.check_untrusted(path, nuts.FILE_LIMITS)
    monkeypatch.undo()  # xarray and ArviZ back
    back = Posterior.load(path)
    assert back.draws.tobytes() == post.draws.tobytes()
    # A file of other software passes the check and is refused for what it lacks.
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(ValueError, match="lacks the 'bayeslogreg' attribute"):
        Posterior.load(foreign)


def test_a_cut_file_is_reported_as_cut_short(saved, tmp_path):
    data = saved[1].read_bytes()
    for size in (64, len(data) // 3, len(data) - 100):
        path = tmp_path / f"cut{size}.nc"
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match="cannot be read as NetCDF4; is it cut short"):
            Posterior.load(path)
