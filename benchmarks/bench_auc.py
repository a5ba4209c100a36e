"""Time AUC and its DeLong interval against scikit-learn's roc_auc_score, same scores.

Usage: python benchmarks/bench_auc.py [--sizes 1000000 10000000] [--repeats 3]

Scores are float64 probabilities of a logistic model with ties (rounded to 1e-6), labels
drawn from them. Prints the best of ``--repeats`` wall times and the ratio to sklearn.
"""

import argparse
import os
import platform
import time

import numpy as np


def _best(function, args: tuple, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    """Run the benchmark and print one line per size."""
    from sklearn.metrics import roc_auc_score

    from bayeslogreg.metrics import auc_ci, delong_test, roc_auc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    header = f"{'rows':>10} {'sklearn AUC s':>14} {'our AUC s':>10} {'DeLong CI s':>12}"
    print(header + f" {'paired test s':>14} {'AUC ratio':>10} {'CI ratio':>9}")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        eta = rng.normal(size=n)
        prob = np.round(1 / (1 + np.exp(-eta)), 6)
        other = np.round(1 / (1 + np.exp(-(eta + rng.normal(scale=0.5, size=n)))), 6)
        y = (rng.random(n) < prob).astype(np.int8)
        assert abs(roc_auc(y, prob) - roc_auc_score(y, prob)) < 1e-12
        t_sklearn = _best(roc_auc_score, (y, prob), args.repeats)
        t_auc = _best(roc_auc, (y, prob), args.repeats)
        t_ci = _best(auc_ci, (y, prob), args.repeats)
        t_test = _best(delong_test, (y, prob, other), args.repeats)
        print(
            f"{n:>10} {t_sklearn:>14.3f} {t_auc:>10.3f} {t_ci:>12.3f} {t_test:>14.3f} "
            f"{t_auc / t_sklearn:>10.2f} {t_ci / t_sklearn:>9.2f}"
        )


if __name__ == "__main__":
    main()
