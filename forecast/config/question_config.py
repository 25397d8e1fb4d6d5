"""A question as validated: :class:`QuestionConfig`, immutable, and its variants.

One job: hold what a question's files say once they have been read and checked
(:func:`forecast.config.load.load_question` builds it), answer the questions every
later module asks of it (its outcomes, variables, wording, input hash), and make the
validated variants the what-ifs need: other sampler settings, other thread
dependences, another prior source. Each variant changes the input hash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from forecast.config.base import LINK_FILE
from forecast.config.linked import LinkedPriors, ReferenceCase
from forecast.config.priors import Dependence
from forecast.config.question import (
    EvidenceFile,
    Question,
    Reliability,
    Scenario,
    Thread,
    Threads,
    Wording,
)
from forecast.config.settings import PRIOR_SOURCES, ModelSettings
from forecast.errors import ConfigError


def missing_link(directory: Path, source: str) -> str:
    """The problem of a question whose ``prior_source`` needs a link file it lacks."""
    return (f"{directory / 'model.yaml'}: prior_source: {source!r} needs {directory / LINK_FILE}, "
            f"which does not exist; write it with `forecast reference link {directory}`")


def link_hash(linked: LinkedPriors) -> str:
    """The content hash of validated reference priors (what a fit made from them depends on)."""
    return hashlib.sha256(
        json.dumps(linked.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class QuestionConfig(BaseModel):
    """Everything a question's files say, validated. Immutable."""

    model_config = ConfigDict(frozen=True)

    directory: Path
    question: Question
    evidence: EvidenceFile
    model: ModelSettings
    reliability: Reliability
    file_hashes: dict[str, str]
    #: The reference-class priors, when ``reference_priors.yaml`` exists and is current.
    linked: LinkedPriors | None = None
    #: Why ``linked`` is None although the file exists (stale, invalid), for a clear error.
    link_problems: tuple[str, ...] = ()
    #: Named scenario combinations from ``scenarios.yaml`` (analysis only: not hashed).
    scenarios: tuple[Scenario, ...] = ()
    #: The question as a reference-class case (``reference_case.yaml``), if coded.
    reference_case: ReferenceCase | None = None
    #: Threads of dependent reports (``threads.yaml``), if declared.
    threads: Threads | None = None
    @property
    def wording(self) -> Wording:
        """How tables and charts name the probability and the joint outcomes."""
        return self.question.wording

    def interventions(self) -> dict[str, dict[str, int]]:
        """The named scenarios as ``{name: {variable: 0 or 1}}``."""
        return {s.name: dict(s.set) for s in self.scenarios}

    @property
    def id(self) -> str:
        """The question's id (its directory's name by convention)."""
        return self.question.id

    @property
    def bases(self) -> list[str]:
        """The outcome ids, in file order."""
        return [o.id for o in self.question.outcomes]

    @property
    def variables(self) -> list[str]:
        """The evidence variable ids, in file order."""
        return [v.id for v in self.evidence.variables]

    @property
    def headline_outcomes(self) -> list[str]:
        """What tables and charts show: each outcome, then ``all`` and ``any``.

        With one outcome, ``all`` and ``any`` are that outcome again and are left out.
        """
        return [*self.bases, "all", "any"] if len(self.bases) > 1 else list(self.bases)

    def with_sampler(self, **changes: int | float | None) -> QuestionConfig:
        """A copy with some sampler settings changed (e.g. ``draws``, ``seed``), validated.

        The change is part of :meth:`input_hash`, so fits made with other
        settings are never mistaken for these.
        """
        sampler = self.model.sampler.changed(**changes)
        if sampler == self.model.sampler:
            return self
        model = self.model.model_copy(update={"sampler": sampler})
        hashes = dict(self.file_hashes)
        hashes["sampler_override"] = hashlib.sha256(
            json.dumps(sampler.model_dump(), sort_keys=True).encode()).hexdigest()
        return self.model_copy(update={"model": model, "file_hashes": hashes})

    @property
    def prior_source(self) -> str:
        """Where base rates and linked effects come from (``model.yaml``)."""
        return self.model.prior_source

    def with_dependence(self, dependence: dict[str, float]) -> QuestionConfig:
        """A copy whose threads have other dependences (``{thread: rho}``), for what-ifs and
        the sensitivity analysis; a thread not declared is added with that rho.

        Raises
        ------
        ValueError
            If the question declares no threads.
        """
        if not dependence:
            return self
        if self.threads is None:
            raise ValueError("this question declares no threads (threads.yaml)")
        threads = {t.id: t for t in self.threads.threads}
        for thread, rho in dependence.items():
            dep = Dependence(value=float(rho), rationale="what-if", source="what-if")
            old = threads.get(thread)
            threads[thread] = (old.model_copy(update={"dependence": dep}) if old is not None
                               else Thread(id=thread, label=thread[:60], description="what-if",
                                           dependence=dep))
        return self.model_copy(update={"threads": Threads(
            schema_version=1, default_dependence=self.threads.default_dependence,
            threads=list(threads.values()))})

    def with_prior_source(self, source: str) -> QuestionConfig:
        """A copy whose base rates and linked effects come from ``source``.

        ``source`` is one of :data:`PRIOR_SOURCES`. Part of :meth:`input_hash`,
        so fits made under one source are never reused for another.

        Raises
        ------
        ConfigError
            If ``source`` is unknown, or needs ``reference_priors.yaml`` and the
            question has none that is valid and current.
        """
        if source not in PRIOR_SOURCES:
            raise ConfigError([f"prior source: {source!r} is not one of {list(PRIOR_SOURCES)}"])
        if source != "elicited" and self.linked is None:
            raise ConfigError(list(self.link_problems) or [missing_link(self.directory, source)])
        if source == self.prior_source:
            return self
        model = self.model.model_copy(update={"prior_source": source})
        hashes = dict(self.file_hashes)
        hashes["prior_source"] = source
        if source != "elicited":
            hashes[LINK_FILE] = link_hash(self.linked)
        else:
            hashes.pop(LINK_FILE, None)
        return self.model_copy(update={"model": model, "file_hashes": hashes})

    def input_hash(self) -> str:
        """Hash of every file that shapes the prior (the ledger is hashed separately)."""
        blob = json.dumps(self.file_hashes, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def to_json(self) -> str:
        """The validated content as JSON, for provenance attributes."""
        return json.dumps(
            {
                "question": self.question.model_dump(mode="json"),
                "evidence": self.evidence.model_dump(mode="json"),
                "model": self.model.model_dump(mode="json"),
                "reliability": self.reliability.model_dump(mode="json"),
                "linked": (None if self.prior_source == "elicited" or self.linked is None
                           else self.linked.model_dump(mode="json")),
            },
            sort_keys=True,
        )

