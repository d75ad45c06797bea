"""Submitting a compiled pipeline to a KFP server, the way kfp.Client users do it by hand."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from automl._answer import field
from automl._network import AnswerError, guard
from automl.errors import AutomlError

__all__ = ["TERMINAL_STATES", "SubmitError", "Submitted", "submit_pipeline"]

SA_TOKEN = "/var/run/secrets/kubeflow/pipelines/token"
"""Where a Kubeflow pod's KFP service account token is mounted (kfp.Client reads it too;
``$KF_PIPELINES_SA_TOKEN_PATH`` moves it)."""


class SubmitError(AutomlError):
    """KFP refused or could not be reached; the exit status says which, as for Katib:
    3 no server (or not a KFP API there), 5 forbidden (login refused), 6 conflict, 7 not
    found, 2 bad input, 1 an answer without what it must hold."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

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
                    token: str | None = None, cookie: str | None = None,
                    in_cluster: bool = False, service_account: str | None = None,
                    started: Callable[[Submitted], None] | None = None,
                    changed: Callable[[str], None] | None = None) -> Submitted:
    """Upload ``package`` (or a new version of it), then run it in an experiment.

    The pipeline is looked up by ``name``: a new one is uploaded, an existing one gets a new
    version. The experiment is reused if it exists (KFP's ``Default`` when not named).

    Every request has a timeout and reads are retried (automl._network); creates are not:
    sent twice, an upload or a run would be made twice. A redirect to the same host gets the
    token or cookie, one to another host does not.

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
        token: A bearer token for the API (multi-user Kubeflow: e.g. from ``kubectl
            create token``).
        cookie: A session cookie, ``authservice_session=...``, as a browser logged in to
            the Kubeflow dashboard holds it.
        in_cluster: Use the pod's KFP service account token (:data:`SA_TOKEN`).
        service_account: The Kubernetes service account the run's pods use: with
            ``backend="katib"`` the tuning step creates Experiments with its rights.
        started: Called once the run exists (its URL is known), before any wait.
        changed: Called with each new state while waiting (``RUNNING``, ...).

    Raises:
        SubmitError: A clear one-line reason for an unreachable, silent or failing server or
            an answer that is not KFP's JSON (exit status 3), a refused login or a login
            page (5), a conflict (6), something not found (7), a multi-user server asked
            without a namespace (2), an answer missing what it must hold (1).
        AutomlError: A run that did not end within ``timeout``.

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
                       poll_seconds, _credentials(token, cookie, in_cluster), stamp,
                       service_account, started, changed)


def _credentials(token: str | None, cookie: str | None, in_cluster: bool) -> dict[str, Any]:
    """kfp.Client's options for one way of logging in."""
    if sum(map(bool, (token, cookie, in_cluster))) > 1:
        raise SubmitError("give one of a token, a cookie or the in-cluster service account",
                          2)
    if in_cluster:
        import os

        from kfp.client import ServiceAccountTokenVolumeCredentials

        path = os.environ.get("KF_PIPELINES_SA_TOKEN_PATH", SA_TOKEN)
        if not Path(path).is_file():
            raise SubmitError(f"no service account token at {path}: --in-cluster works in a "
                              "Kubeflow pod with the KFP token volume", 2)
        return {"credentials": ServiceAccountTokenVolumeCredentials(path)}
    return {"existing_token": token, "cookies": cookie}


def _submit(package: Path, host: str, name: str, experiment: str | None, version: str | None,
            namespace: str | None, wait: bool, timeout: float, poll_seconds: float,
            login: dict[str, Any], stamp: str, service_account: str | None,
            started: Callable[[Submitted], None] | None,
            changed: Callable[[str], None] | None) -> Submitted:
    from kfp_server_api.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    step = "connect"
    try:
        options: dict[str, Any] = {"host": host, **login}
        if namespace is not None:
            options["namespace"] = namespace
        with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later"
            warnings.simplefilter("ignore", FutureWarning)
            client = _client_class()(**options)
        _guarded(client)
        step = "look up the pipeline"
        pipeline_id = client.get_pipeline_id(name)
        if pipeline_id is None:
            step = "upload the pipeline"
            pipeline_id = _checked(lambda: client.upload_pipeline(
                str(package), pipeline_name=name, namespace=namespace), "pipeline_id").pipeline_id
            step = "find the uploaded pipeline's version"
            versions = field(client.list_pipeline_versions(pipeline_id, page_size=1,
                                                           sort_by="created_at desc"),
                             "pipeline_versions", list, [])
            if not versions:
                raise AnswerError("the pipeline has no versions (the upload made none?)", 1)
            version_id = field(versions[0], "pipeline_version_id", str)
        else:
            step = "upload a new version"
            version_id = _checked(lambda: client.upload_pipeline_version(
                str(package), pipeline_version_name=version or f"{name} {stamp}",
                pipeline_id=pipeline_id), "pipeline_version_id").pipeline_version_id
        step = "create or find the experiment"
        experiment_id = _checked(lambda: client.create_experiment(
            experiment or "Default", namespace=namespace), "experiment_id").experiment_id
        step = "start the run"
        run = _checked(lambda: client.run_pipeline(
            experiment_id, f"{name} {stamp}", pipeline_id=pipeline_id, version_id=version_id,
            service_account=service_account), "run_id")
        run_id = run.run_id
        url = f"{host.rstrip('/')}/#/runs/details/{run_id}"
        done = Submitted(pipeline_id, version_id, experiment_id, run_id, url,
                         field(run, "state", str, "PENDING"))
        if started is not None:
            started(done)
        if wait:
            step = "follow the run"
            done = dataclasses.replace(done, state=_wait(client, run_id, timeout,
                                                         poll_seconds, changed))
    except ApiException as exc:
        raise _refusal(host, step, exc, namespace) from None
    except AnswerError as exc:
        raise SubmitError(f"KFP at {host}: cannot {step}: {exc}", exc.exit_code) from None
    except HTTPError as exc:  # urllib3: refused, timed out, no such host
        reason = getattr(exc, "reason", None) or exc
        raise SubmitError(f"cannot reach KFP at {host} (to {step}): {_short(reason)}",
                          3) from None
    except (OSError, ValueError) as exc:
        raise SubmitError(f"KFP at {host}: cannot {step}: {_short(exc)}", 3) from None
    return done


def _checked(create: Callable[[], Any], required: str) -> Any:
    """What ``create()`` made, checked to have the text field ``required``.

    kfp.Client prints a line about it ("Pipeline details: <url>/details/<id>") before anyone
    looks at its answer: that line is shown only once the answer has the id, so nothing is
    said of what was not made.
    """
    held = io.StringIO()
    with contextlib.redirect_stdout(held):
        answer = create()
    field(answer, required, str)
    sys.stdout.write(held.getvalue())
    return answer


def _wait(client: Any, run_id: str, timeout: float, poll_seconds: float,
          changed: Callable[[str], None] | None) -> str:
    deadline = time.monotonic() + timeout
    last = None
    while True:
        state = field(client.get_run(run_id), "state", str, "PENDING")
        if state != last and changed is not None:
            changed(state)
        last = state
        if state in TERMINAL_STATES:
            return state
        if time.monotonic() > deadline:
            raise AutomlError(f"run {run_id} is still {state} after {timeout:g} s")
        time.sleep(poll_seconds)


_LOGIN_HINT = ("pass --token (or $KFP_TOKEN) or --cookie (or $KFP_COOKIE), or --in-cluster in a "
               "Kubeflow pod")


def _client_class() -> type:
    """kfp.Client, whose construction's health check is guarded too."""
    import kfp

    class _Client(kfp.Client):  # type: ignore[misc]
        def get_kfp_healthz(self, sleep_duration: int = 5) -> Any:
            # kfp.Client's own tries 5 times 5 s apart with no timeout; ours is bounded.
            _guarded(self)
            return self._healthz_api.healthz_service_get_healthz()

    return _Client


def _guarded(client: Any) -> None:
    from kfp_server_api.exceptions import ApiException

    guard(client._healthz_api.api_client, ApiException, _LOGIN_HINT)


def _refusal(host: str, step: str, exc: Any, namespace: str | None) -> SubmitError:
    body = (exc.body or "").lower() if isinstance(exc.body, str) else ""
    if exc.status == 400 and "namespace" in body and not namespace:
        return SubmitError(f"KFP at {host} is multi-user: give --namespace (your profile's "
                           f"namespace) to {step}", 2)
    codes = {401: 5, 403: 5, 404: 7, 409: 6}
    return SubmitError(f"KFP at {host} refused to {step}: {_why(exc)}",
                       codes.get(exc.status, 1))


def _short(reason: object) -> str:
    """The last, most specific part of a urllib3 reason: ``[Errno 111] Connection refused``."""
    text = str(reason)
    return text.rsplit(": ", 1)[-1].rstrip("')\"") if "Errno" in text else text[:200]


def _why(exc: Any) -> str:
    meanings = {401: "not authenticated (give a token)", 403: "forbidden",
                404: "not found", 409: "it already exists"}
    detail = (exc.body or exc.reason or "").strip().replace("\n", " ")[:200]
    meaning = meanings.get(exc.status, f"HTTP {exc.status}")
    return f"{meaning} (HTTP {exc.status}: {detail})" if detail else meaning
