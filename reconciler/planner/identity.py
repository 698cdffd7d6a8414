"""Naming conventions that identify what ftctl manages: metadata keys, spec hashes, file names.

L1 pure logic, no I/O. The metadata key names are a public contract (docs/identity.md): other tools
read them. Also: spec hashes, operation ids and the remote-state fingerprint of saved plans.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

import orjson

from reconciler.planner.verdicts import parse_verdict_file_name
from reconciler.snapshot import RemoteJob, Snapshot

META_WORKSPACE = "ftctl-workspace"
META_NAME = "ftctl-name"
META_SPEC = "ftctl-spec"
META_VERSION = "ftctl-version"
META_OP = "ftctl-op"
META_COMMIT = "ftctl-commit"

FILE_NAME_PREFIX = "ftctl-"


def file_name(sha256: str, suffix: str = ".jsonl") -> str:
    """Content-addressed upload name: a changed byte is a new file, an equal one is found again."""
    return f"{FILE_NAME_PREFIX}{sha256}{suffix}"


def sha_from_file_name(name: str) -> str | None:
    """The sha256 a content-addressed file name carries, or None for other files."""
    # One regex call, not slicing and splitting: this runs once per file of the workspace.
    match = _CONTENT_ADDRESSED.match(name)
    return match[1] if match else None


# file_name's shape: the prefix, 64 hex, then the end or a "." and any suffix.
_CONTENT_ADDRESSED = re.compile(re.escape(FILE_NAME_PREFIX) + r"([0-9a-f]{64})(?:\.|\Z)")


# --- hashes and ids -------------------------------------------------------------------------
# Everything below is a pure function of its arguments so a re-plan (e.g. after a crash during
# apply) yields the same values, which is what makes creates idempotent.

# One encoder for every canonical text: json.dumps with options builds a new encoder per
# call, which was most of the cost of the six texts hashed per manifest.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                      default=str)


def _canonical(value: object) -> str:
    return _CANONICAL_ENCODER.encode(value)


def spec_hash(essence: Mapping[str, object]) -> str:
    """The `ftctl-spec` value: sha256 (first 32 hex) of the retrain-forcing essence of a spec.

    The caller (normalize.hash_essence) decides which fields are in it; this only hashes.
    """
    return hashlib.sha256(_canonical(essence).encode()).hexdigest()[:32]


def operation_id(workspace: str, name: str, version: int, spec: str) -> str:
    """The `ftctl-op` value: deterministic from (workspace, name, version, spec hash)."""
    text = _canonical([workspace, name, version, spec])
    return "op-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def job_metadata(
    *, workspace: str, name: str, spec: str, version: int, op: str, commit: str | None
) -> tuple[tuple[str, str], ...]:
    """Metadata stamped on every job ftctl creates (docs/identity.md), in a fixed order."""
    pairs = [
        (META_WORKSPACE, workspace),
        (META_NAME, name),
        (META_SPEC, spec),
        (META_VERSION, str(version)),
        (META_OP, op),
    ]
    if commit:
        pairs.append((META_COMMIT, commit[:512]))
    return tuple(pairs)


def job_version(metadata: Mapping[str, str]) -> int | None:
    """The integer `ftctl-version` of a job, or None when absent or malformed."""
    return version_of(metadata.get(META_VERSION))


def version_of(raw: str | None) -> int | None:
    """An `ftctl-version` value as an integer, or None when absent or malformed."""
    if raw is None or not raw.isdigit():
        return None
    return int(raw)


def _job_phase(job: RemoteJob) -> str:
    # Progress (queued -> running, trained tokens, ETA) must not make a saved plan stale; only
    # whether a job is still in flight or how it ended changes what a plan would do.
    # The status itself, not `.value`: a StrEnum member is already its text (json writes it
    # so), and the enum's `.value` descriptor cost ~2 us a job at 20,000 jobs.
    return job.status if job.status.is_terminal else "active"


def content_shas(snapshot: Snapshot) -> dict[str, str]:
    """Remote file id -> the sha256 its content-addressed name carries (other files left out).

    Computed once per plan and handed to every reader (file comparison, reusable uploads, the
    fingerprint): parsing 20,000 file names three times was measurable.
    """
    out: dict[str, str] = {}
    for f in snapshot.files:
        sha = sha_from_file_name(f.filename)
        if sha is not None:
            out[f.id] = sha
    return out


def state_fingerprint(snapshot: Snapshot, shas: Mapping[str, str] | None = None) -> str:
    """Fingerprint of the remote facts a plan depends on, excluding job progress.

    Covers: the workspace; every job's id, phase (active or its terminal status), fine-tuned
    model and metadata; the content-addressed files and the checks verdict files (id, name,
    purpose); which of the jobs' fine-tuned models still exist. Other teams' files and models,
    base models and their dates are left out: they do not decide what a plan does, so they
    must not make it stale. `shas` is content_shas(snapshot) when the caller already has it.
    """
    if shas is None:
        shas = content_shas(snapshot)
    produced = {j.fine_tuned_model for j in snapshot.jobs if j.fine_tuned_model}
    # Rows ordered by id with a key (ids are unique), not by comparing whole nested rows, and a
    # positional list instead of a key-sorted dict: the same facts, a fraction of the work at
    # 20,000 jobs. Only a fingerprint computed by the same ftctl is ever compared with it.
    jobs = (
        [j.id, _job_phase(j), j.fine_tuned_model, sorted(j.metadata)]
        for j in sorted(snapshot.jobs, key=_BY_ID)
    )
    files = (
        [f.id, f.filename, f.purpose]
        for f in sorted(snapshot.files, key=_BY_ID)
        if f.id in shas or parse_verdict_file_name(f.filename) is not None
    )
    models = sorted(m.id for m in snapshot.models if m.id in produced)
    # The text of [workspace, [job rows], [file rows], [model ids]].
    text = b"[%b,%b,%b,%b]" % (orjson.dumps(snapshot.workspace), _json_list(jobs),
                               _json_list(files), orjson.dumps(models))
    return hashlib.sha256(text).hexdigest()


_ROWS_AT_ONCE = 500


def _json_list(rows: Iterator[object]) -> bytes:
    """The compact JSON text of list(rows), as orjson writes it (ten times as fast as
    json.dumps with separators=(",", ":") and ensure_ascii=False, same text for strings, ints
    and nulls), built a few hundred rows at a time: 40,000 row lists alive at once made the
    garbage collector walk the whole heap during every plan."""
    parts = []
    while chunk := list(islice(rows, _ROWS_AT_ONCE)):
        parts.append(orjson.dumps(chunk)[1:-1])  # without the chunk's own brackets
    return b"[%b]" % b",".join(parts)


_BY_ID = operator.attrgetter("id")  # a C call per row, not a Python function call


# The `ftctl-spec` value is "<scheme>:<32 hex of the whole retrain essence>-<6 hex per side
# field>". The side chunks cover fields a job cannot show back reliably (dataset content once
# the remote file is deleted, the grader, the integrations), so a later plan can tell which of
# them changed. The scheme numbers the canonicalisation: a value is only ever compared with one
# computed by the same scheme, so changing how essences are canonicalised (which must come with
# a new scheme number and its entry in _CANONICAL) never makes every model look changed.
# Scheme 1 (ftctl 0.1.0) wrote no "<scheme>:" prefix.
SPEC_SCHEME = 2
_SIDE_CHUNK = 6
_DIGEST = 32
_LEGACY_SCHEME = 1
# scheme -> the canonical JSON text of a value. Scheme 2 only added the prefix.
_CANONICAL = {1: _canonical, 2: _canonical}


@dataclass(frozen=True, slots=True)
class SpecStamp:
    """An `ftctl-spec` value taken apart: its scheme, whole-essence digest and side chunks."""

    scheme: int
    digest: str
    side: str

    def chunks(self) -> tuple[str, ...]:
        return tuple(self.side[i:i + _SIDE_CHUNK] for i in range(0, len(self.side), _SIDE_CHUNK))


def known_scheme(scheme: int) -> bool:
    """Whether this ftctl can compute values of `scheme` (older and current ones)."""
    return scheme in _CANONICAL


def spec_value(
    essence: Mapping[str, object],
    side: Sequence[tuple[str, object]],
    *,
    scheme: int = SPEC_SCHEME,
) -> str:
    """The `ftctl-spec` metadata value for a spec (see above); side in a fixed field order."""
    canonical = _CANONICAL[scheme]
    digest = hashlib.sha256(canonical(essence).encode()).hexdigest()[:_DIGEST]
    chunks = "".join(
        hashlib.sha256(canonical(value).encode()).hexdigest()[:_SIDE_CHUNK] for _, value in side
    )
    body = f"{digest}-{chunks}"
    return body if scheme == _LEGACY_SCHEME else f"{scheme}:{body}"


_SPEC_VALUE = re.compile(
    rf"^(?:(?P<scheme>[0-9]+):)?(?P<digest>[0-9a-f]{{{_DIGEST}}})-"
    rf"(?P<side>(?:[0-9a-f]{{{_SIDE_CHUNK}}})*)$"
)


def parse_spec_value(value: str | None) -> SpecStamp | None:
    """An `ftctl-spec` value taken apart, or None when it is not one ftctl wrote."""
    match = _SPEC_VALUE.match(value) if value else None
    if match is None:
        return None
    scheme = int(match["scheme"]) if match["scheme"] else _LEGACY_SCHEME
    return SpecStamp(scheme=scheme, digest=match["digest"], side=match["side"])


def spec_side_changes(old: str | None, new: str, fields: Sequence[str]) -> tuple[str, ...]:
    """The side fields whose chunk differs between two `ftctl-spec` values of one scheme.

    Empty when nothing can be told: `old` is not a value ftctl wrote (a hand-made adopted job)
    or the two values come from different schemes or field lists.
    """
    before, after = parse_spec_value(old), parse_spec_value(new)
    if before is None or after is None or before.scheme != after.scheme:
        return ()
    if len(before.side) != len(after.side) or len(after.chunks()) != len(fields):
        return ()
    return tuple(
        name for name, a, b in zip(fields, before.chunks(), after.chunks(), strict=True) if a != b
    )
