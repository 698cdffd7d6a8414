"""Manifest documents -> Manifest values, with the checks that need the disk (dataset paths).

Each document is checked against the manifest schema first; a document that passes becomes a
spec.Manifest. Dataset paths must be relative, stay inside the project (symlinks resolved) and
name an existing file. Problems are collected, never raised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.diagnostics import Diagnostic, Diagnostics, SourceRange, error
from reconciler.loader.schemas import MANIFEST_SCHEMA, checker
from reconciler.paths import Listing, stays_inside
from reconciler.schema import schema_problem
from reconciler.spec import (
    Check,
    DatasetRef,
    Deployment,
    DeploymentSku,
    Evaluation,
    Grader,
    GraderType,
    Lifecycle,
    Manifest,
    Method,
    MethodType,
    ModelSpec,
    ParentRef,
    Promotion,
    UpdatePolicy,
)
from reconciler.yaml_document import Document, parse


@dataclass(frozen=True, slots=True)
class Loaded:
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


def load_manifests(text: str, rel: str, root: str, diags: list[Diagnostic],
                   listing: Listing | None = None) -> list[Loaded]:
    """Every document of one manifest file; problems go to `diags`. `listing`: the project's
    directories as listed for this load, to check dataset paths without system calls."""
    docs, problems = parse(text, rel)
    diags.extend(problems)
    out = []
    for doc in docs:
        schema_problems = _schema_problems(doc, problems)
        diags.extend(schema_problems)
        if schema_problems or _has_yaml_problems(doc, problems):
            diags.extend(_loose_dataset_checks(doc, rel, root, listing))
            out.append(Loaded(None, doc))  # its name still counts for {ref:} checks
            continue
        manifest, found = _manifest(doc, rel, root, listing)
        diags.extend(found)
        out.append(Loaded(manifest, doc))
    return out


def _schema_problems(doc: Document, yaml_problems: Diagnostics) -> Diagnostics:
    # A value the YAML layer already refused (a tag, an infinity) is not reported twice.
    reported = {d.subject for d in yaml_problems}
    found = tuple(d for d in _with_owner(checker(MANIFEST_SCHEMA).check(doc), doc)
                  if d.subject not in reported)
    if _foreign_kind(doc):
        # Another kind of YAML (a workflow, a Project): one clear error, not dozens.
        where = doc.locate(("kind",))
        return tuple(d for d in found if d.subject == where)
    if _not_a_manifest(doc):
        return (error(
            "not an ftctl manifest: apiVersion, kind, metadata and spec are all missing",
            "This file matched a pattern under `manifests:` in ftctl.yaml. Start it with "
            "`apiVersion: ftctl/v1` and `kind: FineTunedModel`, or narrow the pattern.",
            subject=doc.start,
        ),)
    return found


def _foreign_kind(doc: Document) -> bool:
    data = doc.data
    return isinstance(data, dict) and "kind" in data and data["kind"] != "FineTunedModel"


def _not_a_manifest(doc: Document) -> bool:
    data = doc.data
    keys = ("apiVersion", "kind", "metadata", "spec")
    return not isinstance(data, dict) or not any(k in data for k in keys)


def _has_yaml_problems(doc: Document, problems: Diagnostics) -> bool:
    """Whether a YAML-level problem (a refused tag, a duplicate key) lies inside `doc`.

    Such a document may still pass the schema with a stand-in value, so it is not turned into
    a Manifest.
    """
    if not problems:
        return False  # the common case; lines() walks every position of the document
    first, last = doc.lines() or (0, -1)
    return any(d.subject is not None and first <= d.subject.line <= last for d in problems)


def _with_owner(diags: Diagnostics, doc: Document) -> Diagnostics:
    """Prefix addresses with the model name (`support-bot.spec.method`) when it is known."""
    if not diags:
        return diags
    name = Loaded(None, doc).name
    if name is None:
        return diags
    return tuple(
        dataclasses.replace(d, address=f"{name}.{d.address}" if d.address else name)
        for d in diags
    )


def _loose_dataset_checks(doc: Document, rel: str, root: str,
                          listing: Listing | None) -> list[Diagnostic]:
    """Dataset path checks for a document that failed the schema, so all is reported at once."""
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    if not isinstance(spec, dict):
        return []
    out: list[Diagnostic] = []
    for key in ("training_file", "validation_file"):
        if isinstance(spec.get(key), str) and spec[key]:
            where = doc.locate(("spec", key))
            out.extend(check_dataset_path(spec[key], posixpath.dirname(rel), root, where,
                                          listing))
    evaluation = spec.get("evaluation")
    if isinstance(evaluation, dict) and isinstance(evaluation.get("dataset"), str):
        where = doc.locate(("spec", "evaluation", "dataset"))
        out.extend(check_dataset_path(evaluation["dataset"], posixpath.dirname(rel), root, where,
                                      listing))
    return out


def _manifest(doc: Document, rel: str, root: str,
              listing: Listing | None) -> tuple[Manifest, list[Diagnostic]]:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    meta, s = data["metadata"], data["spec"]
    diags: list[Diagnostic] = []
    base = posixpath.dirname(rel)

    def dataset(key: str) -> DatasetRef | None:
        if key not in s:
            return None
        where = doc.locate(("spec", key))
        problems = check_dataset_path(s[key], base, root, where, listing)
        diags.extend(problems)
        return DatasetRef(path=s[key], repo_path=_join(base, s[key]), source=where,
                          usable=not problems)

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
        lifecycle=_lifecycle(s.get("lifecycle", {}),
                             doc.locate(("spec", "lifecycle", "prevent_destroy"), prefer_key=True)),
        checks=_checks(doc, diags),
        adopt=s.get("adopt"),
        evaluation=_evaluation(doc, base, root, diags, listing),
        model_source=doc.locate(("spec", "model")),
        deployment=_deployment(doc, meta["name"]),
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


def _deployment(doc: Document, name: str) -> Deployment | None:
    raw = doc.data["spec"].get("deployment")  # type: ignore[index]
    if raw is None:
        return None
    return Deployment(
        name=raw.get("name", name),
        sku=DeploymentSku(raw.get("sku", DeploymentSku.STANDARD.value)),
        capacity=int(raw.get("capacity", 1)),
        source=doc.locate(("spec", "deployment"), prefer_key=True),
    )


def _lifecycle(raw: Mapping[str, Any], where: SourceRange | None) -> Lifecycle:
    return Lifecycle(
        prevent_destroy=bool(raw.get("prevent_destroy", False)),
        keep_versions=int(raw.get("keep_versions", 1)),
        ignore_changes=tuple(raw.get("ignore_changes", ())),
        source=where,
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


def _evaluation(doc: Document, base: str, root: str, diags: list[Diagnostic],
                listing: Listing | None) -> Evaluation | None:
    """spec.evaluation, with the checks the schema cannot make: the eval set's path, grader
    names unique, promote naming existing graders, regex patterns and JSON Schemas valid."""
    raw = doc.data["spec"].get("evaluation")  # type: ignore[index]
    if raw is None:
        return None
    at = ("spec", "evaluation")
    where = doc.locate((*at, "dataset"))
    path_problems = check_dataset_path(raw["dataset"], base, root, where, listing)
    diags.extend(path_problems)
    dataset = DatasetRef(path=raw["dataset"], repo_path=_join(base, raw["dataset"]),
                         source=where, usable=not path_problems)
    graders: list[Grader] = []
    for i, g in enumerate(raw["graders"]):
        if any(other.name == g["name"] for other in graders):
            diags.append(error(f"grader name '{g['name']}' is used twice",
                               "Each grader names one metric; give them different names.",
                               subject=doc.locate((*at, "graders", i, "name"))))
        diags.extend(_grader_problems(doc, (*at, "graders", i), g))
        schema = g.get("schema")
        graders.append(Grader(
            name=g["name"], type=GraderType(g["type"]), pattern=g.get("pattern"),
            schema_json=_canonical(schema) if schema is not None else None,
            tolerance=float(g.get("tolerance", 0.0)),
        ))
    promote = raw.get("promote", {})
    names = {g.name for g in graders}
    for rule in ("min", "max_regression"):
        for key in promote.get(rule, {}):
            if key not in names:
                diags.append(error(
                    f"promote.{rule} names grader '{key}', which is not defined",
                    f"Graders of this evaluation: {', '.join(sorted(names))}.",
                    subject=doc.locate((*at, "promote", rule, key), prefer_key=True),
                ))
    return Evaluation(dataset=dataset, graders=tuple(graders), promote=Promotion(
        minimum=tuple(sorted((k, float(v)) for k, v in promote.get("min", {}).items())),
        max_regression=tuple(sorted(
            (k, float(v)) for k, v in promote.get("max_regression", {}).items())),
    ), dataset_sha256="" if path_problems else _file_sha256(root, dataset.repo_path))


def _file_sha256(root: str, repo_path: str) -> str:
    """sha256 of a file inside the project ("" when it cannot be read: reported elsewhere)."""
    digest = hashlib.sha256()
    try:
        with open(os.path.join(root, repo_path), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


_GRADER_OPTIONS = {"pattern": GraderType.REGEX, "schema": GraderType.JSON_SCHEMA,
                   "tolerance": GraderType.NUMERIC}


def _grader_problems(doc: Document, path: tuple[str | int, ...],
                     raw: Mapping[str, Any]) -> list[Diagnostic]:
    out = []
    for option, kind in _GRADER_OPTIONS.items():
        if option in raw and raw["type"] != kind.value:
            out.append(error(f"{option} is only used by graders of type {kind.value}",
                             subject=doc.locate((*path, option), prefer_key=True)))
    if "pattern" in raw:
        try:
            re.compile(raw["pattern"])
        except re.error as exc:
            out.append(error(f"pattern: invalid regular expression: {exc}",
                             subject=doc.locate((*path, "pattern"))))
    if "schema" in raw and (problem := schema_problem(raw["schema"])) is not None:
        out.append(error(f"schema: not a valid JSON Schema: {problem}",
                         subject=doc.locate((*path, "schema"))))
    return out


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_DRIVE = re.compile(r"^[A-Za-z]:")  # C:\data or C:/data: absolute on Windows


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path.replace("\\", "/")))


def check_dataset_path(
    path: str, base: str, root: str, where: SourceRange | None, listing: Listing | None = None
) -> Diagnostics:
    """A dataset path must be relative, stay inside the project, and name an existing file.

    base: the manifest's directory relative to root (POSIX). Symlinks are resolved, so a link
    inside the project that points outside it is refused like a `..` path. listing: the
    project's directories as listed for this load (fewer system calls; same answers).
    """
    if os.path.isabs(path) or path.startswith(("/", "\\")) or _DRIVE.match(path):
        return (error(f"dataset path '{path}' is absolute",
                      "Write it relative to the manifest, inside the project.", subject=where),)
    rel = _join(base, path)
    if rel == ".." or rel.startswith("../"):
        return (error(f"dataset path '{path}' escapes the project directory",
                      "Datasets must live inside the project (the directory of ftctl.yaml).",
                      subject=where),)
    entry = listing.plain(rel) if listing is not None else None
    if entry is not None:  # inside, no symlink on the way, and its type already known
        if entry.is_file(follow_symlinks=False):
            return ()
        return (error(f"dataset path '{path}' is not a file", subject=where),)
    full = os.path.join(root, rel)
    if not stays_inside(root, rel):
        return (error(f"dataset path '{path}' is a symlink that resolves outside the project",
                      subject=where),)
    try:
        mode = os.stat(full).st_mode  # one stat for "exists" and "is a file"
    except (OSError, ValueError):
        return (error(f"dataset file not found: '{path}'",
                      f"Looked for {rel} (relative to the project directory).", subject=where),)
    if not stat.S_ISREG(mode):
        return (error(f"dataset path '{path}' is not a file", subject=where),)
    return ()
