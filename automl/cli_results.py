"""The reading commands: trials, best, compare, report, tensorboard, dashboard.

Each reads an experiment's results from the backend that ran it and shows or writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from automl._cli_shared import (
    Backend,
    Context,
    DbManager,
    Namespace,
    Storage,
    Wide,
    _check_inputs,
    _check_kind,
    _check_output,
    _echo,
    _results,
    _storage_input,
    output_option,
)

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["register"]


def trials(
    name: Annotated[str, typer.Argument(help="The experiment.")],
    fmt: Annotated[str, typer.Option("--format",
                                     help="table, csv, json, parquet or markdown.")] = "table",
    output: Annotated[Path | None, output_option("Write here instead of stdout.")] = None,
    sort: Annotated[str | None, typer.Option(help="Sort by this column, as the table names "
                                                  "it (C or params.C); a metric (objective "
                                                  "too) best first.")] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort largest first.")] = False,
    asc: Annotated[bool, typer.Option("--asc", help="Sort smallest first.")] = False,
    top: Annotated[int | None, typer.Option(min=1, help="Keep the first N rows.")] = None,
    wide: Wide = False,
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
    db_manager: DbManager = None,
) -> None:
    """The trials table: one row per trial, typed params.* and metrics.* columns."""
    _check_output(output)
    from automl.results.export import write_table

    results = _results(name, storage, backend, namespace, context, db_manager)
    _check_inputs(output, _storage_input(storage, backend), [results.spec])
    _check_kind(output, fmt)
    frame = results.trials
    if sort is not None:
        column = next((c for c in (sort, f"params.{sort}", f"metrics.{sort}")
                       if c in frame.columns), None)
        if column is None:
            raise typer.BadParameter(f"no column {sort!r}; columns: {', '.join(frame.columns)}",
                                     param_hint="--sort")
        if asc and desc:
            raise typer.BadParameter("give one of --asc and --desc", param_hint="--asc")
        ascending = asc or (not desc and not _maximized(results.spec, column))
        frame = frame.sort_values(column, ascending=ascending, kind="stable")
    if top is not None:
        frame = frame.head(top)
    write_table(frame, fmt, output, wide=wide)


def _maximized(spec: ExperimentSpec, column: str) -> bool:
    """Whether ``column`` is best largest: the objective (and its metric) by the objective's
    type, another metric by its strategy (``latest`` as the objective); others never."""
    metric = column.removeprefix("metrics.")
    objective = spec.objective
    if column == "objective" or metric == objective.metric:
        return objective.type == "maximize"
    if not column.startswith("metrics."):
        return False
    strategy = objective.strategy(metric)
    return objective.type == "maximize" if strategy == "latest" else strategy == "max"


def best(
    name: Annotated[str, typer.Argument(help="The experiment.")],
    top: Annotated[int, typer.Option(min=1, help="How many of the best trials.")] = 1,
    fmt: Annotated[str, typer.Option("--format",
                                     help="text (a line each), json or csv.")] = "text",
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
) -> None:
    """The best trial (or the best N): objective and parameters."""
    if fmt not in ("text", "json", "csv"):
        raise typer.BadParameter(f"{fmt!r}: expected text, json or csv", param_hint="--format")
    results = _results(name, storage, backend, namespace, context)
    chosen = results.best(top)
    if chosen.empty:
        from automl.results.failures import failures_line

        why = failures_line(results.trials)
        _echo(f"{name}: no trial has an objective value yet{'; ' + why if why else ''}",
              err=fmt != "text")
        raise typer.Exit(1)
    if fmt != "text":
        from automl.results.export import write_table

        write_table(chosen, fmt, None)
        return
    for _, row in chosen.iterrows():
        params = " ".join(f"{c.removeprefix('params.')}={row[c]}" for c in chosen.columns
                          if c.startswith("params."))
        value = f"{row['objective']:.6g}"
        if "architecture" in chosen.columns:  # Katib's NAS assignments, said in words
            params = f"architecture={row['architecture']}"
            if results.spec.algorithm.name == "darts":  # the objective is the genotype
                value, params = row["architecture"], ""
        _echo(f"{row['trial']} {results.spec.objective.metric}={value} {params}".rstrip(" "))


def compare(
    names: Annotated[list[str], typer.Argument(help="The experiments.")],
    fmt: Annotated[str, typer.Option("--format",
                                     help="table, csv, json, parquet or markdown.")] = "table",
    output: Annotated[Path | None, output_option("Write here instead of stdout.")] = None,
    storage: Annotated[str | None, typer.Option(help="Optuna storage URL or journal file.")]
    = None,
    wide: Wide = False,
) -> None:
    """Several experiments' trials in one table, with an experiment column."""
    _check_output(output)
    from automl.results import compare as stack
    from automl.results.export import write_table

    results = [_results(name, storage, "local", None, None) for name in names]
    _check_inputs(output, _storage_input(storage, "local"), [r.spec for r in results])
    _check_kind(output, fmt)
    write_table(stack(results), fmt, output, wide=wide)


def report(
    names: Annotated[list[str], typer.Argument(help="The experiment, or several to compare.")],
    output: Annotated[Path, output_option("The HTML file to write.")]
    = Path("report.html"),
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
) -> None:
    """One self-contained HTML file: summary, plots, trials (several: compared side by side)."""
    _check_output(output)
    from automl.results.report import write_report

    results = [_results(name, storage, backend, namespace, context) for name in names]
    _check_inputs(output, _storage_input(storage, backend), [r.spec for r in results])
    _check_kind(output, "html")
    write_report(results, output)
    typer.echo(f"wrote {output}", err=True)


def tensorboard(
    name: Annotated[str, typer.Argument(help="The experiment.")],
    logdir: Annotated[Path, typer.Option(help="Where to write the logs.")] = Path("tb"),
    serve: Annotated[bool, typer.Option("--serve", help="Then run TensorBoard on them.")]
    = False,
    port: Annotated[int, typer.Option(min=1, max=65535,
                                      help="TensorBoard's port (with --serve).")] = 6006,
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
    db_manager: DbManager = None,
) -> None:
    """Write TensorBoard logs: a run per trial with its curves, and the HParams dashboard."""
    from automl._output import check_folder

    check_folder(logdir)
    from automl.results.tensorboard import serve as serve_board

    written = _results(name, storage, backend, namespace, context,
                       db_manager).to_tensorboard(logdir)
    typer.echo(f"wrote {written} (tensorboard --logdir {written})", err=True)
    if serve:
        serve_board(written, port=port)


def dashboard(
    storage: Annotated[str | None, typer.Option(help="Optuna storage URL or journal file.")]
    = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
) -> None:
    """Serve optuna-dashboard on the experiments' storage (loopback by default)."""
    from automl.local.store import DEFAULT_ROOT
    from automl.results.dashboard import serve_dashboard

    serve_dashboard(storage, DEFAULT_ROOT, host=host, port=port)



_EPILOGS = {
    trials: "Examples:  automl trials digits-svm --sort objective --top 5  |  "
            "automl trials digits-svm --format parquet -o trials.parquet",
    best: "Examples:  automl best digits-svm --top 3  |  automl best digits-svm --format json",
    compare: "Example:  automl compare digits-svm digits-svm-random --format markdown",
    report: "Examples:  automl report digits-svm -o report.html  |  automl report "
            "digits-compare-random digits-compare-tpe -o compare.html",
    tensorboard: "Example:  automl tensorboard digits-svm --logdir tb --serve",
    dashboard: "Example:  automl dashboard --port 8080",
}


def register(app: typer.Typer) -> None:
    """Add these commands to ``app``, in this order (``automl --help`` lists them so)."""
    for command, epilog in _EPILOGS.items():
        app.command(epilog=epilog)(command)
