"""Would a compiled pipeline run on a cluster as written? What ``pipeline compile`` warns of.

kfp compiles whatever it is given: a tuning step on an image without automl, trials naming
``examples/quickstart/train.py`` (a path in this checkout, not in the container), trials
meant for their own image run inside the step's. Each is found here from the compiled
pipeline itself, and from the build context's manifest when the image was built with
``automl pipeline image``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from automl.spec.source import read_first_document
from automl.trial_image import step_image_problems, trial_image_problems

__all__ = ["cluster_problems", "set_tuning_image", "tuning_executors"]

_FUNCTION = "tune"  # automl.pipelines.component.tune: the function the step's args name
_INSTALLS = re.compile(r"pip install ([^&]*)&&")
"""What kfp's start-up line pip-installs (packages_to_install), before the step runs."""


def tuning_executors(package: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The containers of a compiled pipeline that run automl's tuning function."""
    for executor in package.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container") or {}
        args = container.get("args") or []
        if any(a == "--function_to_execute" and b == _FUNCTION
               for a, b in itertools.pairwise(args)):
            yield container


def set_tuning_image(package: dict[str, Any], image: str) -> None:
    """Run every tuning step of ``package`` (a compiled pipeline, in place) on ``image``."""
    for container in tuning_executors(package):
        container["image"] = image


def cluster_problems(package_path: Path, manifest: dict[str, Any] | None = None) -> list[str]:
    """What stops the compiled pipeline at ``package_path`` from running on a cluster.

    Args:
        package_path: A pipeline YAML written by kfp's compiler.
        manifest: The build context's ``automl-image.json`` the tuning image was built from
            (``automl pipeline image``), if any.

    Returns:
        One sentence per problem, each saying what to do; empty when none is found.
    """
    from automl._api import load

    package = read_first_document(Path(package_path))
    problems = []
    shipped = set(manifest.get("files", [])) if manifest else set()
    built_for = set(manifest.get("experiments", [])) if manifest else set()
    for container in tuning_executors(package):
        image = container.get("image", "")
        installs = " ".join(_INSTALLS.findall(" ".join(container.get("command") or [])))
        if manifest and image != manifest.get("image"):
            problems.append(f"the tuning step runs {image}, but the build context was made for "
                            f"{manifest.get('image')}: compile with --image "
                            f"{manifest.get('image')}")
        elif not manifest and "automl" not in installs:
            problems.append(
                f"the tuning step's image {image} has no automl (kfp installs only itself "
                "there): build one with 'automl pipeline image SOURCE -o DIR --tag IMAGE', "
                "then compile with '--image IMAGE --context DIR'")
    parameters = package.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    spec_json = parameters.get("spec_json", {}).get("defaultValue")
    backend = parameters.get("backend", {}).get("defaultValue", "local")
    if not spec_json:
        return problems
    spec = load(json.loads(spec_json))
    if backend != "local":  # on Katib each trial runs in its own image
        return problems + trial_image_problems(spec)
    problems += step_image_problems(spec, shipped)
    image = spec.trial.image
    if image and spec.name not in built_for:
        problems.append(
            f"experiment {spec.name!r}: its trials are meant to run in {image}, but the local "
            "backend runs them inside the tuning step's container: build that image with "
            "their files ('automl pipeline image'), or tune with backend='katib', where each "
            "trial runs in its own image and the step only creates and follows the Experiment")
    return problems

