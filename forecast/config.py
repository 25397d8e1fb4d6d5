"""Read and validate a question directory under ``priors/``.

One job: turn the YAML files of a question into a validated, immutable
:class:`QuestionConfig`, or raise :class:`ConfigError` naming the file, the
field and the allowed values. Nothing here converts priors (see
:mod:`forecast.elicit`) or touches the news ledger (see :mod:`forecast.ledger`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from forecast.errors import ConfigError
from forecast.files import MAX_FILE_BYTES, gc_paused, read_text, read_yaml  # noqa: F401 (re-exported)

#: Files that make up a question, in the order they are hashed.
QUESTION_FILES = ("question.yaml", "evidence.yaml", "model.yaml", "reliability.yaml")
LEDGER_FILE = "news.yaml"
#: Priors derived from the reference class (``forecast reference link``); read when used.
LINK_FILE = "reference_priors.yaml"
#: Optional named scenario combinations shown in the briefing.
SCENARIOS_FILE = "scenarios.yaml"
#: Optional: the question coded as a case of the historical reference class.
CASE_FILE = "reference_case.yaml"
#: The optional declaration of threads of dependent reports.
THREADS_FILE = "threads.yaml"
#: Files a question may have besides QUESTION_FILES and the ledger.
OPTIONAL_FILES = (SCENARIOS_FILE, CASE_FILE, LINK_FILE, THREADS_FILE)
#: The binary features of a reference-class case (``priors/reference_class/cases.csv``),
#: in model order; see its DATA_DICTIONARY.md.
REFERENCE_FEATURES: tuple[str, ...] = (
    "regime_change",
    "host_demand",
    "red_line_refused",
    "violence",
    "separatist_backing",
    "treaty",
    "inducements",
)
#: Where a prior may come from (``prior_source`` in ``model.yaml``).
PRIOR_SOURCES = ("elicited", "reference_class", "both")
PriorSource = Literal["elicited", "reference_class", "both"]
_ROOT = Path(__file__).resolve().parents[1]
#: Exact enumeration visits 2**K evidence states; past this it stops paying (see benchmarks/).
MAX_EVIDENCE_VARIABLES = 12
#: Supported prior families per slot, with the parameters each needs.
DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "Beta": ("alpha", "beta"),
    "Normal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
}

def check_snake_case(value: str) -> str:
    """``value`` if it is a valid id (the one snake-case rule), else ValueError saying why."""
    if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", value):
        raise ValueError(
            f"{value!r} is not a valid id: use snake_case (lowercase letters, digits and _, "
            "starting with a letter, at most 48 characters)"
        )
    return value


Identifier = Annotated[str, AfterValidator(check_snake_case)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Interval(_Strict):
    """An elicited central interval: ``mass`` of the belief lies in ``[lower, upper]``."""

    lower: float
    upper: float
    mass: float = Field(gt=0.5, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if not self.lower < self.upper:
            raise ValueError(
                f"lower must be below upper (got lower={self.lower}, upper={self.upper})"
            )
        return self


class ProbabilityInterval(Interval):
    """An elicited interval for a probability: bounds strictly inside (0, 1)."""

    lower: float = Field(gt=0.0, lt=1.0)
    upper: float = Field(gt=0.0, lt=1.0)


class OddsRatioInterval(Interval):
    """An elicited interval for an odds ratio: positive, finite bounds."""

    lower: float = Field(gt=0.0, le=1e4)
    upper: float = Field(gt=0.0, le=1e4)


class DistSpec(_Strict):
    """A prior written directly, in the shape of pymc-extras' ``Prior.to_dict()``."""

    dist: str
    kwargs: dict[str, float]

    @model_validator(mode="after")
    def _known(self) -> DistSpec:
        if self.dist not in DIST_PARAMS:
            raise ValueError(f"unknown dist {self.dist!r}; allowed: {sorted(DIST_PARAMS)}")
        need = set(DIST_PARAMS[self.dist])
        if set(self.kwargs) != need:
            raise ValueError(
                f"{self.dist} needs exactly the kwargs {sorted(need)} (got {sorted(self.kwargs)})"
            )
        for name, value in self.kwargs.items():
            if not math.isfinite(value):
                raise ValueError(f"kwargs.{name} must be finite (got {value})")
            if name != "mu" and value <= 0:
                raise ValueError(f"kwargs.{name} must be > 0 (got {value})")
        return self


class _PriorBase(_Strict):
    rationale: Text
    source: Text = "analyst judgement"

    @model_validator(mode="after")
    def _one_form(self) -> _PriorBase:
        has_interval = getattr(self, "elicited", None) is not None
        has_dist = getattr(self, "dist", None) is not None
        if has_interval == has_dist:
            raise ValueError("give exactly one of 'elicited' (an interval) or 'dist' (a prior)")
        return self


class ProbabilityPrior(_PriorBase):
    """Prior on a probability: an elicited interval or a Beta."""

    elicited: ProbabilityInterval | None = None
    dist: DistSpec | None = None

    @field_validator("dist")
    @classmethod
    def _beta_only(cls, v: DistSpec | None) -> DistSpec | None:
        if v is not None and v.dist != "Beta":
            raise ValueError(f"a probability needs a Beta prior (got {v.dist})")
        return v


class EffectPrior(_PriorBase):
    """Prior on an odds ratio: an elicited interval, or a Normal on the log odds ratio."""

    elicited: OddsRatioInterval | None = None
    dist: DistSpec | None = None

    @field_validator("dist")
    @classmethod
    def _normal_only(cls, v: DistSpec | None) -> DistSpec | None:
        if v is not None and v.dist != "Normal":
            raise ValueError(f"a log odds ratio needs a Normal prior (got {v.dist})")
        return v


class ScalePrior(_Strict):
    """The partial-pooling scale's prior (a HalfNormal), with its rationale and source."""

    dist: DistSpec
    rationale: Text
    source: Text = "analyst judgement"

    @field_validator("dist")
    @classmethod
    def _halfnormal_only(cls, v: DistSpec) -> DistSpec:
        if v.dist != "HalfNormal":
            raise ValueError(f"a pooling scale needs a HalfNormal prior (got {v.dist})")
        return v


class Outcome(_Strict):
    """One outcome of the question (a base), its resolution criterion and baseline prior."""

    id: Identifier
    name: Text
    resolution: Text
    baseline: ProbabilityPrior


class Wording(_Strict):
    """How charts, tables and the CLI name the question's probabilities."""

    probability: Text = Field("P(yes)", max_length=24)
    axis: Text = Field("Probability of YES on the horizon date", max_length=90)
    all: Text = Field("Every outcome YES", max_length=40)
    any: Text = Field("At least one outcome YES", max_length=40)


class Question(_Strict):
    """``question.yaml``: the question, its outcomes, dates and wording."""

    schema_version: Literal[1]
    id: Identifier
    title: Text
    question: Text
    created: dt.date
    horizon: dt.date
    resolution_notes: Text
    outcomes: list[Outcome] = Field(min_length=1, max_length=4)
    sources: list[Text] = Field(default_factory=list)
    wording: Wording = Wording()

    @field_validator("horizon")
    @classmethod
    def _after_created(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        created = info.data.get("created")
        if created is not None and v <= created:
            raise ValueError(f"must be after created ({created}), got {v}")
        return v

    @field_validator("outcomes")
    @classmethod
    def _unique_outcomes(cls, v: list[Outcome]) -> list[Outcome]:
        _unique([o.id for o in v], "outcomes")
        return v


class EvidenceVariable(_Strict):
    """One evidence variable: definition, prior P(true) and effect on the odds."""

    id: Identifier
    label: Text
    definition: Text
    prior: ProbabilityPrior
    effect: EffectPrior


class Evidence(_Strict):
    """``evidence.yaml``: the evidence variables (unique ids, at most 12)."""

    schema_version: Literal[1]
    variables: list[EvidenceVariable] = Field(min_length=1, max_length=MAX_EVIDENCE_VARIABLES)

    @field_validator("variables")
    @classmethod
    def _unique_variables(cls, v: list[EvidenceVariable]) -> list[EvidenceVariable]:
        _unique([x.id for x in v], "variables")
        return v


class Sampler(_Strict):
    """Sampler settings: chains, draws, tuning steps, target acceptance and seed."""

    chains: int = Field(ge=1, le=16)
    draws: int = Field(ge=100, le=100_000)
    tune: int = Field(ge=100, le=100_000)
    target_accept: float = Field(gt=0.5, lt=1.0)
    seed: int = Field(ge=0, lt=2**32)

    def changed(self, **changes: int | float | None) -> Sampler:
        """A copy with some settings changed (``None`` leaves one as it is), validated.

        The one rule behind :meth:`QuestionConfig.with_sampler` and
        :meth:`forecast.reference.ReferenceSettings.with_sampler`.
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        try:
            return Sampler.model_validate(self.model_dump() | changes)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(Path("sampler override"), exc)) from None


class Gate(_Strict):
    """The convergence gate a fit must pass before its numbers are briefed."""

    r_hat_max: float = Field(gt=1.0, le=1.1)
    ess_bulk_min: float = Field(ge=100)
    ess_tail_min: float = Field(ge=100)
    divergences_max: int = Field(ge=0)
    mcse_max: float = Field(gt=0, le=0.05)


class FastPath(_Strict):
    """When a reweighted posterior is trusted (Pareto k-hat at or below ``khat_max``)."""

    khat_max: float = Field(gt=0, le=1.0)


class SensitivitySettings(_Strict):
    """How far the sensitivity analysis pushes inputs that have no stated interval."""

    #: The pooling scale's HalfNormal sigma is divided and multiplied by this.
    pooling_scale_factor: float = Field(gt=1.0, le=10.0)
    #: A news item's single-value likelihood ratio is divided and multiplied by this.
    point_lr_factor: float = Field(gt=1.0, le=100.0)
    rationale: Text


class Dependence(_Strict):
    """An elicited dependence between the reports of one thread, with why and from where."""

    value: float = Field(ge=0.0, le=1.0)
    rationale: Text
    source: Text


class EngineSettings(_Strict):
    """How the posterior is computed by default, and the exact engine's number of draws."""

    default: Literal["exact", "nuts"]
    draws: int = Field(ge=1_000, le=2_000_000)
    rationale: Text


#: How ``prior_source: both`` combines the elicited and the reference-class priors.
PoolMethod = Literal["log_linear", "linear"]


class PriorPool(_Strict):
    """``prior_pool`` of ``model.yaml``: how ``prior_source: both`` pools the two priors.

    ``log_linear`` is ``f_e**(1-w) * f_r**w`` (renormalised): a compromise, narrower
    than either source when they disagree. ``linear`` is the mixture ``(1-w) f_e + w f_r``
    (Stone's opinion pool): it keeps both sources' modes, so a disagreement shows as a
    wide, possibly bimodal prior. ``weight`` is ``w``, the reference class's share.
    """

    method: PoolMethod
    weight: float = Field(gt=0.0, lt=1.0)
    rationale: Text


class ModelSettings(_Strict):
    """``model.yaml``: pooling, engine, sampler, gate, fast path, prior source, sensitivity."""

    schema_version: Literal[1]
    effect_pooling: ScalePrior
    credible_mass: float = Field(gt=0.5, lt=1.0)
    #: The outcomes' residual dependence given the evidence states (see forecast.exact).
    outcome_dependence: Dependence
    engine: EngineSettings
    sampler: Sampler
    gate: Gate
    fast_path: FastPath
    #: Where the base rates and the linked evidence effects come from: the elicited
    #: intervals, the reference class (``reference_priors.yaml``), or both pooled.
    prior_source: PriorSource = "elicited"
    #: With ``both``: the pooling rule and the reference class's weight (elicited: 1 - w).
    prior_pool: PriorPool
    sensitivity: SensitivitySettings

    @property
    def reference_weight(self) -> float:
        """The reference class's weight in the pool (``prior_pool.weight``)."""
        return self.prior_pool.weight


# --------------------------------------------------------------------------------------
# reference_priors.yaml: priors derived from the reference class (written by
# ``forecast reference link``, read here, never edited by hand)
# --------------------------------------------------------------------------------------

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class LinkedPrior(_Strict):
    """One derived prior, with a summary of the draws it was fitted to."""

    dist: DistSpec
    mean: float
    lower: float
    upper: float
    rationale: Text


class LinkedEffect(LinkedPrior):
    """A derived log odds ratio, and the reference-class feature it comes from."""

    feature: Identifier
    negate: bool


class ReferenceInputs(_Strict):
    """Which reference-class files the derivation used, by content hash."""

    directory: Text
    cases_sha256: Sha256
    events_sha256: Sha256
    #: ``hazard.yaml``, the event-history model's settings.
    settings_sha256: Sha256
    #: The question's own coding as a case (``reference_case.yaml``).
    case_sha256: Sha256
    n_cases: int = Field(ge=1)
    draws: int = Field(ge=100)
    seed: int = Field(ge=0)


class LinkedPriors(_Strict):
    """The content of ``reference_priors.yaml``."""

    schema_version: Literal[2]
    question: Identifier
    generated: dt.date
    method: Text
    reference: ReferenceInputs
    window_years: float = Field(gt=0, le=100)
    horizon_years: float = Field(gt=0, le=100)
    fixed: dict[Identifier, Literal[0, 1]]
    baseline: LinkedPrior
    effects: dict[Identifier, LinkedEffect] = Field(min_length=1)

    @field_validator("baseline")
    @classmethod
    def _beta(cls, v: LinkedPrior) -> LinkedPrior:
        if v.dist.dist != "Beta":
            raise ValueError(f"a base rate needs a Beta prior (got {v.dist.dist})")
        return v

    @field_validator("effects")
    @classmethod
    def _normal(cls, v: dict[str, LinkedEffect]) -> dict[str, LinkedEffect]:
        for name, effect in v.items():
            if effect.dist.dist != "Normal":
                raise ValueError(f"{name}: a log odds ratio needs a Normal prior "
                                 f"(got {effect.dist.dist})")
        return v


class Reliability(_Strict):
    """Admiralty codes as credibility: the probability ``h`` that a report so coded is accurate.

    ``h = source[letter] * information[digit]``: the chance that the source reports
    accurately, times the chance that information so assessed is true. A report's
    stated ratio is its diagnosticity *if accurate*; it enters as Schum's mixture
    with an uninformative report, ``h * LR + (1 - h)`` (see :mod:`forecast.ledger`).
    F (reliability cannot be judged) and 6 (truth cannot be judged) carry ``h = 0``:
    no update.
    """

    schema_version: Literal[2]
    source: dict[Literal["A", "B", "C", "D", "E", "F"], float]
    information: dict[Literal[1, 2, 3, 4, 5, 6], float]
    lr_interval_mass: float = Field(gt=0.5, lt=1.0)
    rationale: Text
    reference: Text

    @field_validator("source", "information")
    @classmethod
    def _weights(cls, v: dict, info: ValidationInfo) -> dict:
        keys, void = (set("ABCDEF"), "F") if info.field_name == "source" else (set(range(1, 7)), 6)
        if set(v) != keys:
            raise ValueError(f"give a credibility for each of {', '.join(map(str, sorted(keys)))}")
        for key, w in v.items():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"credibility for {key} must be a probability in [0, 1] "
                                 f"(got {w})")
        if v[void] != 0:
            raise ValueError(f"{void} must have credibility 0: it means the item cannot be "
                             f"judged, so no update (got {v[void]})")
        return v


class Thread(_Strict):
    """One process or storyline whose reports are not independent evidence."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    label: Text = Field(max_length=60)
    description: Text
    dependence: Dependence


class Threads(_Strict):
    """``threads.yaml``: the question's threads and the dependence of an undeclared one."""

    schema_version: Literal[1]
    default_dependence: Dependence
    threads: list[Thread] = Field(default_factory=list, max_length=40)

    @field_validator("threads")
    @classmethod
    def _unique(cls, v: list[Thread]) -> list[Thread]:
        ids = [t.id for t in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"thread ids must be unique; repeated: {', '.join(dupes)}")
        return v

    def get(self, thread: str) -> Thread | None:
        """The declared thread of that id, or None."""
        return next((t for t in self.threads if t.id == thread), None)

    def dependence(self, thread: str) -> float:
        """The thread's dependence, or the default for an undeclared thread."""
        t = self.get(thread)
        return (t.dependence if t is not None else self.default_dependence).value


class Scenario(_Strict):
    """A named combination of evidence states, set by intervention (``do(S = x)``)."""

    name: Text = Field(max_length=60)
    set: dict[Identifier, Literal[0, 1]] = Field(min_length=1)
    rationale: Text


class Scenarios(_Strict):
    """The content of the optional ``scenarios.yaml``: what-ifs the briefing shows."""

    schema_version: Literal[1]
    scenarios: list[Scenario] = Field(max_length=12)

    @field_validator("scenarios")
    @classmethod
    def _unique_names(cls, v: list[Scenario]) -> list[Scenario]:
        _unique([s.name for s in v], "scenarios (names)")
        return v


class FixedFeature(_Strict):
    """A reference-class feature known when the question's episode began."""

    value: Literal[0, 1]
    rationale: Text


class DatedFeature(_Strict):
    """A time-varying feature that has held since ``date`` (a month, ``YYYY-MM``)."""

    feature: Identifier
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    rationale: Text
    source: Text


class LinkedFeature(_Strict):
    """A reference-class feature that an evidence variable (or its negation) decides."""

    variable: Identifier
    negate: bool = False
    rationale: Text


#: Features of a case known at its start (the rest are dated events).
START_FEATURES: tuple[str, ...] = ("regime_change", "treaty")


class ReferenceCase(_Strict):
    """``reference_case.yaml``: the question as a dated case of the reference class.

    The start features are known at the start; each time-varying feature that
    has held since is dated; ``checked_through`` says when the events were last
    checked (a feature with no event had not held by then); ``links`` name the
    features the question's evidence variables decide over the horizon.
    """

    schema_version: Literal[2]
    case_id: Text
    patron: Text
    host: Text
    start_date: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    start: dict[str, FixedFeature]
    events: list[DatedFeature] = Field(default_factory=list)
    checked_through: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    links: dict[str, LinkedFeature]
    note: Text

    @model_validator(mode="after")
    def _cover(self) -> ReferenceCase:
        varying = [f for f in REFERENCE_FEATURES if f not in START_FEATURES]
        if set(self.start) != set(START_FEATURES):
            raise ValueError(f"start: code exactly the start features {list(START_FEATURES)} "
                             f"(got {sorted(self.start)})")
        for where, names in (("events", [e.feature for e in self.events]),
                             ("links", list(self.links))):
            unknown = sorted(set(names) - set(varying))
            if unknown:
                raise ValueError(f"{where}: {unknown} are not time-varying features; "
                                 f"allowed: {', '.join(varying)}")
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: a feature is given twice (only its first onset)")
        for e in self.events:
            if not self.start_date[:7] <= e.date <= self.checked_through:
                raise ValueError(f"events: {e.feature} dated {e.date}, outside the episode "
                                 f"{self.start_date}..{self.checked_through}")
        return self


class QuestionConfig(BaseModel):
    """Everything a question's files say, validated. Immutable."""

    model_config = ConfigDict(frozen=True)

    directory: Path
    question: Question
    evidence: Evidence
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
            raise ConfigError(list(self.link_problems) or [_missing_link(self.directory, source)])
        if source == self.prior_source:
            return self
        model = self.model.model_copy(update={"prior_source": source})
        hashes = dict(self.file_hashes)
        hashes["prior_source"] = source
        if source != "elicited":
            hashes[LINK_FILE] = _link_hash(self.linked)
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


def horizon_years(question: Question) -> float:
    """Years from the question's creation to its horizon."""
    return (question.horizon - question.created).days / 365.25


def _missing_link(directory: Path, source: str) -> str:
    return (f"{directory / 'model.yaml'}: prior_source: {source!r} needs {directory / LINK_FILE}, "
            f"which does not exist; write it with `forecast reference link {directory}`")


def _link_hash(linked: LinkedPriors) -> str:
    return hashlib.sha256(
        json.dumps(linked.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _load_scenarios(directory: Path, evidence: Evidence) -> tuple[Scenario, ...]:
    """Read the optional ``scenarios.yaml``; every variable it sets must exist."""
    path = directory / SCENARIOS_FILE
    if not path.exists():
        return ()
    parsed, _ = _parse(path, Scenarios)
    known = [v.id for v in evidence.variables]
    problems = [
        f"{path}: scenarios[{i}].set: unknown evidence variable {var!r}; "
        f"allowed: {', '.join(known)}"
        for i, sc in enumerate(parsed.scenarios) for var in sc.set if var not in known
    ]
    if problems:
        raise ConfigError(problems)
    return tuple(parsed.scenarios)


def _load_case(directory: Path, evidence: Evidence) -> ReferenceCase | None:
    """Read the optional ``reference_case.yaml``; its variables must be the question's."""
    path = directory / CASE_FILE
    if not path.exists():
        return None
    parsed, _ = _parse(path, ReferenceCase)
    known = [v.id for v in evidence.variables]
    problems = [
        f"{path}: links.{feature}.variable: unknown evidence variable {u.variable!r}; "
        f"allowed: {', '.join(known)}"
        for feature, u in parsed.links.items() if u.variable not in known
    ]
    if problems:
        raise ConfigError(problems)
    return parsed


def read_linked(path: Path) -> LinkedPriors:
    """Parse and validate a ``reference_priors.yaml`` (not whether it is current)."""
    linked, _ = _parse(Path(path), LinkedPriors)
    return linked


def _load_link(directory: Path, question: Question, evidence: Evidence
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
            digest = hashlib.sha256((ref / name).read_bytes()).hexdigest()
        except OSError:
            problems.append(f"{path}: reference.directory: cannot check the derivation: "
                            f"{ref / name} cannot be read")
            continue
        if digest != getattr(linked.reference, field):
            problems.append(
                f"{path}: reference.{field}: {ref / name} has changed since these priors were "
                f"derived; stale: re-run `forecast reference link {directory}`")
    case = directory / CASE_FILE
    try:
        digest = hashlib.sha256(case.read_bytes()).hexdigest()
    except OSError:
        digest = None
        problems.append(f"{path}: reference.case_sha256: derived from {case}, which cannot be "
                        "read; restore it, or remove reference_priors.yaml")
    if digest is not None and digest != linked.reference.case_sha256:
        problems.append(
            f"{path}: reference.case_sha256: {case} has changed since these priors were "
            f"derived; stale: re-run `forecast reference link {directory}`")
    return (None if problems else linked), problems


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate id {i!r} in {what}")
        seen.add(i)


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


_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _entry_name(entries: Any, index: int) -> str:
    """``[id]`` for ``entries[index]`` when it has an id that names it alone, else ``[index]``."""
    if isinstance(entries, list) and 0 <= index < len(entries):
        entry = entries[index]
        ident = entry.get("id") if isinstance(entry, dict) else None
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        if isinstance(ident, str) and _PLAIN_ID.fullmatch(ident) and ids.count(ident) == 1:
            return f"[{ident}]"
    return f"[{index}]"


def _field_path(loc: tuple, data: Any = None) -> str:
    """A pydantic location as ``outcomes[tartus].baseline.elicited.upper``.

    An entry of a list is named by its ``id`` in ``data`` (the file as read) when it
    has a plain, unique one, else by its position: ``outcomes[1]``.
    """
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(_entry_name(data, p))
            data = data[p] if isinstance(data, list) and 0 <= p < len(data) else None
        else:
            parts.append(f".{p}")
            data = data.get(p) if isinstance(data, dict) else None
    return "".join(parts).removeprefix(".")


def format_validation_error(path: Path, exc: ValidationError, data: Any = None) -> list[str]:
    """Turn a pydantic error into ``file: field: message (got value)`` lines.

    With ``data`` (what was validated, as read from the file), entries of lists are
    named by their ids: ``outcomes[tartus].baseline`` rather than ``outcomes[1].baseline``.
    """
    lines = []
    for err in exc.errors():
        field = _field_path(err["loc"], data) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        got = ""
        if err["type"] not in {"missing", "value_error", "assertion_error"} and "input" in err:
            value = err["input"]
            if not isinstance(value, dict | list):
                got = f" (got {value!r})"
        lines.append(f"{path}: {field}: {msg}{got}")
    return lines


def _parse(path: Path, schema: type[BaseModel]) -> tuple[BaseModel, str]:
    data, raw = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError([f"{path}: (top level): expected a mapping of fields, got {kind}"])
    try:
        return schema.model_validate(data), hashlib.sha256(raw).hexdigest()
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc, data)) from None


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
    schemas = {
        "question.yaml": Question,
        "evidence.yaml": Evidence,
        "model.yaml": ModelSettings,
        "reliability.yaml": Reliability,
    }
    parsed: dict[str, BaseModel] = {}
    hashes: dict[str, str] = {}
    problems: list[str] = []
    for name, schema in schemas.items():
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
            raise ConfigError(link_problems or [_missing_link(directory, model.prior_source)])
        hashes[LINK_FILE] = _link_hash(linked)
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
