"""How a question is computed: the schema of ``model.yaml``.

One job: the settings that shape the numbers but are not beliefs about the world --
the pooling scale's prior, the engine and its draws, the sampler, the convergence
gate, the fast path's trust threshold, where the priors come from and how two sources
pool, and how far the sensitivity analysis pushes its inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from forecast.config.base import StrictModel, Text
from forecast.config.messages import format_validation_error
from forecast.config.priors import Dependence, ScalePrior
from forecast.errors import ConfigError

#: Where a prior may come from (``prior_source`` in ``model.yaml``).
PRIOR_SOURCES = ("elicited", "reference_class", "both")
PriorSource = Literal["elicited", "reference_class", "both"]
#: How ``prior_source: both`` combines the elicited and the reference-class priors.
PoolMethod = Literal["log_linear", "linear"]


class Sampler(StrictModel):
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


class Gate(StrictModel):
    """The convergence gate a fit must pass before its numbers are briefed."""

    r_hat_max: float = Field(gt=1.0, le=1.1)
    ess_bulk_min: float = Field(ge=100)
    ess_tail_min: float = Field(ge=100)
    divergences_max: int = Field(ge=0)
    mcse_max: float = Field(gt=0, le=0.05)


class FastPath(StrictModel):
    """When a reweighted posterior is trusted (Pareto k-hat at or below ``khat_max``)."""

    khat_max: float = Field(gt=0, le=1.0)


class SensitivitySettings(StrictModel):
    """How far the sensitivity analysis pushes inputs that have no stated interval."""

    #: The pooling scale's HalfNormal sigma is divided and multiplied by this.
    pooling_scale_factor: float = Field(gt=1.0, le=10.0)
    #: A news item's single-value likelihood ratio is divided and multiplied by this.
    point_lr_factor: float = Field(gt=1.0, le=100.0)
    rationale: Text


class EngineSettings(StrictModel):
    """How the posterior is computed by default, and the exact engine's number of draws."""

    default: Literal["exact", "nuts"]
    draws: int = Field(ge=1_000, le=2_000_000)
    rationale: Text


class PriorPool(StrictModel):
    """``prior_pool`` of ``model.yaml``: how ``prior_source: both`` pools the two priors.

    ``log_linear`` is ``f_e**(1-w) * f_r**w`` (renormalised): a compromise, narrower
    than either source when they disagree. ``linear`` is the mixture ``(1-w) f_e + w f_r``
    (Stone's opinion pool): it keeps both sources' modes, so a disagreement shows as a
    wide, possibly bimodal prior. ``weight`` is ``w``, the reference class's share.
    """

    method: PoolMethod
    weight: float = Field(gt=0.0, lt=1.0)
    rationale: Text


class ModelSettings(StrictModel):
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
