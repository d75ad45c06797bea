"""Where a local run knowingly differs from Katib, and the warnings that say so.

Katib's behaviour is the specification. Where it is a defect of Katib (it stalls, or a value
that is not a number becomes the best), the local engine does the sane thing instead, and the
user is told what Katib will do: at ``validate --katib`` / ``compile`` time for what the spec
shows, on the trial's line for what only a run shows. Every such difference is one entry of
:data:`DEVIATIONS`; docs/reference.md lists them (a test keeps the list current).

To add one: write a :class:`Deviation` with the Katib file and function it comes from, and a
``check`` when the spec alone shows that the difference applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automl.spec.errors import Finding
from automl.spec.shell import shell_findings

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["DEVIATIONS", "Deviation", "deviation_findings"]


@dataclass(frozen=True)
class Deviation:
    """One knowing difference between a local run and Katib.

    Attributes:
        key: A short stable name, used in warnings and tests.
        katib: What Katib does.
        local: What the local engine does instead, and why.
        source: The Katib file and function the behaviour comes from.
        check: The findings for a spec this applies to (``None``: only a run shows it, and
            the trial's line says so).
    """

    key: str
    katib: str
    local: str
    source: str
    check: Callable[[ExperimentSpec], Iterable[Finding]] | None = None


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        key="shell-wrapped-command",
        katib="for the StdOut, File and TensorFlowEvent collectors the primary container's "
              "command and args are joined with spaces and run under sh -c, StdOut's output "
              "redirected to its metrics file after the last command",
        local="each trial runs as its argument list, without a shell, so a value is never "
              "split or expanded; automl run --katib-shell runs it as Katib does",
        source="pkg/webhook/v1beta1/pod/utils.go wrapWorkerContainer",
        check=shell_findings,
    ),
)


def deviation_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """The warnings for ``spec``: each deviation that applies, saying what Katib will do.

    Example:
        >>> [str(f) for f in deviation_findings(spec)]
        []
    """
    for deviation in DEVIATIONS:
        if deviation.check is not None:
            for finding in deviation.check(spec):
                yield Finding(finding.path, f"{finding.message} (Katib: {deviation.katib}; "
                                            f"{deviation.source})")
