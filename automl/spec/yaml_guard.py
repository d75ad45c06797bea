"""Bounds on YAML documents, checked on the parser's events before anything is built.

YAML aliases (``*a``) share one node, so a few lines can stand for billions of values (the
"billion laughs" bomb) or for a structure that contains itself; a deeply nested document
crashes the C composer (it recurses) and overflows Python's stack in whatever walks it next.
:func:`check_bounds` reads the flat event stream once, in constant stack, keeping the
expanded size of every anchor, and refuses such documents at the line that breaks a bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from automl.spec.errors import Issue, SpecError, render_path

__all__ = ["MAX_DEPTH", "MAX_VALUES", "check_bounds"]

MAX_VALUES = 100_000
"""Values (scalars and collections) a document may hold once its aliases are expanded."""

MAX_DEPTH = 100
"""Collections a value may be nested in; Katib Experiments and KFP pipelines need ~15."""


@dataclass
class _Open:
    """A collection whose end event has not come yet."""

    anchor: str | None
    mapping: bool
    first_value: int  # the document's value count when it started
    deepest: int  # the deepest level of collections inside it so far
    key: str | int = 0  # the key (mapping) or index (sequence) of the value being read
    on_key: bool = True  # a mapping: the next value is a key


@dataclass
class _Document:
    file: str | None
    values: int = 0
    open: list[_Open] = field(default_factory=list)
    size: dict[str, int] = field(default_factory=dict)  # anchor -> values, aliases expanded
    depth: dict[str, int] = field(default_factory=dict)  # anchor -> levels of collections in it


def check_bounds(loader: yaml.SafeLoader | yaml.CSafeLoader, file: str | None) -> None:
    """Read ``loader``'s events to the end, refusing an unbounded document.

    Args:
        loader: A fresh loader on the text (only its events are read).
        file: The file the text came from, for the error.

    Raises:
        SpecError: At the first event that makes a document hold more than
            :data:`MAX_VALUES` values once expanded, nest more than :data:`MAX_DEPTH`
            collections, or refer to a collection inside itself.
        yaml.YAMLError: On a syntax error, for the caller to locate.
    """
    doc = _Document(file)
    while (event := _next_event(loader, doc)) is not None:
        if isinstance(event, yaml.DocumentStartEvent):
            doc = _Document(file)
        elif isinstance(event, yaml.AliasEvent):
            _alias(doc, event)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                doc.size[event.anchor], doc.depth[event.anchor] = 1, 0
            _count(doc, 1, event)
            _value_read(doc, event.value)
        elif isinstance(event, yaml.CollectionStartEvent):
            _count(doc, 1, event)
            if len(doc.open) >= MAX_DEPTH:
                _refuse(doc, event.start_mark, f"nested more than {MAX_DEPTH} levels deep",
                        shown=1)
            doc.open.append(_Open(event.anchor, isinstance(event, yaml.MappingStartEvent),
                                  doc.values - 1, len(doc.open) + 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            done = doc.open.pop()
            if done.anchor is not None:
                doc.size[done.anchor] = doc.values - done.first_value
                doc.depth[done.anchor] = done.deepest - len(doc.open)
            if doc.open:
                doc.open[-1].deepest = max(doc.open[-1].deepest, done.deepest)
            _value_read(doc, None)


def _next_event(loader: yaml.SafeLoader | yaml.CSafeLoader, doc: _Document) -> yaml.Event | None:
    try:
        return loader.get_event() if loader.check_event() else None
    except yaml.MarkedYAMLError as exc:
        # libyaml (PyYAML 6.0.4 and newer) stops at 1000 levels while reading ahead, before
        # the events that reach MAX_DEPTH: the same refusal, where the deep value starts.
        if exc.problem != "exceeded maximum nesting depth" or exc.problem_mark is None:
            raise
        _refuse(doc, exc.problem_mark, f"nested more than {MAX_DEPTH} levels deep", shown=1)


def _alias(doc: _Document, event: yaml.AliasEvent) -> None:
    if any(o.anchor == event.anchor for o in doc.open):
        _refuse(doc, event.start_mark, f"the alias *{event.anchor} is inside the collection its "
                                       f"anchor &{event.anchor} marks: a structure that contains "
                                       "itself")
    if event.anchor in doc.size:  # an undefined one is the composer's error to report
        _count(doc, doc.size[event.anchor], event)
        deepest = len(doc.open) + doc.depth[event.anchor]
        if deepest > MAX_DEPTH:
            _refuse(doc, event.start_mark, f"nested more than {MAX_DEPTH} levels deep through "
                                           f"the alias *{event.anchor}")
        if doc.open:
            doc.open[-1].deepest = max(doc.open[-1].deepest, deepest)
    _value_read(doc, None)


def _count(doc: _Document, values: int, event: yaml.Event) -> None:
    doc.values += values
    if doc.values > MAX_VALUES:
        _refuse(doc, event.start_mark, f"the document holds more than {MAX_VALUES} values once "
                                       "its YAML aliases (*name) are expanded")


def _value_read(doc: _Document, scalar: str | None) -> None:
    """Advance the enclosing collection past a complete value (a scalar when given)."""
    if not doc.open:
        return
    here = doc.open[-1]
    if not here.mapping:
        here.key = int(here.key) + 1
    elif here.on_key:
        here.key, here.on_key = (scalar if scalar is not None else "?"), False
    else:
        here.on_key = True


def _refuse(doc: _Document, mark: Any, message: str, shown: int | None = None) -> NoReturn:
    """Raise the located error; ``mark`` is a pure-Python or libyaml mark (same fields)."""
    path = [o.key for o in doc.open][:shown]
    raise SpecError([Issue(render_path(tuple(path)), message, doc.file, mark.line + 1)])
