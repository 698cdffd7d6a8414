"""The bad-input corpus as cases, the projects they are dropped into, and a counting emulator.

A case is one malformed file from corpus/ (a manifest, a settings file or a dataset) placed
into an otherwise valid project, or a generated one (symlinks out of the repository, files and
lines too big to keep in git). Every case must make `ftctl validate` and `ftctl plan` exit 1
with a located message (FILE:LINE), no traceback, and no remote request that changes anything.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from reconciler.emulator import make_app

CORPUS = Path(__file__).resolve().parent / "corpus"
OUTSIDE_MARKER = "OUTSIDE-THE-REPOSITORY-7f3a"  # in files outside the repo; must never surface
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SETTINGS = """\
apiVersion: ftctl/v1
kind: Project
workspace: badinput
provider: {type: local}
"""

MANIFEST = """\
apiVersion: ftctl/v1
kind: FineTunedModel
metadata:
  name: ok
spec:
  model: gpt-4o-mini-2024-07-18
  training_file: ../data/train.jsonl
"""

class QuietHandler(WSGIRequestHandler):
    """No access log line per request on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None



def chat_lines(n: int = 12, tag: str = "q") -> str:
    rows = [json.dumps({"messages": [{"role": "user", "content": f"{tag} question {i}"},
                                     {"role": "assistant", "content": f"{tag} answer {i}"}]})
            for i in range(n)]
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Case:
    """kind: manifests | settings | datasets | generated. build(root, outside) lays it out."""

    kind: str
    name: str
    build: Callable[[Path, Path], None]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


def make_project(base: Path, case: Case) -> Path:
    """A valid project at base/repo, a directory base/outside with secrets, then the case."""
    root, outside = base / "repo", base / "outside"
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    outside.mkdir()
    (root / "ftctl.yaml").write_text(SETTINGS)
    (root / "data" / "train.jsonl").write_text(chat_lines())
    (outside / "secret.jsonl").write_text(chat_lines(tag=OUTSIDE_MARKER))
    (outside / "secret.yaml").write_text(MANIFEST.replace("name: ok", f"name: {OUTSIDE_MARKER}"))
    case.build(root, outside)
    return root


def _placed(kind: str, source: Path) -> Callable[[Path, Path], None]:
    def build(root: Path, outside: Path) -> None:
        data = source.read_bytes()
        if kind == "manifests":
            (root / "models" / source.name).write_bytes(data)
        elif kind == "settings":
            (root / "ftctl.yaml").write_bytes(data)
            (root / "models" / "ok.yaml").write_text(MANIFEST)
        else:
            (root / "data" / "train.jsonl").write_bytes(data)
            (root / "models" / "ok.yaml").write_text(MANIFEST)
    return build


def corpus_cases() -> list[Case]:
    cases = []
    for kind in ("manifests", "settings", "datasets"):
        for path in sorted((CORPUS / kind).iterdir()):
            cases.append(Case(kind, path.name, _placed(kind, path)))
    return cases


def _manifest_with(training: str, validation: str | None = None) -> str:
    text = MANIFEST.replace("../data/train.jsonl", training)
    return text + (f"  validation_file: {validation}\n" if validation else "")


def _symlink_dataset(root: Path, outside: Path) -> None:
    (root / "data" / "train.jsonl").unlink()
    os.symlink(outside / "secret.jsonl", root / "data" / "train.jsonl")
    (root / "models" / "ok.yaml").write_text(MANIFEST)


def _symlink_validation(root: Path, outside: Path) -> None:
    os.symlink(outside / "secret.jsonl", root / "data" / "valid.jsonl")
    (root / "models" / "ok.yaml").write_text(_manifest_with("../data/train.jsonl",
                                                            "../data/valid.jsonl"))


def _symlink_data_dir(root: Path, outside: Path) -> None:
    os.symlink(outside, root / "data" / "linked")
    (root / "models" / "ok.yaml").write_text(_manifest_with("../data/linked/secret.jsonl"))


def _symlink_relative_chain(root: Path, outside: Path) -> None:
    os.symlink("../../outside/secret.jsonl", root / "data" / "hop.jsonl")
    os.symlink("hop.jsonl", root / "data" / "chain.jsonl")
    (root / "models" / "ok.yaml").write_text(_manifest_with("../data/chain.jsonl"))


def _symlink_dev_zero(root: Path, outside: Path) -> None:
    (root / "data" / "train.jsonl").unlink()
    os.symlink("/dev/zero", root / "data" / "train.jsonl")  # endless input, outside the repo
    (root / "models" / "ok.yaml").write_text(MANIFEST)


def _symlink_manifest_out(root: Path, outside: Path) -> None:
    """A manifest file that is a symlink to a file outside the repository."""
    (root / "models" / "ok.yaml").write_text(MANIFEST)
    os.symlink(outside / "secret.yaml", root / "models" / "evil.yaml")


def _symlink_models_dir_out(root: Path, outside: Path) -> None:
    """A directory under models/ that leads outside: the manifest glob must not follow it."""
    (root / "models" / "ok.yaml").write_text(MANIFEST)
    os.symlink(outside, root / "models" / "evil")


def _huge_manifest(root: Path, outside: Path) -> None:
    pad = "# " + "x" * 998 + "\n"
    (root / "models" / "huge.yaml").write_text(MANIFEST + pad * 3000)  # ~3 MB


def _huge_line_manifest(root: Path, outside: Path) -> None:
    line = "  suffix: " + "s" * 600_000 + "\n"  # one 600 kB line, under the size cap
    (root / "models" / "ok.yaml").write_text(MANIFEST + line)


def _huge_line_dataset(root: Path, outside: Path) -> None:
    big = json.dumps({"messages": [{"role": "user", "content": "x" * 8_000_000}]})
    text = chat_lines(6) + big + "\n" + chat_lines(6, tag="r")
    (root / "data" / "train.jsonl").write_text(text)  # one 8 MB line, no assistant turn
    (root / "models" / "ok.yaml").write_text(MANIFEST)


def _many_bad_lines(root: Path, outside: Path) -> None:
    # 2,000 only: more belongs to test_scale.py (a quadratic cost in the scanner, see there).
    (root / "data" / "train.jsonl").write_text("not json\n" * 2_000)
    (root / "models" / "ok.yaml").write_text(MANIFEST)


GENERATED = [
    Case("generated", "symlink_dataset_out", _symlink_dataset),
    Case("generated", "symlink_validation_out", _symlink_validation),
    Case("generated", "symlink_data_dir_out", _symlink_data_dir),
    Case("generated", "symlink_relative_chain_out", _symlink_relative_chain),
    Case("generated", "symlink_dev_zero", _symlink_dev_zero),
    Case("generated", "symlink_manifest_file_out", _symlink_manifest_out),
    Case("generated", "symlink_models_dir_out", _symlink_models_dir_out),
    Case("generated", "huge_manifest_3mb", _huge_manifest),
    Case("generated", "huge_line_manifest", _huge_line_manifest),
    Case("generated", "huge_line_dataset", _huge_line_dataset),
    Case("generated", "many_bad_lines_dataset", _many_bad_lines),
]


def all_cases() -> list[Case]:
    return corpus_cases() + GENERATED


class Recording:
    """WSGI middleware counting requests per method in front of the emulator."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.methods: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self.methods[environ["REQUEST_METHOD"]] += 1
        result: Iterable[bytes] = self.app(environ, start_response)
        return result

    @property
    def writes(self) -> int:
        with self._lock:
            return sum(n for m, n in self.methods.items() if m in WRITE_METHODS)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.methods.values())


class CountingEmulator:
    """The emulator on a loopback port with every request counted by method."""

    def __init__(self, db_path: str, api_key: str) -> None:
        self.inner = make_app(db_path, api_key=api_key, speed=1000.0)
        self.recording = Recording(self.inner)
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.recording,
                                                   threaded=True,
                                                   request_handler=QuietHandler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self.inner.close()
