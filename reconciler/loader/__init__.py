"""Read ftctl.yaml and every manifest from disk -> Desired + Diagnostics.

Owns the disk side of the desired state: finding files, reading text, settings. Parsing is
yaml_document's, schema checks are schema's (against the JSON Schema files in schemas/, the
single definition); manifests.py builds Manifest values and checks dataset paths, and
crosscheck.py holds the rules across manifests (duplicate names, {ref:} targets, cycles).
Every problem is collected; nothing is raised for user mistakes.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler.basemodels import static_check
from reconciler.diagnostics import Diagnostic, Diagnostics, SourceRange, error, sorted_diagnostics
from reconciler.diagnostics import warning as warn
from reconciler.endpoint import base_url_problem
from reconciler.loader.crosscheck import cross_checks, unique
from reconciler.loader.manifests import (
    Loaded,
    check_dataset_path,
    load_manifests,
)
from reconciler.loader.provider import provider_diagnostics, provider_settings
from reconciler.loader.schemas import MANIFEST_SCHEMA, PROJECT_SCHEMA, checker, schema_text
from reconciler.paths import Listing, inside, stays_inside
from reconciler.spec import (
    Desired,
    Manifest,
    Price,
    RuleOverride,
    Settings,
)
from reconciler.yaml_document import Document, parse

__all__ = [
    "MANIFEST_SCHEMA", "PROJECT_SCHEMA", "SETTINGS_FILE", "LoadResult", "check_dataset_path",
    "load_project", "schema_text",
]

SETTINGS_FILE = "ftctl.yaml"
MAX_FILE_BYTES = 1 << 20  # a manifest is a few hundred bytes; refuse anything absurd


@dataclass(frozen=True, slots=True)
class LoadResult:
    """desired is None only when the settings could not be read at all."""

    desired: Desired | None
    diagnostics: Diagnostics
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def load_project(
    directory: str, config: str | None = None, *, require_manifests: bool = True,
    on_settings: Callable[[Settings], None] | None = None,
) -> LoadResult:
    """Settings plus every manifest they point at. Desired.datasets is left empty.

    Finding no manifest is an error when `require_manifests` (validate, plan and apply would
    otherwise compare the remote with nothing), else a warning (show, jobs, models: a project
    whose manifests are all gone still has models to look at and clean up). `on_settings` is
    called with valid settings before the manifests are read (plan starts its refresh there).
    """
    settings_path = os.path.abspath(os.path.join(directory, config or SETTINGS_FILE))
    root = os.path.dirname(settings_path)
    label = os.path.basename(settings_path)
    sources: dict[str, str] = {}
    if not inside(root, settings_path):
        # A pull request may replace ftctl.yaml with a link to /proc/self/environ or ~/.netrc.
        return LoadResult(None, (error(
            "the settings file is a symlink that resolves outside the project directory",
            "Make it a regular file inside the project.", subject=SourceRange(file=label)),))
    text, diags = _read(settings_path, label, settings=True)
    if text is None:
        return LoadResult(None, diags, MappingProxyType(sources))
    sources[label] = text
    settings, doc, problems = _load_settings(text, label, root)
    if doc is None:
        return LoadResult(None, sorted_diagnostics((*diags, *problems)), MappingProxyType(sources))
    if settings is not None and on_settings is not None:
        on_settings(settings)
    # Broken settings still name the manifests, so their problems are reported in the same run.
    found = _load_manifest_files(settings or _fallback_settings(doc, root, label), doc, sources,
                                 required=require_manifests)
    all_diags = [*problems, *found[1]]
    if settings is None:
        return LoadResult(None, sorted_diagnostics(all_diags), MappingProxyType(sources))
    desired = Desired(settings=settings, manifests=found[0])
    return LoadResult(desired, sorted_diagnostics(all_diags), MappingProxyType(sources))


def _load_manifest_files(
    settings: Settings, doc: Document, sources: dict[str, str], *, required: bool
) -> tuple[tuple[Manifest, ...], list[Diagnostic]]:
    """Every manifest the patterns match, sorted by name, plus all their problems."""
    loaded: list[Loaded] = []
    listing = Listing(settings.root)
    files, problems = _manifest_files(settings, doc, listing, required=required)
    diags = list(problems)
    for rel in files:
        text, problems = _read(os.path.join(settings.root, rel), rel)
        diags.extend(problems)
        if text is not None:
            sources[rel] = text
            loaded.extend(load_manifests(text, rel, settings.root, diags, listing))
    if files and not loaded and not diags:
        diags.append((error if required else warn)(
            "no manifests found: the matched files hold no YAML documents",
            "Matched: " + ", ".join(files), subject=_manifests_key(doc, settings)))
    diags.extend(cross_checks(loaded))
    valid = [item.manifest for item in unique(loaded) if item.manifest is not None]
    diags.extend(d for d in map(static_check, valid) if d is not None)
    if settings.workspace and not settings.provider.speaks_azure:  # fallback settings: unknown
        diags.extend(_ignored_deployments(valid, settings))
    return tuple(sorted(valid, key=lambda m: m.name)), diags


def _ignored_deployments(manifests: list[Manifest], settings: Settings) -> list[Diagnostic]:
    """spec.deployment on a provider without deployments: valid, so one manifest serves both."""
    kind = settings.provider.type.value
    return [
        warn(f"spec.deployment is ignored: provider {kind} has no deployments",
             "Only Azure OpenAI serves models through deployments (provider type azure, or "
             "local with dialect azure); elsewhere the model id is used directly.",
             subject=m.spec.deployment.source)
        for m in manifests if m.spec.deployment is not None
    ]


def _fallback_settings(doc: Document, root: str, label: str) -> Settings:
    """Just enough of invalid settings to find the manifests: their patterns, when usable."""
    data = doc.data if isinstance(doc.data, dict) else {}
    raw = data.get("manifests")
    items: list[object] = raw if isinstance(raw, list) else []
    patterns = tuple(p for p in items if isinstance(p, str) and p)
    base = Settings(workspace="", root=root, source=SourceRange(file=label, line=1, column=1))
    if patterns and len(patterns) == len(items):
        return dataclasses.replace(base, manifests=patterns)
    return base


def _read(path: str, label: str, *, settings: bool = False) -> tuple[str | None, Diagnostics]:
    where = SourceRange(file=label)
    try:
        # Bytes decoded in one go: a text-mode file object costs more than the read itself.
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_FILE_BYTES:
                return None, (error(f"file is larger than {MAX_FILE_BYTES} bytes",
                                    subject=where),)
            text = fh.read().decode("utf-8")
        # Universal newlines, as text mode reads them: \r\n and a lone \r become \n.
        return (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text), ()
    except FileNotFoundError:
        if settings:
            return None, (error(f"settings file not found: {path}",
                                "Run `ftctl init` to create one, or pass -C DIR / --config FILE.",
                                subject=where),)
        return None, (error("file not found", subject=where),)
    except UnicodeDecodeError as exc:
        return None, (_not_utf8(exc, label),)
    except OSError as exc:
        return None, (error(f"cannot read file: {exc.strerror}", subject=where),)


def _not_utf8(exc: UnicodeDecodeError, label: str) -> Diagnostic:
    """Located at the first bad byte (column counted in bytes, as the editor cannot decode)."""
    data = bytes(exc.object)
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    where = SourceRange(file=label, line=line, column=column)
    return error(f"file is not valid UTF-8 (byte {exc.start})", "Save the file as UTF-8.",
                 subject=where)


# --- settings -------------------------------------------------------------------------------


def _load_settings(
    text: str, label: str, root: str
) -> tuple[Settings | None, Document | None, Diagnostics]:
    docs, diags = parse(text, label)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        if not diags:
            diags = (error("the settings file must hold one YAML mapping (kind: Project)",
                           subject=SourceRange(file=label, line=1)),)
        return None, None, diags
    doc = docs[0]
    reported = {d.subject for d in diags}  # a refused tag is not reported twice
    schema = [d for d in checker(PROJECT_SCHEMA).check(doc) if d.subject not in reported]
    if diags or schema:
        return None, doc, sorted_diagnostics((*diags, *schema))
    return _settings(doc, root), doc, (*_base_url_errors(doc), *provider_diagnostics(doc))


def _base_url_errors(doc: Document) -> Diagnostics:
    """The client's base URL rule, reported here at its line instead of later by plan."""
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    provider: dict[str, Any] = data.get("provider", {})
    url = provider.get("base_url")
    if provider.get("type", "local") == "local" or url is None:
        return ()  # local ignores base_url (a warning says so)
    problem = base_url_problem(url, allow_insecure_http=bool(
        provider.get("allow_insecure_http", False)))
    if problem is None:
        return ()
    return (error(problem, subject=doc.locate(("provider", "base_url"))),)


def _settings(doc: Document, root: str) -> Settings:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    provider = provider_settings(data.get("provider", {}))
    prices = tuple(
        Price(model=x["model"], training_per_1m=float(x["training_per_1m"]),
              input_per_1m=_float(x.get("input_per_1m")),
              output_per_1m=_float(x.get("output_per_1m")),
              hosting_per_hour=_float(x.get("hosting_per_hour")))
        for x in data.get("prices", [])
    )
    extra = {"manifests": tuple(data["manifests"])} if "manifests" in data else {}
    rules = data.get("datasets", {}).get("rules", {})
    dataset_rules = tuple(
        # YAML 1.1 reads a bare `off` as false.
        RuleOverride(code, "off" if level is False else level,
                     doc.locate(("datasets", "rules", code), prefer_key=True))
        for code, level in rules.items()
    )
    return Settings(
        workspace=data["workspace"], root=root, provider=provider, prices=prices,
        prune=bool(data.get("prune", False)), concurrency=int(data.get("concurrency", 4)),
        delete_unneeded_files=bool(data.get("delete_unneeded_files", True)),
        dataset_rules=dataset_rules, source=doc.start, **extra,
    )


def _float(value: object) -> float | None:
    """A schema-checked number, or None when absent (the optional prices)."""
    return None if value is None else float(value)  # type: ignore[arg-type]


def _manifest_files(
    settings: Settings, doc: Document, listing: Listing, *, required: bool
) -> tuple[list[str], Diagnostics]:
    """Files matched by the manifest patterns, each inside the project (symlinks resolved)."""
    found: set[str] = set()
    diags: list[Diagnostic] = []
    settings_file = settings.source.file if settings.source else SETTINGS_FILE
    for i, pattern in enumerate(settings.manifests):
        where = doc.locate(("manifests", i)) or settings.source
        if os.path.isabs(pattern) or ".." in pattern.replace("\\", "/").split("/"):
            diags.append(error(f"manifest pattern must stay inside the project: {pattern}",
                               subject=where))
            continue
        for rel in _expand(pattern, settings.root, listing):
            entry = listing.plain(rel)
            is_file = (entry.is_file(follow_symlinks=False) if entry is not None
                       else os.path.isfile(os.path.join(settings.root, rel)))
            # A broad pattern such as **/*.yaml must not read the settings file as a manifest.
            if rel == settings_file or not is_file or rel in found:
                continue
            if not stays_inside(settings.root, rel, listing):
                diags.append(error(
                    f"manifest {rel} resolves outside the project through a symlink",
                    f"Matched by '{pattern}'; it was not read. Manifests must live inside the "
                    "project directory.", subject=where,
                ))
                continue
            found.add(rel)
    if not found and not diags:
        # Planning against nothing would report every model as unwanted, or "No changes".
        diags.append((error if required else warn)(
            "no manifests found",
            "Nothing matched `manifests:` (" + ", ".join(settings.manifests) + "). List "
            "manifest files, glob patterns (models/**/*.yaml) or directories (models/).",
            subject=_manifests_key(doc, settings)))
    return sorted(found), tuple(diags)


MANIFEST_SUFFIXES = (".yaml", ".yml")


def _manifests_key(doc: Document, settings: Settings) -> SourceRange | None:
    return doc.locate(("manifests",), prefer_key=True) or settings.source


def _expand(pattern: str, root: str, listing: Listing) -> list[str]:
    """Paths (POSIX, relative to root) a `manifests:` entry names, sorted.

    A glob match that is a directory stands for every *.yaml / *.yml file below it, as
    `kubectl apply -f dir/` reads a directory; hidden files and directories are skipped, as
    glob skips them.
    """
    out: list[str] = []
    for rel in sorted(glob.glob(pattern, root_dir=root, recursive=True)):
        full = os.path.join(root, rel)
        posix = os.path.normpath(rel).replace(os.sep, "/")
        entry = listing.plain(posix)
        if not (entry.is_dir(follow_symlinks=False) if entry is not None else os.path.isdir(full)):
            out.append(posix)
            continue
        for here, dirs, files in os.walk(full):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            out.extend(
                os.path.relpath(os.path.join(here, name), root).replace(os.sep, "/")
                for name in sorted(files)
                if name.endswith(MANIFEST_SUFFIXES) and not name.startswith(".")
            )
    return out
