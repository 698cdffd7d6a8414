"""The `validate` use case: load the project with its datasets and return the diagnostics.

No network, no printing: the CLI renders what this returns.
"""

from __future__ import annotations

from reconciler.app import project
from reconciler.diagnostics import has_errors
from reconciler.loader import LoadResult


def run_validate(directory: str, config: str | None = None) -> tuple[LoadResult, bool]:
    """(the load result, ok) where ok means no error-level diagnostic was found."""
    result = project.load(directory, config, with_datasets=True)
    return result, not has_errors(result.diagnostics)
