"""A Katib cluster, through the Kubernetes API: create, read, list, edit and delete Experiments.

kubeconfig (or the in-cluster service account) chooses the cluster; the namespace defaults as
kubectl's does: the current context's, else ``default``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from automl._answer import field, records
from automl._network import ATTEMPTS, EXIT_MALFORMED, AnswerError, backoff, guard
from automl.errors import AutomlError
from automl.katib.log_stream import follow_log

__all__ = ["EXIT_CODES", "KatibCluster", "KatibError"]

GROUP, VERSION = "kubeflow.org", "v1beta1"
_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class KatibError(AutomlError):
    """The cluster refused or could not be reached; ``exit_code`` is the CLI's status for it.

    ``transient``: the failure may pass (an overloaded or restarting API server, a timeout).
    """

    def __init__(self, message: str, exit_code: int, transient: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.transient = transient


EXIT_CODES = {"no cluster": 3, "no Katib": 4, "forbidden": 5, "conflict": 6, "not found": 7}
"""The CLI's exit status per failure (listed in ``automl --help``)."""


_LOGIN_HINT = ("the kubeconfig's credentials did not get through (an expired token or a login "
               "proxy in front of the API server): log in again, e.g. kubectl get pods")


class KatibCluster:
    """Katib's Experiment and Trial custom resources in one namespace.

    Every call has a timeout and retries what may pass (automl._network); an answer that is
    not a Kubernetes object is a one-line :class:`KatibError`.

    Args:
        namespace: The namespace (default: the kubeconfig context's, else ``default``).
        context: The kubeconfig context (default: the current one).
        config_file: The kubeconfig file (default: ``$KUBECONFIG`` or ``~/.kube/config``).

    Raises:
        KatibError: When no cluster configuration can be loaded.

    Example:
        >>> cluster = KatibCluster(namespace="kubeflow")
        >>> cluster.create(automl.to_katib(spec))
    """

    def __init__(self, namespace: str | None = None, context: str | None = None,
                 config_file: str | None = None) -> None:
        from kubernetes import client, config

        # $KUBECONFIG as it is now (the client reads it once, when first imported), as kubectl.
        config_file = config_file or os.environ.get("KUBECONFIG")
        try:
            if context is None and config_file is None and _SERVICE_ACCOUNT_NAMESPACE.exists():
                config.load_incluster_config()
                default = _SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
            else:
                config.load_kube_config(config_file=config_file, context=context)
                _, active = config.list_kube_config_contexts(config_file=config_file)
                if context is not None:
                    contexts, _ = config.list_kube_config_contexts(config_file=config_file)
                    active = next(c for c in contexts if c["name"] == context)
                default = active["context"].get("namespace") or "default"
        except (config.ConfigException, OSError, StopIteration) as exc:
            raise KatibError(f"no cluster: cannot load a kubeconfig or in-cluster config "
                             f"({exc})", EXIT_CODES["no cluster"]) from None
        self.namespace = namespace or default
        self.config_file, self.context = config_file, context
        from kubernetes.client.exceptions import ApiException

        self.api_client = guard(client.ApiClient(client.Configuration.get_default_copy()),
                                ApiException, _LOGIN_HINT)
        self.api = client.CustomObjectsApi(self.api_client)

    # ---- experiments -------------------------------------------------------------------

    def create(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """Create an Experiment (its namespace is set to this cluster's).

        A create that failed in a way that may pass is sent again. If the first one did
        reach the API server (its answer was lost), the next is refused as a conflict: the
        Experiment found then is ours when it holds every field we sent (the server adds
        defaults and status, never changes a given field). One created by someone else
        with the same name and the very same spec would pass as ours; it is the same
        experiment, so following it is what was asked.
        """
        body = {**experiment, "metadata": {**experiment["metadata"],
                                           "namespace": self.namespace}}
        name = body["metadata"]["name"]
        what = f"create experiment {name}"

        def ours(refused: KatibError) -> dict[str, Any] | None:
            if refused.exit_code != EXIT_CODES["conflict"]:
                return None
            found = self.get(name)
            return found if _holds(found.get("spec"), body["spec"]) else None

        return self._experiment(self._retried(what, ours, self.api.create_namespaced_custom_object,
                                              GROUP, VERSION, self.namespace, "experiments",
                                              body), what)

    def get(self, name: str) -> dict[str, Any]:
        """The Experiment ``name`` with its status."""
        what = f"get experiment {name}"
        return self._experiment(self._call(what, self.api.get_namespaced_custom_object, GROUP,
                                           VERSION, self.namespace, "experiments", name), what)

    def list(self) -> list[dict[str, Any]]:
        """Every Experiment in the namespace."""
        what = "list experiments"
        answer = self._call(what, self.api.list_namespaced_custom_object,
                            GROUP, VERSION, self.namespace, "experiments")
        return [self._experiment(item, what) for item in self._read(
            what, _listed, answer, "ExperimentList", f"{GROUP}/{VERSION}")]

    def delete(self, name: str) -> None:
        """Delete the Experiment ``name`` (Katib deletes its trials with it).

        Sent again when it failed in a way that may pass; then "not found" means the first
        one did it.
        """
        self._retried(f"delete experiment {name}",
                      lambda refused: refused.exit_code == EXIT_CODES["not found"] or None,
                      self.api.delete_namespaced_custom_object, GROUP, VERSION,
                      self.namespace, "experiments", name)

    def edit_budget(self, name: str, max_trials: int | None = None,
                    parallel_trials: int | None = None,
                    max_failed_trials: int | None = None) -> dict[str, Any]:
        """Change the budget, the only fields Katib lets an Experiment change.

        As KatibClient.edit_experiment_budget: at least one value; the rest stay. The merge
        patch sets values, so sending it again after a failure that may pass is safe.
        """
        spec = {k: v for k, v in (("maxTrialCount", max_trials),
                                  ("parallelTrialCount", parallel_trials),
                                  ("maxFailedTrialCount", max_failed_trials)) if v is not None}
        if not spec:
            raise AutomlError("give at least one of max_trials, parallel_trials, "
                              "max_failed_trials")
        what = f"edit experiment {name}"
        return self._experiment(self._retried(
            what, lambda refused: None, self.api.patch_namespaced_custom_object, GROUP,
            VERSION, self.namespace, "experiments", name, {"spec": spec}), what)

    def trials(self, name: str) -> list[dict[str, Any]]:
        """The Trials of Experiment ``name`` (by Katib's experiment label)."""
        what = f"list trials of {name}"
        answer = self._call(what, self.api.list_namespaced_custom_object,
                            GROUP, VERSION, self.namespace, "trials",
                            label_selector=f"katib.kubeflow.org/experiment={name}")
        return [self._read(what, _trial, item) for item in self._read(
            what, _listed, answer, "TrialList", f"{GROUP}/{VERSION}")]

    def trial_logs(self, name: str, trial: str, *, tail: int | None = None,
                   follow: bool = False) -> Iterator[str]:
        """The log lines of Trial ``trial`` of Experiment ``name``, as KatibClient.get_job_logs
        finds them: its pod by the ``katib.kubeflow.org/trial`` label (and the Trial's
        ``primaryPodLabels``), and in it the container that shows the trial's output: the
        StdOut collector's ``metrics-logger-and-collector`` (the trial's own container
        writes to a file there), else ``primaryContainerName``."""
        from kubernetes import client

        what = f"get trial {trial}"
        found = self._read(what, _trial, self._call(
            what, self.api.get_namespaced_custom_object, GROUP, VERSION, self.namespace,
            "trials", trial))
        labels = found["metadata"].get("labels") or {}
        if labels.get("katib.kubeflow.org/experiment") != name:
            raise KatibError(f"trial {trial!r} is not a trial of experiment {name!r} in "
                             f"namespace {self.namespace!r}", EXIT_CODES["not found"])
        spec = found.get("spec") or {}
        selector = ",".join([f"katib.kubeflow.org/trial={trial}"] + [
            f"{k}={v}" for k, v in (spec.get("primaryPodLabels") or {}).items()])
        what = f"list pods of trial {trial}"
        pods = self._read(what, _listed, self._call(
            what, self.api_client.call_api, "/api/v1/namespaces/{namespace}/pods", "GET",
            {"namespace": self.namespace}, [("labelSelector", selector)],
            {"Accept": "application/json"}, response_type="object",
            auth_settings=["BearerToken"], _return_http_data_only=True), "PodList", "v1",
            "metadata.name")
        if not pods:
            raise KatibError(f"trial {trial!r} has no pod (not started yet, or deleted with "
                             "its Job)", EXIT_CODES["not found"])
        kind = ((spec.get("metricsCollector") or {}).get("collector") or {}).get("kind")
        container = ("metrics-logger-and-collector" if kind == "StdOut"
                     else spec.get("primaryContainerName"))
        options: dict[str, Any] = {"container": container} if container else {}
        if tail is not None:
            options["tail_lines"] = tail
        pod = pods[0]["metadata"]["name"]
        core = client.CoreV1Api(self.api_client)
        if not follow:
            text = self._call(f"read the log of pod {pod}", core.read_namespaced_pod_log,
                              pod, self.namespace, **options)
            yield from text.splitlines()
            return
        what = f"follow the log of pod {pod}"

        def stream(again: bool) -> Any:
            return self._call(what, core.read_namespaced_pod_log, pod, self.namespace,
                              follow=True, timestamps=True, _preload_content=False,
                              **{k: v for k, v in options.items()
                                 if not (again and k == "tail_lines")})

        try:
            yield from follow_log(stream, f"pod {pod}'s log")
        except AnswerError as exc:
            raise _unusable(what, exc) from None

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            raise _refusal(what, exc, self.namespace) from None
        except AnswerError as exc:
            raise _unusable(what, exc) from None
        except HTTPError as exc:
            raise KatibError(f"no cluster: cannot {what}: {exc}",
                             EXIT_CODES["no cluster"]) from None

    def _retried(self, what: str, done: Callable[[KatibError], Any], method: Any,
                 *args: Any) -> Any:
        """A write (``self._call``) sent again, after a backoff, while it fails in a way
        that may pass. A refusal of a repeat asks ``done``: the result when the first try
        had done the work after all (its answer was lost), else None."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._call(what, method, *args)
            except KatibError as exc:
                result = done(exc) if attempt > 1 else None
                if result is not None:
                    return result
                if not exc.transient or attempt == ATTEMPTS:
                    raise
                backoff(attempt, str(exc))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _experiment(self, answer: Any, what: str) -> dict[str, Any]:
        """``answer`` checked to be an Experiment with the fields automl reads."""
        return self._read(what, _experiment, answer)

    @staticmethod
    def _read(what: str, read: Any, *args: Any) -> Any:
        """``read(*args)``, a malformed answer said as a KatibError about ``what``."""
        try:
            return read(*args)
        except AnswerError as exc:
            raise _unusable(what, exc) from None


def _unusable(what: str, exc: AnswerError) -> KatibError:
    return KatibError(f"cannot {what}: {exc}", exc.exit_code, exc.transient)


def _listed(answer: Any, kind: str, api_version: str, *fields: str) -> list[Any]:
    """The items of a Kubernetes List of ``kind``: an answer that is not one (a Status, an
    object of another kind, no ``items``) would read as "there are none"."""
    found = (field(answer, "apiVersion", str), field(answer, "kind", str))
    if found != (api_version, kind):
        raise AnswerError(f"the answer is of kind {found[1]!r} ({found[0]}), not {kind} "
                          f"({api_version})", EXIT_MALFORMED)
    field(answer, "items", list)
    return records(answer, "items", *fields)


def _experiment(answer: Any) -> dict[str, Any]:
    """An Experiment with the fields automl reads (experiment_state, experiment_spec)."""
    field(answer, "metadata.name", str)
    field(answer, "spec", dict)
    records(answer, "status.conditions", "type")
    for count in ("trialsSucceeded", "trialsFailed", "trialsEarlyStopped", "trialsKilled",
                  "trialMetricsUnavailable", "trialsRunning", "trialsPending"):
        field(answer, f"status.{count}", int, 0)
    return answer


def _trial(answer: Any) -> dict[str, Any]:
    """A Trial with the fields automl reads (katib.results, trial_logs)."""
    field(answer, "metadata.name", str)
    field(answer, "metadata.labels", dict, {})
    field(answer, "metadata.creationTimestamp", str, "")
    records(answer, "spec.parameterAssignments", "name", "value")
    records(answer, "status.conditions", "type")
    records(answer, "status.observation.metrics", "name")
    field(answer, "spec.primaryPodLabels", dict, {})
    field(answer, "spec.primaryContainerName", str, None)
    field(answer, "spec.metricsCollector.collector.kind", str, None)
    for stamp in ("startTime", "completionTime"):
        _timestamp(field(answer, f"status.{stamp}", str, None), f"status.{stamp}")
    return answer


def _timestamp(text: str | None, path: str) -> None:
    """A Kubernetes timestamp (RFC 3339) as katib.results reads it, or None."""
    from datetime import datetime

    try:
        if text:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AnswerError(f"the answer's {path} {text!r} is not a timestamp", 1) from None


def _holds(found: Any, sent: Any) -> bool:
    """Whether ``found`` has every field of ``sent`` with the same value (and maybe more)."""
    if isinstance(sent, dict):
        return isinstance(found, dict) and all(k in found and _holds(found[k], v)
                                               for k, v in sent.items())
    if isinstance(sent, list):
        return (isinstance(found, list) and len(found) == len(sent)
                and all(map(_holds, found, sent)))
    return found == sent


def _refusal(what: str, exc: Any, namespace: str) -> KatibError:
    status = _status(exc)
    detail = status.get("message") or str(exc.reason)
    if exc.status == 404 and (status.get("details") or {}).get("name"):
        # A Status naming the object: it is missing. Without a name, the resource type is.
        return KatibError(f"cannot {what}: not found in namespace {namespace}",
                          EXIT_CODES["not found"])
    if exc.status == 404:
        return KatibError(f"cannot {what}: the cluster has no Katib (kubeflow.org/v1beta1 "
                          f"custom resources); install Katib first ({detail})",
                          EXIT_CODES["no Katib"])
    if exc.status in (401, 403):
        return KatibError(f"cannot {what}: forbidden in namespace {namespace} ({detail})",
                          EXIT_CODES["forbidden"])
    if exc.status == 409:
        return KatibError(f"cannot {what}: it already exists in namespace {namespace}; "
                          "reattach with --resume, or delete it first", EXIT_CODES["conflict"])
    return KatibError(f"cannot {what}: HTTP {exc.status}: {detail}", 1)


def _status(exc: Any) -> dict[str, Any]:
    """The Kubernetes Status object in an error answer ({} when there is none)."""
    import json

    try:
        body = json.loads(exc.body)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}
