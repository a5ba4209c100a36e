"""Write horseshoe_reference.json: a long NUTS run of an independently written horseshoe.

The regularized horseshoe below is plain NumPyro written from rstanarm's ``hs_prior``
(Stan) code, not from bayeslogreg's: ``tau = tau_aux * global_scale`` with ``tau_aux``
a half-Student-t(global_df, 0, 1) site, ``c^2 = slab_scale**2 * caux`` with ``caux ~
InvGamma(slab_df / 2, slab_df / 2)``, NumPyro's own transforms to the unconstrained
space, and the intercept prior put on the log-odds at the column means (``alpha_c ~
Normal(0, 2.5)``, ``intercept = alpha_c - mean(X) @ coef``, a shift of unit Jacobian).
The data: a sparse problem of 300 rows, 50 standard-normal features, 4 true effects.
Run from the repository root (about 25 minutes on the shared 2-core machine):

    python tests/reference/make_horseshoe_reference.py
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

SETTINGS = {
    "n_rows": 300,
    "n_features": 50,
    "effects": [1.5, -1.5, 1.0, -1.0],
    "intercept": -0.3,
    "data_seed": 1,
    # Piironen and Vehtari's p0 / (p - p0) * sigma / sqrt(n), pseudo-sigma 2 for logit.
    "global_scale": 4 / 46 * 2 / np.sqrt(300),
    "slab_scale": 2.5,
    "slab_df": 4.0,
    "local_df": 1.0,
    "global_df": 1.0,
    "intercept_scale": 2.5,
    "num_chains": 8,
    "num_warmup": 2000,
    "num_samples": 10_000,
    "target_accept": 0.99,
}


def simulate(s: dict) -> tuple[np.ndarray, np.ndarray]:
    """X (n, p) standard normal and 0/1 labels of the sparse logistic model."""
    rng = np.random.default_rng(s["data_seed"])
    X = rng.standard_normal((s["n_rows"], s["n_features"]))
    coef = np.zeros(s["n_features"])
    coef[: len(s["effects"])] = s["effects"]
    probability = 1.0 / (1.0 + np.exp(-(s["intercept"] + X @ coef)))
    return X, (rng.random(s["n_rows"]) < probability).astype(np.int64)


def half_t(df):
    return dist.FoldedDistribution(dist.StudentT(df, 0.0, 1.0))


def model(X, y, s):
    p = X.shape[1]
    tau_aux = numpyro.sample("tau_aux", half_t(s["global_df"]))
    lam = numpyro.sample("lambda", half_t(s["local_df"]).expand([p]).to_event(1))
    caux = numpyro.sample("caux", dist.InverseGamma(s["slab_df"] / 2, s["slab_df"] / 2))
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([p]).to_event(1))
    tau = tau_aux * s["global_scale"]
    c2 = s["slab_scale"] ** 2 * caux
    lambda_tilde = jnp.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
    coef = numpyro.deterministic("coef", z * lambda_tilde * tau)
    alpha_c = numpyro.sample("alpha_c", dist.Normal(0.0, s["intercept_scale"]))
    intercept = numpyro.deterministic("intercept", alpha_c - X.mean(axis=0) @ coef)
    numpyro.sample("y", dist.Bernoulli(logits=intercept + X @ coef), obs=y)


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    s = SETTINGS
    X, y = simulate(s)
    mcmc = MCMC(
        NUTS(model, target_accept_prob=s["target_accept"]),
        num_warmup=s["num_warmup"],
        num_samples=s["num_samples"],
        num_chains=s["num_chains"],
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.key(0), jnp.asarray(X), jnp.asarray(y, dtype=jnp.float64), s)
    samples = mcmc.get_samples(group_by_chain=True)
    draws = np.concatenate(
        [np.asarray(samples["intercept"])[..., None], np.asarray(samples["coef"])], axis=-1
    )
    ess = np.array(
        [
            float(numpyro.diagnostics.effective_sample_size(draws[..., j]))
            for j in range(draws.shape[-1])
        ]
    )
    rhat = numpyro.diagnostics.split_gelman_rubin(draws)
    divergences = int(mcmc.get_extra_fields(group_by_chain=True)["diverging"].sum())
    flat = draws.reshape(-1, draws.shape[-1])
    sd = flat.std(axis=0, ddof=1)
    reference = {
        "settings": s,
        "mean": flat.mean(axis=0).tolist(),
        "sd": sd.tolist(),
        "ess": ess.tolist(),
        "mcse_mean": (sd / np.sqrt(ess)).tolist(),
        # Normal approximation of the Monte Carlo error of a standard deviation.
        "mcse_sd": (sd / np.sqrt(2 * ess)).tolist(),
        "max_rhat": float(np.max(rhat)),
        "divergences": divergences,
    }
    path = Path(__file__).with_name("horseshoe_reference.json")
    path.write_text(json.dumps(reference, indent=2) + "\n")
    print(json.dumps({k: v for k, v in reference.items() if k != "settings"})[:400])


if __name__ == "__main__":
    main()
