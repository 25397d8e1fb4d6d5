"""`forecast validate` refuses every kind of wrong prior file, naming the file and the field.

Each case under ``tests/fixtures/bad_priors/<case>/`` is a full copy of the seed
question with ONE defect (rebuild them with ``make_fixtures.py`` there). The table
below says which file and which field the message must name, as ``<file>: <field>``,
the shape every message of :mod:`forecast.config` promises.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import ROOT
from forecast.cli import main

BAD = ROOT / "tests" / "fixtures" / "bad_priors"

#: case -> (file, field as printed after the file name, a word the explanation must hold)
EXPECTED = {
    # the unclosed '[' is on line 5; PyYAML notices it on line 6, said second
    "yaml_syntax_error": ("question.yaml", "invalid YAML at line 5, column 8", "not closed"),
    "missing_required_field": ("question.yaml", "horizon", "required"),
    "unknown_extra_field": ("question.yaml", "colour", "not permitted"),
    "wrong_schema_version": ("model.yaml", "schema_version", "should be 1"),
    # entries of lists are named by their ids
    "probability_above_one": ("evidence.yaml", "variables[assad_extradition].prior.elicited"
                              ".upper", "less than 1"),
    "reversed_interval": ("evidence.yaml", "variables[escalation].prior.elicited",
                          "lower must be below"),
    "mass_outside": ("question.yaml", "outcomes[khmeimim].baseline.elicited.mass",
                     "greater than 0.5"),
    "odds_ratio_not_positive": ("evidence.yaml", "variables[assad_extradition].effect.elicited"
                                ".lower", "greater than 0"),
    "duplicate_variable_id": ("evidence.yaml", "variables", "duplicate id 'assad_extradition'"),
    "unknown_dist_name": ("model.yaml", "effect_pooling.dist", "unknown dist 'HalfCauchy'"),
    "wrong_dist_kwargs": ("model.yaml", "effect_pooling.dist", "needs exactly the kwargs"),
    "horizon_before_created": ("question.yaml", "horizon", "must be after created"),
    "empty_rationale": ("model.yaml", "effect_pooling.rationale", "at least 1 character"),
    "non_snake_case_id": ("question.yaml", "id", "snake_case"),
    "top_level_list": ("reliability.yaml", "(top level)", "got list"),
    "empty_file": ("model.yaml", "(top level)", "got empty"),
    "too_many_evidence_variables": ("evidence.yaml", "variables", "at most 12"),
    "evidence_id_clashes_with_outcome": ("evidence.yaml", "variables", "also outcome ids"),
    "reliability_f_weight_not_zero": ("reliability.yaml", "source", "credibility 0"),
    "thread_dependence_above_one": ("threads.yaml", "threads[basing-negotiation].dependence.value",
                                    "less than or equal to 1"),
    "thread_unknown_field": ("threads.yaml", "threads[basing-negotiation].rho", "not permitted"),
    "thread_id_repeated": ("threads.yaml", "threads", "repeated: basing-negotiation"),
    "engine_unknown": ("model.yaml", "engine.default", "'exact' or 'nuts'"),
    "nan_probability": ("question.yaml", "outcomes[tartus].baseline.elicited.lower", "finite"),
    "infinite_odds_ratio": ("evidence.yaml", "variables[basing_agreement].effect.elicited.upper",
                            "finite"),
    "python_object_tag": ("question.yaml", "invalid YAML at line 5", "python/object/apply"),
    "duplicate_key": ("model.yaml", "invalid YAML at line 36", "duplicate key 'draws'"),
    "not_utf8": ("question.yaml", "not UTF-8 text", "byte"),
    "wrong_type_number_as_text": ("model.yaml", "sampler.target_accept", "valid number"),
    "missing_file": ("reliability.yaml", "file not found", "not found"),
    "prior_source_unknown": ("model.yaml", "prior_source", "'elicited', 'reference_class' or"),
    "prior_source_without_link": ("model.yaml", "prior_source", "forecast reference link"),
    "stale_reference_priors": ("reference_priors.yaml", "reference.cases_sha256", "stale"),
    "sensitivity_factor_not_above_one": ("model.yaml", "sensitivity.point_lr_factor",
                                         "greater than 1"),
    "prior_pool_missing": ("model.yaml", "prior_pool", "required"),
    "prior_pool_method_unknown": ("model.yaml", "prior_pool.method", "'log_linear' or 'linear'"),
    "reference_case_unknown_variable": ("reference_case.yaml", "links.violence.variable",
                                        "unknown evidence variable 'escalaton'"),
    "reference_case_event_after_check": ("reference_case.yaml", "(top level)",
                                         "violence dated 2027-05, outside the episode"),
    "scenario_unknown_variable": ("scenarios.yaml", "scenarios[0].set",
                                  "unknown evidence variable 'assad_extradicion'"),
    "scenario_value_not_binary": ("scenarios.yaml", "scenarios[1].set.escalation",
                                  "Input should be 0 or 1"),
    # each prior slot takes one family of distribution, and one form of prior
    "probability_prior_not_beta": ("evidence.yaml", "variables[assad_extradition].prior.dist",
                                   "a probability needs a Beta prior (got Normal)"),
    "effect_prior_not_normal": ("evidence.yaml", "variables[assad_extradition].effect.dist",
                                "a log odds ratio needs a Normal prior (got Beta)"),
    "scale_prior_not_halfnormal": ("model.yaml", "effect_pooling.dist",
                                   "a pooling scale needs a HalfNormal prior (got Normal)"),
    "prior_in_both_forms": ("evidence.yaml", "variables[assad_extradition].prior",
                            "give exactly one of 'elicited' (an interval) or 'dist' (a prior)"),
    "prior_in_neither_form": ("evidence.yaml", "variables[assad_extradition].effect",
                              "give exactly one of 'elicited' (an interval) or 'dist'"),
}

def _cases() -> list:
    params = []
    for case, expected in EXPECTED.items():
        params.append(pytest.param(case, *expected, id=case))
    return params


def _tree_hash(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_the_table_covers_every_fixture():
    on_disk = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 12


def test_the_fixture_source_is_valid(capsys):
    """Each fixture differs from a question that validates, so the defect is what fails."""
    assert main(["validate", str(ROOT / "priors" / "russia_syria_bases")]) == 0


@pytest.mark.parametrize(("case", "filename", "field", "why"), _cases())
def test_validate_refuses(case, filename, field, why, capsys):
    directory = BAD / case
    before = _tree_hash(directory)
    assert main(["validate", str(directory)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    message = captured.err
    assert message.startswith("error: ")
    assert "Traceback" not in message
    # One paragraph: one line per problem, and this fixture has one problem.
    assert message.strip().count("\n") == 0, message
    assert f"{directory / filename}: {field}" in message, message
    assert why in message, message
    assert _tree_hash(directory) == before
