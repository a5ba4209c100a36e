"""NUTS efficiency: bayeslogreg's sample_posterior against NumPyro's default and PyStan.

Usage: flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_posterior.py
       [--datasets breast_cancer german_credit synthetic_100k] [--tools ...]

Every run is a fresh Python process, timed from its start to its end: interpreter start,
imports, data loading, compilation, warm-up, sampling and a summary table, i.e. all a
user waits for. Each tool samples the same posterior: logistic regression with a
Normal(0, 10) prior on the intercept and Normal(0, 2.5) on each coefficient (the
package defaults), 4 chains x 1000 warm-up + 1000 draws.

Tools
-----
bayeslogreg        ``sample_posterior`` with its defaults, its cache warm: a previous run
                   of the same shapes left the exported sampler and the compiled
                   programs on disk (as PyStan's model cache keeps its compiled model).
bayeslogreg-cold   the same with an empty cache: everything traced and compiled.
numpyro-default    a plain NumPyro model, ``NUTS()`` with its defaults (uniform(-2, 2)
                   initialisation, diagonal mass matrix), chains run sequentially.
pystan-cold        PyStan 3 with the compiled model removed from httpstan's cache.
pystan-warm        PyStan 3 with the model cache warm (chains in parallel processes).
                   httpstan also keeps every fit made with a random seed and hands it
                   back, without sampling, when the same model, data, seed and settings
                   come again: its kept fits are deleted before every PyStan run.

Columns: minimum bulk ESS over parameters (ArviZ, computed here from the saved draws
so that every tool is scored alike), ESS per second of wall time, the ratio of that to
NumPyro's default and to PyStan warm, the largest |mean - reference mean| / reference sd
over parameters, and the 1-minute load average when the run ended. The reference is a
long PyStan run (4 x 10000 draws) for the two small data sets and the Laplace
approximation at 100k rows (its error is O(1/sqrt(n)) of a posterior sd, ~0.3%).
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

STAN_CODE = """
data { int<lower=0> N; int<lower=0> K; matrix[N, K] X; array[N] int<lower=0, upper=1> y; }
parameters { real intercept; vector[K] coef; }
model {
  intercept ~ normal(0, 10);
  coef ~ normal(0, 2.5);
  y ~ bernoulli_logit_glm(X, intercept, coef);
}
"""
DATASETS = ("breast_cancer", "german_credit", "synthetic_100k")
TOOLS = ("bayeslogreg-cold", "bayeslogreg", "numpyro-default", "pystan-cold", "pystan-warm")
# Stan compiles once per model, not per data set, so its cold run (a minute of C++
# compilation) is measured on the first data set only.
DEFAULT_TOOLS = {
    "breast_cancer": TOOLS,
    "german_credit": ("bayeslogreg-cold", "bayeslogreg", "numpyro-default", "pystan-warm"),
    "synthetic_100k": ("bayeslogreg-cold", "bayeslogreg", "numpyro-default", "pystan-warm"),
}
GERMAN_CREDIT = (
    Path(__file__).resolve().parents[2]
    / "shared/data/german_credit_numeric/german_credit_numeric.csv"
)
NUM_CHAINS, NUM_WARMUP, NUM_SAMPLES = 4, 1000, 1000


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardised float64 X of shape (n, p) and 0/1 int y of shape (n,)."""
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        X, y = data.data, (data.target == 0).astype(np.int64)  # malignant = 1
    elif name == "german_credit":
        table = np.genfromtxt(GERMAN_CREDIT, delimiter=",", names=True)
        X = np.column_stack([table[f"a{i:02d}"] for i in range(1, 25)])
        y = table["y_bad"].astype(np.int64)
    elif name == "synthetic_100k":
        rng = np.random.default_rng(20261123)
        X = rng.normal(size=(100_000, 28))
        coef = rng.normal(scale=0.5, size=28)
        y = (rng.random(100_000) < 1 / (1 + np.exp(-(0.3 + X @ coef)))).astype(np.int64)
    else:
        raise ValueError(f"unknown data set {name!r}; expected one of {DATASETS}")
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _numpyro_default(X, y, seed: int) -> np.ndarray:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    def model(X, y):
        intercept = numpyro.sample("intercept", dist.Normal(0.0, 10.0))
        coef = numpyro.sample("coef", dist.Normal(0.0, 2.5).expand([X.shape[1]]))
        numpyro.sample("y", dist.Bernoulli(logits=intercept + X @ coef), obs=y)

    mcmc = MCMC(
        NUTS(model),
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.key(seed), jnp.asarray(X), jnp.asarray(y))
    samples = mcmc.get_samples(group_by_chain=True)
    return np.concatenate([np.asarray(samples["intercept"])[..., None], samples["coef"]], -1)


def _pystan(X, y, seed: int, num_samples: int = NUM_SAMPLES) -> np.ndarray:
    import stan

    data = {"N": X.shape[0], "K": X.shape[1], "X": X, "y": y.astype(int)}
    program = stan.build(STAN_CODE, data=data, random_seed=seed)
    fit = program.sample(num_chains=NUM_CHAINS, num_warmup=NUM_WARMUP, num_samples=num_samples)
    intercept = fit["intercept"].reshape(num_samples, NUM_CHAINS).T  # (chains, draws)
    coef = fit["coef"].reshape(X.shape[1], num_samples, NUM_CHAINS).transpose(2, 1, 0)
    return np.concatenate([intercept[..., None], coef], -1)


def _summary(draws: np.ndarray) -> None:
    """Run what a NumPyro or PyStan user runs after sampling: ArviZ's summary."""
    import arviz

    arviz.summary(arviz.from_dict(posterior={"theta": draws}))


def worker(dataset: str, tool: str, seed: int, out: str) -> None:
    """Sample with one tool in this (fresh) process and save the draws to ``out``."""
    X, y = load(dataset)
    info = {}
    if tool.startswith("bayeslogreg"):
        from bayeslogreg import sample_posterior

        post = sample_posterior(X, y, seed=seed, store_log_likelihood=False)
        post.summary()
        draws = post.draws
        step_size = post.idata.sample_stats["step_size"].values
        n_steps = post.idata.sample_stats["n_steps"].values
        info = {
            "num_warmup": post.num_warmup,
            "divergences": post.num_divergences,
            "step_size": float(np.mean(step_size)),
            "mean_steps": float(np.mean(n_steps)),
        }
    elif tool == "numpyro-default":
        draws = _numpyro_default(X, y, seed)
        _summary(draws)
    elif tool.startswith("pystan"):
        draws = _pystan(X, y, seed)
        _summary(draws)
    else:
        raise ValueError(f"unknown tool {tool!r}; expected one of {TOOLS}")
    np.savez(out, draws=draws, info=json.dumps(info))


def _run_fresh(dataset: str, tool: str, seed: int, env: dict) -> tuple[float, np.ndarray, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "draws.npz")
        command = [sys.executable, __file__, "--worker", dataset, tool, str(seed), out]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} on {dataset} failed:\n{done.stderr[-5000:]}")
        wall = time.perf_counter() - start
        saved = np.load(out)
        return wall, saved["draws"], json.loads(str(saved["info"]))


def _clear_stan(model: bool) -> None:
    """Delete httpstan's kept fits of the model, and the compiled model too if ``model``."""
    import httpstan.cache
    import httpstan.models

    name = httpstan.models.calculate_model_name(STAN_CODE)
    if model:
        httpstan.cache.delete_model_directory(name)
    else:
        shutil.rmtree(httpstan.cache.model_directory(name) / "fits", ignore_errors=True)


def reference(dataset: str, X, y, cache: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Posterior means and sds to score every tool against, and what they come from."""
    path = cache / f"reference_{dataset}.npz"
    if dataset == "synthetic_100k":
        from bayeslogreg import fit_map

        fit = fit_map(X, y)
        return fit.params, fit.stderr, "Laplace"
    if not path.exists():
        draws = _pystan(X, y, seed=12345, num_samples=10_000).reshape(-1, X.shape[1] + 1)
        np.savez(path, mean=draws.mean(0), sd=draws.std(0, ddof=1))
    saved = np.load(path)
    return saved["mean"], saved["sd"], "PyStan 4x10000"


def main(argv=None) -> None:
    """Run every (data set, tool) pair in a fresh process and print the table."""
    import arviz

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--tools", nargs="+", choices=TOOLS, help="default: by data set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_posterior"
    )
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    jax_cache = args.cache / "jax"
    env = {**os.environ, "BAYESLOGREG_JAX_CACHE_DIR": str(jax_cache)}
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, float64, {NUM_CHAINS} chains")
    header = (
        f"{'data set':<15} {'n x p':>12} {'tool':<17} {'wall s':>7} {'min ESS':>8} "
        f"{'ESS/s':>7} {'vs NumPyro':>10} {'vs Stan':>8} {'max|dmean|/sd':>13} "
        f"{'load':>5}  notes"
    )
    rows = []
    for dataset in args.datasets:
        X, y = load(dataset)
        ref_mean, ref_sd, ref_name = reference(dataset, X, y, args.cache)
        results = {}
        for tool in args.tools or DEFAULT_TOOLS[dataset]:
            if tool == "bayeslogreg-cold":
                shutil.rmtree(jax_cache, ignore_errors=True)
            if tool.startswith("pystan"):
                _clear_stan(model=tool == "pystan-cold")
            wall, draws, info = _run_fresh(dataset, tool, args.seed, env)
            ess = float(np.min(arviz.ess(arviz.from_dict(posterior={"t": draws}))["t"].values))
            pooled = draws.reshape(-1, draws.shape[-1])
            error = float(np.max(np.abs(pooled.mean(0) - ref_mean) / ref_sd))
            results[tool] = (wall, ess, error, os.getloadavg()[0], info)
        for tool, (wall, ess, error, load_avg, info) in results.items():
            rate = ess / wall
            ratios = [
                f"{rate / (results[t][1] / results[t][0]):.2f}" if t in results else "-"
                for t in ("numpyro-default", "pystan-warm")
            ]
            notes = ", ".join(f"{k}={v:.3g}" for k, v in info.items()) + f" (ref: {ref_name})"
            rows.append(
                f"{dataset:<15} {f'{X.shape[0]} x {X.shape[1]}':>12} {tool:<17} {wall:>7.1f} "
                f"{ess:>8.0f} {rate:>7.1f} {ratios[0]:>10} {ratios[1]:>8} {error:>13.3f} "
                f"{load_avg:>5.2f}  {notes}"
            )
            print(rows[-1], flush=True)
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
