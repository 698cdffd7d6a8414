"""Field-level diffs of two essences as FieldChanges. The only module that imports deepdiff.

L1 pure logic, no I/O. Paths are in the user's vocabulary (`method.hyperparameters.n_epochs`),
sorted, so the same inputs always give the same changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from reconciler.plan import FieldChange


def _dotted(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _value(value: object) -> object:
    return None if isinstance(value, NotPresent) else value


def field_changes(
    before: Mapping[str, object],
    after: Mapping[str, object],
    *,
    forces_new: Callable[[str], bool] = lambda path: False,
) -> tuple[FieldChange, ...]:
    """Every leaf that differs between `before` and `after`, marked by `forces_new(path)`.

    A value that only exists on one side shows None on the other. Numbers compare by value
    (3 == 3.0), which is how the API and YAML may differ.
    """
    diff = DeepDiff(
        dict(before),
        dict(after),
        view="tree",
        ignore_numeric_type_changes=True,
        verbose_level=2,
    )
    changes: dict[str, FieldChange] = {}
    for report in diff.values():
        for level in report:
            path = _dotted(level.path(output_format="list"))
            if _value(level.t1) is None and _value(level.t2) is None:
                continue  # a key present as null on one side only is no change
            changes[path] = FieldChange(
                path=path,
                before=_value(level.t1),
                after=_value(level.t2),
                forces_new=forces_new(path),
            )
    return tuple(changes[p] for p in sorted(changes))
