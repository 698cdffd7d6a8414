"""Scores already measured, by (model, example, grader), in .ftctl/cache/eval-scores.json.

Fine-tuned models do not change, so a score measured once holds: a re-run of an evaluation
asks the model only for examples some grader has not scored yet. Only a saving: what a version
was measured at, the metrics a gate decided on, is recorded in its verdict on the provider. The
file is read once and written once per evaluation (atomically), from the calling thread only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading

from reconciler.spec import Grader

CACHE_FILE = "eval-scores.json"
VERSION = "1"  # bump when a grader's scoring changes, so older scores are not reused
# Evaluations of several models may end at once in one apply: each save merges into the file.
_SAVING = threading.Lock()


class ScoreCache:
    """cache_dir None: nothing is remembered (a project whose .ftctl is not its own)."""

    def __init__(self, cache_dir: str | None) -> None:
        self.path = os.path.join(cache_dir, CACHE_FILE) if cache_dir else None
        self._scores: dict[str, float] = self._load()
        self._new: dict[str, float] = {}

    def get(self, model: str, example: str, grader: Grader) -> float | None:
        return self._scores.get(_key(model, example, grader))

    def put(self, model: str, example: str, grader: Grader, score: float) -> None:
        key = _key(model, example, grader)
        self._scores[key] = self._new[key] = score

    def save(self) -> None:
        """Add the scores measured since the last save to the file (what others saved since
        this cache was read is kept)."""
        if self.path is None or not self._new:
            return
        with _SAVING:
            scores = {**self._load(), **self._new}
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": VERSION, "scores": scores}, fh, sort_keys=True)
            os.replace(tmp, self.path)
        self._scores.update(scores)
        self._new = {}

    def _load(self) -> dict[str, float]:
        if self.path is None:
            return {}
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}  # missing or damaged: scores are measured again, never trusted broken
        scores = data.get("scores") if isinstance(data, dict) else None
        if data.get("version") != VERSION or not isinstance(scores, dict):
            return {}
        return {k: float(v) for k, v in scores.items() if isinstance(v, (int, float))}


def _key(model: str, example: str, grader: Grader) -> str:
    identity = json.dumps([model, example, grader.type.value, grader.pattern, grader.schema_json,
                           grader.tolerance])
    return hashlib.sha256(identity.encode()).hexdigest()
