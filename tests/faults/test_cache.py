"""The folder of kept programs is optional, and a damaged kept program never breaks a fit.

bayeslogreg keeps programs on disk (:mod:`bayeslogreg._programs`, JAX's persistent
cache). A folder that cannot be written (read-only, full) is dropped with one
``CacheWarning``; a kept program that is damaged is traced again and replaced. Either
way the numbers are those of a run without the cache, bit for bit.

The tests run as root on some machines, where permission bits are ignored: read-only
and full folders are simulated by making the system calls under the folder fail, and
tried for real on a small tmpfs where the test may mount one.
"""

import builtins
import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
import pytest
from jax._src import compilation_cache

from bayeslogreg import CacheWarning, _jax, _programs, fit_map, sample_posterior
from bayeslogreg._jax import COMPILATION_CACHE_ENV, use_compilation_cache
from bayeslogreg.datasets import simulate

ROOT = Path(__file__).resolve().parents[2]
SHORT_NUTS = {"num_warmup": 60, "num_samples": 60, "num_chains": 2, "seed": 3}
SMALLER = simulate(500, [1.0, -0.5], seed=5)


@contextlib.contextmanager
def _jax_cache_unset():
    """Unset JAX's cache folder (one per process) and what was checked; restore after."""
    saved_dir = jax.config.jax_compilation_cache_dir
    saved_time = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_compilation_cache_dir", None)
    compilation_cache.reset_cache()
    _jax.forget()
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield monkeypatch
    jax.config.update("jax_compilation_cache_dir", saved_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", saved_time)
    compilation_cache.reset_cache()
    _jax.forget()


@pytest.fixture
def fresh():
    """A monkeypatch, with no JAX cache set up and no cache folder checked yet."""
    with _jax_cache_unset() as monkeypatch:
        yield monkeypatch


def _new_process():
    """What a new process starts with: nothing compiled in memory, no folder checked."""
    jax.clear_caches()
    _programs.forget()
    _jax.forget()


@pytest.fixture
def cache(fresh, tmp_path):
    """A fresh, empty cache folder that bayeslogreg uses."""
    path = tmp_path / "jax"
    fresh.setenv(COMPILATION_CACHE_ENV, str(path))
    return path


def _kept(cache: Path, name: str) -> list[Path]:
    return sorted((cache / _programs.PROGRAM_DIR).glob(f"{name}-*.jaxexport"))


def _numbers(fit) -> np.ndarray:
    return np.concatenate([fit.params, fit.stderr])


class Kept(NamedTuple):
    folder: Path  # a cache folder: JAX's compiled programs and two kept programs
    program: str  # the file name of the kept program of well_posed's fit
    other: str  # the file name of the kept program of SMALLER's fit (other shapes)
    reference: np.ndarray  # the numbers of well_posed's fit, without any cache


@pytest.fixture(scope="module")
def kept(tmp_path_factory, well_posed) -> Kept:
    """A MAP fit of well_posed and one of SMALLER, kept (made once for this module)."""
    folder = tmp_path_factory.mktemp("kept") / "jax"
    with _jax_cache_unset() as monkeypatch:
        monkeypatch.setenv(COMPILATION_CACHE_ENV, "")
        reference = _numbers(fit_map(well_posed.X, well_posed.y))
        monkeypatch.setenv(COMPILATION_CACHE_ENV, str(folder))
        fit_map(well_posed.X, well_posed.y)
        (program,) = _kept(folder, "fit-newton")
        fit_map(SMALLER.X, SMALLER.y)
        (other,) = set(_kept(folder, "fit-newton")) - {program}
    return Kept(folder, program.name, other.name, reference)


def _seed(cache: Path, kept: Kept, *, programs: bool) -> None:
    """Copy the kept folder to ``cache``: JAX's compiled programs, and ours if ``programs``."""
    shutil.copytree(kept.folder, cache)
    if not programs:
        shutil.rmtree(cache / _programs.PROGRAM_DIR)


def _cache_warnings(seen) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]


def _assert_identical(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def _make_unwritable(monkeypatch, folder: Path, code: int) -> None:
    """System calls that create or write files under ``folder`` fail with ``code``.

    EROFS, EACCES: creating a file or folder fails (a read-only folder). ENOSPC: files
    are created, writing to them fails (a full disk).
    """
    real_open, real_mkdir, real_write, real_close = os.open, os.mkdir, os.write, os.close
    doomed = set()

    def under(path) -> bool:
        return Path(os.path.abspath(path)).is_relative_to(folder)

    def failing_open(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            if code != errno.ENOSPC:
                raise OSError(code, os.strerror(code), str(path))
            fd = real_open(path, flags, *args, **kwargs)
            doomed.add(fd)
            return fd
        return real_open(path, flags, *args, **kwargs)

    def failing_mkdir(path, *args, **kwargs):
        if under(path) and code != errno.ENOSPC:
            raise OSError(code, os.strerror(code), str(path))
        return real_mkdir(path, *args, **kwargs)

    def failing_write(fd, data):
        if fd in doomed:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def close(fd):
        doomed.discard(fd)
        return real_close(fd)

    def failing_builtin_open(file, mode="r", *args, **kwargs):
        if isinstance(file, str | os.PathLike) and under(file) and set(mode) & set("wax+"):
            raise OSError(code, os.strerror(code), str(file))
        return real_builtin_open(file, mode, *args, **kwargs)

    real_builtin_open = builtins.open
    monkeypatch.setattr(os, "open", failing_open)
    monkeypatch.setattr(os, "mkdir", failing_mkdir)
    monkeypatch.setattr(os, "write", failing_write)
    monkeypatch.setattr(os, "close", close)
    monkeypatch.setattr(builtins, "open", failing_builtin_open)
    monkeypatch.setattr("io.open", failing_builtin_open)


# ---------------------------------------------------------------------------------------
# Item 4: a folder that cannot be written.


@pytest.mark.parametrize(
    ("code", "exists"),
    [(errno.EROFS, True), (errno.EACCES, False), (errno.ENOSPC, True)],
    ids=["read-only", "no permission to make it", "full"],
)
def test_a_cache_folder_that_cannot_be_written_warns_once_and_fits_the_same(
    fresh, cache, kept, well_posed, code, exists
):
    if exists:
        cache.mkdir()
    _make_unwritable(fresh, cache, code)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", CacheWarning)
        fits = [fit_map(well_posed.X, well_posed.y) for _ in range(2)]
        fit_map(SMALLER.X, SMALLER.y)
    (message,) = _cache_warnings(seen)
    assert str(cache) in message
    assert os.strerror(code) in message
    assert "traced and compiled afresh in every run" in message
    assert f"Set {COMPILATION_CACHE_ENV} to a writable folder" in message
    for fit in fits:
        np.testing.assert_array_equal(_numbers(fit), kept.reference)
    assert use_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir is None, "JAX's cache points at the folder"
    assert not cache.exists() or not list(cache.rglob("*")), "something was left in the folder"


def test_the_default_cache_folder_under_the_home_is_optional_too(fresh, tmp_path, well_posed):
    fresh.delenv(COMPILATION_CACHE_ENV, raising=False)
    fresh.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _make_unwritable(fresh, tmp_path / "xdg", errno.EROFS)
    with pytest.warns(CacheWarning, match="cannot write to the cache of compiled programs") as seen:
        fit_map(well_posed.X, well_posed.y)
        fit_map(well_posed.X, well_posed.y)
    assert len(seen) == 1
    assert str(tmp_path / "xdg" / "bayeslogreg" / "jax") in str(seen[0].message)


def test_a_cache_folder_that_fills_up_during_a_fit_warns_once_and_stops_keeping(
    fresh, cache, kept, well_posed
):
    _seed(cache, kept, programs=False)
    _new_process()
    assert use_compilation_cache() == cache
    assert jax.config.jax_compilation_cache_dir == str(cache)
    # The folder was writable when first used; now the disk is full.
    _make_unwritable(fresh, cache, errno.ENOSPC)
    with pytest.warns(CacheWarning, match="No space left on device") as seen:
        fit = fit_map(well_posed.X, well_posed.y)
        fit_map(SMALLER.X, SMALLER.y)
    assert len(seen) == 1
    np.testing.assert_array_equal(_numbers(fit), kept.reference)
    assert not _kept(cache, "fit"), "a program was kept in the full folder"
    assert not list(cache.rglob("*.tmp")), "a temporary file was left"
    assert use_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir is None, "JAX still writes to the full folder"


@pytest.mark.parametrize("stage", ["write", "read"])
def test_jax_failing_to_write_or_read_its_own_cache_does_not_fail_a_fit(
    fresh, cache, kept, well_posed, stage
):
    # Warnings are errors in this suite: JAX's own warning about it would fail the fit.
    if stage == "read":
        _seed(cache, kept, programs=True)

    def fails(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    name = "put_executable_and_time" if stage == "write" else "get_executable_and_time"
    fresh.setattr(compilation_cache, name, fails)
    _new_process()
    fit = fit_map(well_posed.X, well_posed.y)
    np.testing.assert_array_equal(_numbers(fit), kept.reference)


def _mount_tmpfs(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)]
    with contextlib.suppress(OSError):
        return subprocess.run(command, capture_output=True).returncode == 0
    return False


@pytest.mark.parametrize("state", ["read-only", "full"])
def test_a_real_read_only_or_full_file_system_is_survived(fresh, tmp_path, kept, well_posed, state):
    mount = tmp_path / "mount"
    if not _mount_tmpfs(mount):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        (mount / "jax").mkdir()
        if state == "full":
            with open(mount / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
                while True:
                    filler.write(b"x" * 4096)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        fresh.setenv(COMPILATION_CACHE_ENV, str(mount / "jax"))
        with pytest.warns(CacheWarning, match=re.escape(str(mount / "jax"))) as seen:
            fits = [fit_map(well_posed.X, well_posed.y) for _ in range(2)]
        assert len(seen) == 1
        for fit in fits:
            np.testing.assert_array_equal(_numbers(fit), kept.reference)
    finally:
        jax.config.update("jax_compilation_cache_dir", None)
        compilation_cache.reset_cache()
        subprocess.run(["umount", str(mount)], check=True)


CHILD = """
import json, sys, warnings
from bayeslogreg import CacheWarning, ConvergenceWarning, sample_posterior
from bayeslogreg.datasets import simulate

warnings.simplefilter("error")
warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("always", CacheWarning)
with warnings.catch_warnings(record=True) as seen:
    data = simulate(60, [1.0, -0.5], seed=4)
    posterior = sample_posterior(data.X, data.y, **json.loads(sys.argv[1]))
    table = posterior.summary()
report = {"warnings": [str(w.message) for w in seen], "rows": len(table)}
print(json.dumps({**report, "shape": list(posterior.draws.shape)}))
"""


def test_a_nuts_run_survives_a_home_folder_that_cannot_be_written(tmp_path):
    # ArviZ 0.23 writes under ~/.cache/arviz when first imported: after the draws are made.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file: nothing can be made under it")
    home = blocker / "home"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {COMPILATION_CACHE_ENV, "XDG_CACHE_HOME"}
    }
    # Matplotlib falls back to a temporary folder by itself; given one, it starts faster.
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.update(MPLCONFIGDIR=str(tmp_path / "matplotlib"))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(SHORT_NUTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    (message,) = report["warnings"]
    assert str(home / ".cache" / "bayeslogreg" / "jax") in message
    assert "Not a directory" in message
    assert report["rows"] == 3
    assert report["shape"] == [2, 60, 3]


# ---------------------------------------------------------------------------------------
# Item 5: a damaged kept program.


def _overwrite_middle(path: Path, other: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0x5A for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def _truncate(path: Path, other: Path | None) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path, other: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _empty(path: Path, other: Path) -> None:
    path.write_bytes(b"")


def _another_programs_file(path: Path, other: Path) -> None:
    path.write_bytes(other.read_bytes())


def _another_shape_under_this_key(path: Path, other: Path) -> None:
    # A well-formed file for this key that holds a program of other shapes: it
    # deserialises, and fails when called with this fit's arguments.
    payload = other.read_bytes().partition(b"\n")[2]
    path.write_bytes(_programs._framed(_key(path), payload))


def _unframed_program(path: Path, other: Path) -> None:
    # A bare serialised program, as kept before files were checksummed.
    path.write_bytes(path.read_bytes().partition(b"\n")[2])


DAMAGES = [
    _overwrite_middle,
    _truncate,
    _garbage,
    _empty,
    _another_programs_file,
    _another_shape_under_this_key,
    _unframed_program,
]


def _never_traced(monkeypatch):
    def trace(*args):
        raise AssertionError("the kept program was traced again")

    monkeypatch.setattr(_programs, "_trace", trace)


def _key(path: Path) -> str:
    return path.stem.rsplit("-", 1)[1]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda damage: damage.__name__.strip("_"))
def test_a_damaged_kept_program_is_traced_again_and_replaced(
    fresh, cache, kept, well_posed, damage
):
    _seed(cache, kept, programs=True)
    path = cache / _programs.PROGRAM_DIR / kept.program
    good = path.read_bytes()
    damage(path, cache / _programs.PROGRAM_DIR / kept.other)
    assert path.read_bytes() != good
    for _ in range(2):  # the damaged file, then the file put in its place
        _new_process()
        fit = fit_map(well_posed.X, well_posed.y)
        np.testing.assert_array_equal(_numbers(fit), kept.reference)
        assert _programs._load(path, _key(path)) is not None, "the file was not replaced"
        _never_traced(fresh)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_damaged_sampler_programs_are_traced_again_and_give_the_same_draws(fresh, cache):
    data = simulate(60, [1.0, -0.5], seed=4)
    written = sample_posterior(data.X, data.y, **SHORT_NUTS)
    programs = _kept(cache, "nuts")
    assert len(programs) == 2
    for path in programs:
        _overwrite_middle(path, path)
    _new_process()
    read = sample_posterior(data.X, data.y, **SHORT_NUTS)
    np.testing.assert_array_equal(read.draws, written.draws)
    _new_process()
    _never_traced(fresh)
    again = sample_posterior(data.X, data.y, **SHORT_NUTS)
    np.testing.assert_array_equal(again.draws, written.draws)


def _fails_once(monkeypatch, module, name: str, error: Exception) -> list:
    real, calls = getattr(module, name), []

    def fails_first(*args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, fails_first)
    return calls


class _Uncallable:
    """A deserialised program whose ``call`` fails (as when lowering it fails)."""

    def call(self, *args):
        raise TypeError("the kept program cannot be called with these arguments")


@pytest.mark.parametrize("stage", ["deserialize", "call", "compile"])
def test_any_failure_of_a_kept_program_means_tracing_it_again(
    fresh, cache, kept, well_posed, stage
):
    _seed(cache, kept, programs=True)
    path = cache / _programs.PROGRAM_DIR / kept.program
    load = _programs._load
    _new_process()
    if stage == "deserialize":
        calls = _fails_once(fresh, _programs.export, "deserialize", RuntimeError("damaged"))
    elif stage == "call":
        calls = []

        def load_uncallable(path, key):
            calls.append(path)
            return _Uncallable()

        fresh.setattr(_programs, "_load", load_uncallable)
    else:
        calls = _fails_once(fresh, _programs, "_compile", RuntimeError("XLA failed"))
    fit = fit_map(well_posed.X, well_posed.y)
    assert calls, "the kept program was not used"
    np.testing.assert_array_equal(_numbers(fit), kept.reference)
    assert load(path, _key(path)) is not None


def test_errors_that_are_not_about_the_kept_file_still_surface(fresh, cache, kept, well_posed):
    _seed(cache, kept, programs=True)
    _truncate(cache / _programs.PROGRAM_DIR / kept.program, None)
    _new_process()
    y = well_posed.y.copy()
    y[0] = 2
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        fit_map(well_posed.X, y)

    def trace(*args):
        raise ValueError("an error while tracing")

    fresh.setattr(_programs, "_trace", trace)
    with pytest.raises(ValueError, match="an error while tracing"):
        fit_map(well_posed.X, well_posed.y)
