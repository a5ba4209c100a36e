"""Worker of tests/faults/test_saving.py: saves that the test kills part-way.

The test runs these functions in processes forked from a server that has imported this
module (and with it bayeslogreg, ArviZ and matplotlib) once, so that each killed writer
costs a fork rather than a fresh interpreter. Each function reports over ``conn`` (a
multiprocessing connection) when its saves have begun, then saves until it is killed.
"""

import gc
import os
import shutil
import signal
import time
from pathlib import Path

import arviz  # noqa: F401 - imported once in the fork server, not in every worker
import numpy as np

import bayeslogreg as blr
from bayeslogreg import _io
from bayeslogreg.report import comparison as comparison_module
from bayeslogreg.report import render


def reports(folder: Path) -> tuple:
    """Reports A and B, from the fits and data in ``folder``: A has a figure B lacks."""
    mle = blr.PointEstimate.load(folder / "mle.json")
    map_fit = blr.PointEstimate.load(folder / "map.json")
    data = np.load(folder / "data.npz")
    a = blr.compare(
        {"MLE": mle, "MAP": map_fit},
        data["X_test"],
        data["y_test"],
        train=(data["X_train"], data["y_train"]),
        title="A",
    )
    b = blr.compare({"MLE": mle}, data["X_test"], data["y_test"], title="B")
    return a, b


def save_posterior_repeatedly(source: Path, target: Path, conn) -> None:
    """Save the posterior in ``source`` to ``target`` again and again."""
    posterior = blr.Posterior.load(source)
    start = time.perf_counter()
    posterior.save(target)
    conn.send(time.perf_counter() - start)
    while True:
        posterior.save(target)


def save_posterior_killed_before_the_rename(source: Path, target: Path, conn) -> None:
    """Save the posterior in ``source`` to ``target``; die once the temporary is written."""
    posterior = blr.Posterior.load(source)
    os.fsync = lambda fd: _die()
    conn.send("saving")
    posterior.save(target)
    conn.send("saved")  # not reached


def save_posterior_once(source: Path, target: Path, conn) -> None:
    """Save the posterior in ``source`` to ``target``; send the error's type, errno, text."""
    posterior = blr.Posterior.load(source)
    try:
        posterior.save(target)
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the test looks at it
        result = (type(exc).__name__, getattr(exc, "errno", None), str(exc))
    else:
        result = None
    del posterior
    gc.collect()  # h5py's clean-up of a failed write could crash here
    conn.send(result)


def save_reports_repeatedly(folder: Path, target: Path, drawn: dict, conn) -> None:
    """Save report A, then B, to ``target``, again and again (``drawn``: see below)."""
    a, b = reports(folder)
    draw_from(drawn)
    start = time.perf_counter()
    a.save(target)
    b.save(target)
    conn.send((time.perf_counter() - start) / 2)
    while True:
        a.save(target)
        b.save(target)


def save_report_killed_at(folder: Path, target: Path, drawn: dict, point: str, conn) -> None:
    """Save report B to ``target`` and die by SIGKILL at ``point`` of the save."""
    _, b = reports(folder)
    draw_from(drawn)
    globals()[f"_die_{point}"](target)
    conn.send("saving")
    b.save(target)
    conn.send("saved")  # not reached


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _die_while_writing(target: Path) -> None:
    """Die after the third file of the new report is written."""
    write_file, written = _io.write_file, []

    def write_then_die(path, data):
        write_file(path, data)
        written.append(path)
        if len(written) == 3:
            _die()

    render.write_file = write_then_die  # where a report's files are written


def _die_after_the_swap(target: Path) -> None:
    """Die when the new report is in place and the old one not yet deleted."""
    swap_in = _io._swap_in

    def swap_then_die(staging, path):
        swap_in(staging, path)
        _die()

    _io._swap_in = swap_then_die


def _die_while_deleting_the_old(target: Path) -> None:
    """Die when one file of the old report is deleted."""

    def delete_one_then_die(tree, *args, **kwargs):
        next(p for p in Path(tree).rglob("*") if p.is_file()).unlink()
        _die()

    shutil.rmtree = delete_one_then_die


def _die_between_renames_without_exchange(target: Path) -> None:
    """Without an atomic exchange: die when the old report has been moved aside."""
    rename = os.rename

    def rename_then_die(source, destination):
        rename(source, destination)
        if os.path.realpath(source) == os.path.realpath(target):
            _die()

    _io._exchange = lambda a, b: False
    os.rename = rename_then_die


def draw_from(drawn: dict, patch=setattr) -> None:
    """Take the figures and HTML pages of the reports from ``drawn``: draw nothing.

    ``drawn`` maps a report's title to its saved figures (``figures/<name>.png``) and
    ``report.html``, as bytes. Drawing takes most of a save; without it the saves spend
    their time on files, where the kills are meant to land. ``patch`` sets the
    attributes (``monkeypatch.setattr`` in the test's own process).
    """
    patch(comparison_module.Comparison, "figures", lambda self: self.title)
    patch(render, "figure_pngs", lambda title: title)
    patch(
        render,
        "figure_files",
        lambda title: {name: data for name, data in drawn[title].items() if "/" in name},
    )
    patch(render, "html_report", lambda report, title: drawn[title]["report.html"].decode())
