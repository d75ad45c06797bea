"""The ``automl`` command. Each command is a thin call into the Python API.

Exit status: 0 success, 2 bad input (a spec Katib would refuse, a missing file, a wrong
option), 1 anything else that went wrong (run: the experiment ended Failed), 130 interrupted
(Ctrl-C), 143 stopped by SIGTERM; with --backend katib and pipeline submit, 3-7 (see
``automl --help``, ``automl.katib.cluster.EXIT_CODES`` and ``automl.pipelines.submit``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from automl import __version__
from automl._cli_help import tidy_help
from automl._cli_shared import (
    EXIT_BAD_INPUT,
    INT32_MAX,
    Backend,
    Context,
    Namespace,
    Storage,
    Wide,
    _backend,
    _check_inputs,
    _check_kind,
    _check_output,
    _cluster,
    _echo,
    _write,
    experiment_of,
    output_option,
)
from automl.cli_results import register as _register_results
from automl.errors import AutomlError, Terminated

__all__ = ["app", "main"]

app = typer.Typer(
    name="automl",
    help="Katib experiments on this machine, on a Katib cluster, or in Kubeflow Pipelines.\n\n"
         "Exit status: 0 success, 2 bad input (invalid experiment, missing file, wrong option), "
         "1 any other failure (run: the experiment ended Failed), 130 interrupted (Ctrl-C), "
         "143 stopped by SIGTERM; "
         "with --backend katib: 3 no cluster, 4 Katib not installed, 5 forbidden, 6 already "
         "exists, 7 experiment not found; pipeline submit: 3 no KFP server, 5 login refused, "
         "6 conflict, 7 not found.",
    epilog="Example: automl validate examples/quickstart/experiment.yaml",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"automl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Katib experiments on this machine, on a Katib cluster, or in Kubeflow Pipelines."""
    _log_to_stderr()


class _StderrLines(logging.StreamHandler):
    """automl's warnings as plain lines on the stderr of the command being run."""


def _log_to_stderr() -> None:
    log = logging.getLogger("automl")
    for handler in [h for h in log.handlers if isinstance(h, _StderrLines)]:
        log.removeHandler(handler)  # the previous command's, in one process (tests)
    handler = _StderrLines(sys.stderr)
    handler.setLevel(logging.WARNING)
    log.addHandler(handler)


@app.command(epilog="Examples:  automl validate examples/quickstart/experiment.yaml  |  "
                    "automl validate --katib my-katib-experiment.yaml")
def validate(
    files: Annotated[list[Path], typer.Argument(help="Experiment files: automl's format or "
                                                     "Katib Experiment YAML.")],
    katib: Annotated[bool, typer.Option("--katib", help="Also require what a Katib cluster "
                                                        "needs (an image, a Katib collector, "
                                                        "the trial's files in its image).")]
    = False,
) -> None:
    """Check experiment files against Katib's rules, reporting every problem with its line."""
    from automl._api import load
    from automl.spec import SpecError
    from automl.trial_image import trial_image_problems

    failed = False
    for file in files:
        try:
            spec = load(file, katib=katib)
        except SpecError as exc:
            failed = True
            _print_error(exc)
            continue
        if katib and _said(trial_image_problems(spec), f"error: {file}: "):
            failed = True
            continue
        count, noun = ((len(spec.parameters), "parameter") if spec.nas is None
                       else (len(spec.nas.operations), "NAS operation"))
        space = f"{count} {noun}{'' if count == 1 else 's'}"
        typer.echo(f"{file}: ok ({spec.name}: {spec.algorithm.name}, {space})")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command(name="compile",
             epilog="Example:  automl compile examples/quickstart/experiment.yaml -o katib.yaml && "
                    "kubectl apply -f katib.yaml")
def compile_(
    file: Annotated[Path, typer.Argument(help="The experiment file.")],
    output: Annotated[Path | None, output_option("Write here instead of stdout.")] = None,
) -> None:
    """Compile an experiment to the Katib Experiment YAML that kubectl applies."""
    from automl._api import load
    from automl.katib import to_yaml
    from automl.trial_image import trial_image_problems

    _check_output(output)
    spec = load(file, katib=True)
    _check_inputs(output, {file: "the experiment file"}, [spec])
    _check_kind(output, "yaml")
    _said(trial_image_problems(spec), "warning: ")
    _write(to_yaml(spec), output)


@app.command(name="import",
             epilog="Example:  automl import random.yaml -o experiment.yaml")
def import_(
    file: Annotated[Path, typer.Argument(help="A Katib Experiment YAML file.")],
    output: Annotated[Path | None, output_option("Write here instead of stdout.")] = None,
) -> None:
    """Convert a Katib Experiment YAML to automl's experiment format."""
    from automl.katib import from_katib
    from automl.spec import spec_to_yaml

    _check_output(output)
    spec = from_katib(file)
    _check_inputs(output, {file: "the Katib Experiment file"}, [spec])
    _check_kind(output, "yaml")
    _write(spec_to_yaml(spec), output)


@app.command(epilog="Examples:  automl run examples/quickstart/experiment.yaml  |  "
                    "automl run my-katib-experiment.yaml --storage sqlite:///runs.db")
def run(
    file: Annotated[Path, typer.Argument(help="The experiment: automl's format or Katib "
                                              "Experiment YAML.")],
    backend: Backend = "local",
    storage: Annotated[str | None, typer.Option(
        help="local: Optuna storage URL (sqlite:///x.db, postgresql://...) or journal file; "
             "default .automl/studies.journal.")] = None,
    namespace: Namespace = None,
    context: Context = None,
    resume: Annotated[bool, typer.Option("--resume", help="katib: reattach to the experiment "
                                                          "of that name.")] = False,
    poll: Annotated[float, typer.Option(min=0,
                                        help="katib: seconds between status checks.")] = 5.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="katib: print the Experiment "
                                                            "that would be created.")] = False,
    force: Annotated[bool, typer.Option("--force", help="katib: submit even when a trial's "
                                                        "command names a project file its "
                                                        "stock image lacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    seed: Annotated[int | None, typer.Option(
        min=0, max=2**32 - 1,  # numpy's seeds, which Optuna's samplers take
        help="local: seed the sampler when the algorithm has no random_state setting (enas, "
             "sobol).")] = None,
    katib_shell: Annotated[bool, typer.Option(
        "--katib-shell", help="local: run each trial's command as Katib does for the StdOut, "
                              "File and TensorFlowEvent collectors: joined with spaces under "
                              "sh -c, StdOut's output redirected after the last command. "
                              "Kept with the experiment: a resume must give it alike.")
    ] = False,
) -> None:
    """Run an experiment until Katib would call it done; run again to resume.

    Locally trials run as processes; their logs go to <experiment>/<trial>/ in the storage's
    run folder (.automl/runs/ for the default storage, F.runs/ beside a storage file F), and
    Ctrl-C or SIGTERM stops every trial (with every process it started) and keeps what
    finished. With --backend katib the Experiment is created on the cluster and followed;
    Ctrl-C leaves it running there. It is refused (exit 2) when a trial's command names a file
    of this project while its image is a stock one (python:3.11-slim) that cannot hold it;
    --force submits it anyway, --dry-run warns.
    """
    from automl._api import load
    from automl._run import run as run_experiment

    if dry_run or (backend == "katib" and not resume):
        from automl.trial_image import trial_image_problems

        spec = load(file, katib=True)
        problems = trial_image_problems(spec)
        if dry_run or force:
            _said(problems, "warning: ")
        elif _said(problems, "error: ", " (--force submits it anyway)"):
            raise typer.Exit(EXIT_BAD_INPUT)
    if dry_run:
        from automl.katib import to_yaml

        typer.echo(to_yaml(spec), nl=False)
        return
    try:
        summary = run_experiment(file, backend=backend, storage=storage, progress=not quiet,
                                 namespace=namespace, context=context, resume=resume,
                                 poll_seconds=poll, seed=seed, katib_shell=katib_shell)
    except Terminated as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(exc.code) from None
    except KeyboardInterrupt:
        typer.echo(_backend(backend).interrupted(load(file).name), err=True)
        raise typer.Exit(130) from None
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts.items()))
    _echo(f"{summary.name}: {summary.status} ({summary.reason}); trials: {counts or 'none'}")
    if summary.best is not None:
        from automl.spec.nas_assignments import shown_params
        from automl.state.progress import objective_text

        shown = shown_params(load(file).algorithm.name, summary.best["params"])
        params = " ".join(f"{k}={v}" for k, v in shown.items())
        _echo(f"best: {summary.best['name']} "
              f"objective={objective_text(summary.best['objective'])} {params}".rstrip(" "))
    else:
        from automl.results.failures import failures_line

        why = failures_line(_backend(backend, storage=storage, namespace=namespace,
                                     context=context).results(summary.name).trials)
        _echo(f"best: -{'; ' + why if why else ''}")
    if summary.status == "Failed":
        raise typer.Exit(1)


@app.command(epilog="Examples:  automl status digits-svm  |  automl status digits-svm --all  "
                    "|  automl status digits-svm --watch")
def status(
    name: Annotated[str | None, typer.Argument(help="The experiment (all when omitted).")] = None,
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
    every: Annotated[bool, typer.Option("--all", help="List every trial, not only the best "
                                                     "and the running ones.")] = False,
    wide: Wide = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Show it again every --interval "
                                                       "seconds until the run ends.")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between two looks "
                                                          "(with --watch).")] = 2.0,
) -> None:
    """Show an experiment's state: counts, best and running trials (or every experiment's)."""
    chosen = _backend(backend, storage=storage, namespace=namespace, context=context)
    if not watch:
        chosen.print_status(name, every=every, wide=wide)
        return
    if name is None:
        raise typer.BadParameter("give the experiment to watch", param_hint="--watch")
    from automl._watch import watch_status

    try:
        watch_status(chosen, name, interval, every=every, wide=wide)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command(epilog="Examples:  automl logs digits-svm-0003 --tail 20  |  "
                     "automl logs digits-svm digits-svm-0003 --stderr -f")
def logs(
    name: Annotated[str, typer.Argument(help="The experiment, or the trial alone "
                                             "(<experiment>-NNNN).")],
    trial: Annotated[str | None, typer.Argument(help="The trial, as status and trials name "
                                                     "it.")] = None,
    stderr: Annotated[bool, typer.Option("--stderr", help="local: its standard error, not its "
                                                          "output.")] = False,
    tail: Annotated[int | None, typer.Option(min=-1, help="Only the last N lines (-1: all, "
                                                          "as kubectl's).")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Go on printing what the trial "
                                                               "writes until it ends.")] = False,
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
) -> None:
    """Print a trial's output (kubectl logs for a trial), from this machine or the cluster."""
    from automl._terminal import visible

    if trial is None:
        name, trial = experiment_of(name, backend), name
    if tail == -1:
        tail = None
    chosen = _backend(backend, storage=storage, namespace=namespace, context=context)
    shown = visible if sys.stdout.isatty() else str  # a terminal gets no escape sequences
    try:
        for line in chosen.logs(name, trial, stderr=stderr, tail=tail, follow=follow):
            typer.echo(shown(line))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command(name="list", epilog="Example:  automl list --storage sqlite:///runs.db")
def list_(
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
    wide: Wide = False,
) -> None:
    """List the experiments (in a storage, or a Katib namespace) with their state."""
    _backend(backend, storage=storage, namespace=namespace, context=context).print_status(
        None, wide=wide)


@app.command(epilog="Example:  automl budget digits-svm --max-trials 40 --parallel-trials 4")
def budget(
    name: Annotated[str, typer.Argument(help="The Katib experiment.")],
    max_trials: Annotated[int | None, typer.Option(min=1, max=INT32_MAX,
                                                   help="New maxTrialCount.")] = None,
    parallel_trials: Annotated[int | None, typer.Option(min=1, max=INT32_MAX,
                                                        help="New parallelTrialCount.")]
    = None,
    max_failed_trials: Annotated[int | None, typer.Option(min=0, max=INT32_MAX,
                                                          help="New maxFailedTrialCount.")]
    = None,
    namespace: Namespace = None,
    context: Context = None,
) -> None:
    """Change a Katib experiment's budget (the only fields Katib lets change)."""
    edited = _cluster(namespace, context).edit_budget(name, max_trials, parallel_trials,
                                                     max_failed_trials)
    spec = edited["spec"]
    typer.echo(f"{name}: maxTrialCount={spec.get('maxTrialCount')} "
               f"parallelTrialCount={spec.get('parallelTrialCount')} "
               f"maxFailedTrialCount={spec.get('maxFailedTrialCount')}")


@app.command(epilog="Examples:  automl delete digits-svm  |  automl delete digits-svm "
                    "--backend katib --yes")
def delete(
    name: Annotated[str, typer.Argument(help="The experiment.")],
    backend: Backend = "local",
    storage: Storage = None,
    namespace: Namespace = None,
    context: Context = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking (needed "
                                                          "when stdin is not a terminal).")]
    = False,
) -> None:
    """Delete an experiment with its trials (locally: its study and its trials' logs).

    On a terminal it asks first; elsewhere (a script, a pipe) it deletes only with --yes.
    """
    where = ("the local experiment" if backend == "local"
             else f"the experiment on the {backend} backend")
    if not yes:
        # Unlike kubectl delete, which asks nothing: a pasted block or a script run in the
        # wrong folder must not delete what cannot be made again (the study, the logs).
        if not sys.stdin.isatty():
            raise AutomlError(f"not deleting {where} {name!r}: stdin is not a terminal "
                              "to ask on; give --yes to delete it")
        # Asked on stderr, read from stdin: stdout stays for what the command prints (click's
        # confirm writes the prompt's last space to stdout).
        typer.echo(f"Delete {where} {name!r} with its trials? [y/N]: ", err=True, nl=False)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            typer.echo(f"kept {name}", err=True)
            raise typer.Exit(1)
    kept = _backend(backend, storage=storage, namespace=namespace, context=context).delete(name)
    typer.echo(f"deleted {name}")
    if kept:
        _echo(kept, err=True)


_EXPERIMENTS = frozenset({"experiment", "experiments", "exp", "experiments.kubeflow.org"})
_TRIALS = frozenset({"trial", "trials", "trials.kubeflow.org"})


@app.command(epilog="Examples:  automl get experiments  |  automl get experiment digits-svm  |  "
                    "automl get trials digits-svm")
def get(
    resource: Annotated[str, typer.Argument(help="experiments or trials, as kubectl names "
                                                 "them.")],
    name: Annotated[str | None, typer.Argument(help="The experiment.")] = None,
    storage: Storage = None,
    backend: Backend = "local",
    namespace: Namespace = None,
    context: Context = None,
    wide: Wide = False,
) -> None:
    """kubectl's get: experiments as list (one: status), trials NAME as automl trials."""
    chosen = _backend(backend, storage=storage, namespace=namespace, context=context)
    kind = resource.lower()
    if kind in _EXPERIMENTS:
        chosen.print_status(name, wide=wide)
    elif kind in _TRIALS and name is not None:
        from automl.results.export import write_table

        write_table(_trial_rows(chosen, name, backend, prefer_trial=kind == "trial"), "table",
                    None, wide=wide)
    else:
        raise AutomlError(f"automl get {resource}{'' if name is None else ' ' + name}: "
                          "expected 'get experiments [NAME]' or 'get trials EXPERIMENT' "
                          "(or automl list, status NAME, trials NAME)")


def _trial_rows(chosen: Any, name: str, backend: str, *, prefer_trial: bool) -> Any:
    """The trials table ``get trial(s) NAME`` shows: the row of the trial NAME (kubectl's
    ``get trial quick-0000``), else the trials of the experiment NAME.

    ``get trial`` takes NAME for a trial first, ``get trials`` for an experiment first;
    each falls back to the other reading when that one finds nothing.
    """
    def as_trial() -> Any:
        try:
            table = chosen.results(experiment_of(name, backend)).trials
        except AutomlError:
            return None
        row = table[table["trial"] == name]
        return row if len(row) else None

    def as_experiment() -> Any:
        try:
            return chosen.results(name).trials
        except AutomlError:
            if (found := as_trial()) is not None:
                return found
            raise

    if prefer_trial and (found := as_trial()) is not None:
        return found
    return as_experiment()


_register_results(app)


spaces_app = typer.Typer(help="The library of search spaces, by short name.",
                         no_args_is_help=True)
app.add_typer(spaces_app, name="spaces")


@spaces_app.command(name="list", epilog="Example:  automl spaces list")
def spaces_list() -> None:
    """Every search space by short name, with its description."""
    from automl.spec.search_space import (
        available_search_spaces,
        search_space_description,
        search_space_file,
    )

    for name in available_search_spaces():
        typer.echo(f"{name:32s} {search_space_description(search_space_file(name))}")


@spaces_app.command(name="show", epilog="Example:  automl spaces show sklearn/svm")
def spaces_show(
    name: Annotated[str, typer.Argument(help="A short name (e.g. sklearn/svm) or a path.")],
) -> None:
    """Print a search space's file, with the comment that says where its ranges come from.

    Use it with `search_space: NAME` in an experiment file.
    """
    from automl.spec.search_space import search_space_file

    typer.echo(search_space_file(name).read_text(encoding="utf-8"), nl=False)


def _said(problems: list[str], prefix: str, suffix: str = "") -> bool:
    """Print each problem as one line on stderr; whether there was any."""
    for problem in problems:
        typer.echo(f"{prefix}{problem}{suffix}", err=True)
    return bool(problems)


def _print_error(exc: AutomlError) -> None:
    from automl.spec import SpecError

    lines = [str(i) for i in exc.issues] if isinstance(exc, SpecError) else [str(exc)]
    for line in lines:
        typer.echo(f"error: {line}", err=True)


def _pipelines() -> None:
    from automl.cli_pipeline import pipeline_app

    app.add_typer(pipeline_app, name="pipeline")


_pipelines()
tidy_help(app)


def main() -> None:
    """Console entry point: run the app; our own errors print without a traceback."""
    try:
        app()
    except AutomlError as exc:
        _print_error(exc)
        sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))
