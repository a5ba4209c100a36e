"""Worker of tests/test_distributed.py: sharded sums and fits in a fresh JAX process.

JAX fixes its device count and process group at start-up, so each configuration runs in
its own process; the parent sets ``XLA_FLAGS`` (host device count) and ``JAX_PLATFORMS``.
Run with ``--num-processes k --process-id i --port P`` it joins a ``jax.distributed``
group on 127.0.0.1 and uses only its share of the rows. Results go to
``OUT/process{i}.json``; a 2-process run also records the errors that every process
gets when process 1 passes one column fewer, or labels 0/2.
"""

import argparse
import json
from pathlib import Path

import numpy as np

N_SAMPLES = 1003
# Rows of process 0 in a 2-process run; the rest go to process 1 (uneven on purpose).
FIRST_PROCESS_ROWS = 600
PARAMS = [0.2, 0.5, -0.3, 1e-4, 0.1]


def make_data(dtype=np.float64):
    """1003 rows, 4 features, one of them in units 1000 times larger."""
    from bayeslogreg.datasets import simulate

    data = simulate(N_SAMPLES, [1.0, -0.5, 0.25, 0.0], intercept=0.3, seed=1)
    X = np.asarray(data.X, dtype=np.float64) * [1.0, 1.0, 1000.0, 1.0]
    return X.astype(dtype), np.asarray(data.y)


def _rows_of(process_id: int, num_processes: int) -> slice:
    if num_processes == 1:
        return slice(None)
    bounds = [0, FIRST_PROCESS_ROWS, N_SAMPLES]
    return slice(bounds[process_id], bounds[process_id + 1])


def _sums(X, y, mesh=None) -> dict:
    from bayeslogreg import distributed

    data = distributed.shard_rows(X, y, mesh=mesh)
    value, grad, hess = distributed.loglik_value_grad_hess(PARAMS, data)
    return {
        "value": value,
        "grad": grad.tolist(),
        "hess": hess.tolist(),
        "n_rows": data.n_rows,
        "global_rows": data.X.shape[0],
        "shard_rows": sorted({shard.data.shape[0] for shard in data.X.addressable_shards}),
        "n_devices": data.mesh.devices.size,
    }


def _fit_record(fit) -> dict:
    return {
        "params": fit.params.tolist(),
        "stderr": fit.stderr.tolist(),
        "log_likelihood": fit.log_likelihood,
        "llnull": fit.llnull,
        "log_posterior": fit.log_posterior,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "n_rows": fit.n_rows,
        "cov": fit.cov.tolist(),
        "history": fit.history.tolist(),
        "data_sha256": fit.data_sha256,
    }


def main(args) -> None:
    """Run the checks of one process and write its JSON."""
    import jax
    from jax.sharding import Mesh

    if args.num_processes > 1:
        jax.distributed.initialize(
            f"127.0.0.1:{args.port}",
            num_processes=args.num_processes,
            process_id=args.process_id,
            initialization_timeout=args.timeout,
        )
    from bayeslogreg import distributed

    X, y = make_data()
    rows = _rows_of(args.process_id, args.num_processes)
    X, y = X[rows], y[rows]
    result = {"float64": _sums(X, y)}
    result["mle"] = _fit_record(distributed.fit_mle(X, y))
    result["map"] = _fit_record(distributed.fit_map(X, y))
    if args.num_processes == 1:
        result["float32"] = _sums(X.astype(np.float32), y)
        # Rows split over one axis of a 2 x 2 mesh, copied along the other.
        mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("copies", "rows"))
        result["float64_2x2_mesh"] = _sums(X, y, mesh)
    else:
        try:
            distributed.shard_rows(X[:, :-1] if args.process_id == 1 else X, y)
        except ValueError as error:
            result["mismatch_error"] = str(error)
        try:
            distributed.fit_mle(X, 2 * y if args.process_id == 1 else y)
        except ValueError as error:
            result["bad_labels_error"] = str(error)
    out = Path(args.out) / f"process{args.process_id}.json"
    out.write_text(json.dumps(result))
    if args.num_processes > 1:
        jax.distributed.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=60)
    main(parser.parse_args())
