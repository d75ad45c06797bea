"""Neural-architecture search spaces: Katib's ``nasConfig``."""

from __future__ import annotations

from pydantic import Field

from automl.spec._base import SpecModel
from automl.spec.parameters import Parameter

__all__ = ["GraphConfig", "NasConfig", "Operation"]


class GraphConfig(SpecModel):
    """The network skeleton (Katib's ``graphConfig``)."""

    num_layers: int | None = None
    input_sizes: list[int] = Field(default_factory=list)
    output_sizes: list[int] = Field(default_factory=list)


class Operation(SpecModel):
    """One candidate operation, e.g. a convolution with its filter sizes.

    Attributes:
        type: Katib's ``operationType``, a free string the trial code interprets.
        parameters: The operation's own choices (same shape as search-space parameters).
    """

    type: str
    parameters: list[Parameter] = Field(default_factory=list)


class NasConfig(SpecModel):
    """Katib's ``nasConfig``: the graph and the operations ENAS or DARTS choose from.

    Example:
        >>> NasConfig(graph=GraphConfig(num_layers=8, input_sizes=[32, 32, 3], output_sizes=[10]),
        ...           operations=[Operation(type="convolution", parameters=[...])])
    """

    graph: GraphConfig = Field(default_factory=GraphConfig)
    operations: list[Operation] = Field(default_factory=list)
