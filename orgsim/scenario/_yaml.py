"""Reading YAML for scenario files: YAML 1.2 core types, safe limits, libyaml when present.

Two loaders share one composer (with the limits below), one constructor and
one resolver:

- :class:`FastLoader` takes its events from libyaml (PyYAML's C parser) and
  composes and constructs them in Python: the Jinan scenario reads in about
  a sixth of the time (benchmarks/README.md), every node keeps its line.
- :class:`PureLoader` is all Python, PyYAML's own scanner and parser: used
  when libyaml is not installed, and to say what is wrong with a file the
  fast loader could not read, so messages are always its own (the ones
  users and ``tests/data/bad`` know).

The two scanners differ on a few inputs: libyaml reads a tab inside a line
and ``?`` inside a flow-style plain scalar (YAML 1.2 allows both) where
PyYAML refuses them, so :mod:`orgsim.scenario.loader` reads a text holding
either with the pure loader only. They also differ on three odd forms no
scenario needs: an empty node tagged ``!`` (libyaml: empty text; PyYAML:
null), ``|`` or ``>`` followed directly by ``#`` (libyaml reads it; PyYAML
refuses it), and the line of an empty document ending without a newline.
``tests/test_loader_yaml.py`` checks that both read any well-formed
document, and edits of a real scenario, alike.

Both read the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: ``yes``,
``no``, ``on``, ``off``, ``1:30``, ``0b101`` and ``1_000`` are text; ``0777``
is 777, ``0o17`` octal and ``1e3`` a number. Dates (``2017-03-01``) are
still read as dates: the scenario format has date fields, and elsewhere the
schema refuses a date with its line. Merge keys (``<<: *anchor``) still work.
Tags other than the core ones (``!!set``, ``!!binary``, ``!!omap``,
``!!pairs``, ``!!python/...``, ``!custom``) are refused where they stand.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import yaml

__all__ = [
    "MAX_ALIASES", "MAX_ALIAS_EXPANSION", "MAX_DEPTH", "BadValue", "FastLoader", "PureLoader", "CoreDumper",
    "dump_core", "load_core_scalar",
]

#: More aliases than this is an alias bomb (billion laughs), not a scenario.
MAX_ALIASES = 200
#: Aliases may stand for at most this many YAML nodes in all, once expanded.
MAX_ALIAS_EXPANSION = 100_000
#: Mappings and lists nested deeper than this are not a scenario (and would
#: exhaust Python's recursion limit).
MAX_DEPTH = 50

_CORE = "tag:yaml.org,2002:"


def _refuse(message: str, mark: Any) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, message, mark)


class _Composer(yaml.composer.Composer):
    """Composes nodes, refusing alias bombs, recursive aliases and deep nesting as they come.

    Duplicate keys are found afterwards, on the composed node tree.
    """

    def __init__(self) -> None:
        yaml.composer.Composer.__init__(self)
        self.alias_count = 0
        self.expanded = 0
        self.depth = 0
        self.open_anchors: dict[str, int] = {}
        self._sizes: dict[int, tuple[int, int]] = {}

    if TYPE_CHECKING:  # given by the parser this composer is combined with (PyYAML's or libyaml's)
        def peek_event(self) -> yaml.Event: ...

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        """Nodes in ``node`` and its depth, aliases expanded (the node graph is acyclic here)."""
        key = id(node)
        if key not in self._sizes:
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                children = []
            measured = [self._measure(c) for c in children]
            self._sizes[key] = (
                1 + sum(size for size, _ in measured),
                1 + max((depth for _, depth in measured), default=0),
            )
        return self._sizes[key]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            assert event.anchor is not None  # an alias always names its anchor
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                raise _refuse(f"more than {MAX_ALIASES} aliases (*name); refusing an alias bomb", event.start_mark)
            if self.open_anchors.get(event.anchor):
                raise _refuse(
                    f"alias *{event.anchor} is used inside the node &{event.anchor} it names; "
                    "that would be infinitely deep",
                    event.start_mark,
                )
            if event.anchor in self.anchors:
                size, depth = self._measure(self.anchors[event.anchor])
                self.expanded += size
                if self.expanded > MAX_ALIAS_EXPANSION:
                    raise _refuse(
                        f"aliases (*name) expand to more than {MAX_ALIAS_EXPANSION:,} values; "
                        "refusing an alias bomb",
                        event.start_mark,
                    )
                if self.depth + depth > MAX_DEPTH:
                    raise _refuse(
                        f"mappings and lists nested more than {MAX_DEPTH} levels deep", event.start_mark
                    )
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _refuse(f"mappings and lists nested more than {MAX_DEPTH} levels deep", event.start_mark)
        if anchor is not None:
            self.open_anchors[anchor] = self.open_anchors.get(anchor, 0) + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            if anchor is not None:
                self.open_anchors[anchor] -= 1


# ---------------------------------------------------------------- YAML 1.2 core schema

# The core schema's regular expressions (YAML 1.2.2, section 10.3.2).
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$"
)
# Dates and date-times, with PyYAML's pattern for YAML 1.1's timestamp type.
_TIMESTAMP = next(
    pattern for tag, pattern in yaml.resolver.Resolver.yaml_implicit_resolvers["0"] if tag == _CORE + "timestamp"
)


class _CoreResolver(yaml.resolver.BaseResolver):
    """Plain scalars typed by the YAML 1.2 core schema, plus dates and merge keys."""


for _tag, _pattern, _first in [
    ("null", _NULL, ["~", "n", "N", ""]),
    ("bool", _BOOL, list("tTfF")),
    ("int", _INT, list("-+0123456789")),
    ("float", _FLOAT, list("-+.0123456789")),
    ("timestamp", _TIMESTAMP, list("0123456789")),
    ("merge", re.compile(r"^<<$"), ["<"]),
]:
    _CoreResolver.add_implicit_resolver(_CORE + _tag, _pattern, _first)
del _tag, _pattern, _first


class BadValue(yaml.constructor.ConstructorError):
    """A scalar YAML recognises (a date, a number) whose value is impossible."""


class _CoreConstructor(yaml.constructor.SafeConstructor):
    """Plain data only: mappings, lists, text, numbers, booleans, null and dates.

    Every other tag, including PyYAML's ``!!set``, ``!!binary``, ``!!omap``
    and ``!!pairs``, has no constructor, so it is refused with its place.
    Explicitly tagged scalars (``!!int 0b11``) must have the core form too.
    """

    def construct_core_null(self, node: yaml.ScalarNode) -> None:
        self._core_form(node, _NULL, "write null, ~ or nothing")
        return None

    def construct_core_bool(self, node: yaml.ScalarNode) -> bool:
        value = self._core_form(node, _BOOL, "write true or false")
        return value.lower() == "true"

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        value = self._core_form(node, _INT, "write it in digits (0o... for octal, 0x... for hexadecimal)")
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        return int(value)

    def construct_core_float(self, node: yaml.ScalarNode) -> float:
        value = self._core_form(node, _FLOAT, "write digits with a decimal point or exponent, .inf or .nan")
        lowered = value.lower()
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(value)

    def _core_form(self, node: yaml.ScalarNode, pattern: re.Pattern[str], hint: str) -> str:
        value = self.construct_scalar(node)
        if not pattern.match(value):
            raise ValueError(hint)
        return value

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Explicit tags on bad values (`!!int abc`), impossible dates
        # (2021-02-30) and over-long integers raise plain Python errors from
        # the constructors: give them the node's place in the file.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            tag = node.tag.replace(_CORE, "")
            what = {"timestamp": "date", "int": "whole number", "float": "number", "bool": "boolean",
                    "null": "null"}.get(tag, tag)
            shown = repr(node.value) if isinstance(node.value, str) else "this value"
            raise BadValue(None, None, f"{shown} is not a valid {what}: {exc}", node.start_mark) from None


_CoreConstructor.yaml_constructors = {
    _CORE + "null": _CoreConstructor.construct_core_null,
    _CORE + "bool": _CoreConstructor.construct_core_bool,
    _CORE + "int": _CoreConstructor.construct_core_int,
    _CORE + "float": _CoreConstructor.construct_core_float,
    _CORE + "str": yaml.constructor.SafeConstructor.construct_yaml_str,
    _CORE + "seq": yaml.constructor.SafeConstructor.construct_yaml_seq,
    _CORE + "map": yaml.constructor.SafeConstructor.construct_yaml_map,
    _CORE + "timestamp": yaml.constructor.SafeConstructor.construct_yaml_timestamp,
    None: yaml.constructor.SafeConstructor.construct_undefined,
}
_CoreConstructor.yaml_multi_constructors = {}


class PureLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _Composer, _CoreConstructor, _CoreResolver
):
    """The loader in pure Python: the reference for every message about a file's YAML."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Composer.__init__(self)
        _CoreConstructor.__init__(self)
        _CoreResolver.__init__(self)


try:
    from yaml._yaml import CParser  # where yaml.cyaml takes it from (it does not export it)
except ImportError:  # PyYAML built without libyaml
    FastLoader: type | None = None
else:

    class FastLoader(_Composer, _CoreConstructor, _CoreResolver, CParser):  # type: ignore[no-redef]  # None above
        """libyaml's scanner and parser under the same composer, constructor and resolver.

        The composer comes before CParser so that nodes are composed in
        Python, with the limits above, from libyaml's events.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            _CoreConstructor.__init__(self)
            _CoreResolver.__init__(self)


_SafeDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when present


class CoreDumper(_CoreResolver, _SafeDumper):
    """Writes plain data so that the loaders above read it back identically.

    The core resolver comes first, so the emitter quotes exactly the text
    the YAML 1.2 core schema would read as something else (``0o17``, ``1e3``,
    ``true``) and leaves plain the text YAML 1.1 would have changed
    (``yes``, ``010``, ``=``), which the loaders here read as text.
    """


def dump_core(data: Any) -> str:
    """``data`` (mappings, lists, text, numbers, booleans, null, dates) as YAML the loaders read back as it is."""
    return yaml.dump(data, Dumper=CoreDumper, allow_unicode=True, sort_keys=False)


def load_core_scalar(text: str) -> Any:
    """One value written as YAML (``60``, ``0.25``, ``true``, ``yes``), read as the loaders read a file's values.

    Raises yaml.YAMLError when ``text`` is not YAML.
    """
    loader = PureLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
