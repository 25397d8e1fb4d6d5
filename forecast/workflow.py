"""What ``forecast validate``, ``run``, ``update`` and ``what-if`` do, as functions.

Each takes a question (its directory or its loaded config), returns what it
computed (a result object, tables, paths) and prints nothing: a notebook calls
them as the command line does, and the command line (:mod:`forecast.cli`)
decides what the user sees. Problems with the input are raised
(:class:`~forecast.errors.ConfigError`, :class:`~forecast.errors.LedgerError`)
or warned (:class:`~forecast.elicit.DegenerateIntervalWarning`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.config import ConfigError, QuestionConfig, load_question, placeholders
from forecast.errors import LedgerError

if TYPE_CHECKING:
    import pandas as pd

    from forecast.engine import Forecast
    from forecast.ledger import NewsItem
    from forecast.news import UpdateResult

#: The files :func:`run_question` writes into a question's results folder.
RUN_FILES = ("posterior.nc", "forecast.json", "headline.csv", "headline.png")


def _config(question: str | Path | QuestionConfig) -> QuestionConfig:
    return question if isinstance(question, QuestionConfig) else load_question(question)


@dataclass
class Validation:
    """What ``forecast validate`` found in a question's files (all of them valid)."""

    config: QuestionConfig
    n_items: int  #: news items in the ledger
    n_issued: int | None  #: forecasts in the record; None when there is no record file
    todo: list[str] = field(default_factory=list)  #: values still marked TODO


def validate_question(question: str | Path) -> Validation:
    """Read and check every file of a question, as ``forecast validate`` does.

    Parameters
    ----------
    question
        The question's directory.

    Returns
    -------
    Validation
        The config, the ledger's and the record's sizes, and the ``file: field`` lines
        still marked ``TODO`` (valid, but not yet the analyst's).

    Raises
    ------
    ConfigError, LedgerError
        A file that fails to parse or validate, named with its field (a record line
        that fails to parse included). Near-point intervals are warned about.
    """
    from forecast.elicit import check_intervals
    from forecast.ledger import load_ledger
    from forecast.record import read_record, record_path

    config = load_question(question)
    items = load_ledger(config)
    n_issued = len(read_record(config)) if record_path(config).exists() else None
    check_intervals(config)
    return Validation(config, len(items), n_issued, placeholders(config.directory))


def check_questions(questions: Iterable[str | Path], *, prior_source: str | None = None,
                    issue: bool = False) -> list[QuestionConfig]:
    """Validate every question of a ``forecast run`` before anything is written.

    Raises
    ------
    RecordError
        ``issue`` with a ``prior_source`` other than a question's ``model.yaml``'s: the
        record holds the forecast under the question's own prior source.
    ConfigError, LedgerError
        A question's files are invalid.
    """
    from forecast.elicit import check_intervals
    from forecast.ledger import load_ledger
    from forecast.record import RecordError

    questions = list(questions)
    if issue and prior_source is not None:
        for q in questions:
            if prior_source != load_question(q).prior_source:
                raise RecordError(f"--issue: the record holds the forecast under model.yaml's "
                                  f"prior_source, not {prior_source!r}; drop "
                                  "--prior-source to issue")
    configs = []
    for q in questions:
        config = load_question(q, prior_source=prior_source)
        load_ledger(config)
        check_intervals(config)
        configs.append(config)
    return configs


@dataclass
class RunResult:
    """One question's forecast as ``forecast run`` computes and writes it."""

    forecast: Forecast
    table: pd.DataFrame  #: the headline table (:func:`forecast.tables.headline_table`)
    items: list[NewsItem]  #: the ledger the forecast saw
    directory: Path  #: the results folder holding :data:`RUN_FILES`
    summary: dict[str, Any]  #: ``forecast.json``'s content (``Forecast.to_dict``)
    issued: dict[str, Any] | None = None  #: the record entry, when issued

    @property
    def passed(self) -> bool:
        """Whether the forecast passed its convergence gate."""
        return bool(self.forecast.fit.diagnostics["passed"])


def save_posterior(fc: Forecast, path: Path) -> None:
    """``posterior.nc``: the NUTS fit (linked), or the exact engine's weighted draws."""
    if fc.engine == "nuts":
        from forecast.files import atomic_link

        atomic_link(fc.fit.file, path)
        return
    from forecast.store import save_draws

    v = fc.values
    save_draws(path, config=fc.config, evidence=fc.evidence, key=fc.fit.key, seed=fc.fit.seed,
               diagnostics=fc.fit.diagnostics, log_weights=fc.log_weights,
               draws={"p_keep": (("base",), v.p_keep), "p_all": ((), v.p_all),
                      "p_any": ((), v.p_any), "p_state_post": (("evidence",), v.p_state)})


def run_question(question: str | Path, out: str | Path = "out", *, seed: int | None = None,
                 prior_source: str | None = None, engine: str | None = None,
                 issue: bool = False, progressbar: bool = False) -> RunResult:
    """Compute a question's forecast and write its files, as ``forecast run`` does.

    Parameters
    ----------
    question
        The question's directory.
    out
        The results root: the files go to its folder for the question
        (:func:`forecast.store.results_dir`), fits are stored and reused there.
    seed
        The sampler's seed (default: ``model.yaml``'s).
    prior_source
        Another prior source than ``model.yaml``'s; its results go to a subfolder
        ``prior_source-<name>``, never over the default ones.
    engine
        ``exact`` or ``nuts`` (default: ``model.yaml``'s).
    issue
        Also issue the forecast into the question's record, after the files are
        written (what is issued is what was written); never one that failed its gate.
    progressbar
        Show the sampler's progress bar.

    Returns
    -------
    RunResult
        The forecast, its headline table, the folder written and the entry issued.
        A forecast that failed its gate is returned (``passed`` is False), not raised.
    """
    from forecast.charts import plot_headline, save
    from forecast.charts.theme import footer_text
    from forecast.engine import compute, prior_forecast
    from forecast.files import atomic_write
    from forecast.ledger import read_ledger
    from forecast.record import issue as issue_entry
    from forecast.store import results_dir
    from forecast.tables import headline_table

    config = load_question(question)
    target = results_dir(out, config, claim=True)
    if prior_source is not None and prior_source != config.prior_source:
        config = config.with_prior_source(prior_source)
        target = target / f"prior_source-{prior_source}"
    items, ledger_raw = read_ledger(config)
    fc = compute(config, items, out=out, seed=seed, allow_reweight=False,
                 progressbar=progressbar, engine=engine)
    table = headline_table(fc, prior=prior_forecast(config, seed=seed))
    target.mkdir(parents=True, exist_ok=True)
    save_posterior(fc, target / "posterior.nc")
    summary = fc.to_dict()
    atomic_write(target / "forecast.json", (json.dumps(summary, indent=2) + "\n").encode())
    atomic_write(target / "headline.csv", table.to_csv(index=False).encode())
    fig = plot_headline(table, title=config.question.title, footer_text=footer_text(fc),
                        mass=config.model.credible_mass, xlabel=config.wording.axis)
    save(fig, target, "headline", formats=("png",))
    result = RunResult(fc, table, items, target, summary)
    if issue and result.passed:
        result.issued = issue_entry(fc, items, ledger_raw)
    return result


def read_item(path: str | Path) -> dict[str, Any]:
    """The fields of one news item from a YAML file (``forecast update --item FILE``).

    Raises
    ------
    LedgerError
        The file is missing, not YAML, or not a mapping of fields, naming the file.
    """
    from forecast.files import read_yaml

    try:
        data, _ = read_yaml(Path(path))
    except ConfigError as exc:
        raise LedgerError(str(exc)) from None
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: (top level): expected a mapping of item fields")
    return data


@dataclass
class Entered:
    """How one recorded item entered the forecast (``forecast update``)."""

    credibility: float  #: h, from the item's reliability code
    alone: float  #: its likelihood ratio alone, after credibility
    entered: float  #: the ratio it adds given the rest of the ledger
    counted: bool  #: False for a repeat of a cluster counted by a stronger item
    thread_reports: int = 0  #: counted reports of its thread on its variable
    rho: float | None = None  #: its thread's dependence
    effective: float | None = None  #: what those reports are worth in independent ones


def how_entered(config: QuestionConfig, result: UpdateResult) -> Entered:
    """The credibility, the lone and the entered ratio of an update's item.

    A thread's ``n`` counted reports on one variable are worth ``n / (1 + (n - 1) rho)``
    independent ones (:meth:`forecast.config.Threads.dependence` gives ``rho``).
    """
    from forecast.ledger import item_credibility, item_loglr

    item, ev = result.item, result.after.evidence
    how = Entered(credibility=item_credibility(config, item.reliability),
                  alone=math.exp(item_loglr(config, item)),
                  entered=math.exp(ev.entered.get(item.id, 0.0)),
                  counted=not item.cluster or item.id in ev.counted)
    if how.counted and item.thread:
        n = sum(1 for i in result.ledger if i.thread == item.thread
                and i.bears_on == item.bears_on and i.id in ev.counted)
        how.thread_reports, how.rho = n, config.threads.dependence(item.thread)
        how.effective = n / (1 + (n - 1) * how.rho)
    return how


@dataclass
class WhatIf:
    """A pending report's scenarios (``forecast what-if``); nothing is recorded."""

    forecast: Forecast  #: the forecast now
    pending: pd.DataFrame  #: :func:`forecast.information.pending_report`
    movers: pd.DataFrame | None = None  #: :func:`forecast.information.word_movers`


def what_if(question: str | Path | QuestionConfig, *, bears_on: str, reliability: str,
            lr: float | dict, thread: str | None = None, movers: bool = False,
            out: str | Path = "out", seed: int | None = None,
            engine: str | None = None) -> WhatIf:
    """The forecast if a pending report arrives, or its opposite, and (``movers``) the
    weakest report of this reliability that would change a briefed word.

    Raises
    ------
    LedgerError
        The pending report's fields are invalid, named by field.
    """
    from forecast.engine import compute
    from forecast.information import pending_report, word_movers
    from forecast.ledger import load_ledger

    config = _config(question)
    items = load_ledger(config)
    fc = compute(config, items, out=out, seed=seed, engine=engine)
    table = pending_report(fc, items, bears_on=bears_on, reliability=reliability, lr=lr,
                           thread=thread)
    return WhatIf(fc, table, word_movers(fc, items, reliability=reliability) if movers else None)


def outside_view_backtest(fit, out: str | Path = "out", *, old_fit=None
                          ) -> tuple[Any, dict[str, Any]]:
    """The as-of-origin backtest of a hazard fit, and its summary with the fit's gate.

    Parameters
    ----------
    fit
        The event-history fit (:func:`forecast.reference_store.cached_hazard_fit`).
    out
        Where the shipped reference class's backtest is stored and reused.
    old_fit
        The old model's fit of the same cases, for cases other than the shipped ones
        (``--train``): its leave-one-out forecasts are the comparison, computed afresh.

    Returns
    -------
    tuple
        The backtest (:func:`forecast.hazard_backtest.backtest`) and a summary: its
        scores' summary, ``converged``, ``r_hat_max``, ``divergences``, ``failures``.
    """
    if old_fit is None:
        from forecast import reference_store

        bt, _ = reference_store.cached_hazard_backtest(out, fit)
    else:
        from forecast import hazard_backtest, reference

        old = reference.backtest(old_fit).pointwise
        bt = hazard_backtest.backtest(fit, old_model=dict(zip(old["case_id"], old["p_loo"],
                                                              strict=True)))
    d = fit.diagnostics
    return bt, {**bt.summary(), "converged": fit.converged, "r_hat_max": d["r_hat_max"],
                "divergences": d["divergences"], "failures": d["failures"]}
