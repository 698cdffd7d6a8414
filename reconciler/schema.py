"""JSON Schema validation of one YAML document -> positioned Diagnostics.

The only jsonschema importer. The schema itself is data handed in by the loader (the files in
schemas/ are the single definition); this module turns jsonschema's errors into one-line
summaries that name the key, say what was expected, and sit on the offending key or value.
Optional schema annotations steer the wording: `x-expected` (what an anyOf/oneOf wants), and
`x-unknown-key-message` with `x-foreign-keys` (keys valid elsewhere, e.g. another method's
hyperparameters, get that message instead of a typo suggestion). Pure: no I/O.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.diagnostics import Diagnostic, Diagnostics, error, sorted_diagnostics
from reconciler.schema_fast import compile_check
from reconciler.yaml_document import Document, Path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator


class SchemaChecker:
    """A compiled schema; `check(doc)` returns every problem, positioned and sorted.

    Build one per schema and process (the loader caches them): compiling is the slow part.
    Valid documents are answered by the compiled check alone; jsonschema (slow to import and
    to run) is loaded the first time a document fails it, or when the schema does not compile.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema
        self._fast = compile_check(schema)
        self._validator: Validator | None = None if self._fast else _validator(schema)

    def check(self, doc: Document) -> Diagnostics:
        if self._fast is not None and self._fast(doc.data):
            return ()  # the common case, answered without building jsonschema's errors
        if self._validator is None:
            self._validator = _validator(self._schema)
        out: dict[tuple[str, str], Diagnostic] = {}
        for err in self._validator.iter_errors(doc.data):
            for diag in _diagnostics(err, doc):
                out.setdefault((str(diag.subject), diag.summary), diag)
        return sorted_diagnostics(out.values())


def _validator(schema: Mapping[str, Any]) -> Validator:
    from jsonschema import Draft202012Validator  # here: importing it costs a CLI run 0.1 s

    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _diagnostics(err: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    path: Path = tuple(err.absolute_path)
    if err.validator == "additionalProperties":
        yield from _unknown_keys(err, doc, path)
        return
    if err.validator in ("anyOf", "oneOf") and "x-expected" not in err.schema and err.context:
        # No wording given for the alternatives: report the deepest, most specific one.
        best = max(err.context, key=lambda e: (len(e.absolute_path), -_rank(e)))
        yield from _diagnostics(best, doc)
        return
    summary, detail = _describe(err, path)
    where = doc.locate(path, prefer_key=err.validator == "required")
    yield error(summary, detail, subject=where, address=_address(path))


def _rank(err: ValidationError) -> int:
    # A wrong type says less than a violated bound on the right type.
    return 1 if err.validator in ("type", "const") else 0


def _unknown_keys(err: ValidationError, doc: Document, path: Path) -> Iterator[Diagnostic]:
    instance = err.instance if isinstance(err.instance, dict) else {}
    allowed = sorted(err.schema.get("properties", {}))
    patterns = [re.compile(p) for p in err.schema.get("patternProperties", {})]
    custom = err.schema.get("x-unknown-key-message")
    for key in sorted(instance):
        if key in allowed or any(p.search(key) for p in patterns):
            continue
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if custom and key in err.schema.get("x-foreign-keys", ()):
            summary = str(custom).format(key=key)  # a real key, just not at this place
        elif close:
            summary = f"unknown key '{key}' (did you mean '{close[0]}'?)"
        elif custom:
            summary = str(custom).format(key=key)
        else:
            summary = f"unknown key '{key}'"
        where = _place(path)
        detail = f"Allowed keys {where}: {', '.join(allowed)}." if allowed else ""
        yield error(summary, detail, subject=doc.locate((*path, key), prefer_key=True),
                    address=_address((*path, key)))


def _describe(err: ValidationError, path: Path) -> tuple[str, str]:
    """(summary, detail) for one error, in the user's terms."""
    name = _name(path)
    v, got, s = err.validator, _show(err.instance), err.schema
    if "x-expected" in s and v in ("anyOf", "oneOf"):
        shown = "" if isinstance(err.instance, dict | list) else f", got {got}"
        return f"{name}: expected {s['x-expected']}{shown}", ""
    if v == "required":
        missing = _missing(err)
        return f"missing required key '{missing}' {_place(path)}", ""
    if v == "type":
        return f"{name}: expected {_type_words(err.validator_value)}, got {got}", ""
    if v in ("enum", "const"):
        options = err.validator_value if v == "enum" else [err.validator_value]
        choices = ", ".join(_show(o) for o in options)
        return f"{name}: expected {'one of ' if v == 'enum' else ''}{choices}, got {got}", ""
    if v == "maxLength":
        return (f"{name} is {len(err.instance)} characters long; the maximum is "
                f"{err.validator_value}", "")
    if v == "minLength":
        return f"{name} must not be empty" if err.validator_value == 1 else \
            f"{name} is shorter than {err.validator_value} characters", ""
    if v == "pattern":
        return f"{name}: {got} does not match the pattern {err.validator_value}", _pattern_hint(s)
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}[str(v)]
        return f"{name}: must be {words} {err.validator_value}, got {got}", ""
    if v == "maxItems":
        return f"{name}: at most {err.validator_value} items allowed, got {len(err.instance)}", ""
    if v == "minItems":
        return f"{name}: at least {err.validator_value} item(s) needed", ""
    if v == "uniqueItems":
        return f"{name}: items must be unique", ""
    if "x-expected" in s:
        return f"{name}: expected {s['x-expected']}", ""
    return f"{name}: {err.message}", ""


def _missing(err: ValidationError) -> str:
    have = err.instance if isinstance(err.instance, dict) else {}
    return next((k for k in err.validator_value if k not in have), "?")


def _pattern_hint(schema: Mapping[str, Any]) -> str:
    desc = schema.get("description")
    return str(desc) if desc else ""


def _name(path: Path) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "document"


def _place(path: Path) -> str:
    return f"in {_address(path)}" if path else "at the top level"


def _address(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _show(value: object) -> str:
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "string": "a string", "integer": "an integer", "number": "a number",
    "boolean": "true or false", "object": "a mapping", "array": "a list", "null": "null",
}


def _type_words(types: object) -> str:
    names = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in names)


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema (draft 2020-12), or None when it is."""
    from jsonschema import Draft202012Validator  # imported on use: see _validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return str(exc.message)
    return None


def conforms(value: object, schema: Mapping[str, Any]) -> bool:
    """Whether `value` satisfies `schema` (a schema schema_problem accepted)."""
    from jsonschema import Draft202012Validator  # imported on use: see _validator

    return bool(Draft202012Validator(schema).is_valid(value))
