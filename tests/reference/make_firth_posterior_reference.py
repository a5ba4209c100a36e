"""Write firth_posterior_reference.json: a long NUTS run of the Jeffreys posterior.

The model below is plain NumPyro, written without bayeslogreg's model code: a flat
density on the parameters, ``numpyro.factor`` with half the log-determinant of the
Fisher information ``X1' diag(p (1 - p)) X1`` (by ``slogdet``), and a
``Bernoulli(logits=...)`` likelihood, on the endometrial data (HG ~ NV + PI + EH; NV
separates the classes quasi-completely). The test compares bayeslogreg's sampler with
it. Run from the repository root:

    python tests/reference/make_firth_posterior_reference.py
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from numpyro.infer import MCMC, NUTS

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "firth" / "endometrial.csv"
SETTINGS = {
    "data": "firth/endometrial.csv",
    "formula": "HG ~ NV + PI + EH",
    "num_chains": 8,
    "num_warmup": 2000,
    "num_samples": 25_000,
}


def model(X1, y):
    params = numpyro.sample(
        "params", dist.ImproperUniform(dist.constraints.real, (), (X1.shape[1],))
    )
    eta = X1 @ params
    p = jax.nn.sigmoid(eta)
    information = X1.T @ (X1 * (p * (1.0 - p))[:, None])
    numpyro.factor("jeffreys", 0.5 * jnp.linalg.slogdet(information)[1])
    numpyro.sample("y", dist.Bernoulli(logits=eta), obs=y)


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    s = SETTINGS
    frame = pd.read_csv(DATA)
    X1 = np.column_stack([np.ones(len(frame)), frame[["NV", "PI", "EH"]].to_numpy(float)])
    mcmc = MCMC(
        NUTS(model),
        num_warmup=s["num_warmup"],
        num_samples=s["num_samples"],
        num_chains=s["num_chains"],
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.key(0), jnp.asarray(X1), jnp.asarray(frame["HG"].to_numpy(float)))
    draws = np.asarray(mcmc.get_samples(group_by_chain=True)["params"])
    divergences = int(np.sum(mcmc.get_extra_fields(group_by_chain=True)["diverging"]))
    ess = np.array(
        [float(numpyro.diagnostics.effective_sample_size(draws[..., j])) for j in range(4)]
    )
    flat = draws.reshape(-1, draws.shape[-1])
    reference = {
        "settings": s,
        "divergences": divergences,
        "mean": flat.mean(axis=0).tolist(),
        "sd": flat.std(axis=0, ddof=1).tolist(),
        "ess": ess.tolist(),
        "mcse_mean": (flat.std(axis=0, ddof=1) / np.sqrt(ess)).tolist(),
        # Normal approximation of the Monte Carlo error of a standard deviation.
        "mcse_sd": (flat.std(axis=0, ddof=1) / np.sqrt(2 * ess)).tolist(),
    }
    path = Path(__file__).with_name("firth_posterior_reference.json")
    path.write_text(json.dumps(reference, indent=2) + "\n")
    print(json.dumps(reference, indent=2))


if __name__ == "__main__":
    main()
