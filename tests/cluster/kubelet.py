"""The one stand-in of the test cluster: pods. It takes the place of the kubelet, the Job
controller and the Deployment controller; everything else is Katib's and Kubernetes' code.

* **Jobs** (Katib's trials): for each new Job it creates a Pod from the Job's template, owned by
  the Job, through the API server, so Katib's real pod webhook injects its metrics-collector
  sidecar and wraps the primary command. It then runs the mutated pod's containers as local
  processes in one PID and mount namespace (a pod with ``shareProcessNamespace``, as Katib sets):
  each container's command and args after the kubelet's ``$(VAR)``/``$$`` expansion, with the
  container's env only; emptyDir volumes are folders of the fixture's bind-mounted at their
  mount paths; the cluster's hosts file is ``/etc/hosts``. The collector sidecar's image
  stands for Katib's ``file-metricscollector`` binary, run with the args Katib gave it, so the
  metrics reach the real DB manager. The Job's status conditions follow the exit codes
  (retried up to ``backoffLimit`` as the Job controller does).
* **Suggestion Deployments**: the goptuna image stands for Katib's goptuna suggestion binary,
  run in a network namespace of its own (it binds ``0.0.0.0:6789``), reached through a bridge
  from ``127.0.1.x:6789`` of the cluster's namespace, the address the hosts file gives
  ``<deployment>.<namespace>``; the Deployment's status then says Available.

The primary container is held (blocked on a FIFO, its command line already the wrapped one)
until the collector has looked for it: Katib's collector looks for the trial's process once,
when it starts, and a trial that ended before is missed (a race that exists on a real cluster
too, for trials shorter than the sidecar's start). The collector gives no sign that it has
looked, so the gate opens one second after its first log line, right after which it looks.
"""

from __future__ import annotations

import datetime
import logging
import os
import shlex
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.cluster import netns
from tests.cluster.control_plane import IMAGE_BINARIES, ControlPlane

log = logging.getLogger(__name__)

_COLLECTORS = ("metrics-logger-and-collector", "metrics-collector")
_POD_ROOT = "/srv"  # where a pod's mount namespace sees the pod's folder
# Katib's collector gives no sign that it has looked for the trial's process; it looks right
# after its first log line, so this much later it has (see Pod._release).
_LOOK_SECONDS = 1.0


def expand(text: str, env: dict[str, str]) -> str:
    """The kubelet's expansion: ``$(NAME)`` of a defined variable becomes its value (else it
    stays), ``$$`` becomes ``$``, any other ``$`` stays (k8s.io/kubernetes
    third_party/forked/golang/expansion)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            following = text[i + 1]
            if following == "$":
                out.append("$")
                i += 2
                continue
            if following == "(":
                close = text.find(")", i + 2)
                if close != -1:
                    name = text[i + 2:close]
                    out.append(env.get(name, f"$({name})"))
                    i = close + 1
                    continue
                out.append("$(")
                i += 2
                continue
            out.append("$" + following)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Kubelet:
    """Runs the pods of Katib's Jobs and suggestion Deployments (see the module docstring).

    Args:
        plane: The running control plane.
    """

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self._seen_jobs: set[str] = set()
        self._pods: set[Pod] = set()
        self._suggestions: dict[str, tuple[subprocess.Popen, netns.Bridge, str]] = {}
        self._next_address = 10
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="kubelet")
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; end the pods and suggestion services it started (by pid)."""
        self._stop.set()
        self._thread.join(timeout=10)
        for pod in list(self._pods):
            pod.kill()
        for key in list(self._suggestions):
            self._end_suggestion(key)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync_deployments()
                self._sync_jobs()
            except Exception:
                log.exception("stand-in kubelet: sync failed")
            self._stop.wait(0.2)

    # ---- suggestion deployments -----------------------------------------------------------

    def _sync_deployments(self) -> None:
        status, answer = self.plane.request("GET", "/apis/apps/v1/deployments")
        if status != 200:
            return
        current = set()
        for deployment in answer.get("items", []):
            meta = deployment["metadata"]
            key = f"{meta['namespace']}/{meta['name']}/{meta['uid']}"
            current.add(key)
            if key not in self._suggestions:
                self._start_suggestion(deployment, key)
        for key in set(self._suggestions) - current:
            self._end_suggestion(key)

    def _start_suggestion(self, deployment: dict[str, Any], key: str) -> None:
        meta = deployment["metadata"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        binary = IMAGE_BINARIES.get(container.get("image", ""))
        if binary is None:
            log.warning("deployment %s: no binary stands for image %s", key, container.get(
                "image"))
            self._suggestions[key] = (None, None, "")  # type: ignore[assignment]
            return
        name = f"suggestion-{meta['namespace']}-{meta['name']}"
        process = self.plane.start_process(name, [
            "unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
            str(self.plane.binaries / binary), *container.get("args", [])])
        own = Path(f"/proc/{process.pid}/ns/net")
        deadline = time.monotonic() + 60
        while not _listening(own, 6789):
            if process.poll() is not None or time.monotonic() > deadline:
                log.error("%s did not start: %s", name, self.plane.log_tail(name))
                self._suggestions[key] = (process, None, "")  # type: ignore[assignment]
                return
            time.sleep(0.05)
        address = f"127.0.1.{self._next_address}"
        self._next_address += 1
        bridge = netns.Bridge(self.plane.network.path, (address, 6789), own,
                              ("127.0.0.1", 6789))
        line = f"{address} {meta['name']}.{meta['namespace']} " \
               f"{meta['name']}.{meta['namespace']}.svc\n"
        # Written in place: /etc/hosts in the namespaces is a bind mount of this inode.
        with self._lock, open(self.plane.hosts, "a") as hosts:
            hosts.write(line)
        self._suggestions[key] = (process, bridge, line)
        self.plane.request(
            "PATCH", f"/apis/apps/v1/namespaces/{meta['namespace']}/deployments/"
                     f"{meta['name']}/status",
            {"status": {"observedGeneration": meta.get("generation", 1), "replicas": 1,
                        "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                        "conditions": [{"type": "Available", "status": "True",
                                        "reason": "MinimumReplicasAvailable",
                                        "message": "run by the test's stand-in kubelet",
                                        "lastUpdateTime": _now(),
                                        "lastTransitionTime": _now()}]}},
            content_type="application/merge-patch+json")

    def _end_suggestion(self, key: str) -> None:
        process, bridge, line = self._suggestions.pop(key)
        if bridge is not None:
            bridge.close()
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        if line:
            with self._lock:
                text = self.plane.hosts.read_text().replace(line, "")
                with open(self.plane.hosts, "w") as hosts:
                    hosts.write(text)

    # ---- jobs -------------------------------------------------------------------------------

    def _sync_jobs(self) -> None:
        status, answer = self.plane.request("GET", "/apis/batch/v1/jobs")
        if status != 200:
            return
        for job in answer.get("items", []):
            uid = job["metadata"]["uid"]
            finished = any(c["type"] in ("Complete", "Failed") and c["status"] == "True"
                           for c in job.get("status", {}).get("conditions", []))
            if uid not in self._seen_jobs and not finished:
                self._seen_jobs.add(uid)
                threading.Thread(target=self._run_job, args=(job,), daemon=True,
                                 name=f"job {job['metadata']['name']}").start()

    def _run_job(self, job: dict[str, Any]) -> None:
        meta = job["metadata"]
        path = f"/apis/batch/v1/namespaces/{meta['namespace']}/jobs/{meta['name']}/status"
        started = _now()
        self._patch_status(path, {"startTime": started, "active": 1})
        limit = job["spec"].get("backoffLimit", 6)
        failures = 0
        while True:
            if self._run_pod(job):
                done = _now()
                self._patch_status(path, {
                    "active": 0, "succeeded": 1, "completionTime": done, "conditions": [
                        _condition("SuccessCriteriaMet", "CompletionsReached", done),
                        _condition("Complete", "CompletionsReached", done)]})
                return
            failures += 1
            if failures > limit or self._stop.is_set():
                done = _now()
                self._patch_status(path, {
                    "active": 0, "failed": failures, "conditions": [
                        _condition("FailureTarget", "BackoffLimitExceeded", done),
                        _condition("Failed", "BackoffLimitExceeded", done)]})
                return
            self._patch_status(path, {"failed": failures})

    def _patch_status(self, path: str, status: dict[str, Any]) -> None:
        code, answer = self.plane.request("PATCH", path, {"status": status},
                                          content_type="application/merge-patch+json")
        if code >= 300:
            log.error("stand-in kubelet: cannot set %s: HTTP %s: %s", path, code,
                      answer.get("message"))

    def _run_pod(self, job: dict[str, Any]) -> bool:
        """Create the Job's pod through the API (Katib's webhook mutates it) and run it.

        Returns:
            Whether every container exited 0.
        """
        meta = job["metadata"]
        template = job["spec"]["template"]
        labels = {**template.get("metadata", {}).get("labels", {}),
                  "batch.kubernetes.io/job-name": meta["name"], "job-name": meta["name"]}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "generateName": f"{meta['name']}-", "namespace": meta["namespace"],
            "labels": labels, "annotations": template.get("metadata", {}).get(
                "annotations", {}),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                 "uid": meta["uid"], "controller": True,
                                 "blockOwnerDeletion": True}]},
            "spec": template["spec"]}
        status, created = self.plane.request(
            "POST", f"/api/v1/namespaces/{meta['namespace']}/pods", pod)
        if status != 201:
            log.error("stand-in kubelet: cannot create the pod of job %s: HTTP %s: %s",
                      meta["name"], status, created.get("message"))
            return False
        pod = Pod(self.plane, created)
        self._pods.add(pod)
        try:
            return pod.run()
        finally:
            self._pods.discard(pod)


def _condition(kind: str, reason: str, when: str) -> dict[str, str]:
    return {"type": kind, "status": "True", "reason": reason, "lastProbeTime": when,
            "lastTransitionTime": when, "message": "set by the test's stand-in kubelet"}


def _listening(namespace: Path, port: int) -> bool:
    try:
        with netns.socket_in(namespace) as probe:
            probe.settimeout(1)
            return probe.connect_ex(("127.0.0.1", port)) == 0
    except OSError:
        return False


class Pod:
    """One pod's containers as processes sharing a PID and mount namespace."""

    def __init__(self, plane: ControlPlane, pod: dict[str, Any]) -> None:
        self.plane, self.pod = plane, pod
        meta = pod["metadata"]
        self.folder = plane.folder / "pods" / meta["namespace"] / meta["name"]
        (self.folder / "volumes").mkdir(parents=True)
        self._pause: subprocess.Popen | None = None

    def kill(self) -> None:
        """End the pod: its PID namespace's first process, whose end ends every other one."""
        if self._pause is not None and self._pause.poll() is None:
            self._pause.kill()

    def _mount_script(self) -> str:
        """Shell commands that make the pod's filesystem view (run in its mount namespace)."""
        root = _POD_ROOT
        lines = ['mount --bind "$1" /etc/hosts', f'mount --bind "$0" {root}']
        empty = {v["name"] for v in self.pod["spec"].get("volumes", []) if "emptyDir" in v}
        covered: set[str] = set()
        for container in self.pod["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in empty or mount["mountPath"] in covered:
                    continue
                target = mount["mountPath"]
                covered.add(target)
                (self.folder / "volumes" / mount["name"]).mkdir(exist_ok=True)
                if not Path(target).is_dir():
                    # A missing mount point is made on a tmpfs over its nearest existing
                    # ancestor (hidden in this pod only), never on the host's filesystem.
                    ancestor = Path(target).parent
                    while not ancestor.is_dir():
                        ancestor = ancestor.parent
                    if ancestor == Path("/"):
                        raise RuntimeError(f"stand-in kubelet: cannot mount {target} (no "
                                           "existing parent folder but /)")
                    if str(ancestor) not in covered:
                        lines.append(f"mount -t tmpfs tmpfs {shlex.quote(str(ancestor))}")
                        covered.add(str(ancestor))
                    lines.append(f"mkdir -p {shlex.quote(target)}")
                lines.append(f"mount --bind {root}/volumes/{mount['name']} "
                             f"{shlex.quote(target)}")
        return " && ".join([*lines, "touch /srv/ready", "exec sleep infinity"])

    def run(self) -> bool:
        """Run the containers (collector sidecars after the primary); True if all exit 0."""
        with open(self.folder / "pause.log", "wb") as out:
            pause = subprocess.Popen(
                [*self.plane.network.enter(), "unshare", "--pid", "--fork", "--kill-child",
                 "--mount", "--propagation", "private", "--mount-proc", "--", "sh", "-c",
                 self._mount_script(), str(self.folder), str(self.plane.hosts)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self._pause = pause
        try:
            return self._run_containers(pause)
        finally:
            pause.kill()
            pause.wait()

    def _run_containers(self, pause: subprocess.Popen) -> bool:
        deadline = time.monotonic() + 30
        while not (self.folder / "ready").exists():
            if pause.poll() is not None or time.monotonic() > deadline:
                log.error("pod %s: namespaces not made: %s", self.folder.name,
                          (self.folder / "pause.log").read_text(errors="replace"))
                return False
            time.sleep(0.02)
        children = Path(f"/proc/{pause.pid}/task/{pause.pid}/children").read_text().split()
        enter = ["nsenter", f"--target={children[0]}", "--pid", "--mount", "--net", "--"]
        containers = self.pod["spec"]["containers"]
        collectors = [c for c in containers if c["name"] in _COLLECTORS]
        gate = self.folder / "gate"
        if collectors:
            os.mkfifo(gate)
        processes = []
        for container in [c for c in containers if c not in collectors]:
            argv = self._argv(container)
            if collectors:
                argv = ["sh", "-c", 'read _ < "$0"; exec "$@"', f"{_POD_ROOT}/gate", *argv]
            processes.append(self._start(enter, container, argv))
        for container in collectors:
            processes.append(self._start(enter, container, self._argv(container)))
        if collectors:
            self._release(gate, collectors[0]["name"])
        return all(process.wait() == 0 for process in processes)

    def _release(self, gate: Path, collector: str) -> None:
        """Let the primary run once the collector has looked for it.

        The collector logs ``Trial Name: ...`` and looks at the processes right after, in
        the same goroutine, but says nothing once it has looked: the gate opens
        ``_LOOK_SECONDS`` after that line (a trial that ended before the look would be
        missed, and its pod fail with "unable to find main pid")."""
        log_file = self.folder / f"{collector}.log"
        deadline = time.monotonic() + 60
        while "Trial Name" not in log_file.read_text(errors="replace"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        time.sleep(_LOOK_SECONDS)
        with open(gate, "w") as fifo:
            fifo.write("go\n")

    def _env(self, container: dict[str, Any]) -> dict[str, str]:
        meta = self.pod["metadata"]
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
               "HOSTNAME": meta["name"]}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = expand(item["value"], env)
            elif "fieldRef" in item.get("valueFrom", {}):
                env[item["name"]] = _field(self.pod, item["valueFrom"]["fieldRef"]["fieldPath"])
        return env

    def _argv(self, container: dict[str, Any]) -> list[str]:
        env = self._env(container)
        command = [expand(part, env) for part in container.get("command", [])]
        args = [expand(part, env) for part in container.get("args", [])]
        if not command:
            binary = IMAGE_BINARIES.get(container.get("image", ""))
            if binary is None:
                raise RuntimeError(f"stand-in kubelet: container {container['name']} has no "
                                   f"command and no binary stands for {container.get('image')}")
            command = [str(self.plane.binaries / binary)]
        return [*command, *args]

    def _start(self, enter: list[str], container: dict[str, Any],
               argv: list[str]) -> subprocess.Popen:
        with open(self.folder / f"{container['name']}.log", "wb") as out:
            return subprocess.Popen([*enter, *argv], env=self._env(container), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=container.get("workingDir") or "/",
                                    start_new_session=True)


def _field(pod: dict[str, Any], path: str) -> str:
    """A downward-API field of the pod (the few Katib uses)."""
    meta = pod["metadata"]
    if path.startswith("metadata.labels['"):
        return meta.get("labels", {}).get(path[len("metadata.labels['"):-2], "")
    if path.startswith("metadata.annotations['"):
        return meta.get("annotations", {}).get(path[len("metadata.annotations['"):-2], "")
    return {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
            "metadata.uid": meta.get("uid", ""), "status.podIP": "127.0.0.1",
            "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "")}.get(path, "")
