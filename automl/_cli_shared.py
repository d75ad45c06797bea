"""What the ``automl`` commands share: their common options and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from automl.backends import BACKENDS

__all__ = ["EXIT_BAD_INPUT", "INT32_MAX", "Backend", "Context", "DbManager", "Namespace",
           "Storage", "Wide"]

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


def _echo(line: str) -> None:
    """Print a line holding trial text (names, values, reasons), control characters escaped."""
    from automl._terminal import visible

    typer.echo(visible(line))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    from automl._output import write_file

    write_file(output, text)
    typer.echo(f"wrote {output}", err=True)
