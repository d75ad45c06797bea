"""Reusable search spaces: ``search_space: sklearn/svm`` or a path, merged with inline fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl.spec.errors import Finding, Issue, SpecError
from automl.spec.source import Location, SourceMap, read_yaml

__all__ = ["available_search_spaces", "merge_search_space", "resolve_search_space",
           "search_space_description", "search_space_file", "search_space_roots"]

_KEYS = ("description", "parameters", "nas")


def search_space_roots(base_dir: Path | None = None) -> list[Path]:
    """Folders named ``search_spaces`` that short names are looked up in, nearest first.

    The experiment file's folder and its parents, then the current folder, then the library
    that ships with automl (inside the installed package, or beside it in a source checkout).
    """
    starts = []
    if base_dir is not None:
        starts += [base_dir.resolve(), *base_dir.resolve().parents]
    starts.append(Path.cwd())
    package = Path(__file__).resolve().parents[1]
    starts += [package, package.parent]  # wheel: automl/search_spaces; checkout: ./search_spaces
    roots: list[Path] = []
    for start in starts:
        root = start / "search_spaces"
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def search_space_file(name: str, base_dir: Path | None = None) -> Path:
    """The file of the search space ``name`` (a short name or a path).

    Raises:
        SpecError: When there is none; the message lists the short names available.
    """
    return resolve_search_space(name, base_dir, Location())


def search_space_description(file: Path) -> str:
    """The ``description`` of a search-space file ("" when it has none)."""
    data, _ = read_yaml(file)
    return str(data.get("description", "")) if isinstance(data, dict) else ""


def available_search_spaces(base_dir: Path | None = None) -> list[str]:
    """Short names of every search space found, e.g. ``sklearn/svm``."""
    names: set[str] = set()
    for root in search_space_roots(base_dir):
        for file in root.rglob("*.y*ml"):
            names.add(file.relative_to(root).with_suffix("").as_posix())
    return sorted(names)


def resolve_search_space(ref: str, base_dir: Path | None, where: Location) -> Path:
    """The file that ``ref`` (a path, or a short name such as ``sklearn/svm``) names.

    Raises:
        SpecError: When nothing matches; the message lists the short names available.
    """
    candidates: list[Path] = []
    as_path = Path(ref)
    if as_path.is_absolute():
        candidates.append(as_path)
    else:
        for start in ([base_dir] if base_dir is not None else []) + [Path.cwd()]:
            candidates.append(start / as_path)
        for root in search_space_roots(base_dir):
            candidates += [root / f"{ref}.yaml", root / f"{ref}.yml", root / ref]
    for candidate in candidates:
        # Not is_file(): a FIFO or a device there is the file meant, refused when read.
        if candidate.exists() and not candidate.is_dir():
            return candidate
    names = available_search_spaces(base_dir)
    listed = ", ".join(names) if names else "none found"
    raise SpecError([Issue("search_space", f"no search space {ref!r}; expected a file path or "
                                           f"one of: {listed}", where.file, where.line)])


def merge_search_space(data: dict[str, Any], source: SourceMap,
                       base_dir: Path | None) -> tuple[dict[str, Any], SourceMap]:
    """Replace ``search_space`` in ``data`` by the parameters (and nas) of the file it names.

    Inline ``parameters`` override the file's parameters of the same name and add new ones;
    an inline ``nas`` replaces the file's.
    """
    ref = data.get("search_space")
    where = source.locate(("search_space",))
    if not isinstance(ref, str) or not ref.strip():
        raise SpecError([Issue("search_space", f"expected a file path or a short name such as "
                                               f"sklearn/svm, got {ref!r}", where.file,
                               where.line)])
    file = resolve_search_space(ref, base_dir, where)
    space, space_source = read_yaml(file)
    _check_space(space, space_source)
    merged = {k: v for k, v in data.items() if k != "search_space"}
    entries = {k: v for k, v in source.entries.items()
               if k[:1] not in (("search_space",), ("parameters",))}
    params: list[Any] = []
    for i, p in enumerate(space.get("parameters") or []):
        entries.update(space_source.subtree(("parameters", i), ("parameters", len(params))))
        params.append(p)
    inline = data.get("parameters")
    for i, p in enumerate(inline if isinstance(inline, list) else []):
        name = p.get("name") if isinstance(p, dict) else None
        index = next((k for k, q in enumerate(params)
                      if isinstance(q, dict) and name is not None and q.get("name") == name),
                     len(params))
        entries = {k: v for k, v in entries.items() if k[:2] != ("parameters", index)}
        entries.update(source.subtree(("parameters", i), ("parameters", index)))
        if index == len(params):
            params.append(p)
        else:
            params[index] = p
    if inline is not None and not isinstance(inline, list):
        params = inline  # reported by validation as "expected a list"
        entries.update(source.subtree(("parameters",), ("parameters",)))
    if params or "parameters" in data:
        merged["parameters"] = params
        entries.setdefault(("parameters",), source.locate(("search_space",)))
    if "nas" in space and "nas" not in data:
        merged["nas"] = space["nas"]
        entries.update(space_source.subtree(("nas",), ("nas",)))
    return merged, SourceMap(source.file, entries)


def _check_space(space: Any, source: SourceMap) -> None:
    if not isinstance(space, dict):
        raise SpecError([Issue("", "expected a mapping with parameters and/or nas",
                               source.file, 1)])
    findings = [Finding((key,), "unknown field; a search space holds " + ", ".join(_KEYS))
                for key in space if key not in _KEYS]
    if findings:
        raise SpecError([Issue(str(f.path[0]), f.message, *_loc(source, f.path))
                         for f in findings])


def _loc(source: SourceMap, path: tuple) -> tuple[str | None, int | None]:
    where = source.locate(path)
    return where.file, where.line


