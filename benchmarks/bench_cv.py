"""Cross-validated comparison: bayeslogreg's compare_cv against the same folds done by hand.

Usage: flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_cv.py
       [--datasets breast_cancer german_credit] [--folds 5]

Every run is a fresh Python process, timed from its start to its end (interpreter,
imports, data, compilation, fits, scores). Both sides fit MLE, MAP and the posterior on
the same 5 stratified folds and score each on the held-out rows (AUC, log-loss, Brier):

bayeslogreg-cold  ``compare_cv(["mle", "map", "nuts"], X, y, cv=5)`` with an empty cache
                  (everything traced and compiled), the tables printed.
bayeslogreg       the same with the cache a previous run left on disk.
by-hand           statsmodels ``Logit`` (MLE with standard errors), scikit-learn's
                  ``LogisticRegression(C=2.5**2)`` (MAP: the same Normal(0, 2.5) prior on
                  the coefficients; scikit-learn leaves the intercept unpenalised where
                  bayeslogreg puts Normal(0, 10) on it) and NumPyro's default NUTS (4
                  chains run sequentially), each fold in turn; scores by scikit-learn;
                  the corrected t-test by hand.

Settings: standardised features; priors Normal(0, 2.5) on coefficients, Normal(0, 10)
on the intercept, no autoscaling; 4 chains x 1000 warm-up + 1000 draws. Printed: wall
seconds, the ratio to by-hand, the 1-minute load average at the end, and the mean AUC of
each estimator on both sides (same folds, same models: MAP and the posterior agree to
the third decimal; the MLE does not exist where a fold's rows are separated, as breast
cancer's are, and then each tool reports wherever its optimizer stopped).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_posterior import load  # noqa: E402  (same data, same standardisation)

DATASETS = ("breast_cancer", "german_credit")
TOOLS = ("bayeslogreg-cold", "bayeslogreg", "by-hand")
NUM_CHAINS, NUM_WARMUP, NUM_SAMPLES = 4, 1000, 1000


def _bayeslogreg(X, y, folds: int, seed: int) -> dict:
    import bayeslogreg as blr
    from bayeslogreg import priors

    cv = blr.compare_cv(
        ["mle", "map", "nuts"],
        X,
        y,
        cv=folds,
        seed=seed,
        prior=priors.Normal(0, 2.5),
        intercept_prior=priors.Normal(0, 10),
        autoscale=False,
        num_chains=NUM_CHAINS,
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
    )
    print(repr(cv))
    return {name: float(cv.summary.loc[name, ("auc", "mean")]) for name in cv.names}


def _by_hand(X, y, folds: int, seed: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    import statsmodels.api as sm
    from numpyro.infer import MCMC, NUTS
    from scipy import special, stats
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    from bayeslogreg.report._folds import stratified_folds  # the same folds, indices only

    def model(X, y=None):
        intercept = numpyro.sample("intercept", dist.Normal(0.0, 10.0))
        coef = numpyro.sample("coef", dist.Normal(0.0, 2.5).expand([X.shape[1]]))
        numpyro.sample("y", dist.Bernoulli(logits=intercept + X @ coef), obs=y)

    scores = {"MLE": [], "MAP": [], "posterior": []}
    for k, (train, test) in enumerate(stratified_folds(y, folds, seed)):
        mle = sm.Logit(y[train], sm.add_constant(X[train])).fit(disp=0)
        probs = {"MLE": mle.predict(sm.add_constant(X[test]))}
        map_fit = LogisticRegression(C=2.5**2, max_iter=1000).fit(X[train], y[train])
        probs["MAP"] = map_fit.predict_proba(X[test])[:, 1]
        mcmc = MCMC(
            NUTS(model),
            num_warmup=NUM_WARMUP,
            num_samples=NUM_SAMPLES,
            num_chains=NUM_CHAINS,
            chain_method="sequential",
            progress_bar=False,
        )
        mcmc.run(jax.random.key(seed + k), jnp.asarray(X[train]), jnp.asarray(y[train]))
        draws = mcmc.get_samples()
        eta = np.asarray(draws["intercept"])[:, None] + np.asarray(draws["coef"]) @ X[test].T
        probs["posterior"] = special.expit(eta).mean(axis=0)
        for name, prob in probs.items():
            scores[name].append(
                (
                    roc_auc_score(y[test], prob),
                    log_loss(y[test], prob),
                    brier_score_loss(y[test], prob),
                )
            )
    means = {name: np.mean(values, axis=0) for name, values in scores.items()}
    n_test = len(y) / folds
    for a, b in (("MLE", "MAP"), ("MLE", "posterior"), ("MAP", "posterior")):
        d = np.array(scores[a])[:, 0] - np.array(scores[b])[:, 0]
        se = np.sqrt((1 / folds + n_test / (len(y) - n_test)) * d.var(ddof=1))
        t = d.mean() / se if se > 0 else 0.0
        print(a, b, "AUC t =", t, "p =", 2 * stats.t.sf(abs(t), folds - 1))
    print({name: m.round(4).tolist() for name, m in means.items()})
    return {name: float(m[0]) for name, m in means.items()}


def worker(dataset: str, tool: str, folds: int, seed: int, out: str) -> None:
    """Run one tool in this (fresh) process; write each estimator's mean AUC to ``out``."""
    X, y = load(dataset)
    aucs = _by_hand(X, y, folds, seed) if tool == "by-hand" else _bayeslogreg(X, y, folds, seed)
    Path(out).write_text(json.dumps(aucs))


def _run_fresh(dataset: str, tool: str, folds: int, seed: int, env: dict) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "aucs.json")
        command = [sys.executable, __file__, "--worker", dataset, tool, str(folds), str(seed), out]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} on {dataset} failed:\n{done.stderr[-5000:]}")
        return time.perf_counter() - start, json.loads(Path(out).read_text())


def main(argv=None) -> None:
    """Run every (data set, tool) pair in a fresh process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_cv")
    args = parser.parse_args(argv)
    jax_cache = args.cache / "jax"
    env = {**os.environ, "BAYESLOGREG_JAX_CACHE_DIR": str(jax_cache)}
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, float64, {args.folds} folds")
    rows = []
    for dataset in args.datasets:
        X, _ = load(dataset)
        results = {}
        for tool in TOOLS:
            if tool == "bayeslogreg-cold":
                shutil.rmtree(jax_cache, ignore_errors=True)
            results[tool] = (
                *_run_fresh(dataset, tool, args.folds, args.seed, env),
                os.getloadavg()[0],
            )
        by_hand = results["by-hand"][0]
        for tool, (wall, aucs, load_avg) in results.items():
            shown = ", ".join(f"{k} {v:.4f}" for k, v in aucs.items())
            rows.append(
                f"{dataset:<14} {f'{X.shape[0]} x {X.shape[1]}':>10} {tool:<17} {wall:>7.1f} "
                f"{wall / by_hand:>8.2f} {load_avg:>5.2f}  mean AUC: {shown}"
            )
            print(rows[-1], flush=True)
    print(f"{'data set':<14} {'n x p':>10} {'tool':<17} {'wall s':>7} {'/by-hand':>8} {'load':>5}")
    print("\n".join(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        main()
