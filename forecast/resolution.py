"""A question's resolution: recorded once, atomically, in ``priors/<q>/resolution.yaml``.

One job: validate and write how a question resolved (every base 0 or 1, a date not
before the question's creation; never a second time) and read it back, checked
against the question. :mod:`forecast.scoring` scores the record against it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from forecast.config import (
    Identifier,
    QuestionConfig,
    format_validation_error,
    load_question,
    read_yaml,
)
from forecast.errors import ResolutionError
from forecast.files import atomic_write

RESOLUTION_FILE = "resolution.yaml"


class Resolution(BaseModel):
    """The content of ``resolution.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    question: Identifier
    date: dt.date
    outcomes: dict[Identifier, Literal[0, 1]]
    recorded: dt.date

    @model_validator(mode="after")
    def _some(self) -> Resolution:
        if not self.outcomes:
            raise ValueError("outcomes: give at least one base")
        return self


def question_config(question_dir: str | Path | QuestionConfig) -> QuestionConfig:
    if isinstance(question_dir, QuestionConfig):
        return question_dir
    return load_question(question_dir)


def as_date(value: dt.date | str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ResolutionError([f"{where}: date: not an ISO date YYYY-MM-DD (got {value!r})"]
                              ) from None


def resolve(question_dir: str | Path | QuestionConfig, outcomes: dict[str, int],
            date: dt.date | str, *, today: dt.date | None = None) -> Path:
    """Record how a question resolved, once, in ``<question_dir>/resolution.yaml``.

    Parameters
    ----------
    question_dir
        The question directory (or its loaded config).
    outcomes
        ``{base: 0 or 1}`` for every base of the question.
    date
        The resolution date; not before the question's ``created`` date.
    today
        The recording date written to the file (default: the system date).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ResolutionError
        For an unknown or missing base, a value other than 0/1, a date before
        ``created``, or an existing resolution. Nothing is written on error.
    """
    config = question_config(question_dir)
    path = config.directory / RESOLUTION_FILE
    where = str(path)
    date = as_date(date, where)
    problems = []
    if path.exists():
        raise ResolutionError([f"{where}: the question is already resolved; a resolution is "
                               "recorded once (remove the file by hand to correct it)"])
    unknown = sorted(set(outcomes) - set(config.bases))
    missing = [b for b in config.bases if b not in outcomes]
    if unknown:
        problems.append(f"{where}: outcomes: unknown bases {unknown}; allowed: {config.bases}")
    if missing:
        problems.append(f"{where}: outcomes: missing bases {missing}; resolve every base at once")
    for base, value in outcomes.items():
        is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not is_int or value not in (0, 1):
            problems.append(f"{where}: outcomes.{base}: must be 0 or 1 (got {value!r})")
    if date < config.question.created:
        problems.append(f"{where}: date: {date} is before the question was created "
                        f"({config.question.created})")
    if problems:
        raise ResolutionError(problems)
    try:
        record = Resolution(schema_version=1, question=config.id, date=date,
                            outcomes={b: int(outcomes[b]) for b in config.bases},
                            recorded=today or dt.date.today())
    except ValidationError as exc:
        raise ResolutionError(format_validation_error(path, exc)) from None
    text = ("# How the question resolved; recorded once by `forecast resolve`.\n"
            + yaml.safe_dump(record.model_dump(mode="json"), sort_keys=False))
    _write_once(path, text)
    return path


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, refusing to replace an existing file."""
    try:  # fails if another resolution got there first
        atomic_write(path, text, exclusive=True)
    except FileExistsError:
        raise ResolutionError([f"{path}: the question is already resolved"]) from None


def load_resolution(question_dir: str | Path | QuestionConfig) -> Resolution:
    """Read and validate a question's ``resolution.yaml``.

    Raises
    ------
    ResolutionError
        If the question is unresolved or the file is invalid.
    """
    config = question_config(question_dir)
    path = config.directory / RESOLUTION_FILE
    if not path.exists():
        raise ResolutionError([f"{path}: the question is not resolved yet (run forecast resolve)"])
    data, _ = read_yaml(path)
    try:
        res = Resolution.model_validate(data)
    except ValidationError as exc:
        raise ResolutionError(format_validation_error(path, exc)) from None
    if res.question != config.id or set(res.outcomes) != set(config.bases):
        raise ResolutionError([f"{path}: does not match question {config.id!r} and its bases "
                               f"{config.bases}"])
    return res
