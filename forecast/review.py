"""What ``forecast history``, ``diff`` and ``score`` compute, as functions.

Looking back at a question: its two layers (the issued record and the
reconstruction), what changed between two issued forecasts and who moved them,
and the record's scores once it resolved. Each returns a result object and
prints nothing; the command line (:mod:`forecast.cli`) formats it. The forecast
of the whole ledger behind the reconstruction is returned too, so that a caller
can tell whether it passed its convergence gate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast import fmt
from forecast.config import QuestionConfig, load_question

if TYPE_CHECKING:
    import pandas as pd

    from forecast.engine import Forecast
    from forecast.scoring import Resolution


def _config(question: str | Path | QuestionConfig) -> QuestionConfig:
    return question if isinstance(question, QuestionConfig) else load_question(question)


def full_forecast(config: QuestionConfig, out: str | Path = "out",
                  seed: int | None = None) -> Forecast:
    """The forecast of the whole ledger as :func:`forecast.news.history` computes it: the
    fit behind every row of the reconstruction (its gate is the reconstruction's)."""
    from forecast.engine import compute
    from forecast.ledger import load_ledger

    return compute(config, load_ledger(config), out=out, seed=seed, allow_reweight=False)


@dataclass
class History:
    """A question's two layers: what was issued, and the reconstruction."""

    config: QuestionConfig
    reconstruction: pd.DataFrame  #: :func:`forecast.news.history`
    record: pd.DataFrame  #: :func:`forecast.record.record_table`, plus ``retracted``
    record_file: Path  #: where the record is kept
    stale: dt.date | None  #: the newest entry's day, when it is old (``stale_since``)
    forecast: Forecast  #: the fit behind the reconstruction


def question_history(question: str | Path | QuestionConfig, out: str | Path = "out", *,
                     seed: int | None = None, today: dt.date | None = None) -> History:
    """The record of issued forecasts and the reconstruction after each ledger date.

    Raises
    ------
    RecordError
        A line of the record fails to parse (named), before anything is computed.
    """
    from forecast.ledger import load_ledger
    from forecast.news import history
    from forecast.record import read_record, record_path, record_table
    from forecast.tables import stale_since

    config = _config(question)
    entries = read_record(config)  # a damaged record stops here, naming the line
    fc = full_forecast(config, out, seed)
    table = history(config, out=out, seed=seed)
    gone = {n: ", ".join(e["ledger"].get("retracted", []))
            for n, e in enumerate(entries, start=1)}
    record = record_table(entries)
    record = record.assign(retracted=record["entry"].map(gone))
    stale = stale_since(load_ledger(config), today or dt.date.today())
    return History(config, table, record, record_path(config), stale, fc)


@dataclass
class Diff:
    """What changed between two issued forecasts (:func:`forecast.record.diff_entries`,
    with ``attribution`` from :func:`forecast.news.diff_attribution` unless the two are
    the same entry)."""

    old: dict[str, Any]  #: the earlier record entry
    new: dict[str, Any]  #: the later one
    changes: dict[str, Any]

    @property
    def same(self) -> bool:
        """Whether both ends are the same issued forecast."""
        return self.old is self.new


def diff_forecasts(question: str | Path | QuestionConfig, *,
                   from_: dt.date | dt.datetime | None = None,
                   to: dt.date | dt.datetime | None = None, out: str | Path = "out") -> Diff:
    """What changed between the forecasts standing at ``from_`` and ``to``.

    By default the last two issued; ``to`` alone compares it with the one before.

    Raises
    ------
    RecordError
        Fewer than two issued forecasts (without both ends given), or none issued by
        an end.
    """
    from forecast.ledger import load_ledger
    from forecast.news import diff_attribution
    from forecast.record import RecordError, diff_entries, entry_at, read_record, record_path

    config = _config(question)
    entries, path = read_record(config), record_path(config)
    if len(entries) < 2 and (from_ is None or to is None):
        raise RecordError(f"{path}: {fmt.counted(len(entries), 'forecast')} issued; a diff "
                          "needs two (issue with 'forecast run --issue')")
    new = entry_at(entries, to, path) if to is not None else entries[-1]
    if from_ is not None:
        old = entry_at(entries, from_, path)
    else:
        old = entries[max(0, entries.index(new) - 1)]
    items = load_ledger(config)
    changes = diff_entries(old, new, items)
    if old is not new:
        changes["attribution"] = diff_attribution(config, items, old, new, out=out)
    return Diff(old, new, changes)


@dataclass
class Scores:
    """The record's scores once the question resolved (:func:`forecast.scoring.score`)."""

    config: QuestionConfig
    resolution: Resolution
    table: pd.DataFrame  #: one row per (outcome, forecaster)
    comparison: dict[str, float]  #: the reference forecaster's probabilities
    forecast: Forecast | None = None  #: the fit behind the hindsight rows, if scored


def score_question(question: str | Path | QuestionConfig, out: str | Path = "out", *,
                   crowd: str | Path | None = None, hindsight: bool = False) -> Scores:
    """Score the issued forecasts beside the crowd, the reference class and 50%.

    Parameters
    ----------
    crowd
        A crowd CSV to score against instead of the question's imported ``crowd.csv``.
    hindsight
        Also score the reconstruction (today's model on the items dated by each day),
        labelled hindsight.

    Raises
    ------
    ConfigError
        The question is unresolved (said before anything slow), or the crowd is invalid.
    """
    from forecast.crowd import read_crowd
    from forecast.scoring import comparison_forecast, load_resolution, score

    config = _config(question)
    res = load_resolution(config)
    crowds = {} if crowd is None else {"crowd": read_crowd(crowd, config)}
    reconstruction = fc = None
    if hindsight:
        from forecast.news import history

        fc = full_forecast(config, out)
        reconstruction = history(config, out=out)
    table = score(config, reconstruction, **crowds)
    return Scores(config, res, table, comparison_forecast(config), fc)
