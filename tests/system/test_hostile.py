"""Hostile input: malformed prior files, ledgers and news items are refused cleanly.

Property-based (hypothesis, derandomised): start from valid files, break ONE thing
(a value replaced by NaN, infinity, a wrong type or nothing; an interval reversed; an
unknown key; the whole file emptied, made non-UTF-8, given a Python-object tag, a
duplicate key or made too large) and check, through the CLI in-process, that:

* the exit status is 2 and nothing goes to stdout,
* stderr is one paragraph starting ``error:``, with no traceback,
* it names the file and the field,
* nothing is written: the question directory and the out directory hash the same.

A few cases go through a subprocess to check what a user really sees. The inputs at
the end once crashed the validator or were wrongly accepted (impossible dates, huge
integers, unhashable keys, deep nesting, coerced types); they stay as regression tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_QUESTION, ROOT
from forecast.cli import main
from forecast.config import MAX_FILE_BYTES, QUESTION_FILES, SCENARIOS_FILE

SETTINGS = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
TODAY = dt.date.today()
QID = "russia_syria_bases"

#: A valid ledger: a plain item, an interval with a cluster, and an outcome item with a url.
LEDGER = {
    "schema_version": 1,
    "question": QID,
    "items": [
        {"id": "a1", "date": dt.date(2025, 1, 29), "headline": "Talks freeze",
         "source": "Reuters", "reliability": "B2", "bears_on": "assad_extradition", "lr": 0.4},
        {"id": "a2", "date": dt.date(2025, 5, 20), "headline": "Perimeter attack",
         "source": "wire", "reliability": "B2", "bears_on": "escalation",
         "lr": {"lower": 2.0, "upper": 6.0}, "cluster": "wire-attack", "notes": "two killed"},
        {"id": "a3", "date": dt.date(2025, 6, 10), "headline": "Access restricted",
         "source": "local media", "reliability": "C2", "bears_on": "khmeimim", "lr": 1.5,
         "url": "https://example.org/a3"},
    ],
}
ITEM = {"id": "new-1", "date": dt.date(2025, 7, 1), "headline": "Ships leave Tartus",
        "source": "satellite imagery", "reliability": "B2", "bears_on": "tartus", "lr": 0.5,
        "url": "https://example.org/new-1", "notes": "two ships", "cluster": "imagery"}
REQUIRED_ITEM_FIELDS = {"id", "date", "headline", "source", "reliability", "bears_on", "lr"}


# --------------------------------------------------------------------------- helpers
def _tree_hash(path: Path) -> str:
    h = hashlib.sha256()
    if not path.exists():
        return "absent"
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@contextmanager
def _workspace(ledger: dict | None = None) -> Iterator[tuple[Path, Path]]:
    """A fresh copy of the seed question (and an empty out dir) for one example."""
    with tempfile.TemporaryDirectory() as tmp:
        q = Path(tmp) / "q"
        shutil.copytree(DEFAULT_QUESTION, q, ignore=shutil.ignore_patterns("news.yaml*"))
        if ledger is not None:
            (q / "news.yaml").write_text(yaml.safe_dump(ledger, sort_keys=False))
        out = Path(tmp) / "out"
        out.mkdir()
        yield q, out


@contextmanager
def _no_sampling() -> Iterator[None]:
    """Sampling must never be reached by refused input; fail fast if it is."""
    def refuse(*args, **kwargs):
        raise AssertionError("refused input reached the sampler")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("forecast.engine.run_fit", refuse)
        yield


def _run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusals
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_refused(code, out, err, *, file: str | Path | None, fields: list[str]) -> None:
    """Exit 2, nothing on stdout, one paragraph on stderr naming the input and the field.

    ``file`` is the file the bad input came from, or None for a command-line argument: the
    message then says the item came from the command line (or argparse names the option).
    ``fields`` are the ways of spelling the one field at fault (``a.b[0].c``, ``a.b[id].c``,
    ...), not a list of unrelated names any one of which would do.
    """
    assert code == 2, (code, out, err)
    assert out == ""
    assert "Traceback" not in err, err
    assert err.startswith(("error: ", "usage: ")), err
    assert "\n\n" not in err.strip(), f"more than one paragraph:\n{err}"
    if file is None:
        assert ("item (from the command line): " in err
                or "forecast update: error: argument " in err), f"input not named:\n{err}"
    else:
        assert str(file), "an empty file name would match any message"
        assert str(file) in err, f"file {file} not named:\n{err}"
    assert fields and all(fields), fields
    assert any(f in err for f in fields), f"none of {fields} named:\n{err}"


def _fmt(path: tuple, data: Any = None) -> str:
    """A YAML path as :func:`forecast.config.format_validation_error` prints it.

    With ``data`` (the file's content), a list entry that has an id is named by it:
    ``outcomes[tartus]`` rather than ``outcomes[1]``.
    """
    names = []
    for p in path:
        entry = data[p] if isinstance(p, int) and isinstance(data, list) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        names.append(f"[{ident}]" if isinstance(ident, str) else
                      f"[{p}]" if isinstance(p, int) else str(p))
        data = entry if entry is not None else data.get(p) if isinstance(data, dict) else None
    return ".".join(names).replace(".[", "[")


def _leaves(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, (*path, i))]
    return [(path, data)]


def _mappings(data: Any, path: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(data, dict):
        found.append(path)
        for k, v in data.items():
            found += _mappings(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += _mappings(v, (*path, i))
    return found


def _set(data: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def _get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


def _field_forms(path: tuple, data: Any = None) -> list[str]:
    """Ways a message may name the field at ``path`` (``a.b[0].c`` or ``a.b[0]: c``).

    With ``data``, also with list entries named by their ids (``a.b[id].c``).
    """
    forms = []
    for d in (None, data) if data is not None else (None,):
        forms.append(_fmt(path, d))
        if len(path) > 1:
            forms.append(f"{_fmt(path[:-1], d)}: {path[-1]}")
    return forms


NAN, INF = float("nan"), float("inf")
BAD_NUMBERS = [NAN, INF, -INF, "not a number", [1, 2], {"x": 1}, None]
BAD_TEXT = [None, NAN, INF, 5, [1, 2], {"x": "y"}, "", "   "]
BAD_DATES = [None, NAN, "not a date", "2026-13-45", [2026, 1, 1], {"y": 2026}]


def _bad_values_for(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return BAD_NUMBERS
    if isinstance(value, dt.date):
        return BAD_DATES
    if isinstance(value, int | float):
        return BAD_NUMBERS
    return BAD_TEXT


# ---------------------------------------------------------------- whole-file mutations
def _whole_file_mutation(kind: str, raw: bytes, position: int) -> bytes:
    text = raw.decode()
    if kind == "empty":
        return b""
    if kind == "only_comments":
        return b"# nothing here\n\n"
    if kind == "non_utf8":
        at = position % len(raw)
        return raw[:at] + b"\xff\xfe\xc3(" + raw[at:]
    if kind == "python_tag":
        return b"!!python/object/apply:os.system ['echo pwned > /tmp/pwned']\n" + raw
    first = next(line for line in text.splitlines() if re.match(r"[a-z_]+: \S", line))
    if kind == "python_tag_value":
        key = first.split(":")[0]
        return text.replace(first, f"{key}: !!python/object/apply:os.getpid []", 1).encode()
    if kind == "duplicate_key":
        return text.replace(first, f"{first}\n{first}", 1).encode()
    if kind == "top_level_list":
        return b"- " + b"\n- ".join(line.encode() for line in text.splitlines()[:3]) + b"\n"
    if kind == "top_level_scalar":
        return b"just a sentence\n"
    if kind == "syntax_error":
        return raw + b"\n  : [unclosed\n"
    raise AssertionError(kind)


#: Each whole-file mutation and what the message must say about it.
WHOLE_FILE_MESSAGE = {
    "empty": "(top level): expected a mapping",
    "only_comments": "(top level): expected a mapping",
    "non_utf8": "not UTF-8",
    "python_tag": "invalid YAML",
    "python_tag_value": "could not determine a constructor for the tag",
    "duplicate_key": "duplicate key",
    "top_level_list": "(top level): expected a mapping",
    "top_level_scalar": "(top level): expected a mapping",
    "syntax_error": "invalid YAML",
}
WHOLE_FILE = list(WHOLE_FILE_MESSAGE)


# ------------------------------------------------------------------------- prior files
#: Every file a question is validated from, the optional scenarios included.
PRIOR_FILES = (*QUESTION_FILES, SCENARIOS_FILE)
PRIOR_DATA = {name: yaml.safe_load((DEFAULT_QUESTION / name).read_text())
              for name in PRIOR_FILES}


@st.composite
def prior_defects(draw):
    name = draw(st.sampled_from(PRIOR_FILES))
    data = PRIOR_DATA[name]
    kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "unknown_key", "reverse", "file"]))
    if kind == "leaf":
        path, value = draw(st.sampled_from(_leaves(data)))
        bad = draw(st.sampled_from(_bad_values_for(value)))
        return name, kind, path, bad
    if kind == "unknown_key":
        return name, kind, draw(st.sampled_from(_mappings(data))), "zz_unknown"
    if kind == "reverse":
        intervals = [p for p in _mappings(data) if {"lower", "upper"} <= set(_get(data, p))]
        if not intervals:
            name = "evidence.yaml"
            intervals = [p for p in _mappings(PRIOR_DATA[name])
                         if {"lower", "upper"} <= set(_get(PRIOR_DATA[name], p))]
        return name, kind, draw(st.sampled_from(intervals)), None
    return name, kind, draw(st.sampled_from(WHOLE_FILE)), draw(st.integers(0, 10_000))


def _apply_prior_defect(q: Path, name: str, kind: str, where, extra) -> list[str]:
    """Break ``q/name``; return the ways the message may name the field."""
    path = q / name
    if kind == "file":
        path.write_bytes(_whole_file_mutation(where, path.read_bytes(), extra))
        return [WHOLE_FILE_MESSAGE[where]]
    data = yaml.safe_load(path.read_text())
    if kind == "leaf":
        _set(data, where, extra)
        fields = _field_forms(where, data)
    elif kind == "unknown_key":
        _get(data, where)[extra] = 1.0
        fields = [_fmt(where[:i], d) for i in range(1, len(where) + 1)
                  for d in (None, data)] or [extra]
        fields = [*fields, extra]
    else:  # reverse an interval
        interval = _get(data, where)
        interval["lower"], interval["upper"] = interval["upper"], interval["lower"]
        fields = [_fmt(where), _fmt(where, data)]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return fields


@SETTINGS
@given(defect=prior_defects())
def test_a_broken_prior_file_is_refused(defect, capsys):
    name, kind, where, extra = defect
    with _workspace() as (q, out), _no_sampling():
        fields = _apply_prior_defect(q, name, kind, where, extra)
        before = _tree_hash(q), _tree_hash(out)
        for argv in (["validate", str(q)], ["run", str(q), "--out", str(out)]):
            code, stdout, err = _run_cli(argv, capsys)
            _assert_refused(code, stdout, err, file=q / name, fields=fields)
        assert (_tree_hash(q), _tree_hash(out)) == before


@pytest.mark.parametrize("name", [*PRIOR_FILES, "news.yaml"])
def test_a_huge_file_is_refused_before_parsing(name, capsys):
    with _workspace(ledger=LEDGER) as (q, out):
        raw = (q / name).read_bytes()
        pad = b"# " + b"x" * 1000 + b"\n"
        (q / name).write_bytes(raw + pad * (MAX_FILE_BYTES // len(pad) + 1))
        before = _tree_hash(q), _tree_hash(out)
        code, stdout, err = _run_cli(["validate", str(q)], capsys)
        _assert_refused(code, stdout, err, file=q / name, fields=["the limit is"])
        assert (_tree_hash(q), _tree_hash(out)) == before


# ----------------------------------------------------------------------------- ledgers
@st.composite
def ledger_defects(draw):
    kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "unknown_key", "reverse", "logic",
                                 "file"]))
    if kind == "leaf":
        path, value = draw(st.sampled_from(_leaves(LEDGER)))
        optional = len(path) == 3 and path[2] not in REQUIRED_ITEM_FIELDS
        choices = _bad_values_for(value)
        if optional:
            choices = [c for c in choices if c is not None]
        if len(path) >= 3 and path[2] == "lr":
            choices = [*choices, 0.0, -1.0, 1e5, True]
        return kind, path, draw(st.sampled_from(choices))
    if kind == "unknown_key":
        return kind, draw(st.sampled_from(_mappings(LEDGER))), "zz_unknown"
    if kind == "reverse":
        return kind, ("items", 1, "lr"), None
    if kind == "logic":
        return kind, draw(st.sampled_from(["bears_on", "duplicate_id", "future", "question"])), \
            draw(st.integers(0, 2))
    return kind, draw(st.sampled_from(WHOLE_FILE)), draw(st.integers(0, 10_000))


def _broken_ledger(q: Path, kind: str, where, extra) -> list[str]:
    path = q / "news.yaml"
    if kind == "file":
        path.write_bytes(_whole_file_mutation(where, path.read_bytes(), extra))
        return [WHOLE_FILE_MESSAGE[where]]
    data = yaml.safe_load(path.read_text())
    if kind == "leaf":
        _set(data, where, extra)
        field = where[:3]  # errors inside an lr interval are reported on lr
        fields = _field_forms(field)
    elif kind == "unknown_key":
        _get(data, where)["zz_unknown"] = "x"
        fields = _field_forms((*where, "zz_unknown"))
    elif kind == "reverse":
        data["items"][1]["lr"] = {"lower": 6.0, "upper": 2.0}
        fields = _field_forms(where)
    else:
        i = extra
        if where == "bears_on":
            data["items"][i]["bears_on"] = "no_such_variable"
        elif where == "duplicate_id":
            i = max(i, 1)
            data["items"][i]["id"] = data["items"][0]["id"]
            where = "id"
        elif where == "future":
            data["items"][i]["date"] = TODAY + dt.timedelta(days=30)
            where = "date"
        else:
            data["question"] = "another_question"
            path.write_text(yaml.safe_dump(data, sort_keys=False))
            return ["question"]
        fields = _field_forms(("items", i, where))
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return fields


@SETTINGS
@given(defect=ledger_defects())
def test_a_broken_ledger_is_refused(defect, capsys):
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        fields = _broken_ledger(q, *defect)
        before = _tree_hash(q), _tree_hash(out)
        item = q.parent / "item.yaml"
        item.write_text(yaml.safe_dump(ITEM, sort_keys=False))
        for argv in (["validate", str(q)],
                     ["update", str(q), "--item", str(item), "--out", str(out)]):
            code, stdout, err = _run_cli(argv, capsys)
            _assert_refused(code, stdout, err, file=q / "news.yaml", fields=fields)
        assert (_tree_hash(q), _tree_hash(out)) == before


# -------------------------------------------------------------------------- news items
@st.composite
def item_defects(draw):
    kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "missing", "unknown_key", "logic",
                                 "file"]))
    if kind == "leaf":
        field = draw(st.sampled_from(sorted(ITEM)))
        choices = _bad_values_for(ITEM[field])
        if field not in REQUIRED_ITEM_FIELDS:
            choices = [c for c in choices if c is not None]
        if field == "lr":
            choices = [*choices, 0.0, -2.0, 1e9, True, {"lower": 5.0, "upper": 2.0},
                       {"lower": NAN, "upper": 2.0}, {"lower": 1.0}]
        return kind, field, draw(st.sampled_from(choices))
    if kind == "missing":
        return kind, draw(st.sampled_from(sorted(REQUIRED_ITEM_FIELDS))), None
    if kind == "unknown_key":
        return kind, "zz_unknown", None
    if kind == "logic":
        return kind, draw(st.sampled_from(["bears_on", "duplicate_id", "future"])), None
    return kind, draw(st.sampled_from(WHOLE_FILE)), draw(st.integers(0, 10_000))


@SETTINGS
@given(defect=item_defects())
def test_a_broken_news_item_is_refused(defect, capsys):
    kind, field, value = defect
    item = dict(ITEM)
    if kind == "leaf":
        item[field] = value
    elif kind == "missing":
        del item[field]
    elif kind == "unknown_key":
        item[field] = "x"
    elif kind == "logic":
        item.update({"bears_on": "no_such_variable"} if field == "bears_on" else
                    {"id": "a1"} if field == "duplicate_id" else
                    {"date": TODAY + dt.timedelta(days=1)})
        field = {"duplicate_id": "id", "future": "date"}.get(field, field)
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        path = q.parent / "item.yaml"
        path.write_text(yaml.safe_dump(item, sort_keys=False, allow_unicode=True))
        if kind == "file":
            path.write_bytes(_whole_file_mutation(field, path.read_bytes(), value))
            file, fields = path, [WHOLE_FILE_MESSAGE[field]]
        else:
            # The message says "item" (today) or the item file (once cli names it), then
            # the field.
            file, fields = "item", [f"item: {field}", f"{path}: {field}"]
        before = _tree_hash(q), _tree_hash(out)
        code, stdout, err = _run_cli(["update", str(q), "--item", str(path), "--out", str(out)],
                                     capsys)
        _assert_refused(code, stdout, err, file=file, fields=fields)
        assert (_tree_hash(q), _tree_hash(out)) == before


LR_TEXT = ["nan", "inf", "-inf", "0", "-3", "1e9", "5:2", "nan:2", "1:inf", "0:1", "abc",
           "1:2:3", ""]


@pytest.mark.parametrize("lr", LR_TEXT)
def test_a_bad_likelihood_ratio_on_the_command_line_is_refused(lr, capsys):
    """The message names ``--lr`` as the field (as ``--lr TEXT: `` from the item check, or
    ``argument --lr: `` from argparse) and quotes the text given, or says it is missing."""
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        before = _tree_hash(q), _tree_hash(out)
        code, stdout, err = _run_cli(
            ["update", str(q), "--out", str(out), "--date", "2025-07-01", "--headline", "h",
             "--source", "s", "--reliability", "B2", "--bears-on", "tartus", "--lr", lr],
            capsys)
        _assert_refused(code, stdout, err, file=None,
                        fields=[f"--lr {lr}: ", "argument --lr: "])
        # argparse takes '-inf' for an option and '' for nothing: "expected one argument"
        assert lr in err.splitlines()[-1] or err.endswith("--lr: expected one argument\n")
        assert (_tree_hash(q), _tree_hash(out)) == before


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--reliability", "Z9", "is not an Admiralty code"),
    ("--reliability", "B7", "is not an Admiralty code"),
    ("--bears-on", "damascus", "unknown variable 'damascus'"),
    ("--date", "2026-02-30", "is not a date"),
    ("--date", (TODAY + dt.timedelta(days=2)).isoformat(), "is after today"),
    ("--url", "ftp://x", "is not a web address"),
    ("--id", "../../etc/passwd", "is not a valid id"),
    ("--headline", "   ", "at least 1 character"),
])
def test_a_bad_command_line_field_is_refused(option, value, reason, capsys):
    """The message names the option itself (``--bears-on: ``), not some other field, and
    says what is wrong with the value."""
    args = {"--date": "2025-07-01", "--headline": "h", "--source": "s", "--reliability": "B2",
            "--bears-on": "tartus", "--lr": "2"}
    args[option] = value
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        before = _tree_hash(q), _tree_hash(out)
        argv = ["update", str(q), "--out", str(out)]
        for k, v in args.items():
            argv += [k, v]
        code, stdout, err = _run_cli(argv, capsys)
        _assert_refused(code, stdout, err, file=None, fields=[f"{option}: "])
        assert reason in err, err
        assert (_tree_hash(q), _tree_hash(out)) == before


# ---------------------------------------------------------------- what a user really sees
@pytest.mark.parametrize("case", ["python_tag", "non_utf8", "huge"])
def test_refusal_in_a_real_process(case, tmp_path):
    q = tmp_path / "q"
    shutil.copytree(DEFAULT_QUESTION, q, ignore=shutil.ignore_patterns("news.yaml*"))
    target = q / "question.yaml"
    raw = target.read_bytes()
    if case == "huge":
        target.write_bytes(raw + b"#" * (MAX_FILE_BYTES + 1) + b"\n")
    else:
        target.write_bytes(_whole_file_mutation(case, raw, 40))
    before = _tree_hash(q)
    proc = subprocess.run([sys.executable, "-m", "forecast", "validate", str(q)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    _assert_refused(proc.returncode, proc.stdout, proc.stderr, file=target,
                    fields=[{"python_tag": "invalid YAML", "non_utf8": "not UTF-8",
                             "huge": "the limit is"}[case]])
    assert _tree_hash(q) == before
    assert not Path("/tmp/pwned").exists()


# ------------------------------------------------- gaps found by this suite, now closed
GAPS_PRIORS = {
    # (file, old text, new text, what the message must say): crash or silent acceptance once.
    "impossible_calendar_date": ("question.yaml", "created: 2024-12-09", "created: 2026-02-30",
                                 "created: cannot read '2026-02-30'"),
    "deeply_nested": ("question.yaml", "sources:", "deep: " + "[" * 50_000 + "\nsources:",
                      "exceeded maximum nesting depth"),
    "unhashable_key": ("question.yaml", "sources:", "? [a, b]\n: 1\nsources:",
                       "a key must be a plain value, not a list"),
    "integer_too_long": ("model.yaml", "seed: 20261125", "seed: 1" + "0" * 5000,
                         "seed: cannot read '1000"),
    "integer_as_date": ("question.yaml", "created: 2024-12-09", "created: 0",
                        "created: Input should be a valid date"),
    "text_as_probability": ("question.yaml", "lower: 0.30", "lower: '0.30'",
                            "outcomes[khmeimim].baseline.elicited.lower: "),
    "bool_as_count": ("model.yaml", "chains: 4", "chains: true", "sampler.chains: "),
    "bool_as_odds_ratio": ("evidence.yaml", "{lower: 0.15, upper: 0.80",
                           "{lower: 0.15, upper: true",
                           "variables[escalation].effect.elicited.upper: "),
    "binary_as_text": ("question.yaml", "title: Russia's", "title: !!binary UnVzc2lh #",
                       "title: Input should be a valid string"),
}


@pytest.mark.parametrize("case", sorted(GAPS_PRIORS))
def test_known_gap_in_prior_files(case, capsys):
    """Each defect is named by its own field (or its own YAML problem), in its own file."""
    name, old, new, said = GAPS_PRIORS[case]
    with _workspace() as (q, _out), _no_sampling():
        text = (q / name).read_text()
        assert old in text
        (q / name).write_text(text.replace(old, new, 1))
        code, stdout, err = _run_cli(["validate", str(q)], capsys)
        _assert_refused(code, stdout, err, file=q / name, fields=[said])


GAPS_ITEMS = {
    # change, and the field the message must name after the item file
    "integer_as_date": ({"date": 0}, "date: "),
    "integer_as_recorded": ({"recorded": 5}, "recorded: "),
    "binary_as_headline": ({"headline": b"Ships"}, "headline: "),
    "impossible_calendar_date": ("date: 2025-02-30", "date: cannot read '2025-02-30'"),
}


@pytest.mark.parametrize("case", sorted(GAPS_ITEMS))
def test_known_gap_in_news_items(case, capsys):
    """The message names the item file and the one field at fault."""
    change, said = GAPS_ITEMS[case]
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        path = q.parent / "item.yaml"
        text = yaml.dump({**ITEM, **(change if isinstance(change, dict) else {})},
                         sort_keys=False)
        if isinstance(change, str):
            text = text.replace("date: 2025-07-01", change)
        path.write_text(text)
        code, stdout, err = _run_cli(["update", str(q), "--item", str(path), "--out", str(out)],
                                     capsys)
        _assert_refused(code, stdout, err, file=path, fields=[said])


def test_an_item_file_error_names_the_file(capsys):
    with _workspace(ledger=LEDGER) as (q, out), _no_sampling():
        path = q.parent / "item.yaml"
        path.write_text(yaml.safe_dump({**ITEM, "lr": -1.0}, sort_keys=False))
        code, stdout, err = _run_cli(["update", str(q), "--item", str(path), "--out", str(out)],
                                     capsys)
        _assert_refused(code, stdout, err, file=path, fields=["lr"])

