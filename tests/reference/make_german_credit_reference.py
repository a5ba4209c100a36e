"""Write german_credit_reference.json: a long NUTS run of German credit, written independently.

The Inference Gym's German credit target (``../shared/data/german_credit_numeric``):
features standardised over all 1000 rows (population sd), outcome ``y_bad``, Normal(0, 1)
priors on the intercept and the 24 coefficients. The model is plain NumPyro
(``Bernoulli(logits=...)``), written without bayeslogreg's model code, so that the VI
and Pathfinder tests compare two implementations of the same posterior. Run from the
repository root:

    python tests/reference/make_german_credit_reference.py
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

DATA = (
    Path(__file__).resolve().parents[3]
    / "shared/data/german_credit_numeric/german_credit_numeric.csv"
)
SETTINGS = {"num_chains": 4, "num_warmup": 1000, "num_samples": 10_000, "seed": 0}


def load() -> tuple[np.ndarray, np.ndarray]:
    """Standardised X (1000, 24) and y_bad (1000,), as the Inference Gym prepares them."""
    table = np.genfromtxt(DATA, delimiter=",", names=True)
    names = [f"a{j:02d}" for j in range(1, 25)]
    X = np.column_stack([table[name] for name in names])
    return (X - X.mean(axis=0)) / X.std(axis=0), table["y_bad"].astype(np.float64)


def model(X, y):
    intercept = numpyro.sample("intercept", dist.Normal(0.0, 1.0))
    coef = numpyro.sample("coef", dist.Normal(0.0, 1.0).expand([X.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=intercept + X @ coef), obs=y)


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    s = SETTINGS
    X, y = load()
    mcmc = MCMC(
        NUTS(model),
        num_warmup=s["num_warmup"],
        num_samples=s["num_samples"],
        num_chains=s["num_chains"],
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.key(s["seed"]), jnp.asarray(X), jnp.asarray(y))
    samples = mcmc.get_samples(group_by_chain=True)
    draws = np.concatenate([samples["intercept"][..., None], samples["coef"]], axis=-1)
    ess = np.array(
        [
            float(numpyro.diagnostics.effective_sample_size(draws[..., j]))
            for j in range(draws.shape[-1])
        ]
    )
    rhat = np.array(
        [float(numpyro.diagnostics.split_gelman_rubin(draws[..., j])) for j in range(25)]
    )
    flat = draws.reshape(-1, draws.shape[-1])
    sd = flat.std(axis=0, ddof=1)
    reference = {
        "settings": s,
        "mean": flat.mean(axis=0).tolist(),
        "sd": sd.tolist(),
        "ess": ess.tolist(),
        "max_r_hat": float(rhat.max()),
        "mcse_mean": (sd / np.sqrt(ess)).tolist(),
        # Normal approximation of the Monte Carlo error of a standard deviation.
        "mcse_sd": (sd / np.sqrt(2 * ess)).tolist(),
    }
    path = Path(__file__).with_name("german_credit_reference.json")
    path.write_text(json.dumps(reference, indent=2) + "\n")
    print(json.dumps({k: reference[k] for k in ("max_r_hat",)}), min(ess))


if __name__ == "__main__":
    main()
