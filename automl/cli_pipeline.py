"""``automl pipeline ...``: experiments as Kubeflow Pipelines steps, from image to run.

The workflow of a Kubeflow user: build the tuning step's image (``image``), compile with it
(``compile``, which warns of what would fail on a cluster), run here (``run --local``) or
upload and run on a KFP server (``submit``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from automl._cli_shared import _check_inputs, output_option
from automl._terminal import visible

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    help="Experiments as Kubeflow Pipelines steps: build the image, compile, run here, submit "
         "to a KFP server.",
    no_args_is_help=True)

_SOURCE_HELP = ("An experiment file (automl's or Katib's: a tuning-only pipeline), a .py file "
                "defining `pipeline`, or a compiled pipeline YAML.")


@pipeline_app.command(name="compile",
                      epilog="Example:  automl pipeline compile examples/pipeline/pipeline.py "
                             "-o pipeline.yaml")
def pipeline_compile(
    source: Annotated[Path, typer.Argument(help=_SOURCE_HELP)],
    output: Annotated[Path, output_option("The pipeline YAML to write.")]
    = Path("pipeline.yaml"),
    image: Annotated[str | None, typer.Option(help="The tuning step's image (one 'automl "
                                                   "pipeline image' built).")] = None,
    context: Annotated[Path | None, typer.Option(help="The build context that image came "
                                                      "from: what it ships.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse (exit 2, nothing written) "
                                                          "what would fail on a cluster.")]
    = False,
) -> None:
    """Compile to KFP's pipeline YAML (IR); warn of what would fail on a cluster as written."""
    import shutil
    import tempfile

    from automl._output import check_file
    from automl.pipelines import compile_pipeline
    from automl.pipelines.check import cluster_problems
    from automl.pipelines.files import pipeline_experiments
    from automl.pipelines.image import read_manifest

    manifest = read_manifest(context) if context is not None else None
    check_file(output)
    with tempfile.TemporaryDirectory() as tmp:
        compiled = compile_pipeline(source, Path(tmp) / output.name,
                                    image=image or (manifest or {}).get("image"))
        _check_inputs(output, {source: "the pipeline source"}, pipeline_experiments(compiled))
        problems = cluster_problems(compiled, manifest)
        if strict and problems:
            for problem in problems:
                typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(2)
        from automl._output import write_file

        # Written before the warnings: an output that cannot be written is one line alone.
        write_file(output, lambda path: shutil.copyfile(compiled, path))
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(f"wrote {output}", err=True)


@pipeline_app.command(name="image",
                      epilog="Example:  automl pipeline image examples/pipeline/pipeline.py -o "
                             "build --tag registry.example.org/automl-tune:1")
def pipeline_image(
    source: Annotated[Path, typer.Argument(help=_SOURCE_HELP)],
    output: Annotated[Path, output_option("The context folder (new or "
                                                                "empty).")],
    tag: Annotated[str, typer.Option(help="The image to build.")] = "automl-tune:latest",
    base_image: Annotated[str, typer.Option(help="The image to start from (Python 3.10+, "
                                                 "pip).")] = "python:3.11-slim",
    allow_outside: Annotated[list[Path] | None, typer.Option(
        "--allow-outside", metavar="PATH",
        help="Ship the files the trials name under PATH (a file or folder outside the "
             "current folder; repeatable). Without it such a file is refused (exit 2).")]
    = None,
) -> None:
    """Write the tuning step's image build context: Dockerfile, automl, the trials' files.

    Only files under the current folder (the project) are shipped; a file the trials name
    outside it (an absolute path, '..', a symlink leading out) is refused unless
    --allow-outside names it. System programs (/bin/sh, /usr/bin/..., any python) are never
    copied: the image has its own. Nothing is written outside -o.
    """
    from automl.pipelines.image import build_context

    context = build_context(source, output, image=tag, base_image=base_image,
                            allow_outside=allow_outside or ())
    typer.echo(f"wrote {output}: Dockerfile, automl, requirements.txt "
               f"({len(context.requirements)} pinned), {len(context.files)} trial file(s)")
    for path in sorted(context.files):
        typer.echo(f"  {path}")
    for program in context.own:
        typer.echo(f"  {program}: not copied, the image's own")
    typer.echo("build and push it, then compile with it:")
    for command in context.commands():
        typer.echo(f"  {command}")
    typer.echo(f"  automl pipeline compile {source} --image {tag} --context {output}")


@pipeline_app.command(name="run",
                      epilog="Example:  automl pipeline run examples/pipeline/pipeline.py --local")
def pipeline_run(
    source: Annotated[Path, typer.Argument(help=_SOURCE_HELP)],
    local: Annotated[bool, typer.Option("--local", help="Run here with kfp.local's "
                                                        "SubprocessRunner (required).")] = False,
    root: Annotated[Path, typer.Option(help="Where kfp.local writes the outputs.")]
    = Path(".automl/pipelines"),
) -> None:
    """Run the whole pipeline on this machine; print the best parameters and the outputs."""
    if not local:
        raise typer.BadParameter("only --local runs here; use 'automl pipeline submit' for a "
                                 "KFP server", param_hint="--local")
    from automl.pipelines import run_local

    result = run_local(source, root, quiet=True, progress=True)
    typer.echo(f"outputs in {result['run_dir']}")
    if result.get("best_params") is not None:
        best = " ".join(f"{k}={v}" for k, v in result["best_params"].items())
        typer.echo(visible(f"best: {best}"))
    for task, values in result.get("metrics", {}).items():
        shown = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in values.items())
        typer.echo(visible(f"{task}: {shown}"))


@pipeline_app.command(name="submit",
                      epilog="Example:  automl pipeline submit examples/pipeline/pipeline.py "
                             "--host http://localhost:8080 --experiment hpo --wait")
def pipeline_submit(
    source: Annotated[Path, typer.Argument(help=_SOURCE_HELP)],
    host: Annotated[str, typer.Option(help="The KFP API endpoint.")],
    name: Annotated[str | None, typer.Option(help="The pipeline's name on the server "
                                                  "(default: its own).")] = None,
    experiment: Annotated[str | None, typer.Option(help="KFP experiment (default: Default).")]
    = None,
    version: Annotated[str | None, typer.Option(help="Name of the new version.")] = None,
    namespace: Annotated[str | None, typer.Option(help="User namespace.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run; report its state.")]
    = False,
    token: Annotated[str | None, typer.Option(envvar="KFP_TOKEN",
                                              help="Bearer token (or $KFP_TOKEN).")] = None,
    cookie: Annotated[str | None, typer.Option(envvar="KFP_COOKIE",
                                               help="Session cookie, e.g. authservice_session="
                                                    "... (or $KFP_COOKIE).")] = None,
    in_cluster: Annotated[bool, typer.Option("--in-cluster", help="Log in with this pod's KFP "
                                                                  "service account token.")]
    = False,
    service_account: Annotated[str | None, typer.Option(help="The run's Kubernetes service "
                                                             "account (backend katib: it "
                                                             "creates the Experiments).")]
    = None,
) -> None:
    """Upload the pipeline (or a new version), create or reuse the experiment, start a run."""
    import tempfile

    from automl.pipelines import compile_pipeline, submit_pipeline
    from automl.pipelines.check import cluster_problems
    from automl.spec.source import read_first_document

    out = sys.stdout  # submit_pipeline sends kfp.Client's own prints to stderr meanwhile
    with tempfile.TemporaryDirectory() as tmp:
        package = compile_pipeline(source, Path(tmp) / "pipeline.yaml")
        for problem in cluster_problems(package):  # as pipeline compile warns
            typer.echo(f"warning: {problem}", err=True)
        own = read_first_document(package)["pipelineInfo"]["name"]
        done = submit_pipeline(package, host, name=name or own, experiment=experiment,
                               version=version, namespace=namespace, wait=wait, token=token,
                               cookie=cookie, in_cluster=in_cluster,
                               service_account=service_account,
                               started=lambda run: typer.echo(f"run {run.run_id}: {run.url}",
                                                              file=out),
                               changed=lambda state: typer.echo(f"state: {state}",
                                                                err=True))
    typer.echo(f"run {done.run_id}: {done.state}")
    if wait and done.state != "SUCCEEDED":
        raise typer.Exit(1)
