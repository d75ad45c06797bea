"""optuna-dashboard on the storage of local runs: live plots of running and finished studies."""

from __future__ import annotations

from pathlib import Path

from automl.errors import AutomlError

__all__ = ["serve_dashboard", "share_importance"]


def share_importance() -> None:
    """Make optuna-dashboard compute importance as the report and ``df.automl`` do.

    optuna-dashboard builds its evaluator by calling the name ``PedAnovaImportanceEvaluator``
    of its ``_importance`` module for each study; that name is pointed at
    :func:`automl.results.study.importance_evaluator`. tests/results/test_figures.py checks
    the dashboard's numbers against the report's, so an optuna-dashboard that computes them
    another way fails there rather than here.
    """
    from optuna_dashboard import _importance

    from automl.results.study import importance_evaluator

    _importance.PedAnovaImportanceEvaluator = importance_evaluator


def serve_dashboard(storage_url_or_none: str | None, root: Path, host: str = "127.0.0.1",
                    port: int = 8080) -> None:
    """Serve optuna-dashboard on the studies of local runs; blocks until interrupted.

    The dashboard can edit studies (notes, deleting trials) and has no authentication, so it
    listens on the loopback interface unless ``host`` says otherwise. The URL is printed
    before the server starts.

    Args:
        storage_url_or_none: The Optuna storage URL or journal file the runs used, or None
            for ``<root>/studies.journal``.
        root: The folder of the default storage (``.automl``).
        host: The address to listen on; ``0.0.0.0`` exposes the dashboard to the network.
        port: The port to listen on.

    Raises:
        AutomlError: When the default storage does not exist (no local run here yet), or the
            port cannot be bound.

    Example:
        >>> serve_dashboard(None, Path(".automl"))  # then open http://127.0.0.1:8080/
    """
    import optuna_dashboard

    from automl.local.store import JOURNAL, open_storage

    share_importance()
    if storage_url_or_none is None and not (Path(root) / JOURNAL).exists():
        # open_storage would create an empty journal: a dashboard with nothing to show,
        # and an .automl folder where none was meant to be.
        raise AutomlError(f"no local runs under {root}: {Path(root) / JOURNAL} does not exist "
                          "(run an experiment first, or give the storage it used)")
    storage = open_storage(storage_url_or_none, Path(root))
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address needs brackets in a URL
    print(f"optuna-dashboard: http://{shown}:{port}/  (Ctrl+C to stop)", flush=True)
    try:
        optuna_dashboard.run_server(storage, host=host, port=port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise AutomlError(f"cannot serve the dashboard on {host}:{port}: {exc}") from None
