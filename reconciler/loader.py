"""Read ftctl.yaml and every manifest from disk -> Desired + Diagnostics.

Owns the disk side of the desired state: finding files, reading text, checking dataset paths
(exist, stay inside the project, no symlink escapes). Parsing is sourcemap's, schema checks are
schema's (against the JSON Schema files in schemas/, the single definition), and the
cross-manifest rules (duplicate names, {ref:} targets and cycles) live at the end of this
module. Every problem is collected; nothing is raised for user mistakes.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import json
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from reconciler.diagnostics import Diagnostic, Diagnostics, SourceRange, error, sorted_diagnostics
from reconciler.diagnostics import warning as warn
from reconciler.schema import SchemaChecker
from reconciler.sourcemap import Document, parse
from reconciler.spec import (
    Check,
    DatasetRef,
    Desired,
    Lifecycle,
    Manifest,
    Method,
    MethodType,
    ModelSpec,
    ParentRef,
    Price,
    ProviderSettings,
    ProviderType,
    Settings,
    UpdatePolicy,
)

SETTINGS_FILE = "ftctl.yaml"
MANIFEST_SCHEMA = "ftctl-manifest.schema.json"
PROJECT_SCHEMA = "ftctl-project.schema.json"
MAX_FILE_BYTES = 1 << 20  # a manifest is a few hundred bytes; refuse anything absurd


@dataclass(frozen=True, slots=True)
class LoadResult:
    """desired is None only when the settings could not be read at all."""

    desired: Desired | None
    diagnostics: Diagnostics
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@functools.cache
def schema_text(name: str) -> str:
    """The text of one of the packaged JSON Schema files (schemas/ in the repository)."""
    return (resources.files("reconciler") / "schemas" / name).read_text(encoding="utf-8")


@functools.cache
def _checker(name: str) -> SchemaChecker:
    return SchemaChecker(json.loads(schema_text(name)))


def load_project(directory: str, config: str | None = None) -> LoadResult:
    """Settings plus every manifest they point at. Desired.datasets is left empty."""
    settings_path = os.path.abspath(os.path.join(directory, config or SETTINGS_FILE))
    root = os.path.dirname(settings_path)
    label = os.path.basename(settings_path)
    sources: dict[str, str] = {}
    text, diags = _read(settings_path, label, settings=True)
    if text is None:
        return LoadResult(None, diags, MappingProxyType(sources))
    sources[label] = text
    settings, problems = _load_settings(text, label, root)
    if settings is None:
        return LoadResult(None, sorted_diagnostics((*diags, *problems)), MappingProxyType(sources))
    all_diags = list(problems)
    loaded: list[_Loaded] = []
    files, problems = _manifest_files(settings)
    all_diags.extend(problems)
    for rel in files:
        text, problems = _read(os.path.join(root, rel), rel)
        all_diags.extend(problems)
        if text is not None:
            sources[rel] = text
            loaded.extend(_load_manifests(text, rel, root, all_diags))
    all_diags.extend(_cross_checks(loaded))
    valid = [item.manifest for item in _unique(loaded) if item.manifest is not None]
    manifests = tuple(sorted(valid, key=lambda m: m.name))
    desired = Desired(settings=settings, manifests=manifests)
    return LoadResult(desired, sorted_diagnostics(all_diags), MappingProxyType(sources))


def resolve_base_model(desired: Desired, name: str) -> str | None:
    """The base model at the root of `name`'s {ref:} chain; None if missing or cyclic."""
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        manifest = desired.manifest(current)
        if manifest is None:
            return None
        model = manifest.spec.model
        if isinstance(model, str):
            return model
        current = model.name
    return None


def _read(path: str, label: str, *, settings: bool = False) -> tuple[str | None, Diagnostics]:
    where = SourceRange(file=label)
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return None, (error(f"file is larger than {MAX_FILE_BYTES} bytes", subject=where),)
        with open(path, encoding="utf-8") as fh:
            return fh.read(), ()
    except FileNotFoundError:
        if settings:
            return None, (error(f"settings file not found: {path}",
                                "Run `ftctl init` to create one, or pass -C DIR / --config FILE.",
                                subject=where),)
        return None, (error("file not found", subject=where),)
    except UnicodeDecodeError as exc:
        return None, (error(f"file is not valid UTF-8 (byte {exc.start})", subject=where),)
    except OSError as exc:
        return None, (error(f"cannot read file: {exc.strerror}", subject=where),)


# --- settings -------------------------------------------------------------------------------


def _load_settings(text: str, label: str, root: str) -> tuple[Settings | None, Diagnostics]:
    docs, diags = parse(text, label)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        if not diags:
            diags = (error("the settings file must hold one YAML mapping (kind: Project)",
                           subject=SourceRange(file=label, line=1)),)
        return None, diags
    doc = docs[0]
    problems = (*diags, *_checker(PROJECT_SCHEMA).check(doc))
    if problems:
        return None, sorted_diagnostics(problems)
    return _settings(doc, root), ()


def _settings(doc: Document, root: str) -> Settings:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    p = data.get("provider", {})
    provider = ProviderSettings(
        type=ProviderType(p.get("type", "local")),
        base_url=p.get("base_url"),
        organization=p.get("organization"),
        project=p.get("project"),
        allow_insecure_http=bool(p.get("allow_insecure_http", False)),
        speed=float(p.get("speed", 200.0)),
    )
    prices = tuple(
        Price(model=x["model"], training_per_1m=float(x["training_per_1m"]),
              input_per_1m=_float(x.get("input_per_1m")),
              output_per_1m=_float(x.get("output_per_1m")))
        for x in data.get("prices", [])
    )
    extra = {"manifests": tuple(data["manifests"])} if "manifests" in data else {}
    return Settings(
        workspace=data["workspace"], root=root, provider=provider, prices=prices,
        prune=bool(data.get("prune", False)), concurrency=int(data.get("concurrency", 4)),
        source=doc.start, **extra,
    )


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _manifest_files(settings: Settings) -> tuple[list[str], Diagnostics]:
    found: set[str] = set()
    diags: list[Diagnostic] = []
    settings_file = settings.source.file if settings.source else SETTINGS_FILE
    for pattern in settings.manifests:
        if os.path.isabs(pattern) or ".." in pattern.replace("\\", "/").split("/"):
            diags.append(error(f"manifest pattern must stay inside the project: {pattern}",
                               subject=settings.source))
            continue
        for rel in glob.glob(pattern, root_dir=settings.root, recursive=True):
            rel = rel.replace(os.sep, "/")
            # A broad pattern such as **/*.yaml must not read the settings file as a manifest.
            if rel != settings_file and os.path.isfile(os.path.join(settings.root, rel)):
                found.add(rel)
    if not found:
        diags.append(warn("no manifests found", "Patterns: " + ", ".join(settings.manifests),
                          subject=settings.source))
    return sorted(found), tuple(diags)


# --- manifests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A manifest document; manifest is None when the document failed the schema."""

    manifest: Manifest | None
    doc: Document

    @property
    def name(self) -> str | None:
        if self.manifest is not None:
            return self.manifest.name
        meta = self.doc.data.get("metadata") if isinstance(self.doc.data, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else None


def _load_manifests(text: str, rel: str, root: str, diags: list[Diagnostic]) -> list[_Loaded]:
    docs, problems = parse(text, rel)
    diags.extend(problems)
    # A value the YAML layer already refused (a tag, an infinity) is not reported twice.
    reported = {d.subject for d in problems}
    out = []
    for doc in docs:
        schema_problems = tuple(
            d for d in _with_owner(_checker(MANIFEST_SCHEMA).check(doc), doc)
            if d.subject not in reported
        )
        diags.extend(schema_problems)
        if schema_problems:
            diags.extend(_loose_dataset_checks(doc, rel, root))
            out.append(_Loaded(None, doc))  # its name still counts for {ref:} checks
            continue
        manifest, found = _manifest(doc, rel, root)
        diags.extend(found)
        out.append(_Loaded(manifest, doc))
    return out


def _with_owner(diags: Diagnostics, doc: Document) -> Diagnostics:
    """Prefix addresses with the model name (`support-bot.spec.method`) when it is known."""
    name = _Loaded(None, doc).name
    if name is None:
        return diags
    return tuple(
        dataclasses.replace(d, address=f"{name}.{d.address}" if d.address else name)
        for d in diags
    )


def _loose_dataset_checks(doc: Document, rel: str, root: str) -> list[Diagnostic]:
    """Dataset path checks for a document that failed the schema, so all is reported at once."""
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    if not isinstance(spec, dict):
        return []
    out: list[Diagnostic] = []
    for key in ("training_file", "validation_file"):
        if isinstance(spec.get(key), str) and spec[key]:
            where = doc.locate(("spec", key))
            out.extend(check_dataset_path(spec[key], posixpath.dirname(rel), root, where))
    return out


def _manifest(doc: Document, rel: str, root: str) -> tuple[Manifest, list[Diagnostic]]:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    meta, s = data["metadata"], data["spec"]
    diags: list[Diagnostic] = []
    base = posixpath.dirname(rel)

    def dataset(key: str) -> DatasetRef | None:
        if key not in s:
            return None
        where = doc.locate(("spec", key))
        diags.extend(check_dataset_path(s[key], base, root, where))
        return DatasetRef(path=s[key], repo_path=_join(base, s[key]), source=where)

    training = dataset("training_file")
    assert training is not None  # required by the schema
    model = s["model"]
    spec = ModelSpec(
        model=ParentRef(name=model["ref"]) if isinstance(model, dict) else model,
        training_file=training,
        validation_file=dataset("validation_file"),
        suffix=s.get("suffix"),
        method=_method(doc, diags),
        seed=s.get("seed"),
        integrations_json=_canonical(s["integrations"]) if "integrations" in s else None,
        update=UpdatePolicy(s.get("update", "retrain")),
        lifecycle=_lifecycle(s.get("lifecycle", {})),
        checks=_checks(doc, diags),
        adopt=s.get("adopt"),
    )
    if spec.validation_file and spec.validation_file.repo_path == training.repo_path:
        diags.append(error("validation_file is the same file as training_file",
                           "Validation data must not repeat the training data.",
                           subject=spec.validation_file.source))
    labels = tuple(sorted(meta.get("labels", {}).items()))
    return Manifest(name=meta["name"], spec=spec, labels=labels, source=doc.start), diags


def _method(doc: Document, diags: list[Diagnostic]) -> Method:
    raw = doc.data["spec"].get("method", {})  # type: ignore[index]
    kind = MethodType(raw.get("type", "supervised"))
    if "grader" in raw and kind is not MethodType.REINFORCEMENT:
        diags.append(error(
            f"grader is only used with method type reinforcement, not {kind.value}",
            "Remove the grader, or set method.type: reinforcement.",
            subject=doc.locate(("spec", "method", "grader"), prefer_key=True),
        ))
    hyper = tuple(sorted(raw.get("hyperparameters", {}).items()))
    grader = _canonical(raw["grader"]) if "grader" in raw else None
    return Method(type=kind, hyperparameters=hyper, grader_json=grader)


def _lifecycle(raw: Mapping[str, Any]) -> Lifecycle:
    return Lifecycle(
        prevent_destroy=bool(raw.get("prevent_destroy", False)),
        keep_versions=int(raw.get("keep_versions", 1)),
        ignore_changes=tuple(raw.get("ignore_changes", ())),
    )


def _checks(doc: Document, diags: list[Diagnostic]) -> tuple[Check, ...]:
    out = []
    for i, raw in enumerate(doc.data["spec"].get("checks", [])):  # type: ignore[index]
        pattern = raw.get("expect_regex")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                diags.append(error(
                    f"expect_regex: invalid regular expression: {exc}",
                    subject=doc.locate(("spec", "checks", i, "expect_regex")),
                ))
        out.append(Check(**raw))
    return tuple(out)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path.replace("\\", "/")))


def check_dataset_path(
    path: str, base: str, root: str, where: SourceRange | None
) -> Diagnostics:
    """A dataset path must be relative, stay inside the project, and name an existing file.

    base: the manifest's directory relative to root (POSIX). Symlinks are resolved, so a link
    inside the project that points outside it is refused like a `..` path.
    """
    if os.path.isabs(path) or path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return (error(f"dataset path '{path}' is absolute",
                      "Write it relative to the manifest, inside the project.", subject=where),)
    rel = _join(base, path)
    if rel == ".." or rel.startswith("../"):
        return (error(f"dataset path '{path}' escapes the project directory",
                      "Datasets must live inside the project (the directory of ftctl.yaml).",
                      subject=where),)
    full = os.path.join(root, rel)
    real_root = os.path.realpath(root)
    real = os.path.realpath(full)
    if os.path.lexists(full) and os.path.commonpath([real_root, real]) != real_root:
        return (error(f"dataset path '{path}' is a symlink that resolves outside the project",
                      subject=where),)
    if not os.path.exists(full):
        return (error(f"dataset file not found: '{path}'",
                      f"Looked for {rel} (relative to the project directory).", subject=where),)
    if not os.path.isfile(full):
        return (error(f"dataset path '{path}' is not a file", subject=where),)
    return ()


# --- cross-manifest rules -------------------------------------------------------------------


def _unique(loaded: list[_Loaded]) -> list[_Loaded]:
    """The first definition of each name (duplicates are reported, not loaded twice)."""
    seen: dict[str, _Loaded] = {}
    for item in loaded:
        if item.name is not None:
            seen.setdefault(item.name, item)
    return list(seen.values())


def _cross_checks(loaded: list[_Loaded]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    first: dict[str, _Loaded] = {}
    for item in loaded:
        name = item.name
        if name is None:
            continue
        if name in first:
            other = first[name].doc.locate(("metadata", "name"))
            diags.append(error(
                f"duplicate model name '{name}' (first defined at {other})",
                "Model names are unique in a workspace; rename one of them.",
                subject=item.doc.locate(("metadata", "name")), address=name,
            ))
        else:
            first[name] = item
    diags.extend(_ref_checks(first))
    return diags


def _ref_checks(by_name: Mapping[str, _Loaded]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for name, item in by_name.items():
        model = item.manifest.spec.model if item.manifest else None
        if not isinstance(model, ParentRef):
            continue
        where = item.doc.locate(("spec", "model", "ref"))
        if model.name not in by_name:
            others = [n for n in sorted(by_name) if n != name]
            detail = f"Models in this project: {', '.join(others)}." if others else \
                "There are no other models in this project."
            diags.append(error(f"{{ref: {model.name}}} names no model in this project",
                               detail, subject=where, address=name))
            continue
        cycle = _cycle_from(name, by_name)
        if cycle:
            diags.append(error(f"reference cycle: {' -> '.join(cycle)}",
                               "A model cannot build on itself, directly or through others.",
                               subject=where, address=name))
    return diags


def _parent(item: _Loaded | None) -> str | None:
    model = item.manifest.spec.model if item and item.manifest else None
    return model.name if isinstance(model, ParentRef) else None


def _cycle_from(name: str, by_name: Mapping[str, _Loaded]) -> list[str]:
    chain = [name]
    current = _parent(by_name.get(name))
    while current is not None:
        if current == name:
            return [*chain, name]
        if current in chain:
            return []  # a cycle further up; reported at its own members
        chain.append(current)
        current = _parent(by_name.get(current))
    return []
