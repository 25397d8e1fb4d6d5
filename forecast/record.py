"""The record of issued forecasts: what was said, and when, never rewritten.

One job: append an issued forecast to ``priors/<question>/record.jsonl`` (one JSON
object per line) and read the record back. ``forecast history`` reconstructs the
past from today's priors and fit; the record is what was actually issued on each
day, with the hash of every input that made it, so that it can be scored and
audited after the priors have changed.

An entry holds: when it was issued (UTC) and as of which date; the headline
probability and its credible interval per base and for both and either; the engine
and path; the seed; the hashes of every prior file (``config.file_hashes``), the
sha256 of the ledger file, the hash of the code that computes the number and the
package versions; the number of ledger items the forecast saw and the last of them
by ``recorded`` time.

Appends are atomic and locked like the ledger's: under a file lock, the existing
bytes are read and checked (every line must parse, the file must end with a
newline), and the old bytes followed by the new line are written to a temporary
file and renamed over the record. A killed write leaves the old record; a record
that fails to parse is reported with its line number and never appended to or
repaired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.config import QuestionConfig, load_question
from forecast.errors import RecordError
from forecast.files import read_bytes
from forecast.ledger import (
    NewsItem,
    items_as_of,
    ledger_path,
    locked_append,
    read_ledger,
    retracted_as_of,
)
from forecast.store import FIT_MODULES, package_versions, source_hash

if TYPE_CHECKING:
    import pandas as pd

    from forecast.engine import Forecast

RECORD_FILE = "record.jsonl"
SCHEMA_VERSION = 1
#: The modules whose code computes an issued number (the fit's, and the engines').
RECORD_MODULES = (*FIT_MODULES, "exact", "psis", "engine")
#: The record's names of the joint outcomes, and the tables' (``forecast history``).
JOINT = {"both": "all", "either": "any"}


def record_path(config: QuestionConfig) -> Path:
    """The question's record of issued forecasts."""
    return config.directory / RECORD_FILE


def _config(question: str | Path | QuestionConfig) -> QuestionConfig:
    return question if isinstance(question, QuestionConfig) else load_question(question)


def _utc_now() -> str:
    # to the microsecond: two forecasts issued within one second stay two points in time
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def last_item(items: list[NewsItem]) -> NewsItem | None:
    """The item entered last: the latest ``recorded`` stamp, else the last in the ledger.

    Items without a stamp count as entered before every stamped one, in ledger order.
    """
    if not items:
        return None
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)

    def when(i: int) -> tuple:
        stamp = items[i].recorded
        if stamp is not None and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return (stamp or floor, i)

    return items[max(range(len(items)), key=when)]


def entry_for(fc: Forecast, items: list[NewsItem], ledger_raw: bytes) -> dict[str, Any]:
    """The record entry of a forecast computed from ``items``, read as ``ledger_raw``.

    ``issued`` is left empty; :func:`append_entry` stamps it under the lock.

    Raises
    ------
    RecordError
        If the forecast was not computed from exactly these items (as of its date).
    """
    config = fc.config
    seen = items_as_of(items, fc.as_of)
    if sorted(i.id for i in seen) != sorted(fc.evidence.item_ids):
        raise RecordError(f"{ledger_path(config)}: the ledger changed after the forecast was "
                          "computed; nothing was issued: compute it again")
    probs = fc.probabilities()

    def one(key: str) -> dict[str, Any]:
        est = probs[key]
        return {"p": est.mean, "interval": [est.lower, est.upper], "mcse": est.mcse}

    # the last entry it saw: an item, or a retraction of one (entered by the as-of date)
    withdrawn = retracted_as_of(items, fc.as_of)
    last = last_item([*seen, *(i.retraction for i in withdrawn)])
    d = fc.diagnostics()
    return {
        "schema_version": SCHEMA_VERSION,
        # the prior in force, parameter by parameter, so a later diff can say which prior
        # changed and how (the file hashes alone say only which file)
        "priors": _priors_in_force(config),
        "issued": None,
        "question": config.id,
        "as_of": fc.as_of.isoformat(),
        "horizon": config.question.horizon.isoformat(),
        "prior_source": config.prior_source,
        "credible_mass": config.model.credible_mass,
        "bases": {b: one(b) for b in config.bases},
        "joint": {name: one(key) for name, key in JOINT.items()},
        "engine": fc.engine,
        "path": fc.path,
        "converged": bool(d["converged"]),
        "seed": int(fc.fit.seed),
        "inputs": {
            "files": dict(sorted(config.file_hashes.items())),
            "ledger_sha256": hashlib.sha256(ledger_raw).hexdigest(),
            "source": source_hash(RECORD_MODULES),
            "versions": package_versions(),
        },
        "ledger": {
            "items": len(seen),
            "last_item": None if last is None else last.id,
            "last_recorded": None if last is None or last.recorded is None
            else last.recorded.isoformat(),
            # items of the ledger withdrawn by a later entry by the as-of date: not counted
            "retracted": sorted(i.id for i in withdrawn),
        },
    }


def _priors_in_force(config) -> dict[str, dict[str, Any]]:
    """Each prior parameter's distribution and interval as used (``tables.prior_table``)."""
    from forecast.tables import prior_table

    out = {}
    for r in prior_table(config).itertuples():
        out[r.parameter] = {"origin": r.origin, "dist": r.dist, "kwargs": r.kwargs,
                            "interval": [float(r.lower), float(r.upper)]}
    return out


def parse_record(raw: bytes, path: Path) -> list[dict[str, Any]]:
    """The entries of a record's bytes, oldest first.

    Raises
    ------
    RecordError
        Naming the file and the line that does not parse, or saying that the last
        line is unfinished. Nothing is dropped or repaired.
    """
    if not raw:
        return []
    lines = raw.split(b"\n")
    if lines[-1]:
        raise RecordError(f"{path}: line {len(lines)}: does not end with a newline (an "
                          "unfinished write?); the record is left as it is: repair it by hand")
    entries = []
    for n, line in enumerate(lines[:-1], start=1):
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise RecordError(f"{path}: line {n}: not a JSON object ({exc}); the record is "
                              "left as it is: repair it by hand") from None
        if not isinstance(entry, dict) or entry.get("schema_version") != SCHEMA_VERSION \
                or not isinstance(entry.get("issued"), str):
            raise RecordError(f"{path}: line {n}: not a record entry (needs schema_version "
                              f"{SCHEMA_VERSION} and an issued time); the record is left as "
                              "it is: repair it by hand")
        entries.append(entry)
    return entries


def read_record(question: str | Path | QuestionConfig) -> list[dict[str, Any]]:
    """The issued forecasts of a question, oldest first (an absent record is empty).

    Raises
    ------
    RecordError
        For a line that fails to parse, naming the file and the line.
    """
    path = record_path(_config(question))
    if not path.exists():
        return []
    return parse_record(read_bytes(path, limit=None), path)


def dumps(entry: dict[str, Any]) -> bytes:
    """One record line: compact JSON, no NaN, ending with a newline."""
    return (json.dumps(entry, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            + "\n").encode("utf-8")


def append_entry(config: QuestionConfig, entry: dict[str, Any], *,
                 issued: str | None = None) -> dict[str, Any]:
    """Append one entry to the record, atomically and under a file lock.

    The entry's ``issued`` time is stamped now (UTC) unless given, while the lock is
    held, so the record's order is the order of issue. The existing lines are
    checked first and never rewritten: the new file is the old bytes followed by the
    new line, written to a temporary file and renamed over the record.

    Raises
    ------
    RecordError
        If the existing record fails to parse; nothing is written.
    """
    path = record_path(config)

    def extend(raw: bytes) -> tuple[bytes, dict[str, Any]]:
        parse_record(raw, path)
        stamped = {**entry, "issued": issued or _utc_now()}
        return raw + dumps(stamped), stamped

    return locked_append(path, extend)


def issue(fc: Forecast, items: list[NewsItem] | None = None,
          ledger_raw: bytes | None = None, *, issued: str | None = None) -> dict[str, Any]:
    """Issue a forecast into its question's record; return the entry as recorded.

    ``items`` and ``ledger_raw`` are the ledger the forecast was computed from (as
    :func:`forecast.ledger.read_ledger` returns them); by default the ledger is read
    now and must still hold exactly the forecast's items. A forecast that failed its
    convergence gate is not issued.

    Raises
    ------
    RecordError
        If the forecast failed its gate, the ledger no longer matches it, or the
        existing record fails to parse; nothing is written.
    """
    if not fc.fit.diagnostics["passed"]:
        raise RecordError(f"{record_path(fc.config)}: the forecast failed its convergence gate "
                          "and is not issued")
    if items is None or ledger_raw is None:
        items, ledger_raw = read_ledger(fc.config)
    return append_entry(fc.config, entry_for(fc, items, ledger_raw), issued=issued)


def record_table(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Tidy: one row per (issued forecast, outcome), oldest first.

    Columns ``entry`` (its line, from 1), ``issued`` (UTC timestamps), ``as_of`` (dates),
    ``outcome`` (a base, ``all`` or ``any``, as in ``forecast history``), ``p``, ``lower``,
    ``upper``, ``engine``, ``path``, ``n_items`` and ``last_item``.
    """
    import pandas as pd

    rows = []
    for n, e in enumerate(entries, start=1):
        outcomes = [*e["bases"].items(), *((JOINT[k], v) for k, v in e["joint"].items())]
        for outcome, est in outcomes:
            rows.append({
                "entry": n,
                "issued": pd.Timestamp(e["issued"]),
                "as_of": dt.date.fromisoformat(e["as_of"]),
                "outcome": outcome,
                "p": est["p"],
                "lower": est["interval"][0],
                "upper": est["interval"][1],
                "engine": e["engine"],
                "path": e["path"],
                "n_items": e["ledger"]["items"],
                "last_item": e["ledger"]["last_item"],
            })
    columns = ["entry", "issued", "as_of", "outcome", "p", "lower", "upper", "engine", "path",
               "n_items", "last_item"]
    return pd.DataFrame(rows, columns=columns)


def _issued(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["issued"].replace("Z", "+00:00"))


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def entry_at(entries: list[dict[str, Any]], when: dt.date | dt.datetime,
             path: Path | str = RECORD_FILE) -> dict[str, Any]:
    """The forecast standing at ``when``: the last one issued on or before it.

    A date means the end of that day (UTC), a time without a zone is UTC.

    Raises
    ------
    RecordError
        If nothing had been issued by then.
    """
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time.max)
    when = _utc(when)
    standing = [e for e in entries if _issued(e) <= when]
    if not standing:
        first = f"; the first was issued {entries[0]['issued']}" if entries else ""
        raise RecordError(f"{path}: no forecast had been issued by {when:%Y-%m-%dT%H:%M:%SZ}"
                          f"{first}")
    return standing[-1]


def diff_entries(old: dict[str, Any], new: dict[str, Any],
                 items: list[NewsItem]) -> dict[str, Any]:
    """What changed between two issued forecasts.

    ``arrived``: the ledger items (of ``items``, today's ledger) entered after the first
    was issued and by the second, by their ``recorded`` stamps; ``retracted``: the
    retractions entered between them (each naming the item it withdrew, its date, reason
    and source); ``unstamped``: items without a stamp, which cannot be placed.
    ``inputs``: which input hashes differ (``files/<name>``, ``ledger``, ``source``,
    ``versions/<package>``). ``change``: per outcome (bases, then ``both`` and
    ``either``) the two probabilities and the change in percentage points. The news's
    credit for the change is :func:`forecast.news.diff_attribution` (it computes).
    """
    t0, t1 = _issued(old), _issued(new)
    arrived = [i for i in items if i.recorded is not None and t0 < _utc(i.recorded) <= t1]
    withdrawn = [i.retraction for i in items if i.retraction is not None
                 and i.retraction.recorded is not None
                 and t0 < _utc(i.retraction.recorded) <= t1]
    a, b = old["inputs"], new["inputs"]
    changed = [f"files/{name}" for name in sorted(set(a["files"]) | set(b["files"]))
               if a["files"].get(name) != b["files"].get(name)]
    if a["ledger_sha256"] != b["ledger_sha256"]:
        changed.append("ledger")
    if a["source"] != b["source"]:
        changed.append("source")
    changed += [f"versions/{name}" for name in sorted(set(a["versions"]) | set(b["versions"]))
                if a["versions"].get(name) != b["versions"].get(name)]
    pa, pb = old.get("priors") or {}, new.get("priors") or {}
    priors = [{"parameter": k, "from": pa.get(k), "to": pb.get(k)}
              for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]
    change = []
    for group in ("bases", "joint"):
        for key, est in new[group].items():
            before = old[group].get(key)
            if before is None:
                continue
            change.append({"outcome": JOINT.get(key, key), "from": before["p"], "to": est["p"],
                           "change_pp": 100 * (est["p"] - before["p"])})
    return {
        "from": old["issued"],
        "to": new["issued"],
        "as_of": [old["as_of"], new["as_of"]],
        "items": [old["ledger"]["items"], new["ledger"]["items"]],
        "arrived": [{"id": i.id, "date": i.date.isoformat(), "bears_on": i.bears_on,
                     "recorded": i.recorded.isoformat()} for i in arrived],
        "retracted": [{"id": r.id, "retracts": r.retracts, "date": r.date.isoformat(),
                       "reason": r.reason, "source": r.source,
                       "recorded": r.recorded.isoformat()} for r in withdrawn],
        "unstamped": sum(1 for i in items if i.recorded is None),
        # [] also when an entry predates the priors field (then only the hashes tell)
        "priors": priors,
        "inputs": changed,
        "change": change,
    }
