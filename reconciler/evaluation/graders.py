"""The built-in graders: one model answer and the example's expected answer -> a score in [0, 1].

Pure and deterministic. exact_match compares the trimmed texts; normalized_match ignores case,
punctuation and runs of whitespace; contains looks for the (normalised) expected text inside the
(normalised) answer; regex searches the grader's pattern (default: the expected answer) in the
answer; json_schema wants the answer to parse as JSON and satisfy the grader's schema; numeric
compares the first number of each within the grader's tolerance; similarity is a ratio of
matching characters of the normalised texts (difflib), the only grader with partial credit.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from typing import Any

from reconciler.schema import conforms
from reconciler.spec import Grader, GraderType

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


def normalize(text: str) -> str:
    """Case, accents' composition, punctuation and whitespace runs do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def score(grader: Grader, answer: str, expected: str) -> float:
    """How well `answer` meets `expected` by `grader`, from 0 (not at all) to 1 (fully)."""
    kind = grader.type
    if kind is GraderType.EXACT_MATCH:
        return float(answer.strip() == expected.strip())
    if kind is GraderType.NORMALIZED_MATCH:
        return float(normalize(answer) == normalize(expected))
    if kind is GraderType.CONTAINS:
        return float(normalize(expected) in normalize(answer))
    if kind is GraderType.REGEX:
        return float(re.search(grader.pattern or expected, answer) is not None)
    if kind is GraderType.JSON_SCHEMA:
        return _json_score(answer, grader.schema_json)
    if kind is GraderType.NUMERIC:
        return _numeric_score(answer, expected, grader.tolerance)
    return difflib.SequenceMatcher(None, normalize(answer), normalize(expected)).ratio()


def _json_score(answer: str, schema_json: str | None) -> float:
    try:
        value = json.loads(answer)
    except ValueError:
        return 0.0
    if schema_json is None:
        return 1.0
    return float(conforms(value, _schema(schema_json)))


@functools.lru_cache(maxsize=64)
def _schema(schema_json: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(schema_json)
    return parsed


def _numeric_score(answer: str, expected: str, tolerance: float) -> float:
    got, want = _first_number(answer), _first_number(expected)
    if got is None or want is None:
        return 0.0
    return float(abs(got - want) <= tolerance + 1e-12)


def _first_number(text: str) -> float | None:
    found = _NUMBER.search(text)
    if found is None:
        return None
    return float(found.group())
