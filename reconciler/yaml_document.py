"""YAML text -> plain data plus a map from JSON path to source position.

The only YAML reader. Documents are composed into nodes by libyaml's C parser (PyYAML's
pure-Python composer only when PyYAML was built without libyaml: PARSER says which) and turned
into data here, node by node, so that every key and value keeps its line and column, only the
plain YAML tags are accepted (no Python object tags), duplicate keys are reported, and alias
expansion is budgeted (a "billion laughs" document is refused instead of exhausting memory).
Both paths give the same data, positions and diagnostics: a text libyaml cannot parse is
parsed again by the pure-Python parser, whose more specific messages are the ones reported.
Pure: text in, values out; no disk access.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from reconciler.diagnostics import Diagnostic, Diagnostics, SourceRange, error

PathPart = str | int
Path = tuple[PathPart, ...]

# Expanded nodes allowed per document. Real manifests have a few hundred; an alias bomb
# would need billions, so it stops here long before memory is at risk.
MAX_NODES = 50_000
MAX_DEPTH = 200
_TOO_MANY = f"document expands to more than {MAX_NODES} nodes (too many aliases?)"
_TOO_DEEP = f"document nests deeper than {MAX_DEPTH} levels"

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_MERGE = _TAG + "merge"
_INT = _TAG + "int"
_NOT_LEAF = object()  # Converter.leaf's answer for a node that needs the full conversion
_SCALAR_TAGS = frozenset(
    _TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)


# Where a value sits: (line, column) of its start and of its mapping key's start (None for the
# root and list items), 0-based as the parser marks them. A SourceRange is built only when a
# diagnostic asks for one: most documents need none, and building two ranges per node was a
# tenth of `ftctl validate` at 2,000 manifests.
Spot = tuple[int, int]
Marks = tuple[Spot, Spot | None]


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data and the position of every key/value by path."""

    data: object
    marks: Mapping[Path, Marks] = field(default_factory=lambda: MappingProxyType({}))
    start: SourceRange | None = None
    file: str = ""

    def locate(self, path: Path, *, prefer_key: bool = False) -> SourceRange | None:
        """Position of `path`, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            marks = self.marks.get(path[:n])
            if marks is not None:
                value, key = marks
                line, column = key if prefer_key and key is not None else value
                return SourceRange(file=self.file, line=line + 1, column=column + 1)
        return self.start

    def lines(self) -> tuple[int, int] | None:
        """The first and last line (1-based) on which a value of the document starts."""
        if not self.marks:
            return None
        lines = [value[0] for value, _ in self.marks.values()]
        return min(lines) + 1, max(lines) + 1


# Plain scalars get their tag by trying YAML 1.1's patterns (bool, int, float, null, ...) in
# turn, in Python even under libyaml, once per scalar. Manifests repeat the same keys and
# values thousands of times, so each (text, implicit) pair is resolved once per process; long
# texts (prompts) are seldom repeated and are not kept.
_RESOLVED: dict[tuple[Any, Any, Any], str] = {}
_RESOLVED_CAP = 50_000
_KEPT_LENGTH = 100


class _ResolvedOnce:
    """Loader mixin: scalar tags resolved once per distinct (kind, text, implicit)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # One dict look-up for the common case; a miss resolves (mappings and sequences too:
        # their default tags are cached under value None) and keeps short texts only.
        tag = _RESOLVED.get((kind, value, implicit))
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[misc]
            if value is None or len(value) <= _KEPT_LENGTH:
                if len(_RESOLVED) >= _RESOLVED_CAP:
                    _RESOLVED.clear()
                _RESOLVED[(kind, value, implicit)] = tag
        return tag

    # Both composers call these around every node for YAML path resolvers, which are never
    # registered here; builtins that ignore their arguments save two Python calls per node.
    descend_resolver: Any = staticmethod(operator.is_)  # (parent, index) -> unused bool
    ascend_resolver: Any = staticmethod(tuple)  # () -> unused empty tuple


class _PythonLoader(_ResolvedOnce, yaml.SafeLoader):
    """The safe loader with a cap on flow nesting (`[[[[...`), checked while scanning.

    PyYAML's scanner does work proportional to the nesting depth for every token, so a file of
    brackets would take quadratic time; stopping at MAX_DEPTH keeps parsing linear.
    """

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= MAX_DEPTH:
            raise _TooDeep(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


class _TooDeep(Exception):
    """The scanner met a collection nested deeper than MAX_DEPTH."""

    def __init__(self, mark: Any) -> None:
        super().__init__(_TOO_DEEP)
        self.mark = mark


# libyaml composes in C, several times faster; it stops nesting at 1,000 levels by itself.
_LOADERS: dict[str, type[Any]] = {"python": _PythonLoader}
if getattr(yaml, "__with_libyaml__", False):
    class _LibyamlLoader(_ResolvedOnce, yaml.CSafeLoader):
        """libyaml's safe loader, scalar tags resolved once (see _ResolvedOnce)."""

    _LOADERS["libyaml"] = _LibyamlLoader

# The parser `parse` uses: "libyaml", or "python" when PyYAML was built without libyaml.
PARSER = "libyaml" if "libyaml" in _LOADERS else "python"
PARSERS = tuple(sorted(_LOADERS))


# Scalar constructors keep no state between calls; one instance serves every document.
_SCALARS = yaml.constructor.SafeConstructor()


class _Budget(Exception):
    """Raised inside the converter to stop an over-large or recursive document."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


class _Converter:
    """Turns one composed node tree into data, recording positions and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Path, Marks] = {}
        self.diags: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()

    def mark(self, node: yaml.Node) -> SourceRange:
        return _source(self.file, node.start_mark)

    def convert(self, node: yaml.Node, path: Path, key: Spot | None) -> object:
        """`node` as data; `key` is where its mapping key starts (None for the root and list
        items)."""
        self.count += 1
        if self.count > MAX_NODES:
            raise _Budget(_TOO_MANY, node)
        if len(path) >= MAX_DEPTH:  # the same level at which the scanner stops flow nesting
            raise _Budget(_TOO_DEEP, node)
        if id(node) in self.active:
            raise _Budget("recursive YAML alias", node)
        mark = node.start_mark
        self.positions.setdefault(path, ((mark.line, mark.column), key))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                self.check_tag(node, _TAG + "seq")
                return self.sequence(node, path)
            assert isinstance(node, yaml.MappingNode)
            self.check_tag(node, _TAG + "map")
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            self.diags.append(_tag_error(node.tag, self.mark(node)))

    def scalar(self, node: yaml.ScalarNode) -> object:
        tag = node.tag
        if tag == _STR:
            return node.value  # most scalars: nothing to construct
        text = node.value
        if tag == _INT and text.isdigit() and text.isascii() and (text[0] != "0" or text == "0"):
            return int(text)  # plain decimals (epochs, seeds); YAML 1.1 reads 0-led ones as octal
        if tag not in _SCALAR_TAGS:
            self.diags.append(_tag_error(tag, self.mark(node)))
            return str(node.value)
        if tag in (_TAG + "timestamp", _TAG + "binary"):
            # Not part of the manifest format; keep them as written (and never half-parse them).
            return str(node.value)
        try:
            value: object = _SCALARS.yaml_constructors[tag](_SCALARS, node)
        except Exception as exc:  # noqa: BLE001
            # An explicit tag that does not fit its text (`!!int x`, an empty `!!float`) makes
            # PyYAML's scalar constructors raise assorted built-in errors, not YAMLError.
            self.diags.append(error(f"invalid YAML value: {exc}", subject=self.mark(node)))
            return str(node.value)
        if isinstance(value, float) and not math.isfinite(value):
            self.diags.append(error(
                f"'{node.value}' is not a finite number",
                "The API accepts finite numbers only.", subject=self.mark(node),
            ))
            return str(node.value)
        return value

    def sequence(self, node: yaml.SequenceNode, path: Path) -> list[object]:
        out: list[object] = []
        for i, item in enumerate(node.value):
            child = (*path, i)
            leaf = self.leaf(item, child, None)
            out.append(self.convert(item, child, None) if leaf is _NOT_LEAF else leaf)
        return out

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        out: dict[str, object] = {}
        merges = []
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag == _MERGE:
                merges.append(value_node)
                continue
            if key_tag == _STR and type(key_node) is yaml.ScalarNode:
                key = key_node.value  # most keys: the text itself
            else:
                key = self.key_of(key_node)
                if key is None:
                    continue
            if key in out:
                self.diags.append(error(
                    f"duplicate key '{key}'",
                    "Each key may appear once in a mapping; remove or rename one of them.",
                    subject=self.mark(key_node),
                ))
                continue
            mark = key_node.start_mark
            child, spot = (*path, key), (mark.line, mark.column)
            leaf = self.leaf(value_node, child, spot)
            out[key] = self.convert(value_node, child, spot) if leaf is _NOT_LEAF else leaf
        # Explicit keys win over merged ones, wherever the `<<` line stands.
        for value_node in merges:
            self.merge(out, value_node, path)
        return out

    def leaf(self, node: yaml.Node, path: Path, key: Spot | None) -> object:
        """A plain string scalar, converted as `convert` would but without its checks that
        cannot apply to one; _NOT_LEAF for any other node. Most values of a manifest are such
        strings, and this is the loop that runs for each of them."""
        if node.tag != _STR or type(node) is not yaml.ScalarNode or len(path) >= MAX_DEPTH:
            return _NOT_LEAF
        self.count += 1
        if self.count > MAX_NODES:
            raise _Budget(_TOO_MANY, node)
        mark = node.start_mark
        self.positions.setdefault(path, ((mark.line, mark.column), key))
        return node.value

    def key_of(self, node: yaml.Node) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.diags.append(error("mapping keys must be plain strings", subject=self.mark(node)))
            return None
        value = self.scalar(node)
        # YAML 1.1 reads `on`/`yes`/`1` as bool/int; a key is always text to us.
        return node.value if not isinstance(value, str) else value

    def merge(self, out: dict[str, object], node: yaml.Node, path: Path) -> None:
        """`<<: *base` (or a list of them): copy keys not already set, keeping positions."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                self.diags.append(error("'<<' must merge a mapping", subject=self.mark(src)))
                continue
            # Convert into a scratch map so the merged keys' positions can be re-rooted.
            outer, self.positions = self.positions, {}
            try:
                merged = self.convert(src, (), None)
            finally:
                scratch, self.positions = self.positions, outer
            assert isinstance(merged, dict)
            for k, v in merged.items():
                if k in out:
                    continue
                out[k] = v
                for p, pos in scratch.items():
                    if p and p[0] == k:
                        self.positions.setdefault((*path, *p), pos)


def _source(file: str, mark: Any) -> SourceRange:
    """A YAML mark (0-based line and column, from either parser) as a 1-based position."""
    return SourceRange(file=file, line=mark.line + 1, column=mark.column + 1)


def _tag_error(tag: str, where: SourceRange) -> Diagnostic:
    shown = tag.replace(_TAG, "!!")
    return error(
        f"YAML tag '{shown}' is not allowed",
        "Manifests are read as safe YAML: plain strings, numbers, booleans, null, lists and "
        "mappings only.",
        subject=where,
    )


def parse(text: str, file: str) -> tuple[tuple[Document, ...], Diagnostics]:
    """Every document of `text`, with positions; syntax errors become diagnostics.

    Documents before a syntax error are still returned, so that later checks can report on
    them too. Empty documents (a stray `---`) are skipped.
    """
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        # Checked here for both parsers: PyYAML refuses the whole text up front, libyaml only
        # when it gets there (and counts the position in bytes).
        return (), (_character_error(text, bad.start(), file),)
    docs, diags, failed = _parse_with(_LOADERS[PARSER], text, file)
    if failed and PARSER != "python":
        # A file that does not parse is rare; PyYAML's messages for it are the more specific
        # ones ("found character '\t'...", "expected ',' or ']'"), and the same on every build.
        docs, diags, _ = _parse_with(_PythonLoader, text, file)
    return tuple(docs), tuple(diags)


def _parse_with(
    loader: type[Any], text: str, file: str
) -> tuple[list[Document], list[Diagnostic], bool]:
    """(documents, diagnostics, whether the text failed to parse) with one parser."""
    docs: list[Document] = []
    diags: list[Diagnostic] = []
    try:
        _compose_all(loader(text), file, docs, diags)
    except yaml.MarkedYAMLError as exc:
        diags.append(_syntax_error(exc, file))
    except yaml.YAMLError as exc:
        diags.append(error(f"YAML error: {exc}", subject=SourceRange(file=file)))
    except _TooDeep as exc:
        diags.append(error(_TOO_DEEP, "The document was not loaded.",
                           subject=_source(file, exc.mark)))
    except RecursionError:
        # PyYAML's composer recurses per nesting level; thousands of levels end up here.
        diags.append(error(_TOO_DEEP, "The document was not loaded.",
                           subject=SourceRange(file=file, line=1)))
    else:
        return docs, diags, False
    return docs, diags, True


def _compose_all(
    loader: Any, file: str, docs: list[Document], diags: list[Diagnostic]
) -> None:
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            doc, problems = _convert(node, file)
            diags.extend(problems)
            if doc is not None and doc.data is not None:
                docs.append(doc)
    finally:
        loader.dispose()


# The characters YAML allows (the same set in PyYAML's reader and in libyaml's).
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _character_error(text: str, position: int, file: str) -> Diagnostic:
    """A character YAML does not allow (NUL, most control characters), at its line/column."""
    before = text[:position]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    code = ord(text[position])
    return error(f"YAML error: character U+{code:04X} is not allowed",
                 "Remove control characters from the file.",
                 subject=SourceRange(file=file, line=line, column=column))


def _convert(node: yaml.Node, file: str) -> tuple[Document | None, Diagnostics]:
    conv = _Converter(file)
    try:
        data = conv.convert(node, (), None)
    except _Budget as exc:
        return None, (error(exc.message, "The document was not loaded.",
                            subject=conv.mark(exc.node)),)
    doc = Document(
        data=data, marks=MappingProxyType(conv.positions), start=conv.mark(node), file=file
    )
    return doc, tuple(conv.diags)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = SourceRange(file=file, line=mark.line + 1, column=mark.column + 1) if mark else None
    problem = exc.problem or "invalid YAML"
    detail = f"Found {exc.context}." if exc.context else ""
    return error(f"YAML syntax error: {problem}", detail, subject=where or SourceRange(file=file))
