"""Write posterior_reference.json: a very long NUTS run of an independently written model.

The model below is plain NumPyro (Normal priors, ``Bernoulli(logits=...)`` likelihood),
written without bayeslogreg's model code, so that the test compares two implementations
of the same posterior. Run from the repository root:

    python tests/reference/make_posterior_reference.py
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

from bayeslogreg.datasets import simulate

SETTINGS = {
    "n_samples": 60,
    "coef": [1.0, -0.5, 0.0],
    "intercept": 0.5,
    "seed": 21,
    "coef_scale": 1.0,
    "intercept_scale": 2.5,
    "num_chains": 8,
    "num_warmup": 2000,
    "num_samples": 25_000,
}


def model(X, y, coef_scale, intercept_scale):
    intercept = numpyro.sample("intercept", dist.Normal(0.0, intercept_scale))
    coef = numpyro.sample("coef", dist.Normal(0.0, coef_scale).expand([X.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=intercept + X @ coef), obs=y)


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    s = SETTINGS
    data = simulate(s["n_samples"], s["coef"], intercept=s["intercept"], seed=s["seed"])
    mcmc = MCMC(
        NUTS(model),
        num_warmup=s["num_warmup"],
        num_samples=s["num_samples"],
        num_chains=s["num_chains"],
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(
        jax.random.key(0),
        jnp.asarray(data.X),
        jnp.asarray(data.y, dtype=jnp.float64),
        s["coef_scale"],
        s["intercept_scale"],
    )
    samples = mcmc.get_samples(group_by_chain=True)
    draws = np.concatenate([samples["intercept"][..., None], samples["coef"]], axis=-1)
    ess = np.array(
        [float(numpyro.diagnostics.effective_sample_size(draws[..., j])) for j in range(4)]
    )
    flat = draws.reshape(-1, draws.shape[-1])
    reference = {
        "settings": s,
        "mean": flat.mean(axis=0).tolist(),
        "sd": flat.std(axis=0, ddof=1).tolist(),
        "ess": ess.tolist(),
        "mcse_mean": (flat.std(axis=0, ddof=1) / np.sqrt(ess)).tolist(),
        # Normal approximation of the Monte Carlo error of a standard deviation.
        "mcse_sd": (flat.std(axis=0, ddof=1) / np.sqrt(2 * ess)).tolist(),
    }
    path = Path(__file__).with_name("posterior_reference.json")
    path.write_text(json.dumps(reference, indent=2) + "\n")
    print(json.dumps(reference, indent=2))


if __name__ == "__main__":
    main()
