"""The built-in graders, each on answers it must accept and answers it must refuse."""

from __future__ import annotations

import json

import pytest

from reconciler.evaluation.graders import normalize, score
from reconciler.spec import Grader, GraderType


def grader(kind: str, **options: object) -> Grader:
    return Grader(name="g", type=GraderType(kind), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "answer", "expected", "want"), [
    ("exact_match", "Paris", "Paris", 1.0),
    ("exact_match", "  Paris\n", "Paris", 1.0),  # surrounding whitespace is not the answer
    ("exact_match", "paris", "Paris", 0.0),
    ("normalized_match", "  PARIS!! ", "paris", 1.0),
    ("normalized_match", "The answer:   Paris.", "the answer paris", 1.0),
    ("normalized_match", "Lyon", "Paris", 0.0),
    ("contains", "It is Paris, France.", "paris", 1.0),
    ("contains", "It is Lyon.", "Paris", 0.0),
    ("regex", "Order 42 shipped", r"Order \d+", 1.0),  # expected is the default pattern
    ("regex", "Order forty-two", r"Order \d+", 0.0),
    ("numeric", "The total is 41.9 USD", "42", 0.0),
    ("numeric", "The total is 42 USD", "42.0", 1.0),
    ("numeric", "no number here", "42", 0.0),
    ("similarity", "same text", "Same text.", 1.0),
    ("similarity", "abc", "xyz", 0.0),
])
def test_scores(kind: str, answer: str, expected: str, want: float) -> None:
    assert score(grader(kind), answer, expected) == want


def test_regex_grader_uses_its_own_pattern_over_the_expected_answer() -> None:
    g = grader("regex", pattern=r"^T\d{4}$")
    assert score(g, "T1234", "anything") == 1.0
    assert score(g, "T12", "anything") == 0.0


def test_numeric_tolerance_is_absolute_and_inclusive() -> None:
    g = grader("numeric", tolerance=0.5)
    assert score(g, "41.5", "42") == 1.0
    assert score(g, "41.4", "42") == 0.0
    assert score(g, "-3 degrees", "-3.2") == 1.0


def test_json_schema_grader() -> None:
    schema = json.dumps({"type": "object", "required": ["id"],
                         "properties": {"id": {"type": "integer"}}})
    g = grader("json_schema", schema_json=schema)
    assert score(g, '{"id": 7}', "") == 1.0
    assert score(g, '{"id": "7"}', "") == 0.0
    assert score(g, "not json", "") == 0.0
    assert score(grader("json_schema"), "[1, 2]", "") == 1.0  # no schema: any JSON value


def test_similarity_gives_partial_credit_in_the_unit_interval() -> None:
    value = score(grader("similarity"), "Order 3 ships Monday", "Order 3 ships Tuesday")
    assert 0.5 < value < 1.0


def test_normalize() -> None:
    assert normalize("  Ｈello,\tWORLD!  ") == "hello world"
