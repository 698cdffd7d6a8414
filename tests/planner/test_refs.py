"""refs.root_base_model: the base model at the root of a {ref:} chain, walked lazily."""

from __future__ import annotations

from builders import BASE, a_manifest

from reconciler.refs import root_base_model


def _index(*manifests: object) -> dict[str, object]:
    return {m.name: m for m in manifests}  # type: ignore[attr-defined]


def test_root_base_model_follows_the_chain_to_its_base() -> None:
    index = _index(a_manifest("base", model="gpt-4o-mini-2024-07-18"),
                   a_manifest("mid", model=None, parent="base"),
                   a_manifest("leaf", model=None, parent="mid"))
    assert root_base_model(index, "leaf") == "gpt-4o-mini-2024-07-18"  # type: ignore[arg-type]
    assert root_base_model(index, "base") == "gpt-4o-mini-2024-07-18"  # type: ignore[arg-type]


def test_root_base_model_is_none_for_cycles_missing_parents_and_unknown_names() -> None:
    index = _index(a_manifest("a", model=None, parent="b"),
                   a_manifest("b", model=None, parent="a"),
                   a_manifest("c", model=None, parent="a"),
                   a_manifest("orphan", model=None, parent="gone"),
                   a_manifest("self", model=None, parent="self"),
                   a_manifest("plain", model=BASE))
    for name in ("a", "b", "c", "orphan", "self", "nowhere"):
        assert root_base_model(index, name) is None, name  # type: ignore[arg-type]
    assert root_base_model(index, "plain") == BASE  # type: ignore[arg-type]
