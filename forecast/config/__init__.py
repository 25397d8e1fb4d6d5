"""Read and validate a question directory under ``priors/``.

One job: turn the YAML files of a question into a validated, immutable
:class:`QuestionConfig`, or raise :class:`ConfigError` naming the file, the field
and the allowed values. Nothing here converts priors (see :mod:`forecast.elicit`)
or touches the news ledger (see :mod:`forecast.ledger`).

The submodules, each importing only those before it:

- :mod:`~forecast.config.base`: the strict base, ids (the one snake-case rule), text,
  elicited intervals, the names of a question's files;
- :mod:`~forecast.config.messages`: pydantic errors as ``file: field: message`` lines;
- :mod:`~forecast.config.priors`: the prior slots (Beta, Normal, HalfNormal; an interval
  or a distribution) and elicited dependences;
- :mod:`~forecast.config.question`: ``question.yaml``, ``evidence.yaml``,
  ``reliability.yaml``, ``threads.yaml``, ``scenarios.yaml``;
- :mod:`~forecast.config.settings`: ``model.yaml``;
- :mod:`~forecast.config.linked`: ``reference_priors.yaml`` and ``reference_case.yaml``;
- :mod:`~forecast.config.question_config`: :class:`QuestionConfig` and its variants;
- :mod:`~forecast.config.load`: :func:`load_question` and the checks across files.

Every name is importable from here (``from forecast.config import load_question``).
"""

from __future__ import annotations

from forecast.config.base import (
    CASE_FILE,
    LEDGER_FILE,
    LINK_FILE,
    OPTIONAL_FILES,
    PLAIN_ID,
    QUESTION_FILES,
    SCENARIOS_FILE,
    SNAKE_CASE,
    THREADS_FILE,
    Bounds,
    Identifier,
    Interval,
    Month,
    OddsRatioInterval,
    PlainId,
    ProbabilityInterval,
    StrictModel,
    Text,
    check_snake_case,
    check_unique,
)
from forecast.config.linked import (
    REFERENCE_FEATURES,
    START_FEATURES,
    DatedFeature,
    FixedFeature,
    LinkedEffect,
    LinkedFeature,
    LinkedPrior,
    LinkedPriors,
    ReferenceCase,
    ReferenceInputs,
    Sha256,
)
from forecast.config.load import load_question, placeholders, read_linked, repo_path
from forecast.config.messages import format_validation_error
from forecast.config.priors import (
    DIST_PARAMS,
    BetaSpec,
    Dependence,
    DistSpec,
    EffectPrior,
    HalfNormalSpec,
    NormalSpec,
    ProbabilityPrior,
    ScalePrior,
    require_family,
)
from forecast.config.question import (
    MAX_EVIDENCE_VARIABLES,
    EvidenceFile,
    EvidenceVariable,
    Outcome,
    Question,
    Reliability,
    Scenario,
    Scenarios,
    Thread,
    Threads,
    Wording,
    horizon_years,
)
from forecast.config.question_config import QuestionConfig
from forecast.config.settings import (
    PRIOR_SOURCES,
    EngineSettings,
    FastPath,
    Gate,
    ModelSettings,
    PoolMethod,
    PriorPool,
    PriorSource,
    Sampler,
    SensitivitySettings,
)
from forecast.errors import ConfigError

# The reader's names, re-exported: ``forecast.config.read_yaml is forecast.files.read_yaml``.
from forecast.files import MAX_FILE_BYTES, gc_paused, read_text, read_yaml

__all__ = [
    "CASE_FILE", "DIST_PARAMS", "LEDGER_FILE", "LINK_FILE", "MAX_EVIDENCE_VARIABLES",
    "MAX_FILE_BYTES", "OPTIONAL_FILES", "PLAIN_ID", "PRIOR_SOURCES", "QUESTION_FILES",
    "REFERENCE_FEATURES", "SCENARIOS_FILE", "SNAKE_CASE", "START_FEATURES", "THREADS_FILE",
    "BetaSpec", "Bounds", "ConfigError", "DatedFeature", "Dependence", "DistSpec", "EffectPrior",
    "EngineSettings", "EvidenceFile", "EvidenceVariable", "FastPath", "FixedFeature", "Gate",
    "HalfNormalSpec", "Identifier", "Interval", "LinkedEffect", "LinkedFeature", "LinkedPrior",
    "LinkedPriors", "ModelSettings", "Month", "NormalSpec", "OddsRatioInterval", "Outcome",
    "PlainId", "PoolMethod", "PriorPool", "PriorSource", "ProbabilityInterval",
    "ProbabilityPrior", "Question", "QuestionConfig", "ReferenceCase", "ReferenceInputs",
    "Reliability", "Sampler", "ScalePrior", "Scenario", "Scenarios", "SensitivitySettings",
    "Sha256", "StrictModel", "Text", "Thread", "Threads", "Wording", "check_snake_case",
    "check_unique", "format_validation_error", "gc_paused", "horizon_years", "load_question",
    "placeholders", "read_linked", "read_text", "read_yaml", "repo_path", "require_family",
]
