"""Which estimator when: the time of each estimator and its distance to the NUTS posterior.

Usage: flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_estimators.py
       [--datasets breast_cancer german_credit synthetic_100k]

For each data set (standardised features, the package's default priors: rstanarm's,
autoscaled), one fresh process fits, in this order, MLE, MAP (Laplace), Firth (MAP under
the Jeffreys prior), ADVI mean-field and full-rank, Pathfinder, IMH and NUTS (4 chains x
1000 + 1000), then does it all again. The first pass is a user's first run in a fresh
process with an empty program cache (a temporary one: everything traced and compiled);
the second the same calls with the programs in memory. ``compare()`` then measures every
estimate against the NUTS posterior of the second pass: the largest shift of a mean and
the range of sd ratios, in NUTS posterior sds (``Comparison.approximations``). The MLE
has flat priors and Firth the Jeffreys prior: their distances are those of other models
(``same model: no``), shown for scale. Each line ends with the 1-minute load average.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_posterior import load  # noqa: E402  (same data, same standardisation)

DATASETS = ("breast_cancer", "german_credit", "synthetic_100k")
ESTIMATORS = ("MLE", "MAP", "Firth", "VI mean-field", "VI full-rank", "Pathfinder", "IMH", "NUTS")


def _fits(X, y) -> dict:
    """Fit every estimator once; return {name: (result, wall seconds)}."""
    import bayeslogreg as blr
    from bayeslogreg import priors
    from bayeslogreg.samplers import IMH

    lean = {"store_log_likelihood": False}  # 4000 draws x 100k rows would be 3 GiB
    calls = {
        "MLE": lambda: blr.fit_mle(X, y),
        "MAP": lambda: blr.fit_map(X, y),
        "Firth": lambda: blr.fit_map(X, y, prior=priors.Jeffreys()),
        "VI mean-field": lambda: blr.fit_vi(X, y, method="meanfield", **lean),
        "VI full-rank": lambda: blr.fit_vi(X, y, method="fullrank", **lean),
        "Pathfinder": lambda: blr.fit_vi(X, y, method="pathfinder", **lean),
        "IMH": lambda: blr.sample_posterior(X, y, sampler=IMH(), **lean),
        "NUTS": lambda: blr.sample_posterior(X, y, **lean),
    }
    out = {}
    for name, call in calls.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # separated MLEs, k-hat: the table shows them
            out[name] = (call(), time.perf_counter() - start)
    return out


def worker(dataset: str, out: str) -> None:
    """Run both passes in this (fresh) process and write the table's rows to ``out``."""
    import bayeslogreg as blr

    X, y = load(dataset)
    first = _fits(X, y)
    second = _fits(X, y)
    estimates = {name: result for name, (result, _) in second.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = blr.compare(estimates, X[:500], y[:500]).approximations
    rows = {}
    for name in ESTIMATORS:
        row = {"cold_s": first[name][1], "warm_s": second[name][1]}
        if name in table.index:
            entry = table.loc[name]
            row.update(
                shift=float(entry["max_abs_shift_sd"]),
                sd_low=float(entry["sd_ratio_min"]),
                sd_high=float(entry["sd_ratio_max"]),
                same=bool(entry["same_model"]),
            )
        rows[name] = row
    Path(out).write_text(json.dumps(rows))


def main(argv=None) -> None:
    """Run each data set in a fresh process with an empty cache; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, float64")
    lines = []
    for dataset in args.datasets:
        X, _ = load(dataset)
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "BAYESLOGREG_JAX_CACHE_DIR": str(Path(tmp) / "jax")}
            out = Path(tmp) / "rows.json"
            command = [sys.executable, __file__, "--worker", dataset, str(out)]
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"{dataset} failed:\n{done.stderr[-5000:]}")
            rows = json.loads(out.read_text())
        load_avg = os.getloadavg()[0]
        nuts = rows["NUTS"]["warm_s"]
        for name, row in rows.items():
            distance = (
                f"{row['shift']:.2f} | {row['sd_low']:.2f}-{row['sd_high']:.2f} | "
                f"{'yes' if row['same'] else 'no'}"
                if "shift" in row
                else "reference | | "
            )
            lines.append(
                f"| {dataset} ({X.shape[0]} x {X.shape[1]}) | {name} | {row['cold_s']:.2f} | "
                f"{row['warm_s']:.2f} | {row['warm_s'] / nuts:.2f} | {distance} | {load_avg:.1f} |"
            )
            print(lines[-1], flush=True)
    header = (
        "| data set | estimator | first run s | warm s | warm / NUTS | max mean shift (sd) "
        "| sd ratio | same model | load |\n|---|---|---|---|---|---|---|---|---|"
    )
    print(header)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
