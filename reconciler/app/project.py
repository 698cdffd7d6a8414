"""Load a whole project: manifests and settings (loader) plus every referenced dataset.

The use case behind `validate`, `plan` and every command that needs the desired state: it
runs the loader, then inspects each dataset the manifests name (format, counts, tokens,
sha256) and the overlap of training and validation files, and merges every diagnostic into
one sorted list. No network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from reconciler import datasets
from reconciler.datasets.codes import check_overrides, project_levels
from reconciler.diagnostics import Diagnostic, sorted_diagnostics, warning
from reconciler.evaluation import evalset
from reconciler.loader import LoadResult, load_project
from reconciler.paths import inside
from reconciler.refs import root_base_model
from reconciler.spec import DatasetInfo, Desired, Manifest, Settings


def load(directory: str, config: str | None = None, *, with_datasets: bool = True,
         require_manifests: bool = True,
         on_settings: Callable[[Settings], None] | None = None) -> LoadResult:
    """load_project + datasets.inspect for every referenced dataset (+ overlap).
    `on_settings`: see load_project."""
    with collector_paused():
        return _load(directory, config, with_datasets=with_datasets,
                     require_manifests=require_manifests, on_settings=on_settings)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Loading thousands of manifests, and reading 20,000 jobs into a snapshot and planning
    over them, allocate millions of small objects that stay alive; the cyclic garbage
    collector would walk that growing heap again and again (measured: 5-20% of the load's CPU
    time at 2,000 manifests, and about 0.4 s of a no-change plan against 20,000 jobs). This
    work makes next to no cyclic garbage (a refused recursive YAML alias, a few per HTTP
    exchange), and that is collected once the collector is back. Nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Everything made meanwhile joins the oldest generation directly (a freeze and
            # thaw moves it there without a walk); otherwise the first young collection after
            # the pause would walk millions of objects (0.1-0.2 s at 20,000 jobs).
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _load(directory: str, config: str | None, *, with_datasets: bool,
          require_manifests: bool, on_settings: Callable[[Settings], None] | None) -> LoadResult:
    result = load_project(directory, config, require_manifests=require_manifests,
                          on_settings=on_settings)
    if result.desired is None or not with_datasets:
        return result
    infos, diags = _inspect_all(result.desired)
    diags.extend(check_overrides(result.desired.settings.dataset_rules))
    desired = dataclasses.replace(result.desired, datasets=MappingProxyType(infos))
    merged = _dedupe((*result.diagnostics, *diags))
    return LoadResult(desired, sorted_diagnostics(merged), result.sources)


def cache_dir(root: str) -> str | None:
    """The project's cache directory (.ftctl/cache), or None when .ftctl leads outside the
    project: a committed .ftctl symlink must not make us write outside the repository."""
    if not inside(root, os.path.join(root, ".ftctl")):
        return None
    return os.path.join(root, ".ftctl", "cache")


def _inspect_all(desired: Desired) -> tuple[dict[str, DatasetInfo], list[Diagnostic]]:
    root = desired.settings.root
    cache = cache_dir(root)
    infos: dict[str, DatasetInfo] = {}
    diags: list[Diagnostic] = []
    # One inspection per (path, base, method, role): a validation file need not reach the
    # training minimum, so the same file listed as training by another manifest is checked again.
    done: set[tuple[str, str | None, str, bool]] = set()
    overlaps: set[tuple[str, str]] = set()
    index = {m.name: m for m in desired.manifests}
    levels = project_levels(desired.settings.dataset_rules)
    for manifest in desired.manifests:  # sorted by name, so the first user wins: deterministic
        base = root_base_model(index, manifest.name)
        method = manifest.spec.method.type.value
        valid = manifest.spec.validation_file
        for path in _usable_paths(manifest):
            is_validation = valid is not None and path == valid.repo_path
            if (path, base, method, is_validation) in done:
                continue
            done.add((path, base, method, is_validation))
            info, found = datasets.inspect(
                root, path, base_model=base, method=method, cache_dir=cache,
                validation=is_validation, levels=levels,
            )
            infos[path] = _merged(infos.get(path), info, base)
            diags.extend(found)
        pair = _overlap_pair(manifest)
        if pair and pair not in overlaps:
            overlaps.add(pair)
            diags.extend(datasets.check_overlap(root, *pair, levels=levels))
    diags.extend(_check_eval_sets(desired))
    return dict(sorted(infos.items())), diags


def _check_eval_sets(desired: Desired) -> list[Diagnostic]:
    """Every eval set the manifests name (once each), read and validated."""
    root = desired.settings.root
    diags: list[Diagnostic] = []
    seen: set[str] = set()
    for manifest in desired.manifests:
        evaluation = manifest.spec.evaluation
        if evaluation is None or evaluation.dataset.repo_path in seen:
            continue
        path = evaluation.dataset.repo_path
        seen.add(path)
        if evaluation.dataset.usable:  # a refused path is already reported
            diags.extend(evalset.read(root, path)[1])
    return diags


def _merged(known: DatasetInfo | None, info: DatasetInfo, base: str | None) -> DatasetInfo:
    """One DatasetInfo per path, with the token count for every base model that trains on it
    (tokenizers and per-example limits differ, and so do the costs)."""
    if known is None:
        known = info
    if base is None or any(b == base for b, _ in known.tokens_by_model):
        return known
    tokens = (*known.tokens_by_model, (base, info.tokens))
    return dataclasses.replace(known, tokens_by_model=tuple(sorted(tokens)))


def _usable_paths(manifest: Manifest) -> list[str]:
    """Dataset paths that passed the loader's checks (others are already reported)."""
    refs = [manifest.spec.training_file, manifest.spec.validation_file]
    return [r.repo_path for r in refs if r and r.usable]


def _overlap_pair(manifest: Manifest) -> tuple[str, str] | None:
    valid = manifest.spec.validation_file
    if valid is None:
        return None
    paths = _usable_paths(manifest)
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


# The key under which a saved plan records the manifests it was made from (Plan.extra).
MANIFESTS_KEY = "manifests_sha256"


def manifests_digest(sources: Mapping[str, str]) -> str:
    """sha256 over ftctl.yaml and every manifest read (paths and texts), in path order."""
    digest = hashlib.sha256()
    for path in sorted(sources):
        for part in (path, sources[path]):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def manifests_changed(extra: tuple[tuple[str, object], ...],
                      sources: Mapping[str, str]) -> Diagnostic | None:
    """A warning when a saved plan was made from other manifests than the ones on disk now."""
    planned = dict(extra).get(MANIFESTS_KEY)
    if planned is None or planned == manifests_digest(sources):
        return None
    return warning(
        "the manifests differ from the ones this plan was made from",
        "The saved plan is carried out exactly as it was reviewed; run `ftctl plan` to see "
        "what the manifests on disk now would change.")
