"""YAML loading that remembers where every field came from.

PyYAML's safe loader builds plain data (no object construction); alongside it we keep a map
from each field path to the file and line it was written on, so that an error about
``parameters[2].max`` can point at the line a user has to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import yaml

from automl.local.trial_files import UnreadableFile, describe_size, read_bounded
from automl.spec.errors import Finding, Issue, Path, SpecError, render_path, resolve_refs
from automl.spec.yaml_guard import check_bounds

__all__ = ["MAX_SPEC_BYTES", "Location", "Locator", "SourceMap", "locate", "parse_yaml",
           "read_first_document", "read_yaml"]

MAX_SPEC_BYTES = 16 << 20
"""The size limit of a YAML or JSON file read as a spec (an experiment, a search space, a Katib
experiment, a compiled pipeline): 16 MiB. Kubernetes keeps no object over 1.5 MiB (etcd's
limit), so a real one is far below it; a larger file is a mistake (or ``/dev/zero``)."""

try:  # the C loader is several times faster on large files; the pure one behaves the same
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Location:
    """Where a field was written: a file (or None for in-memory data) and a 1-based line."""

    file: str | None = None
    line: int | None = None


class SourceMap:
    """Field path → Location, with a fallback to the nearest enclosing field that is known."""

    def __init__(self, file: str | None = None, entries: dict[Path, Location] | None = None):
        self.file = file
        self.entries: dict[Path, Location] = dict(entries or {})

    def locate(self, path: Path) -> Location:
        """Return where ``path`` (or, if it is absent, its nearest parent) was written."""
        for end in range(len(path), -1, -1):
            found = self.entries.get(tuple(path[:end]))
            if found is not None:
                return found
        return Location(self.file, None)

    def subtree(self, prefix: Path, new_prefix: Path) -> dict[Path, Location]:
        """Entries under ``prefix``, re-keyed under ``new_prefix`` (for merged documents)."""
        n = len(prefix)
        return {
            new_prefix + key[n:]: loc for key, loc in self.entries.items() if key[:n] == prefix
        }


Locator = Callable[[Path], tuple[str, Location]]
"""Turns a field path of the spec into the path shown to the user and its location."""


def locate(findings: list[Finding], locator: Locator) -> list[Issue]:
    """Locate findings with ``locator``, dropping exact repeats, in file and line order."""
    issues: list[Issue] = []
    for finding in findings:
        shown, where = locator(finding.path)
        message = resolve_refs(finding.message, lambda path: locator(path)[0])
        issue = Issue(shown, message, where.file, where.line)
        if issue not in issues:
            issues.append(issue)
    return sorted(issues, key=lambda i: (i.file or "", i.line or 0))


def source_locator(source: SourceMap) -> Locator:
    """The locator for data that was written in our own format."""
    return lambda path: (render_path(path), source.locate(path))


def read_yaml(file: str | FsPath) -> tuple[Any, SourceMap]:
    """Read one YAML document from ``file``; see :func:`parse_yaml`."""
    return parse_yaml(_read_text(file), str(file))


def read_first_document(file: str | FsPath) -> Any:
    """The first YAML document of ``file`` (kfp writes a pipeline's platform spec second).

    Raises:
        SpecError: When the file cannot be read, or any document is not bounded YAML.
    """
    return _load_first(_read_text(file), str(file))[0]


def parse_yaml(text: str, file: str | None = None) -> tuple[Any, SourceMap]:
    """Parse YAML text holding one document (a leading ``---`` is fine).

    Returns:
        The data and a SourceMap of every key and list item in it.

    Raises:
        SpecError: On a YAML syntax error, several documents, a key given twice, or a
            document too large or deep once its aliases are expanded (see ``yaml_guard``).
    """
    data, nodes = _load_first(text, file)
    if len(nodes) > 1:
        line = nodes[1].start_mark.line + 1
        raise SpecError([Issue("", "expected one YAML document, found several", file, line)])
    source = SourceMap(file)
    if not nodes:
        return None, source
    duplicates: list[Issue] = []
    _walk(nodes[0], (), source, duplicates)
    if duplicates:
        raise SpecError(duplicates)
    return data, source


def _read_text(file: str | FsPath) -> str:
    """The text of a spec file a user named, refused before reading when it is no regular
    file (a FIFO would wait forever, ``/dev/zero`` never ends) or over :data:`MAX_SPEC_BYTES`."""
    try:
        return read_bounded(FsPath(file), MAX_SPEC_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise SpecError([Issue("", "file not found", str(file))]) from None
    except UnreadableFile as exc:
        raise SpecError([Issue("", f"{exc.reason}; give a YAML or JSON file of at most "
                                   f"{describe_size(MAX_SPEC_BYTES)}", str(file))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Issue("", f"cannot read the file: {exc}", str(file))]) from None


def _load_first(text: str, file: str | None) -> tuple[Any, list[yaml.Node]]:
    """The first document's data and every document's node.

    Every YAML parse in automl goes through here, so that no document is composed, built or
    walked before :func:`check_bounds` has measured it.
    """
    loader = _Loader(text)
    try:
        check_bounds(_Loader(text), file)  # before the C composer, which recurses
        nodes = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        return (loader.construct_document(nodes[0]) if nodes else None), nodes
    except SpecError:  # a ValueError too, but already located
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError([Issue("", f"invalid YAML: {problem}", file, line)]) from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an int of over 4300 digits
        raise SpecError([Issue("", f"invalid YAML: {exc}", file)]) from None
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: Path, source: SourceMap, duplicates: list[Issue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            here = (*path, key)
            if key in seen:
                line = key_node.start_mark.line + 1
                duplicates.append(
                    Issue(render_path(here), "key given twice (YAML keeps only the last)",
                          source.file, line)
                )
            seen.add(key)
            source.entries[here] = Location(source.file, key_node.start_mark.line + 1)
            _walk(value_node, here, source, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            here = (*path, index)
            source.entries[here] = Location(source.file, item.start_mark.line + 1)
            _walk(item, here, source, duplicates)
