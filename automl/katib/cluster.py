"""A Katib cluster, through the Kubernetes API: create, read, list, edit and delete Experiments.

kubeconfig (or the in-cluster service account) chooses the cluster; the namespace defaults as
kubectl's does: the current context's, else ``default``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from automl.errors import AutomlError

__all__ = ["EXIT_CODES", "KatibCluster", "KatibError"]

GROUP, VERSION = "kubeflow.org", "v1beta1"
_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class KatibError(AutomlError):
    """The cluster refused or could not be reached; ``exit_code`` is the CLI's status for it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


EXIT_CODES = {"no cluster": 3, "no Katib": 4, "forbidden": 5, "conflict": 6, "not found": 7}
"""The CLI's exit status per failure (listed in ``automl --help``)."""


class KatibCluster:
    """Katib's Experiment and Trial custom resources in one namespace.

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
        self.api = client.CustomObjectsApi()

    # ---- experiments -------------------------------------------------------------------

    def create(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """Create an Experiment (its namespace is set to this cluster's)."""
        body = {**experiment, "metadata": {**experiment["metadata"],
                                           "namespace": self.namespace}}
        name = body["metadata"]["name"]
        return self._call(f"create experiment {name}", self.api.create_namespaced_custom_object,
                          GROUP, VERSION, self.namespace, "experiments", body)

    def get(self, name: str) -> dict[str, Any]:
        """The Experiment ``name`` with its status."""
        return self._call(f"get experiment {name}", self.api.get_namespaced_custom_object,
                          GROUP, VERSION, self.namespace, "experiments", name)

    def list(self) -> list[dict[str, Any]]:
        """Every Experiment in the namespace."""
        answer = self._call("list experiments", self.api.list_namespaced_custom_object,
                            GROUP, VERSION, self.namespace, "experiments")
        return answer.get("items", [])

    def delete(self, name: str) -> None:
        """Delete the Experiment ``name`` (Katib deletes its trials with it)."""
        self._call(f"delete experiment {name}", self.api.delete_namespaced_custom_object,
                   GROUP, VERSION, self.namespace, "experiments", name)

    def edit_budget(self, name: str, max_trials: int | None = None,
                    parallel_trials: int | None = None,
                    max_failed_trials: int | None = None) -> dict[str, Any]:
        """Change the budget, the only fields Katib lets an Experiment change.

        As KatibClient.edit_experiment_budget: at least one value; the rest stay.
        """
        spec = {k: v for k, v in (("maxTrialCount", max_trials),
                                  ("parallelTrialCount", parallel_trials),
                                  ("maxFailedTrialCount", max_failed_trials)) if v is not None}
        if not spec:
            raise AutomlError("give at least one of max_trials, parallel_trials, "
                              "max_failed_trials")
        return self._call(f"edit experiment {name}", self.api.patch_namespaced_custom_object,
                          GROUP, VERSION, self.namespace, "experiments", name,
                          {"spec": spec})

    def trials(self, name: str) -> list[dict[str, Any]]:
        """The Trials of Experiment ``name`` (by Katib's experiment label)."""
        answer = self._call(f"list trials of {name}", self.api.list_namespaced_custom_object,
                            GROUP, VERSION, self.namespace, "trials",
                            label_selector=f"katib.kubeflow.org/experiment={name}")
        return answer.get("items", [])

    def trial_logs(self, name: str, trial: str, *, tail: int | None = None,
                   follow: bool = False) -> Iterator[str]:
        """The log lines of Trial ``trial`` of Experiment ``name``, as KatibClient.get_job_logs
        finds them: its pod by the ``katib.kubeflow.org/trial`` label (and the Trial's
        ``primaryPodLabels``), and in it the container that shows the trial's output: the
        StdOut collector's ``metrics-logger-and-collector`` (the trial's own container
        writes to a file there), else ``primaryContainerName``."""
        from kubernetes import client

        found = self._call(f"get trial {trial}", self.api.get_namespaced_custom_object,
                           GROUP, VERSION, self.namespace, "trials", trial)
        labels = found.get("metadata", {}).get("labels", {})
        if labels.get("katib.kubeflow.org/experiment") != name:
            raise KatibError(f"trial {trial!r} is not a trial of experiment {name!r} in "
                             f"namespace {self.namespace!r}", EXIT_CODES["not found"])
        spec = found.get("spec", {})
        selector = ",".join([f"katib.kubeflow.org/trial={trial}"] + [
            f"{k}={v}" for k, v in (spec.get("primaryPodLabels") or {}).items()])
        core = client.CoreV1Api()
        pods = self._call(f"list pods of trial {trial}", core.list_namespaced_pod,
                          self.namespace, label_selector=selector).items
        if not pods:
            raise KatibError(f"trial {trial!r} has no pod (not started yet, or deleted with "
                             "its Job)", EXIT_CODES["not found"])
        kind = spec.get("metricsCollector", {}).get("collector", {}).get("kind")
        container = ("metrics-logger-and-collector" if kind == "StdOut"
                     else spec.get("primaryContainerName"))
        options: dict[str, Any] = {"container": container} if container else {}
        if tail is not None:
            options["tail_lines"] = tail
        pod = pods[0].metadata.name
        if not follow:
            text = self._call(f"read the log of pod {pod}", core.read_namespaced_pod_log,
                              pod, self.namespace, **options)
            yield from text.splitlines()
            return
        stream = self._call(f"read the log of pod {pod}", core.read_namespaced_pod_log, pod,
                            self.namespace, follow=True, _preload_content=False, **options)
        rest = b""
        for chunk in stream.stream(4096):
            *lines, rest = (rest + chunk).split(b"\n")
            yield from (line.decode("utf-8", errors="replace") for line in lines)
        if rest:
            yield rest.decode("utf-8", errors="replace")

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            raise _refusal(what, exc, self.namespace) from None
        except HTTPError as exc:
            raise KatibError(f"no cluster: cannot {what}: {exc}",
                             EXIT_CODES["no cluster"]) from None


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
