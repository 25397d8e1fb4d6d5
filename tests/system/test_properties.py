"""Property-based tests (hypothesis, derandomised, few examples): news items, prior files and
the ledger's append, over generated inputs rather than a handful of chosen ones.

* a valid generated news item always validates, appends and reads back field for field;
* a generated item with one field made invalid is always refused with an error naming
  that field;
* a generated elicited interval in a prior file either gives a prior that puts the stated
  mass in the interval (checked with scipy, not with the fitting code) or is refused with
  an error naming the file and the interval;
* any sequence of appends keeps the ledger's earlier bytes as a prefix and reads back every
  item, in order.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import TODAY, make_question
from forecast.config import ConfigError, load_question
from forecast.ledger import LedgerError, append_item, check_item, load_ledger, parse_item

SETTINGS = settings(max_examples=25, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Path:
    return make_question(tmp_path_factory.mktemp("properties"))


@pytest.fixture(scope="module")
def qconfig(question):
    return load_question(question)


def _fresh_ledger(config) -> None:
    (config.directory / "news.yaml").unlink(missing_ok=True)


# ------------------------------------------------------------------------------ news items
ID = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,20}\Z")
#: Printable text of any script, with YAML's awkward characters; not blank.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
               min_size=1, max_size=60).filter(lambda s: s.strip()) | st.sampled_from(
    ["- a list?", "key: value", "# not a comment", "'quoted'", '"double"', "yes", "null",
     "&anchor", "*alias", "!!python/object", "1e3", "Tartus: ships @ berth | 50%"])
RATIO = st.floats(1e-4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def ratios(draw):
    if draw(st.booleans()):
        return draw(RATIO)
    lo, hi = sorted(draw(st.lists(RATIO, min_size=2, max_size=2, unique=True)))
    return {"lower": lo, "upper": hi}


@st.composite
def valid_items(draw, targets: list[str]) -> dict:
    item = {
        "id": draw(ID),
        "date": draw(st.dates(dt.date(2020, 1, 1), TODAY)).isoformat(),
        "headline": draw(TEXT),
        "source": draw(TEXT),
        "reliability": draw(st.sampled_from("ABCDEFabcdef")) + draw(st.sampled_from("123456")),
        "bears_on": draw(st.sampled_from(targets)),
        "lr": draw(ratios()),
    }
    optional = {"url": st.from_regex(r"\Ahttps?://[a-z0-9.]{1,20}/[A-Za-z0-9/_-]{0,20}\Z"),
                "cluster": ID, "thread": ID, "notes": TEXT}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            item[name] = draw(strategy)
    return item


def _targets(config) -> list[str]:
    return list(config.variables + config.bases)


def _same_item(read, given: dict) -> None:
    """The item read back says what was given (text stripped, the code upper-cased)."""
    assert read.id == given["id"]
    assert read.date.isoformat() == given["date"]
    assert read.headline == given["headline"].strip()
    assert read.source == given["source"].strip()
    assert read.reliability == given["reliability"].upper()
    assert read.bears_on == given["bears_on"]
    lr = read.lr if isinstance(read.lr, float) else read.lr.model_dump()
    assert lr == given["lr"]
    for name in ("url", "cluster", "thread"):
        assert getattr(read, name) == given.get(name)
    assert read.notes == (given["notes"].strip() if "notes" in given else None)


@SETTINGS
@given(data=st.data())
def test_a_valid_news_item_validates_appends_and_reads_back(qconfig, data):
    """Any generated valid item (unicode and YAML-looking text, intervals, optional fields)
    passes validation, appends, and reads back from the file field for field."""
    given = data.draw(valid_items(_targets(qconfig)))
    _fresh_ledger(qconfig)
    item = parse_item(given)
    check_item(qconfig, item, [], today=TODAY)
    after = append_item(qconfig, item, today=TODAY)
    (read,) = load_ledger(qconfig, today=TODAY)
    _same_item(read, given)
    assert [i.id for i in after] == [given["id"]]


#: Per field, values it must refuse (each one alone makes the item invalid).
INVALID = {
    "id": st.sampled_from(["", "-leading-dash", "has space", "a/b", "../up", "x" * 65, "é"]),
    "date": st.sampled_from([0, 20250101, "2025-02-30", "2025-13-01", "yesterday", None,
                             (TODAY + dt.timedelta(days=1)).isoformat()]),
    "headline": st.sampled_from(["", "   ", None, 5, ["a"], "x" * 2001]),
    "source": st.sampled_from(["", "\t", None, 3.5, {"a": 1}]),
    "reliability": st.sampled_from(["G1", "A0", "A7", "AA", "2B", "", None, 12]),
    "bears_on": st.sampled_from(["weather", "", None, "KHMEIMIM"]),
    "lr": st.sampled_from([0, -1.0, 0.0, 1e-5, 1e5, float("nan"), float("inf"), True, "2",
                           None, {"lower": 3.0, "upper": 2.0}, {"lower": 2.0, "upper": 2.0},
                           {"lower": 1.0}, {"lower": 0.0, "upper": 2.0}]),
    "url": st.sampled_from(["ftp://x", "example.org", "http://a b", ""]),
    "cluster": st.sampled_from(["", "a b", "-x"]),
}


@SETTINGS
@given(data=st.data(), field=st.sampled_from(sorted(INVALID)))
def test_an_invalid_field_is_refused_by_name(qconfig, data, field):
    """One field of a valid item made invalid: refused, and the message names that field
    (as ``item: <field>``), whichever check catches it (parsing or the question's)."""
    item = data.draw(valid_items(_targets(qconfig)))
    item[field] = data.draw(INVALID[field])
    with pytest.raises(LedgerError) as info:
        check_item(qconfig, parse_item(item), [], today=TODAY)
    message = str(info.value)
    assert re.search(rf"(^|\n)item: {field}\b", message), message


# ----------------------------------------------------------------------------- the ledger
@SETTINGS
@given(data=st.data(), n=st.integers(1, 5))
def test_appends_keep_the_earlier_bytes_and_every_item(qconfig, data, n):
    """After every append, the ledger's earlier bytes are a prefix of its new bytes (nothing
    recorded is rewritten) and reading it gives back every item appended, in order."""
    _fresh_ledger(qconfig)
    path = qconfig.directory / "news.yaml"
    given = []
    ids = data.draw(st.lists(ID, min_size=n, max_size=n, unique=True))
    for k, ident in enumerate(ids):
        entry = {**data.draw(valid_items(_targets(qconfig))), "id": ident}
        before = path.read_bytes() if path.exists() else b""
        append_item(qconfig, parse_item(entry), today=TODAY)
        now = path.read_bytes()
        if k:  # the first append may lay out a new file; from then on, only appends
            assert now.startswith(before) and len(now) > len(before)
        given.append(entry)
        read = load_ledger(qconfig, today=TODAY)
        assert [i.id for i in read] == [g["id"] for g in given]
    for item, entry in zip(load_ledger(qconfig, today=TODAY), given, strict=True):
        _same_item(item, entry)


# ----------------------------------------------------------------------------- prior files
BOUND = st.floats(0.0, 1.0).map(lambda x: round(x, 3))
MASS = st.sampled_from([0.5, 0.6, 0.8, 0.9, 0.95, 0.99, 1.0]) | st.floats(0.51, 0.99)


def _with_interval(src: Path, tmp: Path, file: str, old: str, new: str) -> Path:
    q = tmp / "q"
    shutil.copytree(src, q)
    text = (q / file).read_text()
    assert text.count(old) == 1
    (q / file).write_text(text.replace(old, new))
    return q


# PreliZ's first import raises the recursion limit, which hypothesis mentions.
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@SETTINGS
@given(lower=BOUND, upper=BOUND, mass=MASS)
def test_an_elicited_probability_interval_gives_its_mass_or_a_clear_error(
        question, tmp_path_factory, monkeypatch, lower, upper, mass):
    """question.yaml's baseline interval for Khmeimim, generated (reversed, at 0 or 1, any
    mass): either the Beta prior puts ``mass`` in ``[lower, upper]`` to within 0.01 by
    scipy's CDF, or validation refuses it naming the file and ``outcomes[khmeimim]``."""
    from forecast.elicit import probability_prior

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    q = _with_interval(question, tmp_path_factory.mktemp("prior"), "question.yaml",
                       "elicited: {lower: 0.30, upper: 0.75, mass: 0.9}",
                       f"elicited: {{lower: {lower}, upper: {upper}, mass: {mass}}}")
    valid = 0 < lower < upper < 1 and 0.5 < mass < 1
    try:
        config = load_question(q)
    except ConfigError as exc:
        assert not valid, exc
        message = str(exc)
        assert f"{q / 'question.yaml'}: outcomes[khmeimim].baseline" in message, message
        return
    assert valid
    outcome = next(o for o in config.question.outcomes if o.id == "khmeimim")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate interval warns; it is still fitted
        try:
            prior = probability_prior(outcome.baseline)
        except ValueError as exc:  # PreliZ found no Beta: said so, with the interval
            assert "could not fit a Beta" in str(exc) and str(lower) in str(exc)
            return
    kw = prior.parameters
    got = stats.beta.cdf(upper, kw["alpha"], kw["beta"]) - stats.beta.cdf(lower, kw["alpha"],
                                                                          kw["beta"])
    assert got == pytest.approx(mass, abs=0.01), (lower, upper, mass, kw)


@SETTINGS
@given(lower=st.floats(0.01, 50).map(lambda x: round(x, 2)),
       upper=st.floats(0.01, 50).map(lambda x: round(x, 2)), mass=MASS)
def test_an_elicited_odds_ratio_interval_gives_its_mass_or_a_clear_error(
        question, tmp_path_factory, monkeypatch, lower, upper, mass):
    """evidence.yaml's effect interval for escalation, generated: either the Normal prior on
    the log odds ratio puts ``mass`` in ``[log lower, log upper]`` to within 0.01 by scipy,
    or validation refuses it naming the file and ``variables[escalation]``."""
    import math

    from forecast.elicit import effect_prior

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    evidence = (question / "evidence.yaml").read_text()
    old = re.search(r"escalation\b.*?effect:\s*\n\s*elicited: (\{[^}]*\})", evidence, re.S)
    assert old, "the seed question's escalation effect is an elicited interval"
    q = _with_interval(question, tmp_path_factory.mktemp("effect"), "evidence.yaml",
                       old.group(0),
                       old.group(0).replace(old.group(1),
                                            f"{{lower: {lower}, upper: {upper}, mass: {mass}}}"))
    valid = lower < upper and 0.5 < mass < 1
    try:
        config = load_question(q)
    except ConfigError as exc:
        assert not valid, exc
        message = str(exc)
        assert f"{q / 'evidence.yaml'}: variables[escalation].effect" in message, message
        return
    assert valid
    variable = next(v for v in config.evidence.variables if v.id == "escalation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = effect_prior(variable.effect)
    kw = prior.parameters
    got = (stats.norm.cdf(math.log(upper), kw["mu"], kw["sigma"])
           - stats.norm.cdf(math.log(lower), kw["mu"], kw["sigma"]))
    assert got == pytest.approx(mass, abs=0.01), (lower, upper, mass, kw)
