"""Time MLE and MAP fits on HIGGS-shaped data against glum, scikit-learn and statsmodels.

Usage::

    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_higgs_fit.py --rows 1000000
    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_higgs_fit.py --rows 11000000 \
        --tools bayeslogreg bayeslogreg-f32 bayeslogreg-map glum sklearn-nc sklearn-lbfgs

Data: n rows x 28 features (every third one log-normal and positive, like HIGGS'
momenta; the others standard normal), labels drawn from a known logistic model, written
once as ``.npy`` (float64 and float32) under ``--cache``. Every tool runs in its own
subprocess that loads the data into memory, so its peak RSS (``ru_maxrss``, data
included) is its own; thread counts are pinned through the environment before import.
bayeslogreg keeps its traced and compiled programs between processes (in
``--cache``/jax): its rows are timed with those of an earlier run of the same shapes
there (run the script twice), "bayeslogreg-cold" with none, as a first run.
The table gives wall time of the fit (loading excluded), peak RSS, the largest
difference of the parameters from bayeslogreg's float64 fit of the same estimator, the
ratio to the fastest reference tool of that estimator, and for bayeslogreg the passes
over the data and the bandwidth floor (passes x the time of one ``X @ beta``). MAP is a
Normal(0, ``--prior-scale``) prior on the coefficients with a flat intercept prior:
scikit-learn's ``C = scale**2`` and glum's ``alpha = 1 / (n scale**2)``.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_FEATURES = 28
# In the order they run: references that tend to be faster first, so that a run cut
# short still has its most useful rows (each is written to --json as it finishes).
TOOLS = {
    "bayeslogreg-cold": "mle",
    "bayeslogreg": "mle",
    "bayeslogreg-f32": "mle",
    "bayeslogreg-map": "map",
    "glum": "mle",
    "sklearn-nc": "mle",
    "sklearn-lbfgs": "mle",
    "glum-map": "map",
    "sklearn-nc-map": "map",
    "statsmodels": "mle",
}
MODULES = {
    "bayeslogreg": "bayeslogreg",
    "glum": "glum",
    "sklearn": "sklearn.linear_model",
    "statsmodels": "statsmodels.api",
}
REFERENCE_TOL = 1e-10
#: glum's gradient is that of the mean log-likelihood; at 11M rows its rounding noise is
#: near 1e-10, so 1e-10 made glum iterate 69 times (400 s) without getting closer. 1e-8
#: takes 4-5 IRLS iterations and agrees with 1e-10's answer to ~2e-9 at 1M rows.
GLUM_GRADIENT_TOL = 1e-8


def _paths(cache: Path, rows: int) -> dict[str, Path]:
    return {
        "float64": cache / f"higgs_like_{rows}_X64.npy",
        "float32": cache / f"higgs_like_{rows}_X32.npy",
        "y": cache / f"higgs_like_{rows}_y.npy",
    }


def write_data(cache: Path, rows: int, seed: int = 0) -> dict[str, Path]:
    """Write X (float64 and float32) and y for ``rows`` rows, unless already there."""
    import numpy as np

    paths = _paths(cache, rows)
    if all(path.exists() for path in paths.values()):
        return paths
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    coef = np.round(rng.normal(scale=0.3, size=N_FEATURES), 3)
    shape = (rows, N_FEATURES)
    X64 = np.lib.format.open_memmap(paths["float64"], "w+", np.float64, shape)
    X32 = np.lib.format.open_memmap(paths["float32"], "w+", np.float32, shape)
    y = np.empty(rows)
    block = 2**20
    for start in range(0, rows, block):
        Z = rng.normal(size=(min(block, rows - start), N_FEATURES))
        Z[:, ::3] = np.exp(0.5 * Z[:, ::3])
        eta = 0.2 + (Z - 1.0 * (np.arange(N_FEATURES) % 3 == 0)) @ coef
        X64[start : start + len(Z)] = Z
        X32[start : start + len(Z)] = Z
        y[start : start + len(Z)] = rng.random(len(Z)) < 1.0 / (1.0 + np.exp(-eta))
    X64.flush()
    X32.flush()
    np.save(paths["y"], y)
    return paths


def _fit(tool: str, X, y, prior_scale: float) -> tuple[object, dict]:
    """Fit with ``tool``; return params (intercept first) and extra facts."""
    import numpy as np

    n = len(y)
    if tool.startswith("bayeslogreg"):
        from bayeslogreg import fit_map, fit_mle
        from bayeslogreg.priors import Flat, Normal

        if tool == "bayeslogreg-map":
            fit = fit_map(X, y, prior=Normal(0.0, prior_scale), intercept_prior=Flat())
        else:
            fit = fit_mle(X, y)
        extra = {"passes": fit.n_passes, "n_iter": fit.n_iter, "converged": fit.converged}
        return fit.params, extra
    if tool.startswith("glum"):
        from glum import GeneralizedLinearRegressor

        alpha = 1.0 / (n * prior_scale**2) if tool == "glum-map" else 0.0
        model = GeneralizedLinearRegressor(
            family="binomial", alpha=alpha, l1_ratio=0.0, gradient_tol=GLUM_GRADIENT_TOL
        ).fit(X, y)
        return np.r_[model.intercept_, model.coef_], {"n_iter": int(model.n_iter_)}
    if tool.startswith("sklearn"):
        from sklearn.linear_model import LogisticRegression

        solver = "lbfgs" if tool == "sklearn-lbfgs" else "newton-cholesky"
        C = prior_scale**2 if tool.endswith("-map") else np.inf
        model = LogisticRegression(C=C, solver=solver, tol=REFERENCE_TOL, max_iter=10_000)
        model.fit(X, y)
        params = np.r_[model.intercept_, model.coef_.ravel()]
        return params, {"n_iter": int(np.max(model.n_iter_))}
    if tool == "statsmodels":
        import statsmodels.api as sm

        result = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
        return np.asarray(result.params), {"n_iter": int(result.mle_retvals["iterations"])}
    raise ValueError(f"unknown tool {tool!r}; choose from {sorted(TOOLS)}")


def worker(tool: str, rows: int, cache: Path, prior_scale: float) -> dict:
    """Load the data, fit once, and return the measurements (run in a subprocess)."""
    import resource

    import numpy as np

    paths = _paths(cache, rows)
    X = np.load(paths["float32" if tool == "bayeslogreg-f32" else "float64"])
    y = np.load(paths["y"])
    # Imported (and, for bayeslogreg, its JAX set up) before the clock starts.
    importlib.import_module(MODULES[tool.split("-")[0]])
    load = os.getloadavg()
    beta = np.full(X.shape[1], 0.01, dtype=X.dtype)
    start = time.perf_counter()
    X @ beta
    one_pass = time.perf_counter() - start
    start = time.perf_counter()
    params, extra = _fit(tool, X, y, prior_scale)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "tool": tool,
        "rows": rows,
        "wall_s": wall,
        "peak_rss_bytes": peak,
        "data_bytes": X.nbytes,
        "one_pass_s": one_pass,
        "loadavg": load,
        "params": np.asarray(params, dtype=np.float64).tolist(),
        **extra,
    }


def _run_worker(tool: str, args) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(args.threads)
    command = [sys.executable, __file__, "--worker", tool, "--rows", str(args.rows[0])]
    command += ["--cache", str(args.cache), "--prior-scale", str(args.prior_scale)]
    with tempfile.TemporaryDirectory(prefix="bayeslogreg-cold-") as empty:
        # bayeslogreg keeps its programs between processes; "-cold" starts with none.
        env["BAYESLOGREG_JAX_CACHE_DIR"] = (
            empty if tool == "bayeslogreg-cold" else str(args.cache / "jax")
        )
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(results: list[dict]) -> str:
    import numpy as np

    # Compared within the same number of rows and estimator.
    ours = {
        (r["rows"], TOOLS[r["tool"]]): np.array(r["params"]) for r in results if r["tool"] in OURS
    }
    fastest = {}
    for r in results:
        if not r["tool"].startswith("bayeslogreg"):
            kind = (r["rows"], TOOLS[r["tool"]])
            fastest[kind] = min(fastest.get(kind, np.inf), r["wall_s"])
    header = (
        f"{'rows':>9} {'tool':<16} {'wall s':>7} {'peak GiB':>8} {'peak/data':>9} "
        f"{'max|dparam|':>11} {'/fastest':>8} {'passes':>6} {'floor s':>7} {'iters':>5} "
        f"{'load1':>5}"
    )
    lines = [header]
    for r in results:
        kind = (r["rows"], TOOLS[r["tool"]])
        diff = np.abs(np.array(r["params"]) - ours[kind]).max() if kind in ours else np.nan
        ratio = r["wall_s"] / fastest[kind] if kind in fastest else np.nan
        passes = r.get("passes")
        floor = f"{passes * r['one_pass_s']:7.2f}" if passes else f"{'':>7}"
        lines.append(
            f"{r['rows']:>9} {r['tool']:<16} {r['wall_s']:>7.2f} "
            f"{r['peak_rss_bytes'] / 2**30:>8.2f} {r['peak_rss_bytes'] / r['data_bytes']:>9.2f} "
            f"{diff:>11.2e} {ratio:>8.2f} {passes or '':>6} {floor} "
            f"{r.get('n_iter', ''):>5} {r['loadavg'][0]:>5.2f}"
        )
    return "\n".join(lines)


OURS = ("bayeslogreg", "bayeslogreg-map")


def main(argv=None) -> None:
    """Write the data if needed, run every tool in a subprocess, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=sorted(TOOLS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prior-scale", type=float, default=0.5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bayeslogreg_bench"))
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--table-from", type=Path, help="print the table of a --json file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows[0], args.cache, args.prior_scale)))
        return
    if args.table_from:
        print(_table(json.loads(args.table_from.read_text())))
        return
    tools = [t for t in TOOLS if t in args.tools]
    results = []
    for rows in args.rows:
        write_data(args.cache, rows)
        for tool in tools:
            results.append(_run_worker(tool, argparse.Namespace(**{**vars(args), "rows": [rows]})))
            print(f"done {tool} at {rows} rows: {results[-1]['wall_s']:.2f} s", file=sys.stderr)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    print(f"{os.cpu_count()} cores, {args.threads} threads per tool (OMP/OpenBLAS/MKL env)")
    print(_table(results))


if __name__ == "__main__":
    main()
