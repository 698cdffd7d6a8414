"""The promotion rule: absolute floors (min) and the regression allowed against serving."""

from __future__ import annotations

from reconciler.evaluation.verdict import Metric, Outcome, below_minimum, decide
from reconciler.spec import Promotion

RULE = Promotion(minimum=(("exact", 0.5),), max_regression=(("exact", 0.05),))


def outcome(candidate: float, serving: float | None, rule: Promotion = RULE) -> Outcome:
    return decide("m", ("ft:new", None if serving is None else "ft:old"), 4, ["exact"],
                  ({"exact": candidate}, None if serving is None else {"exact": serving}), rule)


def test_better_than_serving_passes() -> None:
    result = outcome(0.8, 0.6)
    assert result.passed and result.metrics == (
        Metric(grader="exact", candidate=0.8, serving=0.6),)
    assert result.metrics[0].delta == 0.2


def test_regression_up_to_the_allowance_passes_and_beyond_it_is_refused() -> None:
    assert outcome(0.75, 0.8).passed
    refused = outcome(0.7, 0.8)
    assert not refused.passed
    assert refused.refusals == (
        "exact fell 0.1 below the serving version (0.8 -> 0.7), more than max_regression 0.05",)


def test_min_applies_with_or_without_a_serving_version() -> None:
    assert outcome(0.4, None).refusals == (
        "exact 0.4 is below the minimum 0.5",)
    assert len(outcome(0.4, 0.42).refusals) == 1
    both = outcome(0.4, 0.9)
    assert len(both.refusals) == 2


def test_nothing_serving_means_no_regression_to_measure() -> None:
    result = outcome(0.6, None)
    assert result.passed and result.metrics[0].delta is None
    assert result.to_json() == {
        "model": "m", "examples": 4, "passed": True,
        "metrics": [{"grader": "exact", "serving": None, "candidate": 0.6, "delta": None}]}


def test_no_rule_promotes_anything() -> None:
    assert outcome(0.0, 1.0, Promotion()).passed


def test_below_minimum_reads_recorded_metrics_against_a_new_floor() -> None:
    recorded = (Metric(grader="exact", candidate=0.6, serving=None),)
    assert below_minimum(recorded, Promotion(minimum=(("exact", 0.7),))) == (
        "exact 0.6 is below the minimum 0.7",)
    assert below_minimum(recorded, RULE) == ()
