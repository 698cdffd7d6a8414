"""A JSON Schema compiled into one fast yes/no check, for the common case: a valid document.

jsonschema builds a validator object per subschema visited and resolves every `$ref` through
its registry, which made schema checks the largest part of loading thousands of manifests.
Most documents are valid, and for them only the answer matters; `compile_check` turns a schema
into nested closures that answer `valid?` alone. jsonschema stays the single judge of what is
wrong and how to say it (schema.py runs it whenever this check says no).

Only the keywords the schemas in schemas/ use are compiled, with jsonschema's Draft 2020-12
semantics (bool is not a number, 1 == 1.0, `pattern` is `re.search`); any other keyword or a
non-local `$ref` makes `compile_check` return None, and every document then takes the full
path. Pure; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly",
})


# What `_Compiler.object` folds into one check.
_OBJECT_KEYWORDS = frozenset({
    "type", "properties", "required", "patternProperties", "additionalProperties",
})


class _Unsupported(Exception):
    """The schema uses something this compiler does not handle."""


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """`check(instance) -> bool`, equal to jsonschema's is_valid; None if not compilable."""
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return None


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_integer(x: object) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": _is_integer,
}


def _equal(a: object, b: object) -> bool:
    """JSON equality as jsonschema has it: true is not 1, 1 is 1.0, containers compared deep."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _all_of(checks: list[Check]) -> Check:
    """One check that passes when every one of `checks` does (a plain loop: this is hot)."""
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)

    def check(x: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a loop: all() over a generator costs twice as much
            if not c(x):
                return False
        return True

    return check


def _any_of(checks: list[Check]) -> Check:
    """One check that passes when any of `checks` does (no generator: this is hot)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) or second(x)

    def check(x: Any) -> bool:
        for c in checks:  # noqa: SIM110 - see _all_of
            if c(x):
                return True
        return False

    return check


def _unique(items: list[Any]) -> bool:
    return all(not _equal(items[i], items[j])
               for i in range(len(items)) for j in range(i + 1, len(items)))


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: object) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, Mapping):
            raise _Unsupported(schema)
        keys = {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}
        if schema.get("type") == "object" and "properties" in keys and keys <= _OBJECT_KEYWORDS:
            return self.object(schema)
        found = [self.keyword(k, schema[k], schema) for k in schema if k in keys]
        return _all_of([c for c in found if c is not None])

    def object(self, schema: Mapping[str, Any]) -> Check:
        """type: object with its properties and required keys as one check: the most common
        subschema, otherwise three closures and a loop over them per instance."""
        return self.properties(schema, frozenset(schema.get("required", ())))

    def keyword(self, key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        if key in ("then", "else"):
            return None  # compiled with `if`
        handler = getattr(self, "k_" + key.replace("$", "dollar_"), None)
        if handler is None:
            raise _Unsupported(key)
        result: Check | None = handler(value, schema)
        return result

    def k_type(self, value: Any, _s: Mapping[str, Any]) -> Check:
        names = value if isinstance(value, list) else [value]
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return _any_of(tests)

    def k_enum(self, value: Any, _s: Mapping[str, Any]) -> Check:
        if all(isinstance(v, str) for v in value):
            texts = frozenset(value)  # a string equals only a string: a set look-up
            return lambda x: isinstance(x, str) and x in texts
        return lambda x: any(_equal(x, v) for v in value)

    def k_const(self, value: Any, _s: Mapping[str, Any]) -> Check:
        if isinstance(value, str):
            return lambda x: x == value  # what _equal does when one side is a string
        return lambda x: _equal(x, value)

    def k_pattern(self, value: str, _s: Mapping[str, Any]) -> Check:
        search = re.compile(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None

    def k_minLength(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802 - keyword
        return lambda x: not isinstance(x, str) or len(x) >= n

    def k_maxLength(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not isinstance(x, str) or len(x) <= n

    def k_minimum(self, n: float, _s: Mapping[str, Any]) -> Check:
        return lambda x: not _is_number(x) or x >= n

    def k_maximum(self, n: float, _s: Mapping[str, Any]) -> Check:
        return lambda x: not _is_number(x) or x <= n

    def k_exclusiveMinimum(self, n: float, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not _is_number(x) or x > n

    def k_exclusiveMaximum(self, n: float, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not _is_number(x) or x < n

    def k_minItems(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not isinstance(x, list) or len(x) >= n

    def k_maxItems(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not isinstance(x, list) or len(x) <= n

    def k_minProperties(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not isinstance(x, dict) or len(x) >= n

    def k_maxProperties(self, n: int, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return lambda x: not isinstance(x, dict) or len(x) <= n

    def k_propertyNames(self, sub: Any, _s: Mapping[str, Any]) -> Check:  # noqa: N802
        check = self.compile(sub)
        return lambda x: not isinstance(x, dict) or all(check(k) for k in x)

    def k_uniqueItems(self, on: bool, _s: Mapping[str, Any]) -> Check | None:  # noqa: N802
        return (lambda x: not isinstance(x, list) or _unique(x)) if on else None

    def k_items(self, sub: Any, _s: Mapping[str, Any]) -> Check:
        each = self.compile(sub)
        return lambda x: not isinstance(x, list) or all(each(v) for v in x)

    def k_required(self, keys: list[str], _s: Mapping[str, Any]) -> Check:
        wanted = frozenset(keys)
        return lambda x: not isinstance(x, dict) or x.keys() >= wanted

    def k_anyOf(self, subs: list[Any], _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return _any_of([self.compile(s) for s in subs])

    def k_allOf(self, subs: list[Any], _s: Mapping[str, Any]) -> Check:  # noqa: N802
        return _all_of([self.compile(s) for s in subs])

    def k_if(self, sub: Any, schema: Mapping[str, Any]) -> Check:
        test = self.compile(sub)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda x: then(x) if test(x) else otherwise(x)

    def k_properties(self, _v: Any, schema: Mapping[str, Any]) -> Check:
        return self.properties(schema, None)

    def properties(self, schema: Mapping[str, Any], required: frozenset[str] | None) -> Check:
        """properties, patternProperties and additionalProperties; with `required` (not None)
        also type: object and those keys."""
        known = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        patterns = [(re.compile(p).search, self.compile(s))
                    for p, s in schema.get("patternProperties", {}).items()]
        extra = self.compile(schema.get("additionalProperties", True))

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return required is None
            if required and not x.keys() >= required:
                return False
            for key, value in x.items():
                test = known.get(key)
                if test is not None:
                    if not test(value):
                        return False
                    continue
                matched = [c for search, c in patterns if search(key)]
                if matched:
                    if not all(c(value) for c in matched):
                        return False
                elif not extra(value):
                    return False
            return True

        return check

    def k_patternProperties(self, _v: Any, schema: Mapping[str, Any]) -> Check | None:  # noqa: N802
        return None if "properties" in schema else self.properties(schema, None)

    def k_additionalProperties(self, _v: Any, schema: Mapping[str, Any]) -> Check | None:  # noqa: N802
        return None if "properties" in schema else self.properties(schema, None)

    def k_dollar_ref(self, ref: str, _s: Mapping[str, Any]) -> Check:
        if not ref.startswith("#/"):
            raise _Unsupported(ref)
        if ref not in self.refs:
            self.refs[ref] = lambda x: self.refs[ref](x)  # a placeholder while compiling
            target: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise _Unsupported(ref)
                target = target[part]
            self.refs[ref] = self.compile(target)
        return lambda x: self.refs[ref](x)
