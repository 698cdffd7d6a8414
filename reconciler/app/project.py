"""Load a whole project: manifests and settings (loader) plus every referenced dataset.

The use case behind `validate`, `plan` and every command that needs the desired state: it
runs the loader, then inspects each dataset the manifests name (format, counts, tokens,
sha256) and the overlap of training and validation files, and merges every diagnostic into
one sorted list. No network.
"""

from __future__ import annotations

import dataclasses
import os
from types import MappingProxyType

from reconciler import datasets
from reconciler.datasets.codes import check_overrides, project_levels
from reconciler.diagnostics import Diagnostic, sorted_diagnostics
from reconciler.loader import LoadResult, check_dataset_path, load_project, resolve_base_model
from reconciler.spec import DatasetInfo, Desired, Manifest


def load(directory: str, config: str | None = None, *, with_datasets: bool = True) -> LoadResult:
    """load_project + datasets.inspect for every referenced dataset (+ overlap)."""
    result = load_project(directory, config)
    if result.desired is None or not with_datasets:
        return result
    infos, diags = _inspect_all(result.desired)
    diags.extend(check_overrides(result.desired.settings.dataset_rules))
    desired = dataclasses.replace(result.desired, datasets=MappingProxyType(infos))
    merged = _dedupe((*result.diagnostics, *diags))
    return LoadResult(desired, sorted_diagnostics(merged), result.sources)


def _inspect_all(desired: Desired) -> tuple[dict[str, DatasetInfo], list[Diagnostic]]:
    root = desired.settings.root
    cache_dir: str | None = os.path.join(root, ".ftctl", "cache")
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(os.path.join(root, ".ftctl"))]) \
            != real_root:
        cache_dir = None  # a committed .ftctl symlink must not make us write outside the repo
    infos: dict[str, DatasetInfo] = {}
    diags: list[Diagnostic] = []
    done: set[tuple[str, str | None, str]] = set()
    overlaps: set[tuple[str, str]] = set()
    levels = project_levels(desired.settings.dataset_rules)
    for manifest in desired.manifests:  # sorted by name, so the first user wins: deterministic
        base = resolve_base_model(desired, manifest.name)
        method = manifest.spec.method.type.value
        valid = manifest.spec.validation_file
        for path in _usable_paths(manifest, root):
            if (path, base, method) in done:
                continue
            done.add((path, base, method))
            # A validation file need not reach the training file's minimum example count.
            is_validation = valid is not None and path == valid.repo_path
            info, found = datasets.inspect(
                root, path, base_model=base, method=method, cache_dir=cache_dir,
                validation=is_validation, levels=levels,
            )
            infos.setdefault(path, info)
            diags.extend(found)
        pair = _overlap_pair(manifest, root)
        if pair and pair not in overlaps:
            overlaps.add(pair)
            diags.extend(datasets.check_overlap(root, *pair, levels=levels))
    return dict(sorted(infos.items())), diags


def _usable_paths(manifest: Manifest, root: str) -> list[str]:
    """Dataset paths that passed the loader's checks (others are already reported)."""
    refs = [manifest.spec.training_file, manifest.spec.validation_file]
    return [r.repo_path for r in refs if r and not check_dataset_path(r.repo_path, "", root, None)]


def _overlap_pair(manifest: Manifest, root: str) -> tuple[str, str] | None:
    valid = manifest.spec.validation_file
    if valid is None:
        return None
    paths = _usable_paths(manifest, root)
    train = manifest.spec.training_file.repo_path
    if train in paths and valid.repo_path in paths and train != valid.repo_path:
        return (train, valid.repo_path)
    return None


def _dedupe(diags: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for d in diags:
        key = (str(d.subject), d.summary, d.code)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
