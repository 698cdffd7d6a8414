"""The {ref:} chain between manifests: the one place that walks it.

A manifest whose `spec.model` is `{ref: NAME}` is built on NAME's model. Everything that
follows those links lives here: a model's ancestors, the base model at the root of its chain,
the cycle it closes, and the parents-first order the planner walks. Callers pass the links as
`{name: parent name or None}` (built from manifests with `parents_of`), so the loader (whose
manifests may have failed to load) and the planner share the same walk. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from reconciler.spec import Manifest, ParentRef

Parents = Mapping[str, str | None]  # name -> the name its {ref:} names, None for a base model


def parent_of(manifest: Manifest | None) -> str | None:
    model = manifest.spec.model if manifest is not None else None
    return model.name if isinstance(model, ParentRef) else None


def parents_of(manifests: Iterable[Manifest]) -> dict[str, str | None]:
    return {m.name: parent_of(m) for m in manifests}


def ancestors(parents: Parents, name: str) -> list[str]:
    """name's {ref:} ancestors, nearest first; stops before a cycle closes or at a name that
    is not a manifest."""
    chain: list[str] = []
    current = parents.get(name)
    while current is not None and current != name and current not in chain:
        chain.append(current)
        if current not in parents:
            break
        current = parents[current]
    return chain


def root_base_model(manifests: Mapping[str, Manifest], name: str) -> str | None:
    """The base model at the root of name's {ref:} chain; None when missing or cyclic."""
    chain = ancestors(_ParentLinks(manifests), name)
    root = manifests.get(chain[-1] if chain else name)
    if root is None or isinstance(root.spec.model, ParentRef):
        return None
    return root.spec.model


class _ParentLinks(Mapping[str, "str | None"]):
    """`parents_of` as a view, read only along the chain walked: building the whole
    {name: parent} map for every manifest's root made planning 2,000 manifests quadratic."""

    def __init__(self, manifests: Mapping[str, Manifest]) -> None:
        self._manifests = manifests

    def __getitem__(self, name: str) -> str | None:
        return parent_of(self._manifests[name])

    def __contains__(self, name: object) -> bool:
        return name in self._manifests

    def __iter__(self) -> Iterator[str]:
        return iter(self._manifests)

    def __len__(self) -> int:
        return len(self._manifests)


def cycle_through(parents: Parents, name: str) -> list[str]:
    """The cycle name closes, as [name, ..., name]; empty when name is not on one (a cycle
    further up the chain is reported at its own members)."""
    chain = [name]
    current = parents.get(name)
    while current is not None:
        if current == name:
            return [*chain, name]
        if current in chain:
            return []
        chain.append(current)
        current = parents.get(current)
    return []


def parents_first(parents: Parents) -> tuple[list[str], list[str]]:
    """(names with parents before children, names on a {ref:} cycle); by name within."""
    cyclic = sorted(n for n in parents if cycle_through(parents, n))
    order: list[str] = []
    placed: set[str] = set(cyclic)

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        parent = parents.get(name)
        if parent is not None and parent in parents:
            place(parent)
        order.append(name)

    for name in sorted(parents):
        place(name)
    return order, cyclic
