"""Sharded sums and fits (bayeslogreg.distributed) against the one-device answers.

JAX fixes the device count and the process group when it starts, so the multi-device and
multi-process runs happen in fresh processes (tests/_distributed_worker.py) with 4 host
CPU devices (``--xla_force_host_platform_device_count``) or 2 processes joined by
``jax.distributed`` on 127.0.0.1. Their results are compared here with
``model.loglik_value_grad_hess`` and ``bayeslogreg.fit_mle/fit_map(solver="newton")``
on all the rows in this process.

Tolerance 1e-10 (relative; absolute where a quantity is near 0): sharding changes only
the order in which float64 row terms are added, which moves sums by ~1e-14 relative, and
Newton takes the same steps, so params and standard errors agree to rounding.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _distributed_worker import N_SAMPLES, PARAMS, make_data
from jax.sharding import Mesh

import bayeslogreg
from bayeslogreg import distributed, model
from bayeslogreg.priors import Laplace

WORKER = Path(__file__).with_name("_distributed_worker.py")
RTOL = 1e-10
TIMEOUT = 120  # seconds for one worker run (JAX start-up and compilation included)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Run(NamedTuple):
    path: Path
    num_processes: int
    devices: int
    procs: list


def _start(path: Path, num_processes: int, devices: int) -> _Run:
    """Start the worker processes of one configuration without waiting for them."""
    # Proxy variables can make jax.distributed.initialize hang (JAX warns so), and the
    # workers only talk over loopback.
    env = {key: value for key, value in os.environ.items() if "_proxy" not in key.lower()}
    env.update(JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    command = [sys.executable, str(WORKER), "--out", str(path), "--port", str(_free_port())]
    procs = [
        subprocess.Popen(
            [*command, "--num-processes", str(num_processes), "--process-id", str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(num_processes)
    ]
    return _Run(path, num_processes, devices, procs)


def _kill(run: _Run) -> None:
    for proc in run.procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def _wait(run: _Run) -> list:
    """(returncode, output) of each worker; any still running at the deadline is killed."""
    deadline = time.monotonic() + TIMEOUT
    try:
        codes = [proc.wait(timeout=max(deadline - time.monotonic(), 1)) for proc in run.procs]
        return [(code, proc.stdout.read()) for code, proc in zip(codes, run.procs, strict=True)]
    finally:
        _kill(run)


def _results(run: _Run) -> list[dict]:
    outcomes = _wait(run)
    if any(code and "already in use" in output for code, output in outcomes):
        # Another program took the free port before the coordinator bound it: retry once.
        outcomes = _wait(_start(run.path, run.num_processes, run.devices))
    for i, (code, output) in enumerate(outcomes):
        assert code == 0, f"worker {i} failed with exit code {code}:\n{output}"
    return [json.loads((run.path / f"process{i}.json").read_text()) for i in range(len(outcomes))]


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """Both worker configurations, started at once so that they overlap each other and
    the one-device reference fits; killed at teardown if a test failed first.

    4 host devices in one process, and 2 processes x 2 host devices (600 and 403 rows).
    """
    runs = {
        "four_devices": _start(tmp_path_factory.mktemp("four_devices"), 1, 4),
        "two_processes": _start(tmp_path_factory.mktemp("two_processes"), 2, 2),
    }
    yield runs
    for run in runs.values():
        _kill(run)


@pytest.fixture(scope="module")
def reference():
    """One-device answers on all rows: sums at PARAMS (float64, float32 X) and fits."""
    X, y = make_data()
    sums = {}
    with jax.enable_x64(True):
        for name, dtype in (("float64", np.float64), ("float32", np.float32)):
            Xd = jnp.asarray(X.astype(dtype))
            value, grad, hess = model.loglik_value_grad_hess(
                jnp.asarray(PARAMS), Xd, jnp.asarray(y, dtype=dtype)
            )
            sums[name] = {"value": float(value), "grad": np.asarray(grad), "hess": np.asarray(hess)}
    fits = {
        "mle": bayeslogreg.fit_mle(X, y, solver="newton"),
        "map": bayeslogreg.fit_map(X, y, solver="newton"),
    }
    return sums, fits


@pytest.fixture(scope="module")
def four_devices(launched, reference):
    return _results(launched["four_devices"])[0]


@pytest.fixture(scope="module")
def two_processes(launched, reference):
    return _results(launched["two_processes"])


def _check_sums(result: dict, expected: dict) -> None:
    np.testing.assert_allclose(result["value"], expected["value"], rtol=RTOL)
    scale = np.abs(expected["grad"]).max()
    np.testing.assert_allclose(result["grad"], expected["grad"], rtol=RTOL, atol=RTOL * scale)
    scale = np.abs(expected["hess"]).max()
    np.testing.assert_allclose(result["hess"], expected["hess"], rtol=RTOL, atol=RTOL * scale)


def _check_fit(result: dict, expected) -> None:
    assert result["converged"] and expected.converged
    assert result["n_iter"] == expected.n_iter
    assert result["n_rows"] == expected.n_rows == N_SAMPLES
    np.testing.assert_allclose(result["params"], expected.params, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(result["stderr"], expected.stderr, rtol=RTOL)
    np.testing.assert_allclose(result["log_likelihood"], expected.log_likelihood, rtol=RTOL)
    np.testing.assert_allclose(result["llnull"], expected.llnull, rtol=RTOL)
    np.testing.assert_allclose(result["history"], expected.history, rtol=RTOL)
    cov_scale = np.abs(expected.cov).max()
    np.testing.assert_allclose(result["cov"], expected.cov, rtol=RTOL, atol=RTOL * cov_scale)
    if expected.log_posterior is not None:
        np.testing.assert_allclose(result["log_posterior"], expected.log_posterior, rtol=RTOL)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_four_device_sums_match_one_device(four_devices, reference, dtype):
    result = four_devices[dtype]
    # 1003 rows do not divide over 4 devices: padded to 4 x 251 with weight-0 rows, and
    # each device holds only its own 251 rows.
    assert result["n_devices"] == 4
    assert result["global_rows"] == 1004 and result["shard_rows"] == [251]
    assert result["n_rows"] == N_SAMPLES
    _check_sums(result, reference[0][dtype])


def test_rows_split_over_one_axis_of_a_2d_mesh(four_devices, reference):
    result = four_devices["float64_2x2_mesh"]
    assert result["global_rows"] == 1004 and result["shard_rows"] == [502]
    _check_sums(result, reference[0]["float64"])


@pytest.mark.parametrize("estimator", ["mle", "map"])
def test_four_device_fits_match_one_device(four_devices, reference, estimator):
    _check_fit(four_devices[estimator], reference[1][estimator])
    # One process holds every row, so it can hash them as the one-device fit does.
    assert four_devices[estimator]["data_sha256"] == reference[1][estimator].data_sha256


@pytest.mark.parametrize("estimator", ["mle", "map"])
def test_two_processes_give_the_single_process_answer(two_processes, reference, estimator):
    for result in two_processes:  # every process gets the whole answer
        _check_fit(result[estimator], reference[1][estimator])
        _check_sums(result["float64"], reference[0]["float64"])
        # 600 and 403 rows over 2 x 2 devices: 300 rows per device, process 1 padded.
        assert result["float64"]["n_devices"] == 4 and result["float64"]["shard_rows"] == [300]
        assert result[estimator]["data_sha256"] is None  # no process holds every row


def test_processes_with_different_columns_all_raise(two_processes):
    for result in two_processes:
        message = result["mismatch_error"]
        assert "every process must pass X with the same number of features" in message
        assert "[4, 3]" in message


def test_bad_labels_in_one_process_stop_every_process(two_processes):
    own, other = two_processes[1]["bad_labels_error"], two_processes[0]["bad_labels_error"]
    assert "y must contain only 0 and 1; got values [0, 2]" in own
    assert "processes [1] were given bad X or y" in other


def test_bad_mesh_is_refused(well_posed):
    mesh = Mesh(np.array(jax.devices()), ("data",))
    with pytest.raises(ValueError, match="mesh must have an axis named 'rows'.*'data'"):
        distributed.shard_rows(well_posed.X, well_posed.y, mesh=mesh)
    with pytest.raises(ValueError, match="mesh must be a jax.sharding.Mesh; got list"):
        distributed.fit_mle(well_posed.X, well_posed.y, mesh=jax.devices())


def test_bad_input_is_refused(well_posed):
    X, y = np.asarray(well_posed.X), np.asarray(well_posed.y)
    with pytest.raises(ValueError, match="Laplace prior use bayeslogreg.fit_map"):
        distributed.fit_map(X, y, prior=Laplace(0, 1))
    with pytest.raises(ValueError, match="y contains only class 1"):
        distributed.fit_mle(X, np.ones_like(y))
    with pytest.raises(ValueError, match="X has 2000 rows but y has 1999"):
        distributed.shard_rows(X, y[:-1])
    with pytest.raises(ValueError, match=r"params must have shape \(5,\)"):
        distributed.loglik_value_grad_hess([0.0, 1.0], distributed.shard_rows(X, y))
    with pytest.raises(ValueError, match=r"init must be a finite array of shape \(5,\)"):
        distributed.fit_mle(X, y, init=[0.0])
