"""The saved-plan file's schema: every record, its wire name and its fields, written out.

Pure, no I/O. A saved plan is read by a later (maybe upgraded) ftctl, so its layout must not
follow Python class or module names: each record below names its JSON keys and how each value
is written. Renaming a class changes nothing on disk; adding, removing or renaming a field of a
planned value fails the schema's coverage test until the field is written out here (and the
plan file version is bumped when old files no longer read the same).

Free-form values (a field diff's before/after, Plan.extra) keep their exact Python shape:
tuples as arrays, lists as {"$list": [...]}, maps as {"$map": [[key, value], ...]}, and the
"known after apply" marker as {"$unknown": true}.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.diagnostics import Diagnostic, Severity, SourceRange
from reconciler.errors import FtctlError
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    DeployModel,
    Estimate,
    FieldChange,
    FromStep,
    NoChange,
    Plan,
    Reason,
    RemoveDeployment,
    Step,
    UploadFile,
    VerifyModel,
)
from reconciler.spec import Check


class SchemaError(FtctlError):
    """A plan file value does not fit the schema (the message names where)."""


@dataclass(frozen=True, slots=True)
class Kind:
    """How one field's value is written (encode) and read back (decode, `where` for errors)."""

    encode: Callable[[Any], object]
    decode: Callable[[object, str], Any]


def _fail(where: str, expected: str, raw: object) -> SchemaError:
    shown = repr(raw)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return SchemaError(f"{where}: expected {expected}, found {shown}")


def _scalar(expected: str, *types: type) -> Kind:
    def decode(raw: object, where: str) -> object:
        if isinstance(raw, bool) and bool not in types:
            raise _fail(where, expected, raw)
        if not isinstance(raw, types):
            raise _fail(where, expected, raw)
        return raw

    return Kind(encode=lambda v: v, decode=decode)


STR = _scalar("a string", str)
INT = _scalar("an integer", int)
BOOL = _scalar("true or false", bool)
NUMBER = _scalar("a number", int, float)


def optional(kind: Kind) -> Kind:
    return Kind(encode=lambda v: None if v is None else kind.encode(v),
                decode=lambda raw, where: None if raw is None else kind.decode(raw, where))


def enum(cls: type[Enum]) -> Kind:
    def decode(raw: object, where: str) -> Enum:
        try:
            return cls(raw)
        except ValueError:
            names = ", ".join(str(m.value) for m in cls)
            raise _fail(where, f"one of {names}", raw) from None

    return Kind(encode=lambda v: v.value, decode=decode)


def tuple_of(kind: Kind) -> Kind:
    def decode(raw: object, where: str) -> tuple[Any, ...]:
        if not isinstance(raw, list):
            raise _fail(where, "an array", raw)
        return tuple(kind.decode(item, f"{where}[{i}]") for i, item in enumerate(raw))

    return Kind(encode=lambda v: [kind.encode(item) for item in v], decode=decode)


def pairs(value_kind: Kind) -> Kind:
    """A tuple of (string, value) pairs, written as [[key, value], ...]."""
    def decode(raw: object, where: str) -> tuple[tuple[str, Any], ...]:
        if not isinstance(raw, list):
            raise _fail(where, "an array of [key, value] pairs", raw)
        out = []
        for i, item in enumerate(raw):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise _fail(f"{where}[{i}]", "a [key, value] pair", item)
            out.append((item[0], value_kind.decode(item[1], f"{where}[{i}]")))
        return tuple(out)

    return Kind(encode=lambda v: [[k, value_kind.encode(x)] for k, x in v], decode=decode)


# --- free-form values -----------------------------------------------------------------------

def _encode_value(value: object) -> object:
    if value is UNKNOWN:
        return {"$unknown": True}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return [_encode_value(v) for v in value]
    if isinstance(value, list):
        return {"$list": [_encode_value(v) for v in value]}
    if isinstance(value, Mapping):
        return {"$map": [[_encode_value(k), _encode_value(v)] for k, v in value.items()]}
    raise SchemaError(f"cannot save a value of type {type(value).__name__} in a plan file")


def _decode_value(raw: object, where: str) -> object:
    if isinstance(raw, list):
        return tuple(_decode_value(v, where) for v in raw)
    if not isinstance(raw, dict):
        return raw
    if raw == {"$unknown": True}:
        return UNKNOWN
    if set(raw) == {"$list"} and isinstance(raw["$list"], list):
        return [_decode_value(v, where) for v in raw["$list"]]
    if set(raw) == {"$map"} and isinstance(raw["$map"], list):
        try:
            return {_decode_value(k, where): _decode_value(v, where) for k, v in raw["$map"]}
        except (TypeError, ValueError):
            raise _fail(where, "[key, value] pairs", raw) from None
    raise _fail(where, "a value ($list, $map or $unknown)", raw)


VALUE = Kind(encode=_encode_value, decode=_decode_value)


# --- records --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Record:
    """A dataclass written as a JSON object with exactly these keys, in this order."""

    cls: type
    fields: tuple[tuple[str, Kind], ...]

    def encode(self, value: object) -> dict[str, object]:
        return {name: kind.encode(getattr(value, name)) for name, kind in self.fields}

    def decode(self, raw: object, where: str) -> Any:
        if not isinstance(raw, dict):
            raise _fail(where, f"an object ({self.cls.__name__})", raw)
        names = [name for name, _ in self.fields]
        unknown = sorted(set(raw) - set(names))
        missing = [name for name in names if name not in raw]
        if unknown or missing:
            what = "; ".join(filter(None, (
                f"unknown key(s) {', '.join(unknown)}" if unknown else "",
                f"missing key(s) {', '.join(missing)}" if missing else "")))
            raise SchemaError(f"{where}: {what}")
        return self.cls(**{n: k.decode(raw[n], f"{where}.{n}") for n, k in self.fields})

    def kind(self) -> Kind:
        return Kind(encode=self.encode, decode=self.decode)


def tagged(records: Mapping[str, Record], tag: str = "type") -> Kind:
    """One of several records, told apart by a `type` key holding its wire name."""
    names = {r.cls: name for name, r in records.items()}

    def encode(value: object) -> dict[str, object]:
        name = names.get(type(value))
        if name is None:
            raise SchemaError(f"cannot save a {type(value).__name__} in a plan file")
        return {tag: name, **records[name].encode(value)}

    def decode(raw: object, where: str) -> Any:
        if not isinstance(raw, dict) or raw.get(tag) not in records:
            raise _fail(f"{where}.{tag}", f"one of {', '.join(records)}", _get(raw, tag))
        body = {k: v for k, v in raw.items() if k != tag}
        return records[str(raw[tag])].decode(body, where)

    return Kind(encode=encode, decode=decode)


def _get(raw: object, key: str) -> object:
    return raw.get(key) if isinstance(raw, dict) else raw


def _str_or_step(record: Record) -> Kind:
    """A value known now (a string) or produced by an earlier step ({"key", "field"})."""
    return Kind(
        encode=lambda v: v if isinstance(v, str) else record.encode(v),
        decode=lambda raw, where: raw if isinstance(raw, str) else record.decode(raw, where),
    )


FROM_STEP = Record(FromStep, (("key", STR), ("field", STR)))
STRS = tuple_of(STR)
CHECK = Record(Check, (
    ("prompt", STR), ("system", optional(STR)), ("expect_contains", optional(STR)),
    ("expect_not_contains", optional(STR)), ("expect_equals", optional(STR)),
    ("expect_regex", optional(STR)), ("max_tokens", optional(INT)),
    ("temperature", optional(NUMBER)),
))
PAYLOADS: dict[str, Record] = {
    "upload_file": Record(UploadFile, (
        ("repo_path", STR), ("sha256", STR), ("bytes", INT), ("filename", STR),
        ("purpose", STR),
    )),
    "create_job": Record(CreateJob, (
        ("name", STR), ("model", _str_or_step(FROM_STEP)),
        ("training_file", _str_or_step(FROM_STEP)),
        ("validation_file", optional(_str_or_step(FROM_STEP))), ("method_json", STR),
        ("suffix", optional(STR)), ("seed", optional(INT)), ("integrations_json", optional(STR)),
        ("metadata", pairs(STR)), ("version", INT), ("checks", tuple_of(CHECK.kind())),
    )),
    "cancel_job": Record(CancelJob, (("job_id", STR),)),
    "delete_model": Record(DeleteModel, (("model_id", STR), ("job_id", optional(STR)))),
    "verify_model": Record(VerifyModel, (
        ("name", STR), ("job_id", STR), ("model_id", STR), ("base_model", STR), ("version", INT),
        ("checks", tuple_of(CHECK.kind())), ("checks_id", STR),
    )),
    "deploy_model": Record(DeployModel, (
        ("name", STR), ("deployment", STR), ("model_id", _str_or_step(FROM_STEP)), ("sku", STR),
        ("capacity", INT), ("current_model", optional(STR)),
        ("job_id", optional(_str_or_step(FROM_STEP))),
    )),
    "remove_deployment": Record(RemoveDeployment, (
        ("deployment", STR), ("model_id", optional(STR)),
    )),
    "delete_job": Record(DeleteJob, (("job_id", STR),)),
    "delete_file": Record(DeleteFile, (("file_id", STR), ("filename", STR), ("bytes", INT))),
    "no_change": Record(NoChange, (
        ("job_id", optional(STR)), ("model_id", optional(STR)), ("status", optional(STR)),
        ("version", optional(INT)),
    )),
}
ESTIMATE = Record(Estimate, (
    ("training_tokens", optional(INT)), ("epochs", optional(INT)),
    ("cost_usd", optional(NUMBER)), ("monthly_hosting_usd", optional(NUMBER)),
))
FIELD_CHANGE = Record(FieldChange, (
    ("path", STR), ("before", VALUE), ("after", VALUE), ("forces_new", BOOL),
))
STEP = Record(Step, (
    ("key", STR), ("action", enum(Action)), ("name", STR), ("reason", enum(Reason)),
    ("payload", tagged(PAYLOADS)), ("changes", tuple_of(FIELD_CHANGE.kind())),
    ("depends_on", STRS), ("estimate", optional(ESTIMATE.kind())),
))
SOURCE = Record(SourceRange, (("file", STR), ("line", INT), ("column", INT)))
DIAGNOSTIC = Record(Diagnostic, (
    ("severity", enum(Severity)), ("summary", STR), ("detail", STR),
    ("subject", optional(SOURCE.kind())), ("address", optional(STR)), ("code", optional(STR)),
))
PLAN = Record(Plan, (
    ("format_version", STR), ("workspace", STR), ("snapshot_fingerprint", STR),
    ("targets", STRS), ("steps", tuple_of(STEP.kind())),
    ("notes", tuple_of(DIAGNOSTIC.kind())), ("extra", pairs(VALUE)),
))
# Every record of the schema, for the test that each covers all of its class's fields.
RECORDS: tuple[Record, ...] = (
    PLAN, STEP, FIELD_CHANGE, ESTIMATE, DIAGNOSTIC, SOURCE, FROM_STEP, CHECK,
    *PAYLOADS.values(),
)


def encode_plan(plan: Plan) -> dict[str, object]:
    return PLAN.encode(plan)


def decode_plan(raw: object) -> Plan:
    """A Plan from its JSON form; SchemaError naming the first value that does not fit."""
    value = PLAN.decode(raw, "plan")
    assert isinstance(value, Plan)
    return value
