"""Gate verdicts as they are recorded on the provider: one small file per (job, gate).

A verdict must outlive the machine that reached it (CI runners are thrown away), so it is kept
where the jobs are: a file uploaded through the Files API under a deterministic name. The name
carries everything a plan needs (the job, which gate, passed, failed checks or an evaluation
refused), so the refresh that lists files already reads every verdict, with no request per
model. The content (one JSON line) adds the failure reasons and, for a gate with an evaluation,
the metrics of both versions. Neither holds the API key or dataset contents: only the job and
model ids, the gate's identity, reasons and numbers.

The gate's identity (`gate_id`) covers the checks and, when there is one, the evaluation (the
eval set's content hash, the graders, the promotion rule): changing any of them verifies the
serving version again. A gate of checks alone keeps the identity it always had.

Pure, no I/O: `checks` writes these files, the model-state layer reads the names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.spec import Check, Evaluation

VERDICT_PREFIX = "ftctl-verdict-"
VERDICT_SUFFIX = ".jsonl"  # the fine-tune purpose accepts JSON Lines only
VERDICT_PURPOSE = "fine-tune"  # the purpose whose file list the refresh already reads
VERDICT_FORMAT = 1
PASSED, FAILED = "passed", "failed"
REFUSED = "refused"  # the checks passed, the evaluation refused the version
_CHECKS_ID_LEN = 16


def checks_id(checks: Sequence[Check]) -> str:
    """Identity of a manifest's checks: 16 hex of sha256 over their canonical JSON. A change
    to any check (or their order) is a new identity, so the serving version is checked again."""
    return _digest(_checks_body(checks))


def gate_id(checks: Sequence[Check], evaluation: Evaluation | None) -> str:
    """Identity of a version's whole gate, the id its verdict is recorded under: checks_id
    for checks alone (verdicts recorded before evaluations existed still count); with an
    evaluation, the checks plus the eval set's content hash, the graders and the rule."""
    if evaluation is None:
        return checks_id(checks)
    return _digest({"checks": _checks_body(checks), "evaluation": {
        "dataset_sha256": evaluation.dataset_sha256,
        "graders": [dataclasses.asdict(g) for g in evaluation.graders],
        "min": [list(pair) for pair in evaluation.promote.minimum],
        "max_regression": [list(pair) for pair in evaluation.promote.max_regression],
    }})


def _checks_body(checks: Sequence[Check]) -> list[dict[str, object]]:
    return [{k: v for k, v in dataclasses.asdict(c).items() if v is not None} for c in checks]


def _digest(body: object) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:_CHECKS_ID_LEN]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedVerdict:
    """What a verdict file's name says: job, gate identity, and the outcome (refused: the
    checks passed and the evaluation refused the version). file_id: the file, when listed."""

    job_id: str
    checks_id: str
    passed: bool
    refused: bool = False
    file_id: str | None = None


def verdict_file_name(job_id: str, checks: str, *, passed: bool, refused: bool = False) -> str:
    """`ftctl-verdict-<job id>-<gate id>-<passed|failed|refused>.jsonl`."""
    return f"{VERDICT_PREFIX}{job_id}-{checks}-{_outcome(passed, refused)}{VERDICT_SUFFIX}"


def _outcome(passed: bool, refused: bool) -> str:
    if passed:
        return PASSED
    return REFUSED if refused else FAILED


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
    if outcome not in (PASSED, FAILED, REFUSED):
        return None
    return RecordedVerdict(job_id=job_id, checks_id=checks, passed=outcome == PASSED,
                           refused=outcome == REFUSED)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictRecord:
    """The content of a verdict file. failures: (check number, reason). evaluation: set when
    the gate evaluated the version; metrics: {grader: {serving, candidate, delta}} then."""

    name: str
    job_id: str
    model_id: str
    checks_id: str
    passed: bool
    failures: tuple[tuple[int, str], ...] = ()
    metrics: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    evaluation: EvaluationRecord | None = None

    @property
    def refused(self) -> bool:
        """The checks passed and the evaluation refused the version."""
        return not self.failures and self.evaluation is not None and bool(
            self.evaluation.refusals)

    @property
    def file_name(self) -> str:
        return verdict_file_name(self.job_id, self.checks_id, passed=self.passed,
                                 refused=self.refused)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationRecord:
    """What a verdict says of its evaluation besides the metrics: the model it was compared
    with (None: nothing served), the eval set's size, and why the rule refused it."""

    serving: str | None
    examples: int
    refusals: tuple[str, ...] = ()


def verdict_bytes(record: VerdictRecord) -> bytes:
    """The file content: one canonical JSON line (sorted keys): equal verdicts, equal bytes."""
    body: dict[str, object] = {
        "format": VERDICT_FORMAT,
        "name": record.name,
        "job": record.job_id,
        "model": record.model_id,
        "checks": record.checks_id,
        "verdict": _outcome(record.passed, record.refused),
        "failures": [{"check": index, "reason": reason} for index, reason in record.failures],
        "metrics": dict(record.metrics),
    }
    if record.evaluation is not None:  # absent for checks alone: their bytes never change
        body["evaluation"] = {"serving": record.evaluation.serving,
                              "examples": record.evaluation.examples,
                              "refusals": list(record.evaluation.refusals)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()


ReadVerdict = Callable[[str], object]
"""A verdict file's id -> its content (parsed JSON): how the app reads recorded metrics."""


def recorded_metrics(content: object) -> dict[str, float]:
    """The candidate's score per grader in a verdict file's content ({} when it has none):
    what the version was measured at when it was gated."""
    metrics = content.get("metrics") if isinstance(content, dict) else None
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, float] = {}
    for grader, values in metrics.items():
        value = values.get("candidate") if isinstance(values, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[str(grader)] = float(value)
    return out
