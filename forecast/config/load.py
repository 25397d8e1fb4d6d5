"""Read a question directory: every file parsed, validated and checked against the others.

One job: :func:`load_question` turns the YAML files of a question into a
:class:`~forecast.config.question_config.QuestionConfig`, or raises
:class:`~forecast.errors.ConfigError` listing every problem as ``file: field: what is
wrong``. Here live the checks that span files (scenarios and the reference case name
the question's variables; the reference priors were derived from the files as they
are now), :func:`repo_path` (paths under the repository, never the working
directory) and :func:`placeholders` (what ``forecast new`` left marked ``TODO``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from forecast.config.base import (
    CASE_FILE,
    LEDGER_FILE,
    LINK_FILE,
    OPTIONAL_FILES,
    QUESTION_FILES,
    SCENARIOS_FILE,
    THREADS_FILE,
)
from forecast.config.linked import LinkedPriors, ReferenceCase
from forecast.config.messages import format_validation_error
from forecast.config.question import (
    EvidenceFile,
    Question,
    Reliability,
    Scenario,
    Scenarios,
    Threads,
    horizon_years,
)
from forecast.config.question_config import QuestionConfig, link_hash, missing_link
from forecast.config.settings import ModelSettings
from forecast.errors import ConfigError
from forecast.files import read_yaml, sha256

#: The source tree this package runs from (``forecast/config/load.py`` is two levels down).
_ROOT = Path(__file__).resolve().parents[2]
#: The schema of each file of QUESTION_FILES.
_SCHEMAS: dict[str, type[BaseModel]] = {
    "question.yaml": Question,
    "evidence.yaml": EvidenceFile,
    "model.yaml": ModelSettings,
    "reliability.yaml": Reliability,
}


def repo_path(relative: str | Path, *, near: str | Path | None = None) -> Path:
    """``relative`` under the repository, never under the working directory.

    The repository is the nearest folder above ``near`` (a question's directory) that
    holds ``relative``, else the source tree this package runs from. An absolute path
    is returned as it is.
    """
    here = Path(relative)
    if here.is_absolute():
        return here
    if near is not None:
        for base in Path(near).resolve().parents:
            if (base / here).exists():
                return base / here
    return _ROOT / here


def _parse(path: Path, schema: type[BaseModel]) -> tuple[Any, str]:
    """The file validated against ``schema``, and the SHA-256 of its bytes."""
    data, raw = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError([f"{path}: (top level): expected a mapping of fields, got {kind}"])
    try:
        return schema.model_validate(data), hashlib.sha256(raw).hexdigest()
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc, data)) from None


def read_linked(path: Path) -> LinkedPriors:
    """Parse and validate a ``reference_priors.yaml`` (not whether it is current)."""
    linked, _ = _parse(Path(path), LinkedPriors)
    return linked


def _unknown_variables(path: Path, evidence: EvidenceFile, named: list[tuple[str, str]]
                       ) -> None:
    """ConfigError if a ``(field, variable)`` of ``path`` names no evidence variable."""
    known = [v.id for v in evidence.variables]
    problems = [f"{path}: {field}: unknown evidence variable {var!r}; allowed: {', '.join(known)}"
                for field, var in named if var not in known]
    if problems:
        raise ConfigError(problems)


def _load_scenarios(directory: Path, evidence: EvidenceFile) -> tuple[Scenario, ...]:
    """Read the optional ``scenarios.yaml``; every variable it sets must exist."""
    path = directory / SCENARIOS_FILE
    if not path.exists():
        return ()
    parsed, _ = _parse(path, Scenarios)
    _unknown_variables(path, evidence, [(f"scenarios[{i}].set", var)
                                        for i, sc in enumerate(parsed.scenarios)
                                        for var in sc.set])
    return tuple(parsed.scenarios)


def _load_case(directory: Path, evidence: EvidenceFile) -> ReferenceCase | None:
    """Read the optional ``reference_case.yaml``; its variables must be the question's."""
    path = directory / CASE_FILE
    if not path.exists():
        return None
    parsed, _ = _parse(path, ReferenceCase)
    _unknown_variables(path, evidence, [(f"links.{feature}.variable", link.variable)
                                        for feature, link in parsed.links.items()])
    return parsed


def _stale(path: Path, field: str, changed: Path, directory: Path) -> str:
    return (f"{path}: reference.{field}: {changed} has changed since these priors were "
            f"derived; stale: re-run `forecast reference link {directory}`")


def _load_link(directory: Path, question: Question, evidence: EvidenceFile
               ) -> tuple[LinkedPriors | None, list[str]]:
    """Read ``reference_priors.yaml`` and check it is valid and current.

    Returns the parsed file (or None) and the problems found; a missing file is
    (None, []). Current means: made for this question, its variables and
    horizon, from reference-class files whose content hashes still match.
    """
    path = directory / LINK_FILE
    if not path.exists():
        return None, []
    try:
        linked = read_linked(path)
    except ConfigError as exc:
        return None, exc.problems
    problems = []
    if linked.question != question.id:
        problems.append(f"{path}: question: made for {linked.question!r}, "
                        f"but this question is {question.id!r}")
    unknown = sorted(set(linked.effects) - {v.id for v in evidence.variables})
    if unknown:
        problems.append(f"{path}: effects: {unknown} are not variables of "
                        f"{directory / 'evidence.yaml'}")
    years = horizon_years(question)
    if abs(linked.horizon_years - years) > 1e-3:
        problems.append(
            f"{path}: horizon_years: derived for {linked.horizon_years:.3f} years, but "
            f"question.yaml now gives {years:.3f} (created to horizon); stale: re-run "
            f"`forecast reference link {directory}`")
    ref = repo_path(linked.reference.directory, near=directory)
    for field, name in (("cases_sha256", "cases.csv"), ("events_sha256", "events.csv"),
                        ("settings_sha256", "hazard.yaml")):
        try:
            digest = sha256(ref / name)
        except ConfigError:
            problems.append(f"{path}: reference.directory: cannot check the derivation: "
                            f"{ref / name} cannot be read")
            continue
        if digest != getattr(linked.reference, field):
            problems.append(_stale(path, field, ref / name, directory))
    case = directory / CASE_FILE
    try:
        digest = sha256(case)
    except ConfigError:
        digest = None
        problems.append(f"{path}: reference.case_sha256: derived from {case}, which cannot be "
                        "read; restore it, or remove reference_priors.yaml")
    if digest is not None and digest != linked.reference.case_sha256:
        problems.append(_stale(path, "case_sha256", case, directory))
    return (None if problems else linked), problems


def placeholders(directory: str | Path) -> list[str]:
    """Values still marked ``TODO`` in a question's files, as ``file: field`` lines.

    A question made by ``forecast new`` is valid but not yet the analyst's: its
    rationales, definitions and titles say ``TODO``. Comments do not count.
    """
    directory = Path(directory)
    found: list[str] = []

    def walk(value: Any, field: str, name: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{field}.{k}" if field else str(k), name)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{field}[{i}]", name)
        elif isinstance(value, str) and "TODO" in value:
            found.append(f"{directory / name}: {field}")

    for name in (*QUESTION_FILES, *OPTIONAL_FILES, LEDGER_FILE):
        if (directory / name).exists():
            walk(read_yaml(directory / name)[0], "", name)
    return found


def load_question(directory: str | Path, prior_source: str | None = None) -> QuestionConfig:
    """Load and validate every file of a question directory.

    Parameters
    ----------
    directory
        A folder holding ``question.yaml``, ``evidence.yaml``, ``model.yaml``
        and ``reliability.yaml`` (and ``reference_priors.yaml`` when the
        priors come from the reference class).
    prior_source
        Override ``prior_source`` of ``model.yaml`` (see :meth:`QuestionConfig.with_prior_source`).

    Raises
    ------
    ConfigError
        Listing every problem found across the files, each naming file and field.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError([f"{directory}: not a question directory"])
    parsed: dict[str, Any] = {}
    hashes: dict[str, str] = {}
    problems: list[str] = []
    for name, schema in _SCHEMAS.items():
        try:
            parsed[name], hashes[name] = _parse(directory / name, schema)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    question = parsed["question.yaml"]
    evidence = parsed["evidence.yaml"]
    outcome_ids = {o.id for o in question.outcomes}
    clash = outcome_ids & {v.id for v in evidence.variables}
    if clash:
        raise ConfigError([
            f"{directory / 'evidence.yaml'}: variables: ids {sorted(clash)} are also outcome ids "
            "in question.yaml; news items name one or the other, so they must differ"
        ])
    model = parsed["model.yaml"]
    scenarios = _load_scenarios(directory, evidence)
    reference_case = _load_case(directory, evidence)
    threads = _parse(directory / THREADS_FILE, Threads)[0] if (
        directory / THREADS_FILE).exists() else None
    linked, link_problems = _load_link(directory, question, evidence)
    if model.prior_source != "elicited":
        if linked is None:
            raise ConfigError(link_problems or [missing_link(directory, model.prior_source)])
        hashes[LINK_FILE] = link_hash(linked)
    config = QuestionConfig(
        directory=directory,
        question=question,
        evidence=evidence,
        model=model,
        reliability=parsed["reliability.yaml"],
        file_hashes=hashes,
        linked=linked,
        link_problems=tuple(link_problems),
        scenarios=scenarios,
        reference_case=reference_case,
        threads=threads,
    )
    return config if prior_source is None else config.with_prior_source(prior_source)
