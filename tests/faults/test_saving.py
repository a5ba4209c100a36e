"""Saving when the disk fills up or the writer is killed (issue 15, items 6 and 7).

A failed save raises one OSError that names the file and the cause, and leaves the old
file and no temporary behind; a killed save leaves at most hidden temporaries, which
the next save to the same place removes (and nothing else); a report folder is replaced
as a whole, so after any kill the folder holds the old report or the new one, complete.

Killed writers are processes forked from a server that imported bayeslogreg once
(``_save_worker.py``); each is killed with SIGKILL after a random delay, or kills itself
at a chosen step of the save.
"""

import dataclasses
import errno
import hashlib
import multiprocessing
import multiprocessing.forkserver
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import _save_worker
import numpy as np
import pytest

import bayeslogreg as blr
from bayeslogreg import ConvergenceWarning, PointEstimate, Posterior, _io
from bayeslogreg.cli import main
from bayeslogreg.datasets import simulate, train_test_split

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10
LEFTOVER = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
NO_SPACE = os.strerror(errno.ENOSPC)

posix_only = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL, fork servers and flock are POSIX"
)


# -------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fits_folder(tmp_path_factory):
    """One-feature fits (MLE, MAP) and their data, saved for the workers to load."""
    folder = tmp_path_factory.mktemp("fits")
    data = simulate(300, [1.2], intercept=-0.4, seed=3)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, seed=0)
    blr.fit_mle(X_train, y_train).save(folder / "mle.json")
    blr.fit_map(X_train, y_train).save(folder / "map.json")
    np.savez(folder / "data.npz", X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)
    return folder


@pytest.fixture(scope="module")
def report_pair(fits_folder, tmp_path_factory):
    """Reports A and B (as the workers build them) and the manifest of each, saved."""
    a, b = _save_worker.reports(fits_folder)
    folder = tmp_path_factory.mktemp("manifests")
    a.save(folder / "A")
    b.save(folder / "B")
    return {
        "A": a,
        "B": b,
        "manifest A": read_manifest(folder / "A"),
        "manifest B": read_manifest(folder / "B"),
        "drawn": {title: drawn(folder / title) for title in "AB"},
    }


@pytest.fixture
def reports(report_pair, monkeypatch):
    """The reports, which save here without drawing their figures again (same bytes)."""
    _save_worker.draw_from(report_pair["drawn"], monkeypatch.setattr)
    return report_pair


def drawn(folder: Path) -> dict:
    """A saved report's figures and HTML page, as bytes by name (for the workers)."""
    paths = [*folder.glob("figures/*.png"), folder / "report.html"]
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in paths}


def read_manifest(folder: Path) -> dict:
    """Every entry under ``folder`` (hidden ones too): a file's SHA-256, or 'folder'."""
    return {
        path.relative_to(folder).as_posix(): (
            "folder" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        )
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    """A small posterior (2 chains x 100 draws, 120 rows), saved."""
    data = simulate(120, [1.0, -0.5, 0.0], intercept=0.3, seed=4)
    with warnings.catch_warnings():
        # 2 x 100 draws are too few for the ESS target; the file only has to hold them.
        warnings.simplefilter("ignore", ConvergenceWarning)
        posterior = blr.sample_posterior(
            data.X, data.y, num_chains=2, num_warmup=100, num_samples=100, seed=2
        )
    return posterior.save(tmp_path_factory.mktemp("posterior") / "posterior.nc")


@pytest.fixture(scope="module")
def fork_server():
    """A multiprocessing context whose server process has imported ``_save_worker``."""
    if sys.platform == "win32":
        pytest.skip("no fork server on Windows")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["_save_worker"])
    # The server imports the preloaded module by the environment's path, not this
    # process's sys.path; each worker then gets this process's sys.path.
    saved = os.environ.get("PYTHONPATH")
    path = [str(ROOT), str(Path(__file__).parent), *([saved] if saved else [])]
    os.environ["PYTHONPATH"] = os.pathsep.join(path)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    return context


def start(context, function, *args):
    """Start ``function(*args, conn)`` in a worker; return the process and the receiver."""
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=function, args=(*args, sender), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def receive(process, receiver, timeout: float = 300.0):
    """The worker's next message; fails with its exit code if it ends without one."""
    if not receiver.poll(timeout):
        process.kill()
        pytest.fail(f"the worker sent nothing in {timeout} s")
    try:
        return receiver.recv()
    except EOFError:
        process.join()
        pytest.fail(f"the worker ended (exit code {process.exitcode}) without a message")


def kill(process) -> None:
    process.kill()
    process.join()
    assert process.exitcode == -signal.SIGKILL, f"the worker ended by itself: {process.exitcode}"


def siblings(target: Path) -> list[str]:
    """Names beside ``target`` other than its own."""
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


# ------------------------------------------------------------------------------- full disk


def fill_the_disk_after(monkeypatch, free_bytes: int) -> None:
    """Make os.write behave as on a disk with ``free_bytes`` left: short, then ENOSPC."""
    write, left = os.write, [free_bytes]

    def write_until_full(fd, data):
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, NO_SPACE)
        written = write(fd, memoryview(data)[: left[0]])
        left[0] -= written
        return written

    monkeypatch.setattr(os, "write", write_until_full)


@pytest.mark.parametrize("what", ["PointEstimate", "Posterior", "Comparison"])
def test_a_full_disk_fails_a_save_with_one_oserror_and_keeps_the_old(
    what, fits_folder, reports, posterior_file, monkeypatch, tmp_path
):
    if what == "PointEstimate":
        target = tmp_path / "fit.json"
        old = PointEstimate.load(fits_folder / "mle.json")
        new = PointEstimate.load(fits_folder / "map.json")
    elif what == "Posterior":
        target = tmp_path / "posterior.nc"
        old = Posterior.load(posterior_file)
        new = dataclasses.replace(old, seed=99)
    else:
        target = tmp_path / "report"
        old, new = reports["A"], reports["B"]
    old.save(target)
    before = read_manifest(tmp_path)

    fill_the_disk_after(monkeypatch, free_bytes=500)
    with pytest.raises(OSError) as raised:
        new.save(target)
    assert raised.type is OSError and raised.value.errno == errno.ENOSPC
    message = str(raised.value)
    assert str(target) in message and NO_SPACE in message, message
    assert "Free some space" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert read_manifest(tmp_path) == before  # the old file, and nothing else


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, where the system lets this process mount one (root, not CI containers)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs Linux and root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]
    done = subprocess.run(mount, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@posix_only
def test_a_posterior_save_on_a_really_full_disk_raises_and_the_process_lives(
    posterior_file, small_disk, fork_server
):
    target = small_disk / "posterior.nc"
    shutil.copyfile(posterior_file, target)
    before = target.read_bytes()
    # Leave room for half a file: h5py writing there itself crashed the process.
    stats = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(bytes(stats.f_bavail * stats.f_frsize - len(before) // 2))

    process, receiver = start(fork_server, _save_worker.save_posterior_once, posterior_file, target)
    result = receive(process, receiver)
    process.join()
    assert process.exitcode == 0
    assert result is not None, "the save succeeded on a full disk"
    kind, code, message = result
    assert (kind, code) == ("OSError", errno.ENOSPC), message
    assert str(target) in message and NO_SPACE in message, message
    assert target.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "posterior.nc"]


# ------------------------------------------------------------------------- killed writers


@posix_only
def test_a_posterior_save_killed_at_random_points_leaves_a_whole_file_and_no_leftovers(
    posterior_file, fork_server, tmp_path
):
    expected = Posterior.load(posterior_file).draws
    target = tmp_path / "posterior.nc"
    rng = random.Random(15_7)
    for _ in range(KILLS):
        process, receiver = start(
            fork_server, _save_worker.save_posterior_repeatedly, posterior_file, target
        )
        duration = receive(process, receiver)
        receiver.poll(rng.uniform(0.0, 2.0 * duration))  # a sleep: nothing more comes
        kill(process)
        np.testing.assert_array_equal(Posterior.load(target).draws, expected)
        assert all(LEFTOVER.fullmatch(name) for name in siblings(target)), siblings(target)
    Posterior.load(posterior_file).save(target)
    assert siblings(target) == []
    np.testing.assert_array_equal(Posterior.load(target).draws, expected)


@posix_only
def test_a_posterior_save_killed_before_its_rename_leaves_a_temporary_the_next_save_removes(
    posterior_file, fork_server, tmp_path
):
    target = tmp_path / "posterior.nc"
    shutil.copyfile(posterior_file, target)
    before = target.read_bytes()
    process, receiver = start(
        fork_server, _save_worker.save_posterior_killed_before_the_rename, posterior_file, target
    )
    assert receive(process, receiver) == "saving"
    process.join()
    assert process.exitcode == -signal.SIGKILL
    assert target.read_bytes() == before
    (leftover,) = siblings(target)
    assert LEFTOVER.fullmatch(leftover) and leftover.startswith(".posterior.nc.")
    assert (tmp_path / leftover).stat().st_size > len(before) // 2  # a whole new file
    Posterior.load(posterior_file).save(target)
    assert siblings(target) == []


@posix_only
def test_a_report_save_killed_at_random_points_leaves_the_old_or_the_new_report(
    fits_folder, reports, fork_server, tmp_path
):
    target = tmp_path / "report"
    whole = (reports["manifest A"], reports["manifest B"])
    rng = random.Random(15_7)
    for _ in range(KILLS):
        process, receiver = start(
            fork_server,
            _save_worker.save_reports_repeatedly,
            fits_folder,
            target,
            reports["drawn"],
        )
        duration = receive(process, receiver)
        receiver.poll(rng.uniform(0.0, 2.0 * duration))
        kill(process)
        found = read_manifest(target)
        unlike = [sorted(k for k in {*found, *m} if found.get(k) != m.get(k)) for m in whole]
        assert found in whole, f"the folder mixes two reports; unlike A, B in: {unlike}"
        assert all(LEFTOVER.fullmatch(name) for name in siblings(target)), siblings(target)
    reports["A"].save(target)
    assert siblings(target) == []
    assert read_manifest(target) == reports["manifest A"]


@posix_only
@pytest.mark.parametrize(
    ("point", "after"),
    [
        ("while_writing", "A"),
        ("after_the_swap", "B"),
        ("while_deleting_the_old", "B"),
        ("between_renames_without_exchange", None),
    ],
)
def test_a_report_save_killed_at_each_step_leaves_a_whole_report_and_the_next_save_cleans_up(
    point, after, fits_folder, reports, fork_server, tmp_path
):
    target = tmp_path / "report"
    reports["A"].save(target)
    process, receiver = start(
        fork_server,
        _save_worker.save_report_killed_at,
        fits_folder,
        target,
        reports["drawn"],
        point,
    )
    assert receive(process, receiver) == "saving"
    process.join()
    assert process.exitcode == -signal.SIGKILL
    if after is None:
        # Without an atomic exchange there is a moment with no folder at all: the old
        # report and the new wait, whole, under hidden names; the next save removes them.
        assert not target.exists()
        waiting = [read_manifest(tmp_path / name) for name in siblings(target)]
        assert sorted(waiting, key=len) == [reports["manifest B"], reports["manifest A"]]
    else:
        assert read_manifest(target) == reports[f"manifest {after}"]
    assert siblings(target) and all(LEFTOVER.fullmatch(name) for name in siblings(target))
    reports["B"].save(target)
    assert siblings(target) == []
    assert read_manifest(target) == reports["manifest B"]


def test_without_an_atomic_exchange_the_report_is_still_replaced_whole(
    reports, monkeypatch, tmp_path
):
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    target = tmp_path / "report"
    reports["A"].save(target)
    reports["B"].save(target)
    assert read_manifest(target) == reports["manifest B"]  # A's extra figure is gone
    assert siblings(target) == []


# ------------------------------------------------------------- what the cleanup may touch


def test_the_next_save_removes_only_the_leftovers_of_its_own_target(fits_folder, tmp_path):
    target = tmp_path / "fit.json"
    leftovers = [".fit.json.abcd1234.tmp", ".fit.json.x_9_0qrs.tmp"]
    for name in leftovers:
        (tmp_path / name).write_text("half a file")
    (tmp_path / ".fit.json.dir_0000.tmp").mkdir()
    (tmp_path / ".fit.json.dir_0000.tmp" / "inner").write_text("a killed folder save")
    others = [
        ".fit.json.tmp",
        ".fit.json.abcd1234.tmp.bak",
        ".fit.json.abcd123.tmp",
        ".fit.json.ABCD1234.tmp",
        "fit.json.abcd1234.tmp",
        ".fit.jsonx.abcd1234.tmp",
        ".xfit.json.abcd1234.tmp",
        ".other.json.abcd1234.tmp",
        "notes.txt",
    ]
    for name in others:
        (tmp_path / name).write_text("not ours")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("behind a link")
    (tmp_path / ".fit.json.link0000.tmp").symlink_to(outside)

    PointEstimate.load(fits_folder / "mle.json").save(target)
    assert siblings(target) == sorted([*others, ".fit.json.link0000.tmp", "elsewhere"])
    assert (outside / "keep.txt").read_text() == "behind a link"
    assert all((tmp_path / name).read_text() == "not ours" for name in others)


@posix_only
def test_a_temporary_file_of_a_writer_still_running_is_not_removed(fits_folder, tmp_path):
    import fcntl

    target = tmp_path / "fit.json"
    live = tmp_path / ".fit.json.live0000.tmp"
    live.write_text("being written")
    with open(live, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)  # as a running writer holds it
        PointEstimate.load(fits_folder / "mle.json").save(target)
        assert live.read_text() == "being written"
    PointEstimate.load(fits_folder / "mle.json").save(target)
    assert siblings(target) == []


def test_a_report_is_not_saved_over_a_folder_holding_other_files(reports, tmp_path):
    target = tmp_path / "results"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "figures").mkdir()
    (target / "figures" / "sketch.svg").write_text("mine too")
    with pytest.raises(FileExistsError, match=r"\['figures/sketch.svg', 'notes.txt'\]"):
        reports["A"].save(target)
    assert (target / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_report_replaces_an_earlier_one_with_the_clutter_of_file_browsers(reports, tmp_path):
    target = tmp_path / "report"
    reports["A"].save(target)
    (target / ".DS_Store").write_bytes(b"\0")
    (target / ".report.md.k3j9x_2a.tmp").write_text("left by a kill in an older version")
    (target / "figures" / "Thumbs.db").write_bytes(b"\0")
    reports["B"].save(target)
    assert read_manifest(target) == reports["manifest B"]
    assert siblings(target) == []


def test_the_cli_refuses_a_report_folder_holding_other_files_before_fitting(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "data.csv").write_text("x,y\n")
    # The data file does not exist: the folder is refused before any data is read.
    status = main(["compare", str(tmp_path / "missing.csv"), "--target", "y", "--out", str(out)])
    assert status == 1
    assert "not part of a report: ['data.csv']" in capsys.readouterr().err
