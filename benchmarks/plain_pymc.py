"""The same model written the obvious way in PyMC, as the benchmarks' baseline.

What a modeller would write without ``forecast``: read the YAML, turn the elicited
intervals into priors (the same PreliZ ``maxent`` calls), enumerate the ``2**K``
evidence states with ``itertools.product`` into one log-joint term per state,
``pm.math.logsumexp`` them, and call ``pm.sample()`` with its defaults (PyMC's own
NUTS, default draws, tune and chains). Rebuilt and recompiled from scratch on each run.

    python benchmarks/plain_pymc.py priors/russia_syria_bases [--json]

Prints P(keep) for each base and the ESS (for the mean) of the first one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np
import preliz as pz
import pymc as pm
import pytensor.tensor as pt
import yaml


def maxent(family, lower, upper, mass):
    dist = getattr(pz, family)()
    pz.maxent(dist, lower, upper, mass, plot=False)
    return dict(zip(dist.param_names, map(float, dist.params), strict=True))


def beta_of(prior):
    if "dist" in prior:
        return prior["dist"]["kwargs"]
    e = prior["elicited"]
    return maxent("Beta", e["lower"], e["upper"], e.get("mass", 0.9))


def normal_of(effect):
    if "dist" in effect:
        return effect["dist"]["kwargs"]
    e = effect["elicited"]
    return maxent("Normal", math.log(e["lower"]), math.log(e["upper"]), e.get("mass", 0.9))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("question", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    q = yaml.safe_load((args.question / "question.yaml").read_text())
    ev = yaml.safe_load((args.question / "evidence.yaml").read_text())["variables"]
    settings = yaml.safe_load((args.question / "model.yaml").read_text())
    bases = [o["id"] for o in q["outcomes"]]
    names = [v["id"] for v in ev]
    pooling_sigma = settings["effect_pooling"]["dist"]["kwargs"]["sigma"]

    with pm.Model(coords={"base": bases, "evidence": names}):
        p_state = pm.Beta("p_state", **{k: [beta_of(v["prior"])[k] for v in ev]
                                        for k in ("alpha", "beta")}, dims="evidence")
        p_base = pm.Beta("p_base", **{k: [beta_of(o["baseline"])[k] for o in q["outcomes"]]
                                      for k in ("alpha", "beta")}, dims="base")
        effect_mu = pm.Normal("effect_mu", **{k: [normal_of(v["effect"])[k] for v in ev]
                                              for k in ("mu", "sigma")}, dims="evidence")
        effect_sd = pm.HalfNormal("effect_sd", sigma=pooling_sigma)
        effect_z = pm.Normal("effect_z", 0, 1, dims=("base", "evidence"))
        beta = pm.Deterministic("beta", effect_mu + effect_sd * effect_z,
                                dims=("base", "evidence"))
        alpha = pm.math.logit(p_base)
        # No news yet: the news terms are zero, so the enumeration gives P(keep) directly.
        log_terms, keep_terms = [], []
        for state in itertools.product([0, 1], repeat=len(names)):
            s = np.array(state, dtype=float)
            log_p_s = pt.sum(s * pt.log(p_state) + (1 - s) * pt.log1p(-p_state))
            log_terms.append(log_p_s)
            keep_terms.append(pm.math.sigmoid(alpha + pt.dot(beta, s)))
        log_w = pt.stack(log_terms)
        weights = pt.exp(log_w - pm.math.logsumexp(log_w))
        pm.Potential("news", pm.math.logsumexp(log_w))
        pm.Deterministic("p_keep", pt.dot(weights, pt.stack(keep_terms)), dims="base")
        idata = pm.sample(random_seed=args.seed, progressbar=False)
    elapsed = time.perf_counter() - t0

    from arviz_stats.base import array_stats

    p_keep = idata.posterior["p_keep"].values  # (chain, draw, base)
    ess = float(array_stats.ess(p_keep[..., 0], method="mean"))
    result = {
        "seconds": elapsed,
        "p_keep": {b: float(p_keep[..., i].mean()) for i, b in enumerate(bases)},
        "ess_p_keep": ess,
        "draws": int(p_keep.shape[0] * p_keep.shape[1]),
        "divergences": int(idata.sample_stats["diverging"].values.sum()),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
