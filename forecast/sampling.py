"""Sample the posterior with fixed seeds and judge its convergence.

One job: run NUTS (nutpie) on the model of :mod:`forecast.model` with the
settings of ``model.yaml`` and compute the convergence gate: R-hat, bulk and
tail ESS, divergences and the Monte Carlo error of the headline probabilities.
A failed gate is returned, never hidden; the caller reports it loudly.
"""

from __future__ import annotations

from forecast.config import QuestionConfig
from forecast.exact import quantity_name
from forecast.gate import divergences, failures, variable_diagnostics
from forecast.ledger import Evidence
from forecast.model import HEADLINE_VARS, build_model

#: Compiled models by the structure that shapes them (every prior file), so that a second
#: NUTS run of one question in a process changes only the news, never recompiles.
_COMPILED: dict[str, tuple] = {}


def compiled_model(config: QuestionConfig, evidence: Evidence):
    """The question's model compiled by nutpie once per structure, with this news as data.

    The news enters the PyMC model only through its two data containers
    (``state_loglr``, ``outcome_loglr``), so every ledger of one question shares one
    graph: the first call compiles it (seconds), later ones swap the data in
    (``with_data``). Keyed by :meth:`QuestionConfig.input_hash` (the prior files,
    the model settings and the code of the modules that build the model).

    Returns
    -------
    (compiled, model)
        nutpie's compiled model with the news set, and the PyMC model (its data set too).
    """
    import nutpie
    import pymc as pm

    from forecast.store import source_hash

    key = f"{config.input_hash()}-{source_hash()}"
    if key not in _COMPILED:
        model = build_model(config, evidence)
        _COMPILED[key] = (nutpie.compile_pymc_model(model, backend="numba"), model)
    compiled, model = _COMPILED[key]
    data = {"state_loglr": evidence.state_loglr, "outcome_loglr": evidence.outcome_loglr}
    with model:
        pm.set_data(data)
    return compiled.with_data(**data), model


def sample(config: QuestionConfig, evidence: Evidence, *, seed: int, progressbar: bool = False):
    """Draw from the posterior of the question given the news (NUTS, nutpie).

    Returns
    -------
    xarray.DataTree
        With groups ``posterior``, ``sample_stats`` and ``constant_data``.
    """
    import time

    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    settings = config.model.sampler
    compiled, model = compiled_model(config, evidence)
    start = time.time()
    tree = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                         chains=settings.chains, seed=int(seed), save_warmup=False,
                         progress_bar=progressbar, target_accept=settings.target_accept)
    patch_nutpie_idata(tree, model, sampling_time=time.time() - start)
    return tree


def diagnose(tree, config: QuestionConfig) -> dict:
    """Convergence diagnostics and the gate of ``model.yaml`` (:mod:`forecast.gate`).

    Returns
    -------
    dict
        ``r_hat_max`` over every sampled and derived quantity; ``ess_bulk_min``,
        ``ess_tail_min`` and ``mcse_max`` over the headline means; ``divergences``;
        ``per_variable`` details, ``ess_mean`` per headline quantity, ``passed`` and the
        list of ``failures``.
    """
    post = tree["posterior"]
    per_var: dict[str, dict[str, float]] = {}
    ess_mean: dict[str, float] = {}
    for name, da in post.data_vars.items():
        headline = name in HEADLINE_VARS or name == "p_state_post"
        entry = variable_diagnostics(da.values, mcse=headline)
        if headline:
            labels = [str(c) for c in da.coords[da.dims[2]].values] if da.ndim > 2 else [""]
            for label, ess in zip(labels, entry.pop("ess_mean"), strict=True):
                ess_mean[quantity_name(name, label)] = ess
        per_var[name] = entry
    headline = [per_var[name] for name in HEADLINE_VARS]
    result = {
        "r_hat_max": max(v["r_hat_max"] for v in per_var.values()),
        "ess_bulk_min": min(v["ess_bulk_min"] for v in headline),
        "ess_tail_min": min(v["ess_tail_min"] for v in headline),
        "divergences": divergences(tree),
        "mcse_max": max(v["mcse_max"] for v in headline),
        "per_variable": per_var,
        "ess_mean": ess_mean,
    }
    result["failures"] = failures(result, config.model.gate)
    result["passed"] = not result["failures"]
    return result
