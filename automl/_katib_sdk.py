"""kubeflow-katib, the Katib SDK: optional (``automl[katib-sdk]``), imported where it is needed.

automl's core reads and writes Katib Experiments with kubeflow-katib-api's models. Two things
still need kubeflow-katib: ``report_metrics`` (Push metrics, inside a trial on a cluster) and
the DB manager's gRPC reader (``--db-manager``). It pins protobuf<5, so it cannot share an
environment with kfp 2.17: pip takes kfp 2.13 beside it.
"""

from __future__ import annotations

from types import ModuleType

from automl.errors import AutomlError

__all__ = ["INSTALL_HINT", "katib_sdk"]

INSTALL_HINT = ("pip install 'automl[katib-sdk]' (it pins protobuf<5 and so kfp 2.13: put it in "
                "the trial image or an environment of its own)")


def katib_sdk(purpose: str) -> ModuleType:
    """The ``kubeflow.katib`` module.

    Args:
        purpose: What needs it, for the message, e.g. ``"--db-manager"``.

    Raises:
        AutomlError: In one line, naming what to install, when kubeflow-katib is missing.
    """
    try:
        import kubeflow.katib
    except ImportError:
        raise AutomlError(f"{purpose} needs kubeflow-katib, the Katib SDK: "
                          f"{INSTALL_HINT}") from None
    return kubeflow.katib
