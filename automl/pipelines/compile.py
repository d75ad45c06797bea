"""Pipelines from files: an experiment, a Python file, or a compiled pipeline; and compiling.

A Python file is imported with importlib from its path, never exec()'d: kfp reads each
component's source with ``inspect.getsource``, which needs a real file behind the module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automl._output import check_file, write_file
from automl.errors import AutomlError
from automl.local.trial_files import open_trial_file
from automl.spec.source import MAX_SPEC_BYTES, read_first_document

__all__ = ["PIPELINE_ATTRIBUTE", "compile_pipeline", "load_pipeline"]

PIPELINE_ATTRIBUTE = "pipeline"  # the name a Python pipeline file defines its pipeline under

PipelineSource = Callable[..., Any] | str | os.PathLike[str]


def load_pipeline(source: PipelineSource) -> Callable[..., Any]:
    """The pipeline a file holds, or ``source`` itself when it already is one.

    Args:
        source: A pipeline function; an experiment file (``.yaml``/``.yml``, automl's format
            or a Katib Experiment) for a tuning-only pipeline; a Python file defining
            ``pipeline``; or a pipeline YAML compiled by kfp.

    Returns:
        A kfp pipeline (a ``GraphComponent``, or a ``YamlComponent`` for a compiled file).

    Raises:
        AutomlError: When the file is missing, of another kind, or defines no ``pipeline``.
        SpecError: When an experiment file is invalid.

    Example:
        >>> pipeline = load_pipeline("examples/pipeline/pipeline.py")
        >>> pipeline.name
        'digits-svm-tune-train'
    """
    if callable(source):
        return source
    path = Path(source)
    if not path.exists():  # a FIFO or a device is refused, saying so, by the reader below
        raise AutomlError(f"{path}: no such file")
    if path.suffix == ".py":
        return _from_python(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise AutomlError(f"{path}: expected an experiment (.yaml), a compiled pipeline "
                          "(.yaml) or a Python file defining 'pipeline'")
    # kfp writes the platform spec (e.g. a PVC mount) as a second YAML document.
    data = read_first_document(path)
    if isinstance(data, dict) and "pipelineInfo" in data and "root" in data:
        from kfp import components

        return components.load_component_from_file(str(path))
    from automl._api import load
    from automl.pipelines.builder import tuning_pipeline

    return tuning_pipeline(load(path))


def compile_pipeline(pipeline_func_or_path: PipelineSource, output: str | os.PathLike[str],
                     *, image: str | None = None) -> Path:
    """Compile a pipeline (or a file :func:`load_pipeline` reads) to KFP's pipeline YAML.

    Args:
        pipeline_func_or_path: What :func:`load_pipeline` accepts.
        output: The YAML file to write; its folder must exist.
        image: Run the tuning steps on this image (one ``automl pipeline image`` built),
            whatever the pipeline's code gave them.

    Returns:
        ``output``, for ``kfp.Client().create_run_from_pipeline_package``.

    Raises:
        AutomlError: When ``output`` does not end with ``.yaml`` (or ``.yml``), as kfp
            requires.
        OutputError: When ``output`` cannot be written; a file already there is left
            untouched.

    Example:
        >>> compile_pipeline("examples/quickstart/experiment.yaml", Path("digits.yaml"))
        PosixPath('digits.yaml')
    """
    from kfp import compiler

    output = Path(output)
    check_file(output)  # before the pipeline file runs
    if output.suffix not in (".yaml", ".yml"):
        raise AutomlError(f"cannot write {output}: a pipeline file's name ends with .yaml")
    pipeline = load_pipeline(pipeline_func_or_path)

    def write(path: Path) -> None:
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
        if image is not None:
            _retag(path, image)

    return write_file(output, write)


def _retag(path: Path, image: str) -> None:
    """Set the tuning steps' image in a compiled file, keeping its other documents."""
    import yaml

    from automl.pipelines.check import set_tuning_image

    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    set_tuning_image(documents[0], image)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def _from_python(path: Path) -> Callable[..., Any]:
    from kfp.dsl.base_component import BaseComponent

    # Python would read a FIFO or /dev/zero forever: refused first, as any input file is.
    open_trial_file(path, max_bytes=MAX_SPEC_BYTES).close()
    path = path.resolve()
    # A name per file: two pipeline files called pipeline.py must not share a module.
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"_automl_pipeline_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AutomlError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    # In sys.modules before it runs, as for an import: dataclasses and typing look it up.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    pipeline = getattr(module, PIPELINE_ATTRIBUTE, None)
    if not isinstance(pipeline, BaseComponent):
        found = "nothing" if pipeline is None else type(pipeline).__name__
        raise AutomlError(f"{path}: expected a kfp pipeline named {PIPELINE_ATTRIBUTE!r} "
                          f"(a @dsl.pipeline function), found {found}")
    return pipeline
