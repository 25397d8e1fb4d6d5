"""What a user reads: help for every option, and errors in the terms the user typed.

Every test here fails on the wording it guards: a refused ``--lr`` shown in the YAML
form, an Admiralty code refused for its case, an outcome named only by its position,
a YAML error one line late, a near-point interval passed in silence, an option with
no help, reStructuredText markup in ``--help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import ROOT
from forecast.cli import build_parser, main

ITEM_FLAGS = {"--date": "2025-07-01", "--headline": "Ships leave Tartus",
              "--source": "satellite imagery", "--reliability": "B2",
              "--bears-on": "escalation", "--lr": "2"}


def _update_argv(question: Path, out: Path, **changes: str) -> list[str]:
    flags = ITEM_FLAGS | {f"--{k.replace('_', '-')}": v for k, v in changes.items()}
    argv = ["update", str(question), "--out", str(out)]
    for flag, value in flags.items():
        argv += [flag, value]
    return argv


def _call(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help, or a refused argument
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def no_fitting(monkeypatch):
    """Refused input must never reach the model; fail at once if it does."""
    def refuse(*args, **kwargs):
        raise AssertionError("refused input reached the model")

    monkeypatch.setattr("forecast.news.compute", refuse)


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# ------------------------------------------------------------------------------- --help
def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_option_of_every_command_has_help():
    commands = _subparsers(build_parser())
    assert {"validate", "run", "update", "history", "charts", "report", "new", "reference",
            "resolve", "score"} <= set(commands)
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in commands.items() for a in p._actions
               if not (a.help and a.help.strip() and a.help != argparse.SUPPRESS)]
    assert missing == [], f"options without help: {missing}"
    update = {a.dest: a.help for a in commands["update"]._actions}
    assert {"date", "headline", "source", "reliability", "bears_on", "lr", "url", "cluster",
            "json", "item", "id", "notes", "out", "seed"} <= set(update)
    assert "P(report | kept) / P(report | not kept)" in update["lr"]
    assert "2:5" in update["lr"] and "3" in update["lr"]
    assert "A-F" in update["reliability"] and "1-6" in update["reliability"]
    assert "case-insensitive" in update["reliability"]


@pytest.mark.parametrize("argv", [["--help"], *([c, "--help"] for c in (
    "validate", "run", "update", "history", "charts", "report", "new", "reference", "resolve",
    "score"))])
def test_help_is_plain_text(argv, capsys):
    code, out, _ = _call(argv, capsys)
    assert code == 0
    assert "usage: forecast" in out
    assert "``" not in out and ":func:" not in out, out
    if argv == ["--help"]:
        assert "The forecast command line" in out


# ------------------------------------------------------------------- update from flags
@pytest.mark.parametrize(("lr", "shown", "hidden"), [
    ("2:0.5", ["--lr 2:0.5", "did you mean 0.5:2"], ["lower", "upper", "{", "2.0"]),
    ("0", ["--lr 0:", "above 0"], ["got 0.0", "{lower"]),
    ("1e9", ["--lr 1e9:", "not between 0.0001 and 10000"], ["1000000000", "{lower"]),
    ("2:2", ["--lr 2:2:", "equal"], ["lower", "2.0"]),
    ("0:3", ["--lr 0:3:", "0 is not between"], ["lower", "{", "got 0.0"]),
])
def test_a_refused_lr_is_shown_as_typed(lr, shown, hidden, fresh_question, tmp_path,
                                        no_fitting, capsys):
    ledger = (fresh_question / "news.yaml").read_bytes()
    code, out, err = _call(_update_argv(fresh_question, tmp_path / "out", lr=lr), capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "Traceback" not in err
    for text in shown:
        assert text in err, err
    for text in hidden:
        assert text not in err, err
    assert "LOW:HIGH" in err  # the rule, in the syntax of the command line
    assert (fresh_question / "news.yaml").read_bytes() == ledger


def test_an_lr_that_is_not_a_number_is_refused_by_the_parser(capsys):
    code, _, err = _call(["update", "--lr", "2:x"], capsys)
    assert code == 2
    assert "'2:x' is not a likelihood ratio" in err and "LOW:HIGH" in err


@pytest.mark.parametrize(("option", "value", "shown"), [
    ("reliability", "b7", "--reliability: 'b7' is not an Admiralty code"),
    ("bears_on", "damascus", "--bears-on: unknown variable 'damascus'"),
    ("url", "ftp://x", "--url: 'ftp://x' is not a web address"),
])
def test_a_refused_flag_is_named_as_typed(option, value, shown, fresh_question, tmp_path,
                                          no_fitting, capsys):
    code, _, err = _call(_update_argv(fresh_question, tmp_path / "out", **{option: value}),
                         capsys)
    assert code == 2
    assert shown in err, err


def test_a_duplicate_made_up_id_says_how_to_give_another(fresh_question, tmp_path, capsys,
                                                         monkeypatch):
    from forecast.cli import item_id_for

    _edit(fresh_question / "news.yaml", lambda d: d.update(items=[{
        "id": item_id_for(dt.date(2025, 7, 1), ITEM_FLAGS["--headline"]), "date": "2025-07-01",
        "headline": "h", "source": "s", "reliability": "B2", "bears_on": "escalation",
        "lr": 2}]))
    monkeypatch.setattr("forecast.news.compute", lambda *a, **k: pytest.fail("fitted"))
    code, _, err = _call(_update_argv(fresh_question, tmp_path / "out"), capsys)
    assert code == 2
    assert "duplicate id '2025-07-01-ships-leave-tartus'" in err and "with --id" in err


def test_a_lower_case_admiralty_code_is_recorded_upper_case(fresh_question, tmp_path,
                                                            monkeypatch, capsys):
    """``b2`` is B2: accepted, and written to the ledger as B2 (no model is fitted here)."""
    import forecast.news

    fit = SimpleNamespace(fit=SimpleNamespace(diagnostics={"passed": True, "failures": []}),
                          path="stub", khat=None, notes=[],
                          evidence=SimpleNamespace(counted=(), entered={}))
    monkeypatch.setattr(forecast.news, "compute", lambda *a, **k: fit)
    monkeypatch.setattr(forecast.news, "UpdateResult", lambda item, before, after, ledger=():
                        SimpleNamespace(item=item, before=before, after=after, ledger=ledger,
                                        contribution_rows=lambda: []))
    code, out, err = _call(_update_argv(fresh_question, tmp_path / "out", reliability="b2"),
                           capsys)
    assert code == 0, err
    assert "B2, bears on escalation" in out
    [item] = yaml.safe_load((fresh_question / "news.yaml").read_text())["items"]
    assert item["reliability"] == "B2"


def test_admiralty_codes_are_read_case_insensitively():
    from forecast.ledger import LedgerError, parse_item

    base = {"id": "x", "date": "2025-07-01", "headline": "h", "source": "s",
            "bears_on": "escalation", "lr": 2}
    for code in ("b2", "B2", " c3 ", "f6"):
        assert parse_item(base | {"reliability": code}).reliability == code.strip().upper()
    for code in ("b7", "G1", "B", "2B", ""):
        with pytest.raises(LedgerError, match="is not an Admiralty code"):
            parse_item(base | {"reliability": code})


# ------------------------------------------------------------- prior files: ids, lines
def test_an_outcome_is_named_by_its_id(fresh_question, capsys):
    _edit(fresh_question / "question.yaml",
          lambda d: d["outcomes"][1]["baseline"]["elicited"].update(upper=1.3))
    code, _, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 2
    assert (f"{fresh_question / 'question.yaml'}: outcomes[tartus].baseline.elicited.upper: "
            "Input should be less than 1 (got 1.3)") in err, err
    assert "outcomes[1]" not in err


def test_an_evidence_variable_is_named_by_its_id(fresh_question, capsys):
    ident = yaml.safe_load((fresh_question / "evidence.yaml").read_text())["variables"][3]["id"]
    _edit(fresh_question / "evidence.yaml",
          lambda d: d["variables"][3]["effect"]["elicited"].update(lower=-1))
    code, _, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 2
    assert f"evidence.yaml: variables[{ident}].effect.elicited.lower:" in err, err
    assert "variables[3]" not in err


def test_entries_without_a_usable_id_keep_their_position():
    from pydantic import ValidationError

    from forecast.config import EvidenceFile, format_validation_error

    good = yaml.safe_load(
        (ROOT / "priors" / "russia_syria_bases" / "evidence.yaml")
        .read_text())
    data = good | {"variables": [dict(v) for v in good["variables"]]}
    data["variables"][0]["label"] = ""          # an error in an entry with an id
    data["variables"][1]["id"] = data["variables"][2]["id"]  # two entries share an id
    data["variables"][1]["label"] = ""
    with pytest.raises(ValidationError) as info:
        EvidenceFile.model_validate(data)
    lines = format_validation_error(Path("e.yaml"), info.value, data)
    first = data["variables"][0]["id"]
    assert any(line.startswith(f"e.yaml: variables[{first}].label:") for line in lines), lines
    assert any(line.startswith("e.yaml: variables[1].label:") for line in lines), lines
    # without the data (the old signature), positions as before
    plain = format_validation_error(Path("e.yaml"), info.value)
    assert any(line.startswith("e.yaml: variables[0].label:") for line in plain), plain


def _line_of(path: Path, start: str) -> int:
    """The 1-based number of the first line starting with ``start``, as an editor shows it."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(start))


def test_a_yaml_error_is_reported_at_its_line(fresh_question, capsys):
    path = fresh_question / "question.yaml"
    line = _line_of(path, "id:")
    lines = path.read_text().splitlines(True)
    lines.insert(line, " zz: 1\n")  # bad indentation (one space), on the line after id:
    path.write_text("".join(lines))
    code, _, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 2
    assert f"{path}: invalid YAML at line {line + 1}, column " in err, err


def test_an_unclosed_bracket_is_reported_where_it_opens(fresh_question, capsys):
    path = fresh_question / "question.yaml"
    line = _line_of(path, "title:")
    path.write_text(path.read_text().replace("\ntitle: ", "\ntitle: [", 1))
    code, _, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 2
    assert f"{path}: invalid YAML at line {line}, column 8: the '[' opened here is not " \
           "closed" in err, err
    assert f"at line {line + 1}, column" in err  # where PyYAML noticed it, said second


def test_read_yaml_lines_are_one_based(tmp_path):
    from forecast.config import ConfigError, read_yaml

    for text, line, column in [("a: 1\nb:\n  c: 2\n  d: 3\n e: 4\nf: 5\n", 5, 2),
                               ("a: 1\nb: 2\nc: 3\nd: 4\ne: 5: 6\n", 5, 5),
                               ("a: 1\nb: 2\nc: 3\nd: 4\ne: \"abc\nf: 5\n", 5, 4),
                               ("a: 1\nb: 2\na: 3\n", 3, 1)]:
        path = tmp_path / "f.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=f"invalid YAML at line {line}, column {column}:"):
            read_yaml(path)


# ------------------------------------------------------------------ near-point intervals
def _narrow_tartus(question: Path) -> None:
    _edit(question / "question.yaml", lambda d: d["outcomes"][1]["baseline"].update(
        elicited={"lower": 0.5, "upper": 0.5001, "mass": 0.9}))


def test_validate_warns_about_a_near_point_interval(fresh_question, capsys):
    code, _, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 0
    assert "fixed number" not in err  # the shipped intervals are beliefs, not points
    _narrow_tartus(fresh_question)
    code, out, err = _call(["validate", str(fresh_question)], capsys)
    assert code == 0 and out.startswith("OK: ")
    [line] = [x for x in err.splitlines() if "fixed number" in x]
    assert line.startswith(f"warning: {fresh_question / 'question.yaml'}: "
                           "outcomes[tartus].baseline.elicited: [0.5, 0.5001] is so narrow")
    assert "Traceback" not in err and "DegenerateIntervalWarning" not in err


def test_run_warns_once_about_a_near_point_interval(fresh_question, tmp_path, monkeypatch,
                                                    capsys):
    """The warning of the check before fitting, and of the fit itself, is one line."""
    import forecast.cli.questions
    from forecast.config import load_question
    from forecast.elicit import check_intervals

    def fit(question, *args, **kwargs):  # stands for the fit, which meets the interval again
        check_intervals(load_question(question))
        return {}, 0, ""

    monkeypatch.setattr(forecast.cli.questions, "_run_one", fit)
    _narrow_tartus(fresh_question)
    code, _, err = _call(["run", str(fresh_question), "--out", str(tmp_path / "out")], capsys)
    assert code == 0
    assert err.count("fixed number") == 1, err
    assert "warning: " in err and "outcomes[tartus].baseline.elicited" in err


@pytest.mark.parametrize(("lower", "upper", "probability", "degenerate"), [
    (0.5, 0.5001, True, True),
    (0.495, 0.505, True, True),     # odds span a factor 1.041
    (0.49, 0.51, True, False),      # 1.083
    (0.0100, 0.0104, True, True),   # a 4% relative width near 0.01
    (0.0100, 0.0106, True, False),  # 6%
    (0.001, 0.008, True, False),    # small, but a factor 8: a belief
    (2.0, 2.05, False, True),       # an odds ratio: upper / lower 1.025
    (2.0, 2.2, False, False),
])
def test_the_degenerate_rule(lower, upper, probability, degenerate):
    from forecast.config import Interval
    from forecast.elicit import DegenerateIntervalWarning, warn_if_degenerate

    interval = Interval(lower=lower, upper=upper, mass=0.9)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert warn_if_degenerate(interval, probability=probability, where="x: y") is degenerate
    assert [issubclass(w.category, DegenerateIntervalWarning) for w in seen] == (
        [True] if degenerate else [])
