"""Time a formula on a data frame, weights and counts against a fit of the prebuilt matrix.

Usage::

    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_data_in.py --rows 1000000

Data (issue 16's benchmark): n rows of 20 standard-normal columns and 3 text columns of 10
levels each, labels from a known logistic model; the design of
``y ~ x1 + ... + x20 + g1 + g2 + g3`` has 20 + 3 x 9 = 47 columns. Each case runs in a
fresh subprocess that builds its input first (untimed), so its peak RSS is its own, and
reports the wall time of what a user calls:

* ``matrix``: ``fit_mle(X, y)`` on the prebuilt float64 design (treatment-coded by hand);
* ``formula``: ``fit_mle(formula, data=frame)``: the design built by formulaic, then the
  same fit;
* ``formulaic``: ``formulaic.model_matrix`` alone, to split the formula's time;
* ``weighted``: ``fit_mle(X, y, sample_weight=w)``, integer weights 1-5;
* ``counts``: ``fit_mle(X, k, trials=n)``, n = 1-10 trials per row.

The peak memory of a call is the peak RSS during it (Linux: reset through
``/proc/self/clear_refs`` just before) minus the RSS just before, which holds the input.

Every case runs once with an empty program cache of its own (reported as cold), then
``--repeats`` times with the programs kept by an earlier round, the cases interleaved.
The table gives the median wall time, its ratio to ``matrix``, and the peak RSS above
the input, in units of the design's size (the goal: at most 1.5x the time and one extra
copy of the design for the formula).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_NUMERIC, N_TEXT, N_LEVELS = 20, 3, 10
CASES = ("matrix", "formula", "formulaic", "weighted", "counts")
FORMULA = "y ~ " + " + ".join(
    [f"x{j + 1}" for j in range(N_NUMERIC)] + [f"g{j + 1}" for j in range(N_TEXT)]
)


def make_frame(rows: int, seed: int = 0):
    """Return the benchmark's frame: numeric x1.., text g1.. and 0/1 labels y."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((rows, N_NUMERIC))
    codes = rng.integers(0, N_LEVELS, size=(rows, N_TEXT))
    eta = -0.3 + numeric @ np.linspace(-0.5, 0.5, N_NUMERIC)
    eta += (codes - N_LEVELS / 2) @ np.full(N_TEXT, 0.05)
    frame = pd.DataFrame(numeric, columns=[f"x{j + 1}" for j in range(N_NUMERIC)])
    levels = np.array([f"level{k}" for k in range(N_LEVELS)], dtype=object)
    for j in range(N_TEXT):
        frame[f"g{j + 1}"] = levels[codes[:, j]]
    frame["y"] = (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return frame


def design_matrix(frame):
    """Build the formula's design by hand: numeric columns, then treatment dummies."""
    import numpy as np

    parts = [frame[[f"x{j + 1}" for j in range(N_NUMERIC)]].to_numpy()]
    for j in range(N_TEXT):
        codes = frame[f"g{j + 1}"].to_numpy()
        levels = sorted(set(codes))
        parts.append(np.stack([codes == level for level in levels[1:]], axis=1))
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float64)


def _status_bytes(field: str) -> int:
    """Return a memory figure of this process (/proc/self/status: VmRSS now, VmHWM peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> None:
    """Make the peak RSS start again from the current RSS (Linux 4.0 and newer)."""
    Path("/proc/self/clear_refs").write_text("5")


def run_case(case: str, rows: int) -> dict:
    """Build the case's input, then time its call; in a fresh process of its own."""
    import numpy as np

    import bayeslogreg

    frame = make_frame(rows)
    rng = np.random.default_rng(1)
    if case != "formula" and case != "formulaic":
        X, y = design_matrix(frame), frame["y"].to_numpy()
        del frame
    if case == "weighted":
        weights = rng.integers(1, 6, size=rows)
    if case == "counts":
        trials = rng.integers(1, 11, size=rows)
        eta = X @ np.linspace(-0.5, 0.5, X.shape[1]) - 0.3
        successes = rng.binomial(trials, 1 / (1 + np.exp(-eta)))
    _reset_peak()
    before = _status_bytes("VmRSS")
    start = time.perf_counter()
    if case == "matrix":
        fit = bayeslogreg.fit_mle(X, y)
    elif case == "formula":
        fit = bayeslogreg.fit_mle(FORMULA, data=frame)
    elif case == "formulaic":
        import formulaic

        fit = None
        formulaic.model_matrix(FORMULA, frame)
    elif case == "weighted":
        fit = bayeslogreg.fit_mle(X, y, sample_weight=weights)
    else:
        fit = bayeslogreg.fit_mle(X, successes, trials=trials)
    seconds = time.perf_counter() - start
    return {
        "case": case,
        "seconds": seconds,
        "peak_above_input": _status_bytes("VmHWM") - before,
        "design_bytes": rows * (N_NUMERIC + N_TEXT * (N_LEVELS - 1)) * 8,
        "converged": None if fit is None else bool(fit.converged),
        "n_iter": None if fit is None else fit.n_iter,
    }


def main(argv=None) -> None:
    """Run every case in fresh processes, round after round, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # a child's one case
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.rows)))
        return
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(args.threads)
    warm_cache = tempfile.mkdtemp(prefix="bench-data-in-")
    results: dict[str, list[dict]] = {case: [] for case in args.cases}
    # Round 0: each case with an empty cache of its own (a first run); round 1 fills the
    # shared cache and is not reported; then the timed warm rounds.
    for round_ in range(args.repeats + 2):
        for case in args.cases:
            cache = tempfile.mkdtemp(prefix="bench-data-in-") if round_ == 0 else warm_cache
            env["BAYESLOGREG_JAX_CACHE_DIR"] = cache
            out = subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows), "--case", case],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            if round_ != 1:
                results[case].append(json.loads(out.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0]
    machine = f"{args.threads} threads, {os.cpu_count()} cores, load1 {load:.2f}"
    print(f"{args.rows} rows, float64, {machine}")
    print(f"{'case':10} {'cold s':>7} {'warm s':>7} {'/matrix':>8} {'extra/design':>13} iters")
    base = (
        statistics.median(r["seconds"] for r in results.get("matrix", [{}])[1:])
        if "matrix" in results
        else None
    )
    for case, runs in results.items():
        warm = statistics.median(r["seconds"] for r in runs[1:])
        extra = statistics.median(r["peak_above_input"] / r["design_bytes"] for r in runs[1:])
        ratio = f"{warm / base:8.2f}" if base else f"{'':8}"
        cold, iters = runs[0]["seconds"], runs[-1]["n_iter"]
        print(f"{case:10} {cold:7.2f} {warm:7.2f} {ratio} {extra:13.2f} {iters}")


if __name__ == "__main__":
    main()
