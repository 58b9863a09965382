"""Load YAML files into plain data plus a table of positions.

ruamel.yaml composes each file into nodes that know their line and column;
this module turns them into ordinary dicts, lists and scalars and records,
for every value and every key, where in which file it was written. It is the
only module that sees YAML nodes. It refuses, with positions:

- syntax errors and tab indentation (the scanner's own messages),
- duplicate keys (naming the line of the first one),
- files that are not UTF-8 (naming the line and column of the first bad byte),
- tags other than YAML's standard ones,
- documents whose aliases expand past a fixed budget ("billion laughs"),
  refer to themselves or merge (`<<`) a mapping into itself,
- nesting deeper than MAX_DEPTH (checked while scanning, before ruamel's
  scanner and composer slow down or recurse too deep).

YAML 1.2 is used, so `yes`, `no` and `on` stay strings.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scanner import Scanner, ScannerError

from komunikator.engine.errors import ErrorList, Position
from komunikator.engine.schema.base import yaml_value

Path_ = tuple[str | int, ...]

#: Expanded nodes one file may produce; an honest tenant file has a few
#: thousand. Bounds time and memory of alias expansion.
MAX_NODES = 200_000
#: Largest YAML file accepted, in bytes.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Deepest nesting accepted.
MAX_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    _MERGE_TAG,
}


@dataclass
class Tree:
    """Plain data with the position of every value and key.

    `pos[path]` is where the value at `path` starts; `key_pos[path]` is where
    its key was written (for mapping entries). Paths are tuples of keys and
    list indices from the root.
    """

    data: Any
    pos: dict[Path_, Position] = field(default_factory=dict)
    key_pos: dict[Path_, Position] = field(default_factory=dict)
    #: `(section, name)` of entries defined in two files: reported once, not validated further
    conflicts: set[Path_] = field(default_factory=set)

    def where(self, path: Path_, *, key: bool = False) -> Position | None:
        """The position of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if key and path in self.key_pos:
                return self.key_pos[path]
            if path in self.pos:
                return self.pos[path]
            if path in self.key_pos:
                return self.key_pos[path]
            if not path:
                return None
            path = path[:-1]

    def graft(self, at: Path_, other: Tree, other_path: Path_ = ()) -> None:
        """Copy `other`'s positions below `other_path` to below `at`."""
        n = len(other_path)
        for table, mine in ((other.pos, self.pos), (other.key_pos, self.key_pos)):
            for p, position in table.items():
                if p[:n] == other_path:
                    mine[tuple(at) + p[n:]] = position

    def drop(self, at: Path_) -> None:
        """Forget the positions at and below `at`."""
        n = len(at)
        for table in (self.pos, self.key_pos):
            for p in [p for p in table if p[:n] == at]:
                del table[p]

    def by_entry(self) -> dict[Path_, Tree]:
        """The positions at and below each `(section, name)`, one small tree per entry.

        `graft` and `drop` scan a whole table; merging entry by entry from
        these small trees keeps a big tenant's overlay linear, not quadratic.
        Paths stay absolute; positions of shorter paths are left out.
        """
        out: dict[Path_, Tree] = {}
        for table, attr in ((self.pos, "pos"), (self.key_pos, "key_pos")):
            for p, position in table.items():
                if len(p) >= 2:
                    part = out.get(p[:2])
                    if part is None:
                        part = out[p[:2]] = Tree(data=None)
                    getattr(part, attr)[p] = position
        return out


class _TooDeep(ScannerError):
    """Flow collections (`[[[…`) nested past MAX_DEPTH."""


class _DepthLimitedScanner(Scanner):
    # ruamel's scanner slows down quadratically with flow nesting; stop early
    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803 - ruamel's name
        if len(self.flow_context) >= MAX_DEPTH:
            raise _TooDeep(None, None, "nested too deeply", self.reader.get_mark())
        super().fetch_flow_collection_start(TokenClass, to_push)


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


class _Abort(Exception):
    """Stops converting one file after a fatal structural error."""


def _position(file: str, node: Node) -> Position:
    mark = node.start_mark
    return Position(file, mark.line + 1, mark.column + 1)


def _decode(raw: bytes, file: str, errors: ErrorList) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        errors.add(
            Position(file, line, column),
            (),
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
        )
        return None


#: Scanner and parser messages rewritten for people who edit YAML by hand:
#: (part of the problem text, message, report at the context mark?).
_FRIENDLY = (
    ("'\\t'", "tab character: indent YAML with spaces, not tabs", False),
    ("a tab character", "tab character: indent YAML with spaces, not tabs", False),
    ("expected <block end>", "this line's indentation does not match the lines above it", False),
    ("mapping values are not allowed here", "unexpected ':'; put a value that contains ': ' in quotes", False),
    ("could not find expected ':'", "a line in a mapping without 'key: value'", True),
    ("found unexpected end of stream", "a quoted value is never closed", True),
    ("but found another document", "one document per file: remove the '---' line", False),
)


def _yaml_error(exc: YAMLError, file: str, errors: ErrorList) -> None:
    if not isinstance(exc, MarkedYAMLError) or exc.problem_mark is None:
        errors.add(Position(file, 1, 1), (), f"YAML error: {exc}")
        return
    mark, problem = exc.problem_mark, exc.problem or "invalid YAML"
    flow = _flow_hint(exc)
    if flow is not None:
        errors.add(Position(file, mark.line + 1, mark.column + 1), (), f"YAML syntax error: {flow}")
        return
    for part, friendly, at_context in _FRIENDLY:
        if part in problem:
            if at_context and exc.context_mark is not None:
                mark = exc.context_mark
            problem = friendly
            break
    else:
        context = exc.context_mark
        if exc.context and context is not None and context.line != mark.line:
            problem = f"{problem} ({exc.context} that starts at line {context.line + 1})"
        elif exc.context:
            problem = f"{problem} ({exc.context})"
    errors.add(Position(file, mark.line + 1, mark.column + 1), (), f"YAML syntax error: {problem}")


def _flow_hint(exc: MarkedYAMLError) -> str | None:
    """Say what went wrong when a ':' turns up inside `{…}` or `[…]`."""
    problem, context = exc.problem or "", exc.context or ""
    if "but got ':'" not in problem or "flow" not in context or exc.problem_mark is None:
        return None
    bracket = "{…}" if "mapping" in context else "[…]"
    start = exc.context_mark
    if start is not None and start.line != exc.problem_mark.line:
        close = "}" if "mapping" in context else "]"
        return f"the {bracket} that starts at line {start.line + 1} is not closed: add '{close}' at its end"
    return f"unexpected ':' inside {bracket}: put the text that contains it in quotes"


def load_text(text: str, file: str, errors: ErrorList) -> Tree | None:
    """Parse one YAML document; on any error record it and return None.

    The C parser (libyaml, through ruamel.yaml.clib) reads a clean file about
    five times faster; anything it refuses or flags — libyaml speaks YAML 1.1
    and rejects some valid 1.2 (`{pl: Od kiedy?, en: …}`) — is read again by
    the pure-Python parser, which alone produces the error messages. A test
    checks both paths give identical trees for every YAML file in the repo.
    """
    fast = _fast_load(text, file)
    if fast is not None:
        return fast
    return _pure_load(text, file, errors)


def _fast_load(text: str, file: str) -> Tree | None:
    """The tree via libyaml, or None if unavailable or anything at all looks wrong."""
    try:
        yaml = YAML(typ="safe", pure=False)
        if yaml.Parser is None or "CParser" not in getattr(yaml.Parser, "__name__", ""):
            return None
        root = yaml.compose(io.StringIO(text))
    except Exception:  # noqa: BLE001 - any trouble: the pure parser will say what it is
        return None
    tree = Tree(data={})
    if root is None:
        return tree
    quiet = ErrorList()
    converter = _Converter(file, quiet, tree, yaml.constructor)
    try:
        if not converter.within_budget(root):
            return None
        tree.data = converter.convert(root, ())
    except Exception:  # noqa: BLE001 - as above
        return None
    return None if converter.failed or quiet else tree


def _pure_load(text: str, file: str, errors: ErrorList) -> Tree | None:
    """The pure-Python parser: exact positions and messages for every error."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = _DepthLimitedScanner
    yaml.max_depth = MAX_DEPTH + 1  # the composer counts the root as 1
    try:
        root = yaml.compose(io.StringIO(text))
    except (_TooDeep, MaxDepthExceededError) as exc:
        mark = exc.problem_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        errors.add(where, (), f"nested deeper than {MAX_DEPTH} levels")
        return None
    except YAMLError as exc:
        _yaml_error(exc, file, errors)
        return None
    except RecursionError:
        errors.add(Position(file, 1, 1), (), f"nested deeper than {MAX_DEPTH} levels")
        return None
    tree = Tree(data=None)
    if root is None:
        tree.data = {}
        return tree
    converter = _Converter(file, errors, tree, yaml.constructor)
    if not converter.within_budget(root):
        return None
    try:
        tree.data = converter.convert(root, ())
    except _Abort:
        return None
    return tree if not converter.failed else None


def load_file(path: Path, errors: ErrorList, display: str | None = None) -> Tree | None:
    """Read and parse one YAML file; errors are recorded, never raised."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        errors.add(Position(file, 1, 1), (), f"cannot read file: {exc.strerror}")
        return None
    if len(raw) > MAX_FILE_BYTES:
        errors.add(Position(file, 1, 1), (), f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        return None
    text = _decode(raw, file, errors)
    if text is None:
        return None
    return load_text(text, file, errors)


def yaml_files(folder: Path) -> list[Path]:
    """Every `.yaml`/`.yml` file below `folder`, hidden folders skipped, sorted."""
    found: Iterable[Path] = (
        p
        for p in folder.rglob("*")
        if p.suffix in {".yaml", ".yml"}
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    return sorted(found)


class _Converter:
    def __init__(self, file: str, errors: ErrorList, tree: Tree, constructor: SafeConstructor) -> None:
        self.file = file
        self.errors = errors
        self.tree = tree
        self.budget = _Budget()
        self.constructor = constructor
        self.active: set[int] = set()
        self.failed = False

    def within_budget(self, root: Node) -> bool:
        """Refuse a document whose aliases would expand past MAX_NODES.

        Sizes are counted once per node (aliases share nodes), so this costs
        as much as the document's text, not its expansion. The error points
        at the innermost node that alone exceeds the budget.
        """
        sizes: dict[int, int] = {}
        visiting: set[int] = set()

        def size(node: Node, path: Path_) -> int:
            key = id(node)
            if key in sizes:
                return sizes[key]
            if key in visiting or len(path) > MAX_DEPTH:
                return 1  # self-reference and depth are reported by convert()
            visiting.add(key)
            total = 1
            if isinstance(node, SequenceNode):
                total += sum(size(item, (*path, i)) for i, item in enumerate(node.value))
            elif isinstance(node, MappingNode):
                for key_node, value_node in node.value:
                    part = key_node.value if isinstance(key_node, ScalarNode) else "?"
                    total += size(value_node, (*path, part))
                    if total > MAX_NODES:
                        break
            visiting.discard(key)
            sizes[key] = total
            if total > MAX_NODES and not self.failed:
                self._fail(
                    node,
                    path,
                    f"aliases here expand to more than {MAX_NODES} values (a 'billion laughs' document?); "
                    "write the values out or nest fewer aliases",
                )
            return total

        size(root, ())
        return not self.failed

    def _fail(self, node: Node, path: Path_, message: str) -> None:
        self.errors.add(_position(self.file, node), path, message)
        self.failed = True

    def convert(self, node: Node, path: Path_) -> Any:
        self.budget.nodes += 1
        if self.budget.nodes > MAX_NODES:
            self._fail(node, path, f"document expands to more than {MAX_NODES} values; aliases nested too deeply?")
            raise _Abort
        if len(path) > MAX_DEPTH:
            self._fail(node, path, f"nested deeper than {MAX_DEPTH} levels")
            raise _Abort
        if node.tag not in _STANDARD_TAGS:
            self._fail(node, path, f"unknown tag {node.tag!r}: only plain YAML is accepted")
            return None
        if not (isinstance(node, ScalarNode) and node.value == "" and not node.style):
            # an empty value has no place of its own (libyaml and ruamel put it on different lines):
            # errors about it point at its key
            self.tree.pos.setdefault(path, _position(self.file, node))
        if id(node) in self.active:
            # an alias has no position of its own: name the key that holds it
            where = self.tree.key_pos.get(path) or _position(self.file, node)
            self.errors.add(where, path, "alias refers to itself (the anchor contains its own alias)")
            self.failed = True
            raise _Abort
        if isinstance(node, ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except YAMLError as exc:
                self._fail(node, path, f"invalid value: {exc}")
                return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        self._fail(node, path, "unsupported YAML node")
        return None

    def _mapping(self, node: MappingNode, path: Path_) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append((key_node, value_node))
                continue
            if not isinstance(key_node, ScalarNode):
                self._fail(key_node, path, "a key must be a plain value, not a list or mapping")
                continue
            key = self.constructor.construct_object(key_node, deep=True)
            if key is None:
                self._fail(key_node, path, "empty key")
                continue
            key_pos = _position(self.file, key_node)
            if key in out:
                self._fail(
                    key_node,
                    (*path, key),
                    f"duplicate key {yaml_value(key)} (first defined at line {first_line[key]})",
                )
                continue
            first_line[key] = key_pos.line
            self.tree.key_pos[(*path, key)] = key_pos
            out[key] = self.convert(value_node, (*path, key))
        for key_node, value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self._fail(key_node, path, "'<<' merges only mappings")
                    continue
                if id(source) in self.active:
                    self._fail(key_node, path, "'<<' merges a mapping into itself")
                    continue
                # convert into a scratch tree: only the keys the mapping does not
                # set itself are taken, with their positions (in the merged mapping)
                own, scratch = self.tree, Tree(data=None)
                self.active.add(id(source))
                self.tree = scratch
                try:
                    merged = self._mapping(source, path)
                finally:
                    self.tree = own
                    self.active.discard(id(source))
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        own.graft((*path, key), scratch, (*path, key))
        return out
