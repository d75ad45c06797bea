"""What the ``automl`` commands share: their common options and small helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from automl.backends import BACKENDS

__all__ = ["EXIT_BAD_INPUT", "INT32_MAX", "Backend", "Context", "DbManager", "Namespace",
           "Storage", "Wide", "experiment_of", "output_option"]

EXIT_BAD_INPUT = 2
INT32_MAX = 2**31 - 1  # Katib's budget fields are int32

Backend = Annotated[Literal[tuple(BACKENDS)],  # type: ignore[valid-type]
                    typer.Option(help="local (this machine) or katib (a cluster).")]
Namespace = Annotated[str | None, typer.Option(
    help="katib: the namespace (default: the kubeconfig context's, else default).")]
Context = Annotated[str | None, typer.Option(help="katib: the kubeconfig context.")]
Storage = Annotated[str | None, typer.Option(help="local: Optuna storage URL or journal file.")]
Wide = Annotated[bool, typer.Option("--wide", help="Every column whole, however wide the "
                                                   "lines (a terminal gets the columns that "
                                                   "fit).")]
DbManager = Annotated[str | None, typer.Option(
    help="katib: Katib's DB manager host:port, for the full observation logs.")]


KUBECTL_FORMATS = frozenset({
    "json", "yaml", "wide", "name", "go-template", "go-template-file", "template",
    "templatefile", "jsonpath", "jsonpath-file", "jsonpath-as-json", "custom-columns",
    "custom-columns-file"})
"""Every output format kubectl's ``-o`` takes, each also as ``FORMAT=ARGUMENT``."""

FORMAT_NAMES = KUBECTL_FORMATS | {"table", "text", "csv", "parquet", "markdown"}
"""Words kubectl's ``-o`` or automl's --format take: never meant as a file name."""


def output_option(help: str) -> Any:
    """The ``-o``/``--output`` option: a file (or folder) to write, never a format name."""
    return typer.Option("-o", "--output", help=help, callback=_not_a_format)


def _not_a_format(value: Path | None) -> Path | None:
    """Refuse ``-o json``: kubectl's habit, which would write a file named json.

    Every spelling of a kubectl format: ``-o json``, ``-o=json`` (click reads ``=json``),
    ``-o jsonpath={.items}``, ``-o custom-columns=A:.a`` (a dot there is no file suffix).
    """
    if value is None:
        return value
    given = str(value)
    head, equals, _ = given.partition("=")
    if given.startswith("=") or (equals and head in KUBECTL_FORMATS) or given in FORMAT_NAMES:
        from automl.errors import AutomlError

        raise AutomlError(f"-o {value}: -o names the file to write here, not kubectl's "
                          "output format (trials, best and compare take --format; tables "
                          "--wide)")
    return value


# How each backend names trials: the local engine <experiment>-NNNN, Katib's controller
# <experiment>-<8 random lower-case letters and digits>.
_TRIAL_SUFFIX = {"local": re.compile(r"-[0-9]{4,}"), "katib": re.compile(r"-[a-z0-9]{8}")}


def experiment_of(trial: str, backend: str) -> str:
    """The experiment a trial name belongs to, read off the name as the backend makes it.

    Raises:
        AutomlError: When ``trial`` is not a trial name of ``backend`` (exit status 2).
    """
    from automl.errors import AutomlError

    experiment, _, suffix = trial.rpartition("-")
    pattern = _TRIAL_SUFFIX.get(backend)
    if not experiment or pattern is None or not pattern.fullmatch(f"-{suffix}"):
        raise AutomlError(f"{trial!r} is not a trial name (<experiment>-NNNN); give the "
                          f"experiment and the trial: automl logs {trial} TRIAL (automl "
                          f"status {trial} --all lists them)")
    return experiment


def _cluster(namespace: str | None, context: str | None) -> Any:
    from automl.katib.cluster import KatibCluster

    return KatibCluster(namespace=namespace, context=context)


def _results(name: str, storage: str | None, backend: str, namespace: str | None,
             context: str | None, db_manager: str | None = None) -> Any:
    """The experiment's Results from the backend it ran on."""
    return _backend(backend, storage=storage, namespace=namespace, context=context,
                    db_manager=db_manager).results(name)


def _backend(name: str, **options: Any) -> Any:
    from automl.backends import get_backend

    return get_backend(name, **options)


def _check_output(output: Path | None) -> None:
    """Refuse a wrong output path before the work that would be lost on it."""
    from automl._output import check_file

    if output is not None:
        check_file(output)


def _check_inputs(output: Path | None, files: Mapping[Path, str], specs: Iterable[Any] = ()
                  ) -> None:
    """Refuse an ``-o`` that is one of the command's inputs, before anything is written.

    Args:
        output: The ``-o`` file (None: stdout, nothing to refuse).
        files: The files the command reads, each with what it is in words.
        specs: The experiments whose trials' files (their programs and the files their
            commands name, :func:`automl.pipelines.files.trial_paths`) must stay as they are.

    Raises:
        OutputError: When ``output`` is one of them (exit status 2).
    """
    if output is None:
        return
    from automl._output import check_not_input
    from automl.pipelines.files import trial_paths

    inputs = dict(files)
    for spec in specs:
        for word in trial_paths(spec):
            inputs.setdefault(Path(word), f"a file the trials of {spec.name!r} run")
    check_not_input(output, inputs)


_KINDS = {"table": ("table", (".txt", ".log")), "csv": ("CSV", (".csv", ".tsv", ".txt")),
          "json": ("JSON", (".json", ".jsonl", ".txt")),
          "parquet": ("Parquet", (".parquet", ".pq")),
          "markdown": ("Markdown", (".md", ".markdown", ".txt")),
          "html": ("HTML", (".html", ".htm")), "yaml": ("YAML", (".yaml", ".yml"))}
"""What each format's output file is, in words, and the suffixes such a file has."""


def _check_kind(output: Path | None, fmt: str) -> None:
    """Refuse an ``-o`` that exists and is named as another kind of file than ``fmt``'s."""
    if output is not None and fmt in _KINDS:
        from automl._output import check_kind

        check_kind(output, *_KINDS[fmt])


def _storage_input(storage: str | None, backend: str) -> dict[Path, str]:
    """The local storage file a results command reads, for :func:`_check_inputs`."""
    if backend != "local" or storage == ":memory:":
        return {}
    if storage is None or "://" not in storage:
        from automl.local.paths import DEFAULT_ROOT, JOURNAL

        return {Path(storage) if storage else DEFAULT_ROOT / JOURNAL: "the storage"}
    from automl.local.store import _sqlite_file

    database = _sqlite_file(storage)
    return {} if database is None else {database: "the storage"}


def _echo(line: str, *, err: bool = False) -> None:
    """Print a line holding trial text (names, values, reasons), control characters escaped.

    On a terminal a long line is wrapped between words (a terminal would cut ``2.87e-05``
    or ``completed`` in two), the rest indented; a pipe or a file gets it whole.
    """
    import sys
    import textwrap

    from automl._table import output_width
    from automl._terminal import visible

    text = visible(line)
    width = output_width() if (sys.stderr if err else sys.stdout).isatty() else None
    if width is not None and len(text) > width:
        text = "\n".join(textwrap.wrap(text, width, subsequent_indent="  ",
                                        break_long_words=False, break_on_hyphens=False))
    typer.echo(text, err=err)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    from automl._output import write_file

    write_file(output, text)
    typer.echo(f"wrote {output}", err=True)
