"""What `ftctl data check|stats` learn from the project around them, when there is one.

Inside a project the checks use its `datasets.rules` (so `data check` agrees with `plan`), its
price table, and, for a file that a manifest names, that manifest's base model and method (so
tokens, limits and cost are the ones the job will see). Outside a project, or for a file no
manifest names, tokens are counted with o200k_base (today's models) and the caller says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from reconciler.datasets.codes import DEFAULT_LEVELS, Levels, check_overrides, project_levels
from reconciler.datasets.models import O200K
from reconciler.diagnostics import Diagnostics
from reconciler.loader import load_project
from reconciler.refs import root_base_model
from reconciler.spec import Price

DEFAULT_ENCODING = O200K


@dataclass(frozen=True, slots=True)
class Use:
    """A manifest that trains on (or validates with) a file."""

    manifest: str
    base_model: str | None
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """levels: severities for this run. diagnostics: problems in the project's rules.
    uses: real path of a dataset -> the first manifest (by name) that names it."""

    in_project: bool = False
    levels: Levels = DEFAULT_LEVELS
    diagnostics: Diagnostics = ()
    prices: tuple[Price, ...] = ()
    uses: dict[str, Use] = field(default_factory=dict)

    def use_of(self, path: str) -> Use | None:
        return self.uses.get(os.path.realpath(path))


def context(settings_path: str, directory: str, config: str | None, *,
            strict: bool = False) -> Context:
    """The project's context when `settings_path` exists and loads, else the defaults."""
    if not os.path.isfile(settings_path):
        return Context(levels=Levels(strict=strict) if strict else DEFAULT_LEVELS)
    loaded = load_project(directory, config)
    desired = loaded.desired
    if desired is None:
        return Context(levels=Levels(strict=strict) if strict else DEFAULT_LEVELS)
    rules = desired.settings.dataset_rules
    uses: dict[str, Use] = {}
    index = {m.name: m for m in desired.manifests}
    for manifest in desired.manifests:  # sorted by name: the first user wins
        use = Use(manifest.name, root_base_model(index, manifest.name),
                  manifest.spec.method.type.value)
        for ref in (manifest.spec.training_file, manifest.spec.validation_file):
            if ref is not None:
                real = os.path.realpath(os.path.join(desired.settings.root, ref.repo_path))
                uses.setdefault(real, use)
    return Context(
        in_project=True, levels=project_levels(rules, strict=strict),
        diagnostics=check_overrides(rules), prices=desired.settings.prices, uses=uses,
    )
