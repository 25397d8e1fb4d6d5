"""Create a new question directory from the template: ``forecast new <name>``.

One job: copy the template of :mod:`forecast.templates` (``question/*.yaml``, package
data) into ``<root>/<name>/``, filling in the id and the dates. The placeholders are
marked ``TODO`` for the analyst but already validate, so ``forecast validate`` works
from the first minute and flags each edit that breaks a rule. The directory is built
in a temporary folder next to the target, validated, then renamed into place: a
failure leaves nothing behind, and an existing directory is never touched.
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path

from forecast.config import LEDGER_FILE, QUESTION_FILES, check_snake_case, load_question
from forecast.errors import ConfigError
from forecast.files import atomic_dir

TEMPLATE_FILES = (*QUESTION_FILES, LEDGER_FILE)
#: Placeholders in the template files, replaced when a question is created.
PLACEHOLDERS = ("__QUESTION_ID__", "__CREATED__", "__HORIZON__")


def template_text(name: str) -> str:
    """The text of one template file (e.g. ``"question.yaml"``), placeholders unfilled."""
    return (files("forecast.templates") / "question" / name).read_text(encoding="utf-8")


def new_question(
    name: str,
    root: str | Path = "priors",
    *,
    created: dt.date | None = None,
    horizon: dt.date | None = None,
) -> Path:
    """Create ``<root>/<name>/`` from the template and return its path.

    Parameters
    ----------
    name
        The question id: snake_case (lowercase letters, digits and ``_``, starting with
        a letter, at most 48 characters).
    root
        The folder holding question directories (created if absent).
    created, horizon
        Dates written into ``question.yaml``; default today and one year later.

    Raises
    ------
    ConfigError
        If ``name`` is not snake_case, the directory already exists, or the dates are
        not in order. Nothing is written then.
    """
    try:
        check_snake_case(name)
    except ValueError as exc:
        raise ConfigError([f"new question: name: {exc}"]) from None
    root = Path(root)
    target = root / name
    if target.exists() or target.is_symlink():
        raise ConfigError([f"{target}: already exists; refusing to overwrite it"])
    created = created or dt.date.today()
    horizon = horizon or created.replace(year=created.year + 1, day=min(created.day, 28))
    if horizon <= created:
        raise ConfigError([f"new question: horizon: {horizon} must be after created {created}"])
    values = dict(zip(PLACEHOLDERS, (name, created.isoformat(), horizon.isoformat()),
                      strict=True))
    texts = {}
    for filename in TEMPLATE_FILES:
        text = template_text(filename)
        for key, value in values.items():
            text = text.replace(key, value)
        texts[filename] = text
    try:  # the template must validate: never publish one that does not
        return atomic_dir(target, texts, check=load_question)
    except FileExistsError:  # created meanwhile by someone else
        raise ConfigError([f"{target}: already exists; refusing to overwrite it"]) from None
