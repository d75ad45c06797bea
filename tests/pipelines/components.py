"""A downstream component for the pipeline tests, in a real file: kfp ships its source.

No ``from __future__ import annotations``: kfp reads the annotations as objects.
"""

from kfp import dsl
from kfp.dsl import Artifact, Output


@dsl.component(base_image="python:3.11-slim")
def echo(best_params: str, received: Output[Artifact]) -> None:
    """Write the ``best_params`` it was given, to check what the tuning step handed on."""
    with open(received.path, "w", encoding="utf-8") as file:
        file.write(best_params)


@dsl.component(base_image="python:3.11-slim")
def seeded(best_params: str, seed: int = 0) -> str:
    """Return what one ParallelFor iteration was given."""
    return f"{seed}:{best_params}"


@dsl.component(base_image="python:3.11-slim")
def final_state(status: dsl.PipelineTaskFinalStatus) -> str:
    """The exit handler's view of how the pipeline ended."""
    return status.state
