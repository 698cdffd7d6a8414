"""Rules across manifests: unique names, {ref:} targets that exist, no reference cycles, and
a hand-made job adopted by one manifest at most."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.diagnostics import Diagnostic, error
from reconciler.loader.manifests import Loaded
from reconciler.refs import cycle_through, parent_of
from reconciler.spec import ParentRef


def unique(loaded: list[Loaded]) -> list[Loaded]:
    """The first definition of each name (duplicates are reported, not loaded twice)."""
    seen: dict[str, Loaded] = {}
    for item in loaded:
        if item.name is not None:
            seen.setdefault(item.name, item)
    return list(seen.values())


def cross_checks(loaded: list[Loaded]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    first: dict[str, Loaded] = {}
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
    diags.extend(_adopt_checks(first))
    return diags


def _adopt_checks(by_name: Mapping[str, Loaded]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    owner: dict[str, str] = {}
    for name, item in by_name.items():
        job = item.manifest.spec.adopt if item.manifest else None
        if job is None:
            continue
        if job in owner:
            diags.append(error(
                f"job {job} is already adopted by '{owner[job]}'",
                "A job can be adopted by one manifest only.",
                subject=item.doc.locate(("spec", "adopt")), address=name,
            ))
        else:
            owner[job] = name
    return diags


def _ref_checks(by_name: Mapping[str, Loaded]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    parents = {name: parent_of(item.manifest) for name, item in by_name.items()}
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
        cycle = cycle_through(parents, name)
        if cycle:
            diags.append(error(f"reference cycle: {' -> '.join(cycle)}",
                               "A model cannot build on itself, directly or through others.",
                               subject=where, address=name))
    return diags
