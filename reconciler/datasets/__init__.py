"""Dataset facts and checks for the planner and `ftctl data`: one streaming pass per file.

L2 adapter (reads dataset files; writes only its cache). The public surface:

- `inspect(root, repo_path, ...)` -> (DatasetInfo, Diagnostics) for one dataset of a project,
  with its sha256 and validation result cached by file identity under cache_dir;
- `check_overlap(root, train, valid)` -> Diagnostics for examples found in both files;
- `validate_file(path, display, Options(...))` -> Report for `ftctl data check|stats`.

Modules: codes (every issue code: default severity, reason, source; the project's levels),
issues (collecting them), reading (bytes, lines, parse diagnosis), chat / dpo / completion
(per-format structure), tokens (token counts; pages hands the tokenizer library's loaded pages
back), parallel (byte ranges scanned by several processes), firsts (compact duplicate table),
models (encodings and limits), hashing (sha256 and the cache), validate (the pass), stats,
markdown (the PR report), convert.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from reconciler.datasets.codes import DEFAULT_LEVELS, Levels
from reconciler.datasets.hashing import cached, remember, sha256_cached
from reconciler.datasets.issues import DEFAULT_CAP, IssueSink
from reconciler.datasets.reading import iter_chunks
from reconciler.datasets.validate import Options, Report, validate_file
from reconciler.diagnostics import Diagnostic, Diagnostics, Severity, SourceRange, error
from reconciler.spec import DatasetInfo

__all__ = ["Levels", "Options", "Report", "check_overlap", "inspect", "validate_file"]

INSPECT_CACHE = "datasets.json"
CHECKS_VERSION = "2"  # bump when the checks change, so cached results are not reused


def inspect(
    root: str,
    repo_path: str,
    *,
    base_model: str | None = None,
    method: str | None = None,
    cache_dir: str | None = None,
    validation: bool = False,
    levels: Levels = DEFAULT_LEVELS,
) -> tuple[DatasetInfo, Diagnostics]:
    """Facts and diagnostics for the dataset at `root/repo_path` (a POSIX path).

    validation=True for a validation file: the minimum example count does not apply to it.
    levels: the project's severities (`datasets.rules` in ftctl.yaml).
    """
    path = os.path.join(root, *repo_path.split("/"))
    try:
        st: os.stat_result | None = os.stat(path)  # "is it a file?" and the cache key in one
    except (OSError, ValueError):
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        diag = error(
            f"dataset file not found: {repo_path}",
            "Check the path in the manifest; it is relative to the manifest file.",
            subject=SourceRange(file=repo_path), code="file_not_found",
        )
        info = DatasetInfo(repo_path=repo_path, sha256="", bytes=0, examples=0, has_errors=True)
        return info, (diag,)
    kind = "valid" if validation else "train"
    slot = f"v{CHECKS_VERSION}:{method}:{base_model}:{kind}:{levels.key}"
    hit = cached(cache_dir, INSPECT_CACHE, path, slot, st)
    if isinstance(hit, dict):
        restored = _restore(hit, repo_path)
        if restored is not None:
            return restored
    known_sha = cached(cache_dir, "sha256.json", path, "sha256")
    report = validate_file(
        path, repo_path,
        Options(method=method, model=base_model, sha256=known_sha is None, validation=validation,
                levels=levels),
    )
    sha = known_sha if isinstance(known_sha, str) else report.sha256 or sha256_cached(path, None)
    if known_sha is None:
        remember(cache_dir, "sha256.json", path, "sha256", sha)
    info = DatasetInfo(
        repo_path=repo_path, sha256=sha, bytes=report.bytes, examples=report.examples,
        tokens=report.billable, format=report.format, has_errors=report.has_errors,
    )
    remember(cache_dir, INSPECT_CACHE, path, slot, _freeze(info, report.diagnostics))
    return info, report.diagnostics


def _freeze(info: DatasetInfo, diags: Diagnostics) -> dict[str, object]:
    return {
        "sha256": info.sha256, "bytes": info.bytes, "examples": info.examples,
        "tokens": info.tokens, "format": info.format, "has_errors": info.has_errors,
        "diagnostics": [d.to_json() for d in diags],
    }


def _restore(data: dict[str, object], repo_path: str) -> tuple[DatasetInfo, Diagnostics] | None:
    try:
        info = DatasetInfo(
            repo_path=repo_path, sha256=str(data["sha256"]), bytes=int(data["bytes"]),  # type: ignore[call-overload]
            examples=int(data["examples"]),  # type: ignore[call-overload]
            tokens=data["tokens"] if isinstance(data["tokens"], int) else None,
            format=data["format"] if isinstance(data["format"], str) else None,
            has_errors=bool(data["has_errors"]),
        )
        diags = tuple(_diagnostic(d, repo_path) for d in data["diagnostics"])  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError):
        return None
    return info, diags


def _diagnostic(d: dict[str, object], repo_path: str) -> Diagnostic:
    return Diagnostic(
        severity=Severity(str(d["severity"])),
        summary=str(d["summary"]),
        detail=str(d["detail"] or ""),
        code=str(d["code"]) if d["code"] else None,
        subject=SourceRange(
            file=repo_path, line=int(d["line"] or 0), column=int(d["column"] or 0)  # type: ignore[call-overload]
        ),
    )


def check_overlap(
    root: str, train_repo_path: str, valid_repo_path: str, levels: Levels = DEFAULT_LEVELS
) -> Diagnostics:
    """Validation examples that also appear (byte for byte, ignoring surrounding whitespace) in
    the training file: they make validation loss look better than it is."""
    train = os.path.join(root, *train_repo_path.split("/"))
    valid = os.path.join(root, *valid_repo_path.split("/"))
    if not (os.path.isfile(train) and os.path.isfile(valid)):
        return ()
    wanted: dict[int, int] = {}
    for lineno, line in _lines(valid):
        wanted.setdefault(hash(line), lineno)
    sink = IssueSink(valid_repo_path, cap=DEFAULT_CAP, levels=levels)
    for lineno, line in _lines(train):
        vline = wanted.pop(hash(line), None)
        if vline is not None:
            sink.add("train_valid_overlap", vline,
                     f"validation example also appears in {train_repo_path} at line {lineno}",
                     "Keep validation examples out of the training file.")
    return sink.diagnostics()


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    lineno = 0
    for lines in iter_chunks(path):
        for line in lines:
            lineno += 1
            stripped = line.strip()
            if stripped:
                yield lineno, stripped
