"""Reading files and parsing JSON and YAML within bounds, for every reader of user files.

Owns how a path becomes bytes and how bytes become JSON or YAML data when the
input may be hostile or broken: the project loader, the catalog and NetBox
device-type readers, the DXF and underlay readers, the autosave notes and the
clipboard all come through here. What it guarantees:

- Only regular files are read. The path is stat'ed before it is opened and the
  open file again (a FIFO is opened non-blocking so it cannot hang the open);
  a device, FIFO, socket or folder is refused.
- At most ``limit`` bytes are read, also when the size reads as 0 (``/dev/zero``,
  ``/proc`` files): a file with more is refused, never cut.
- JSON: nesting is capped before parsing (the standard parser recurses), the
  memory the parsed data would take is estimated from the counts of brackets and
  separators and refused above a cap, and a key twice in one object is refused.
- YAML: only plain data (``SafeLoader``), nesting capped while composing, and the
  document's size with every alias expanded counted before it is constructed
  ("billion laughs").

Every refusal raises the caller's error class (a
:class:`~layout.errors.CoherenceError`) with one line naming the file and the
limit. The limits themselves live in :mod:`layout.limits`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from layout.atomic_file import kind_of
from layout.errors import CoherenceError, shown_key, shown_path
from layout.limits import MAX_JSON_MEMORY_BYTES, MAX_NESTING_DEPTH, MAX_YAML_NODES

_READ_CHUNK = 1 << 20
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def size_text(size: int) -> str:
    """A byte count as a message shows a limit: ``64 kB``, ``8 MB``."""
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MB"
    if size >= 2**10:
        return f"{size / 2**10:,.0f} kB"
    return f"{size:,} bytes"


def _kind(mode: int) -> str:
    # A reader refuses every device alike; which kind it is matters where one is written.
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else kind_of(mode)


def read_bounded(
    path: str | os.PathLike[str],
    limit: int,
    error: type[CoherenceError],
    *,
    what: str = "file",
    label: str | None = None,
) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    ``what`` names the kind of file in messages ("project file"); ``label`` is how the
    file is named (default: its path, shown as :func:`~layout.errors.shown_path` does).
    Raises ``error`` with one line when the path is missing, unreadable, not a regular
    file or larger than ``limit``.
    """
    name = label if label is not None else shown_path(path)
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise error(f"{name}: no such file") from None
    except OSError as err:
        raise error(f"{name}: cannot read ({err.strerror or err})") from None
    except ValueError:
        raise error(f"{name}: not a usable path (it holds a NUL character)") from None
    if not stat.S_ISREG(before.st_mode):
        raise error(f"{name}: is {_kind(before.st_mode)}, not a {what}")
    if before.st_size > limit:
        raise error(
            f"{name}: {size_text(before.st_size)} is larger than the "
            f"{size_text(limit)} a {what} may be"
        )
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as err:
        raise error(f"{name}: cannot read ({err.strerror or err})") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced between the stat and the open
            raise error(f"{name}: is {_kind(opened.st_mode)}, not a {what}")
        chunks: list[bytes] = []
        total = 0
        # The whole file in one read when its size is known (one buffer, no copy); one byte
        # more, and then chunks, for a file that grows or whose size reads 0.
        want = opened.st_size + 1 if 0 < opened.st_size <= limit else _READ_CHUNK
        while True:
            chunk = os.read(fd, min(want, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise error(f"{name}: more than the {size_text(limit)} a {what} may be")
            want = _READ_CHUNK
    except OSError as err:
        raise error(f"{name}: cannot read ({err.strerror or err})") from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# -- JSON ------------------------------------------------------------------------------------------
class JsonStructureError(ValueError):
    """The JSON text is refused for its shape (too deep, too big, a key twice); ``str`` is
    the reason, without the file's name."""


# Memory of parsed JSON per structural byte: a container costs its object (56-64 bytes)
# and a slot in its parent; a value after a separator costs at least a float (24 bytes)
# and its slot. Each byte of the file is held three times at the peak: the file's bytes,
# its decoded text and the parsed strings.
_BYTES_PER_CONTAINER = 72
_BYTES_PER_VALUE = 40
_COPIES_OF_THE_FILE = 3


def json_memory_estimate(raw: bytes) -> int:
    """About how many bytes reading ``raw`` as JSON will take at its peak, counted before
    parsing. Brackets and separators inside strings are counted too, so this errs high.
    """
    containers = raw.count(b"[") + raw.count(b"{")
    values = raw.count(b",") + raw.count(b":")
    return (
        containers * _BYTES_PER_CONTAINER
        + values * _BYTES_PER_VALUE
        + _COPIES_OF_THE_FILE * len(raw)
    )


_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _bracket_depth(raw: bytes) -> int:
    """The deepest bracket nesting in ``raw``, brackets inside strings included."""
    brackets = np.frombuffer(raw.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if not len(brackets):
        return 0
    # "[" and "{" are 0x5b and 0x7b, "]" and "}" 0x5d and 0x7d: bit 1 tells them apart.
    steps = (brackets & 2).astype(np.int32) - 1
    return max(0, int(np.cumsum(steps).max()))


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in the JSON text ``raw``.

    Counting brackets is cheap but counts those inside strings too; only when that count
    is over the cap are the strings blanked and the brackets counted again.
    """
    depth = _bracket_depth(raw)
    if depth <= MAX_NESTING_DEPTH:
        return depth
    return _bracket_depth(_STRING.sub(b'""', raw))


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


def _duplicate_place(text: str, key: str) -> tuple[str, str]:
    """Where ``key`` appears a second time in one object: (``line N``, which object).
    Only run on the error path."""
    blanked = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + "_" * (len(m[0]) - 2) + '"', text)
    spelled = re.compile(r'"(?:[^"\\]|\\.)*"\s*:')
    opens: list[int] = []
    first_in: dict[int, int] = {}
    for token in re.finditer(r'[\[\]{}]|"_*"\s*:', blanked):
        mark = token[0]
        if mark in "[{":
            opens.append(token.start() if mark == "{" else -1)
        elif mark in "]}":
            if opens:
                opens.pop()
        else:
            found = spelled.match(text, token.start())
            if found is None or not opens or opens[-1] < 0:
                continue
            try:
                this_key = json.loads(found[0].rstrip()[:-1].rstrip())
            except ValueError:
                continue
            if this_key != key:
                continue
            owner = opens[-1]
            if owner in first_in:
                line = text.count("\n", 0, token.start()) + 1
                return f"line {line}", "the top-level object" if len(opens) == 1 else "one object"
            first_in[owner] = token.start()
    return "a key", "one object"


def check_json_structure(raw: bytes, memory_limit: int = MAX_JSON_MEMORY_BYTES) -> None:
    """Refuse, before anything is parsed or decoded, JSON text that would nest deeper than
    :data:`~layout.limits.MAX_NESTING_DEPTH` or take more than ``memory_limit`` bytes.

    Raises :class:`JsonStructureError`.
    """
    estimate = json_memory_estimate(raw)
    if estimate > memory_limit:
        raise JsonStructureError(
            f"its structure would take about {size_text(estimate)} in memory, "
            f"more than the {size_text(memory_limit)} allowed"
        )
    depth = json_depth(raw)
    if depth > MAX_NESTING_DEPTH:
        raise JsonStructureError(
            f"JSON nested too deeply ({depth:,} levels; at most {MAX_NESTING_DEPTH})"
        )


def parse_json(
    raw: bytes | str,
    *,
    text: str | None = None,
    memory_limit: int = MAX_JSON_MEMORY_BYTES,
    structure_checked: bool = False,
) -> Any:
    """``raw`` parsed as JSON, refusing what :func:`check_json_structure` refuses (unless
    ``structure_checked`` says the caller has done so) and a key twice in one object.

    Raises :class:`JsonStructureError` for those, and what ``json.loads`` raises
    (``json.JSONDecodeError``, ``ValueError`` for an integer of over 4,300 digits)
    for text that is not JSON. ``raw`` as bytes must be UTF-8; ``text`` is its decoded
    text when the caller has it already.
    """
    if not structure_checked:
        check_json_structure(raw.encode("utf-8") if isinstance(raw, str) else raw, memory_limit)
    if text is None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8-sig")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as dup:
        place, scope = _duplicate_place(text, dup.key)
        spelled = json.dumps(shown_key(dup.key), ensure_ascii=False)
        raise JsonStructureError(f"{place}: the key {spelled} appears twice in {scope}") from None
    except RecursionError:
        # Brackets inside strings can hide depth from the count; the parser still stops.
        raise JsonStructureError(
            f"JSON nested too deeply (at most {MAX_NESTING_DEPTH} levels)"
        ) from None


# -- YAML ------------------------------------------------------------------------------------------
class YamlStructureError(ValueError):
    """The YAML document is refused for its shape (too deep, too many nodes once aliases
    are expanded); ``str`` is the reason, without the file's name."""


class _BoundedSafeLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses nesting deeper than the cap while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlStructureError(
                    f"line {mark.line + 1}: nested deeper than {MAX_NESTING_DEPTH} levels"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes of the document under ``root`` with every alias expanded, counting stops
    past ``limit`` (a cycle of aliases counts as past it). Each distinct node is visited
    once, so this is as fast for 10^9 expanded nodes as for ten."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if children_done:
            visiting.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
            continue
        if key in visiting:
            return limit + 1  # an alias inside the node it names
        visiting.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in visiting:
                return limit + 1
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def parse_yaml(text: str, *, max_nodes: int = MAX_YAML_NODES) -> Any:
    """``text`` parsed as one YAML document of plain data (``yaml.safe_load``'s types).

    Raises :class:`YamlStructureError` for nesting deeper than
    :data:`~layout.limits.MAX_NESTING_DEPTH` or more than ``max_nodes`` nodes with
    aliases expanded, and ``yaml.YAMLError`` for text that is not YAML.
    """
    loader = _BoundedSafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise YamlStructureError(
                f"nested deeper than {MAX_NESTING_DEPTH} levels"
            ) from None
        if root is None:
            return None
        size = expanded_size(root, max_nodes)
        if size > max_nodes:
            raise YamlStructureError(
                f"more than {max_nodes:,} values once its aliases (*name) are expanded"
            )
        return loader.construct_document(root)
    finally:
        loader.dispose()


def yaml_problem(err: yaml.YAMLError) -> str:
    """``not valid YAML at line N (problem)`` for a PyYAML error."""
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or ""
    if "constructor" in problem or "could not determine a constructor" in str(err):
        problem = "tags that build Python objects are not allowed"
    detail = f" ({shown_key(problem)})" if problem else ""
    return f"not valid YAML{where}{detail}"


def read_yaml(
    path: str | os.PathLike[str],
    limit: int,
    error: type[CoherenceError],
    *,
    what: str,
    label: str | None = None,
) -> Any:
    """The YAML document in the file at ``path``, read and parsed within bounds.

    Raises ``error`` with one line starting with the file's name.
    """
    name = label if label is not None else shown_path(Path(path).name)
    raw = read_bounded(path, limit, error, what=what, label=name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{name}: not UTF-8 text (byte {err.start})") from None
    try:
        return parse_yaml(text)
    except YamlStructureError as err:
        raise error(f"{name}: {err}") from None
    except yaml.YAMLError as err:
        raise error(f"{name}: {yaml_problem(err)}") from None
