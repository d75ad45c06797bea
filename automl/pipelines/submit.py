"""Submitting a compiled pipeline to a KFP server, the way kfp.Client users do it by hand."""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from automl.errors import AutomlError

__all__ = ["TERMINAL_STATES", "Submitted", "submit_pipeline"]

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "ERROR")
"""Final run states. kfp.Client's wait_for_run_completion misses CANCELED
(kubeflow/pipelines#14473) and would wait until its timeout, so we poll ourselves."""


@dataclass(frozen=True)
class Submitted:
    """What a submission created.

    Attributes:
        pipeline_id: The pipeline (found by name, or uploaded).
        version_id: The version the run uses (uploaded by this submission).
        experiment_id: The KFP experiment (found by name, or created).
        run_id: The run.
        url: The run's page in the KFP UI.
        state: The run's last known state (final with ``wait``).
    """

    pipeline_id: str
    version_id: str
    experiment_id: str
    run_id: str
    url: str
    state: str


def submit_pipeline(package: Path, host: str, *, name: str, experiment: str | None = None,
                    version: str | None = None, namespace: str | None = None,
                    wait: bool = False, timeout: float = 3600, poll_seconds: float = 5,
                    token: str | None = None) -> Submitted:
    """Upload ``package`` (or a new version of it), then run it in an experiment.

    The pipeline is looked up by ``name``: a new one is uploaded, an existing one gets a new
    version. The experiment is reused if it exists (KFP's ``Default`` when not named).

    Args:
        package: The compiled pipeline YAML.
        host: The KFP API endpoint, e.g. ``http://localhost:8080``.
        name: The pipeline's name on the server.
        experiment: The KFP experiment to run in.
        version: The new version's name (default: a UTC timestamp).
        namespace: The user namespace (multi-user KFP).
        wait: Wait for the run to end and report its state.
        timeout: Seconds to wait at most.
        poll_seconds: Seconds between state checks while waiting.
        token: A bearer token for the API.

    Raises:
        AutomlError: A clear one-line reason for any refusal (401/403, 404, 409, ...), or a
            run that did not end within ``timeout``.

    Example:
        >>> submitted = submit_pipeline(Path("pipeline.yaml"), "http://localhost:8080",
        ...                             name="digits-tuning", wait=True)
        >>> submitted.state
        'SUCCEEDED'
    """
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H-%M-%S")
    # kfp.Client prints "Pipeline details: <url>" lines; keep stdout for our own answer.
    with contextlib.redirect_stdout(sys.stderr):
        return _submit(package, host, name, experiment, version, namespace, wait, timeout,
                       poll_seconds, token, stamp)


def _submit(package: Path, host: str, name: str, experiment: str | None, version: str | None,
            namespace: str | None, wait: bool, timeout: float, poll_seconds: float,
            token: str | None, stamp: str) -> Submitted:
    import kfp
    from kfp_server_api.exceptions import ApiException

    step = "connect"
    try:
        options: dict[str, Any] = {"host": host, "existing_token": token}
        if namespace is not None:
            options["namespace"] = namespace
        with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later"
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(**options)
        step = "look up the pipeline"
        pipeline_id = client.get_pipeline_id(name)
        if pipeline_id is None:
            step = "upload the pipeline"
            pipeline_id = client.upload_pipeline(str(package), pipeline_name=name,
                                                 namespace=namespace).pipeline_id
            step = "find the uploaded pipeline's version"
            versions = client.list_pipeline_versions(pipeline_id, page_size=1,
                                                     sort_by="created_at desc")
            version_id = versions.pipeline_versions[0].pipeline_version_id
        else:
            step = "upload a new version"
            version_id = client.upload_pipeline_version(
                str(package), pipeline_version_name=version or f"{name} {stamp}",
                pipeline_id=pipeline_id).pipeline_version_id
        step = "create or find the experiment"
        experiment_id = client.create_experiment(experiment or "Default",
                                                 namespace=namespace).experiment_id
        step = "start the run"
        run = client.run_pipeline(experiment_id, f"{name} {stamp}", pipeline_id=pipeline_id,
                                  version_id=version_id)
        state = run.state or "PENDING"
        if wait:
            step = "follow the run"
            state = _wait(client, run.run_id, timeout, poll_seconds)
    except ApiException as exc:
        raise AutomlError(f"KFP at {host} refused to {step}: {_why(exc)}") from None
    except (OSError, ValueError) as exc:
        raise AutomlError(f"KFP at {host}: cannot {step}: {exc}") from None
    url = f"{host.rstrip('/')}/#/runs/details/{run.run_id}"
    return Submitted(pipeline_id, version_id, experiment_id, run.run_id, url, state)


def _wait(client: Any, run_id: str, timeout: float, poll_seconds: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_run(run_id).state or "PENDING"
        if state in TERMINAL_STATES:
            return state
        if time.monotonic() > deadline:
            raise AutomlError(f"run {run_id} is still {state} after {timeout:g} s")
        time.sleep(poll_seconds)


def _why(exc: Any) -> str:
    meanings = {401: "not authenticated (give a token)", 403: "forbidden",
                404: "not found", 409: "it already exists"}
    detail = (exc.body or exc.reason or "").strip().replace("\n", " ")[:200]
    meaning = meanings.get(exc.status, f"HTTP {exc.status}")
    return f"{meaning} (HTTP {exc.status}: {detail})" if detail else meaning
