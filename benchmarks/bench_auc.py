"""Time AUC, its DeLong interval and the paired DeLong test against scikit-learn's AUC.

Usage::

    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_auc.py [--rows 11000000]
        [--repeats 3] [--decimals 4] [--before]

(A script's folder, not the current one, heads ``sys.path``: to time a checkout other
than the installed one, set ``PYTHONPATH`` to it; the output names the one timed.)

Data (issue 20's goal 3): ``--rows`` labels, about 53% positives as in HIGGS, drawn from
a logistic model, and two correlated probability scores rounded to 1e-4, so there are
many ties (``--decimals``; -1 leaves them unrounded). In each of ``--repeats`` rounds
the calls run back to back in this process: scikit-learn's ``roc_auc_score`` (the
reference), then ``roc_auc``, ``auc_ci(..., method="delong")`` and ``delong_test`` of
the second score against the first. The table gives the fastest round of each and its
ratio to ``roc_auc_score`` (goals: at most 0.3 for the interval, 0.5 for the test).
``--before`` also times the pooled-midrank formulas that the 1-D DeLong path used until
issue 20 (the frozen copy in ``tests/diagnostics/test_roc_delong_scale.py``, after the
same input checks) and checks that they give the same numbers. The load average is
printed before and after: timings on a loaded machine are indicative only.
"""

import argparse
import importlib.util
import os
import platform
import time
from pathlib import Path

import numpy as np

FROZEN = Path(__file__).resolve().parents[1] / "tests" / "diagnostics" / "test_roc_delong_scale.py"


def make_scores(rows: int, seed: int = 0, decimals: int = 4):
    """Labels (int8) and two correlated scores in [0, 1], shape (rows,).

    Scores are rounded to ``decimals`` places (many ties); a negative ``decimals`` keeps
    them as computed (almost no ties).
    """
    rng = np.random.default_rng(seed)
    eta = 0.12 + rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    score = 1 / (1 + np.exp(-(eta + rng.normal(scale=0.5, size=rows))))
    other = 1 / (1 + np.exp(-(eta + rng.normal(scale=0.8, size=rows))))
    if decimals < 0:
        return y, score, other
    return y, np.round(score, decimals), np.round(other, decimals)


def _frozen_module():
    spec = importlib.util.spec_from_file_location("frozen_delong", FROZEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _before_calls(frozen):
    """Return the earlier 1-D DeLong interval and test: the checks, then the frozen formulas."""
    from bayeslogreg.metrics._roc import _check_ranking

    def interval(y, score):
        y, score, weight, _, _ = _check_ranking(y, score, "auc_ci", whole=True)
        return frozen.frozen_auc_ci(y, score, weight, 0.95)

    def test(y, score_a, score_b):
        y, score_a, weight, _, _ = _check_ranking(y, score_a, "delong_test", whole=True)
        _, score_b, _, _, _ = _check_ranking(y, score_b, "delong_test", whole=True)
        return frozen.frozen_delong_test(y, score_a, score_b, weight)

    return interval, test


def main(argv=None) -> None:
    """Run the benchmark and print one table row per call."""
    from sklearn.metrics import roc_auc_score

    import bayeslogreg
    from bayeslogreg.metrics import auc_ci, delong_test, roc_auc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=11_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decimals", type=int, default=4, help="-1: no rounding, few ties")
    parser.add_argument("--before", action="store_true", help="also time the earlier formulas")
    args = parser.parse_args(argv)
    y, score, other = make_scores(args.rows, decimals=args.decimals)
    calls = {
        "sklearn roc_auc_score": lambda: roc_auc_score(y, score),
        "roc_auc": lambda: roc_auc(y, score),
        "auc_ci delong": lambda: auc_ci(y, score),
        "delong_test": lambda: delong_test(y, other, score),
    }
    if args.before:
        interval, test = _before_calls(_frozen_module())
        calls["auc_ci delong, before"] = lambda: interval(y, score)
        calls["delong_test, before"] = lambda: test(y, other, score)
    load_before = os.getloadavg()
    results, times = {}, {name: [] for name in calls}
    for _ in range(args.repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            results[name] = call()
            times[name].append(time.perf_counter() - start)
    load_after = os.getloadavg()
    reference = results["sklearn roc_auc_score"]
    assert abs(results["roc_auc"] - reference) <= 1e-12, (results["roc_auc"], reference)
    assert results["auc_ci delong"].auc == results["roc_auc"]
    if args.before:
        before_ci, before_test = results["auc_ci delong, before"], results["delong_test, before"]
        now_ci, now_test = results["auc_ci delong"], results["delong_test"]
        assert before_ci[0] == now_ci.auc and np.isclose(before_ci[3], now_ci.se, rtol=1e-12)
        assert before_test[:2] == (now_test.auc_a, now_test.auc_b)
        assert np.isclose(before_test[2], now_test.se, rtol=1e-12)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}; load average (1, 5, 15 min) "
        f"before {', '.join(f'{v:.1f}' for v in load_before)}, "
        f"after {', '.join(f'{v:.1f}' for v in load_after)}; bayeslogreg from "
        f"{Path(bayeslogreg.__file__).parent}"
    )
    n_positive = int(np.count_nonzero(y))
    print(
        f"{args.rows} rows, {n_positive / args.rows:.1%} positives, "
        f"{np.unique(score).size} distinct scores; best of {args.repeats}"
    )
    best = {name: min(values) for name, values in times.items()}
    print("| call | best s | / roc_auc_score |\n| --- | --- | --- |")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.3f} | {seconds / best['sklearn roc_auc_score']:.2f} |")


if __name__ == "__main__":
    main()
