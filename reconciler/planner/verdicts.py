"""Check verdicts as they are recorded on the provider: one small file per (job, checks).

A verdict must outlive the machine that reached it (CI runners are thrown away), so it is kept
where the jobs are: a file uploaded through the Files API under a deterministic name. The name
carries everything a plan needs (the job, which checks, passed or failed), so the refresh that
lists files already reads every verdict, with no request per model. The content (one JSON line)
adds the failure reasons and room for evaluation metrics. Neither holds the API key or dataset
contents: only the job and model ids, the checks' identity, reasons and numbers.

Pure, no I/O: `checks` writes these files, the model-state layer reads the names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.spec import Check

VERDICT_PREFIX = "ftctl-verdict-"
VERDICT_SUFFIX = ".jsonl"  # the fine-tune purpose accepts JSON Lines only
VERDICT_PURPOSE = "fine-tune"  # the purpose whose file list the refresh already reads
VERDICT_FORMAT = 1
PASSED, FAILED = "passed", "failed"
_CHECKS_ID_LEN = 16


def checks_id(checks: Sequence[Check]) -> str:
    """Identity of a manifest's checks: 16 hex of sha256 over their canonical JSON. A change
    to any check (or their order) is a new identity, so the serving version is checked again."""
    body = [{k: v for k, v in dataclasses.asdict(c).items() if v is not None} for c in checks]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:_CHECKS_ID_LEN]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedVerdict:
    """What a verdict file's name says: job, checks identity, and the outcome."""

    job_id: str
    checks_id: str
    passed: bool


def verdict_file_name(job_id: str, checks: str, *, passed: bool) -> str:
    """`ftctl-verdict-<job id>-<checks id>-<passed|failed>.jsonl`."""
    return f"{VERDICT_PREFIX}{job_id}-{checks}-{PASSED if passed else FAILED}{VERDICT_SUFFIX}"


def parse_verdict_file_name(name: str) -> RecordedVerdict | None:
    """The verdict a file name records, or None for any other file."""
    if not name.startswith(VERDICT_PREFIX) or not name.endswith(VERDICT_SUFFIX):
        return None
    stem = name[len(VERDICT_PREFIX):-len(VERDICT_SUFFIX)]
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return None
    job_id, checks, outcome = parts
    hexdigits = set("0123456789abcdef")
    if not job_id or len(checks) != _CHECKS_ID_LEN or not set(checks) <= hexdigits:
        return None
    if outcome not in (PASSED, FAILED):
        return None
    return RecordedVerdict(job_id=job_id, checks_id=checks, passed=outcome == PASSED)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictRecord:
    """The content of a verdict file. failures: (check number, reason). metrics: optional
    numbers an evaluation gate adds (e.g. per grader, for the serving and the candidate)."""

    name: str
    job_id: str
    model_id: str
    checks_id: str
    passed: bool
    failures: tuple[tuple[int, str], ...] = ()
    metrics: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def file_name(self) -> str:
        return verdict_file_name(self.job_id, self.checks_id, passed=self.passed)


def verdict_bytes(record: VerdictRecord) -> bytes:
    """The file content: one canonical JSON line (sorted keys): equal verdicts, equal bytes."""
    body = {
        "format": VERDICT_FORMAT,
        "name": record.name,
        "job": record.job_id,
        "model": record.model_id,
        "checks": record.checks_id,
        "verdict": PASSED if record.passed else FAILED,
        "failures": [{"check": index, "reason": reason} for index, reason in record.failures],
        "metrics": dict(record.metrics),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()
