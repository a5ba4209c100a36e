"""Time the posterior of logistic regression at HIGGS scale (up to 11M x 28).

Usage (wrap timings in the shared lock):
    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_posterior_higgs.py \
        [--sizes 200000 11000000] [--reference-rows 200000] [--num-samples 300]

Data: 28 float32 features (standard normal, a shared factor, half of them shifted by 1
so that the intercept is correlated with the slopes) and labels from a known logistic
model, generated directly (``--seed``). Each case runs in a fresh process, so its wall
time includes imports, JIT compilation and the MAP fit (not the data generation, timed
apart) and its peak RSS is its own. Cases: ``sample_posterior(sampler="imh")`` at every
size; full-data NUTS (the package defaults, 4 x 1000 + 1000) at ``--reference-rows``;
where both ran, the largest difference of posterior means and sds in units of the
reference's posterior sd; at every size the same against the Laplace approximation
(MAP, inverse Hessian), which is close to exact at large n. The Monte Carlo standard
error of a mean is ``sd / sqrt(ESS)``, so differences of about ``3 / sqrt(ESS)`` sds
(max over 29 parameters) are noise. "acc" is IMH's fraction of accepted proposals and
NUTS's mean acceptance probability.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

N_FEATURES = 28


def make_data(n_rows: int, seed: int):
    """Features (n_rows, 28) float32 and 0/1 labels (n_rows,) float32 of a known model."""
    rng = np.random.default_rng(seed)
    coef = rng.normal(0.0, 0.3, N_FEATURES)
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    X += 0.3 * X[:, :1]
    X[:, ::2] += 1.0
    y = np.empty(n_rows, dtype=np.float32)
    for start in range(0, n_rows, 1_000_000):
        eta = 0.2 + X[start : start + 1_000_000].astype(np.float64) @ coef
        y[start : start + 1_000_000] = rng.random(len(eta)) < 1.0 / (1.0 + np.exp(-eta))
    return X, y


def run_case(n_rows: int, method: str, seed: int, num_warmup: int, num_samples: int) -> dict:
    """One posterior in this process; returns its numbers as a JSON-able dict."""
    start = time.perf_counter()
    X, y = make_data(n_rows, seed)
    data_s = time.perf_counter() - start
    start = time.perf_counter()
    from bayeslogreg.estimators.nuts import sample_posterior

    post = sample_posterior(
        X,
        y,
        sampler=method,
        num_warmup=num_warmup,
        num_samples=num_samples,
        seed=seed,
        store_log_likelihood=False,
    )
    call_s = time.perf_counter() - start
    table = post.summary()
    # IMH: the fraction of proposals accepted; NUTS: the mean acceptance probability
    # of its trajectories (near target_accept after warm-up).
    acceptance = np.asarray(
        post.idata["sample_stats"]["accepted" if method == "imh" else "acceptance_rate"]
    )
    return {
        "n_rows": n_rows,
        "method": method,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "data_s": data_s,
        "wall_s": call_s,
        "map_s": post.map_estimate.fit_time,
        "mean": table["mean"].tolist(),
        "sd": table["sd"].tolist(),
        "ess_bulk": table["ess_bulk"].tolist(),
        "r_hat": table["r_hat"].tolist(),
        "divergences": post.num_divergences,
        "laplace_mean": post.map_estimate.params.tolist(),
        "laplace_sd": post.map_estimate.stderr.tolist(),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "loadavg": os.getloadavg(),
        "acceptance": float(acceptance.mean()),
    }


def _max_sd_gap(case: dict, ref_mean, ref_sd) -> tuple[float, float]:
    """Largest |mean difference| and |sd difference| in units of the reference sd."""
    ref_sd = np.asarray(ref_sd)
    mean_gap = np.abs(np.asarray(case["mean"]) - ref_mean) / ref_sd
    sd_gap = np.abs(np.asarray(case["sd"]) - ref_sd) / ref_sd
    return float(mean_gap.max()), float(sd_gap.max())


def _print_table(cases: list[dict]) -> None:
    reference = {c["n_rows"]: c for c in cases if c["method"] == "nuts"}
    print(
        f"{'n x p':>14} {'method':>6} {'draws':>9} {'wall s':>7} {'MAP s':>6} "
        f"{'min ESS':>8} {'ESS/s':>6} {'max Rhat':>8} {'div':>4} {'acc':>5} "
        f"{'vs NUTS mean/sd':>16} {'vs Laplace mean/sd':>19} {'RSS GB':>6} {'load':>15}"
    )
    for case in cases:
        min_ess = min(case["ess_bulk"])
        ref = reference.get(case["n_rows"])
        vs_nuts = "-"
        if ref is not None and ref is not case:
            vs_nuts = "{:.3f}/{:.3f}".format(*_max_sd_gap(case, ref["mean"], ref["sd"]))
        vs_laplace = "{:.3f}/{:.3f}".format(
            *_max_sd_gap(case, case["laplace_mean"], case["laplace_sd"])
        )
        load = "/".join(f"{v:.1f}" for v in case["loadavg"])
        print(
            f"{case['n_rows']:>11} x{N_FEATURES} {case['method']:>6} "
            f"{case['num_warmup']:>4}+{case['num_samples']:<4} {case['wall_s']:>7.1f} "
            f"{case['map_s']:>6.1f} {min_ess:>8.0f} {min_ess / case['wall_s']:>6.1f} "
            f"{max(case['r_hat']):>8.3f} {case['divergences']:>4} "
            f"{case['acceptance']:>5.2f} {vs_nuts:>16} {vs_laplace:>19} "
            f"{case['peak_rss_gb']:>6.2f} {load:>15}"
        )


def main(argv=None) -> None:
    """Run every case in its own process and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 11_000_000])
    parser.add_argument("--reference-rows", type=int, nargs="*", default=[200_000])
    parser.add_argument("--num-warmup", type=int, default=25)
    parser.add_argument("--num-samples", type=int, default=300)
    parser.add_argument("--reference-warmup", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the cases to this JSON file")
    parser.add_argument("--case", nargs=4, metavar=("ROWS", "METHOD", "WARMUP", "SAMPLES"))
    args = parser.parse_args(argv)
    if args.case:
        rows, method, warmup, samples = args.case
        print(json.dumps(run_case(int(rows), method, args.seed, int(warmup), int(samples))))
        return
    plan = [(n, "imh", args.num_warmup, args.num_samples) for n in args.sizes]
    plan += [(n, "nuts", args.reference_warmup, 1000) for n in args.reference_rows]
    cases = []
    for rows, method, warmup, samples in plan:
        command = [sys.executable, __file__, "--seed", str(args.seed), "--case"]
        command += [str(rows), method, str(warmup), str(samples)]
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        cases.append(json.loads(output.strip().splitlines()[-1]))
        print(f"done: {rows} rows, {method}, {cases[-1]['wall_s']:.1f} s", file=sys.stderr)
    if args.json:
        from bayeslogreg._io import atomic_write_text

        atomic_write_text(args.json, json.dumps(cases, indent=1))
    _print_table(cases)


if __name__ == "__main__":
    main()
