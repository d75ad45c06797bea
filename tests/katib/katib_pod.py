"""What Katib and Kubernetes do to a trial's container before it runs, done here for tests.

Each step follows their source (kubeflow/katib, kubernetes/kubernetes):
- the controller writes each assignment into the trial template's JSON text with
  ``strings.Replace`` and decodes the result
  (``pkg/controller.v1beta1/experiment/manifest/generator.go``, ``applyParameters``);
- the pod webhook wraps the primary container for the StdOut collector: it keeps a leading
  ``sh -c``/``bash -c`` (else uses ``sh -c``), appends the redirection and the completion marker,
  and joins everything with single spaces (``pkg/webhook/v1beta1/pod/utils.go``,
  ``wrapWorkerContainer``);
- the kubelet expands ``$(NAME)`` (a defined variable) and ``$$`` in env values, in order, then
  in command and args (``third_party/forked/golang/expansion/expand.go``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def render(experiment: Mapping[str, Any], assignments: Mapping[str, str]) -> dict[str, Any]:
    """The trial's Job as Katib's controller renders it for one assignment."""
    template = experiment["spec"]["trialTemplate"]
    text = json.dumps(template["trialSpec"])
    for tp in template["trialParameters"]:
        text = text.replace("${trialParameters." + tp["name"] + "}", assignments[tp["reference"]])
    return json.loads(text)


def wrap_stdout(container: Mapping[str, Any], metrics_dir: Path) -> list[str]:
    """The primary container's command after the webhook, for the StdOut collector."""
    args = [*container["command"], *container.get("args", [])]
    command = ["sh", "-c"]
    if args[0] in ("sh", "bash") and args[1] == "-c":
        command, args = args[:2], args[2:]
    args += [f"1>{metrics_dir / 'metrics.log'} 2>&1", "&&",
             f"echo completed > {metrics_dir / '$$$$.pid'}"]
    return [*command, " ".join(args)]


def expand(text: str, variables: Mapping[str, str]) -> str:
    """The kubelet's ``$(NAME)`` / ``$$`` expansion of one string."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$" or i + 1 == len(text):
            out.append(text[i])
            i += 1
        elif text[i + 1] == "$":
            out.append("$")
            i += 2
        elif text[i + 1] == "(" and ")" in text[i + 2:]:
            end = text.index(")", i + 2)
            name = text[i + 2:end]
            out.append(variables.get(name, text[i:end + 1]))
            i = end + 1
        else:
            out.append(text[i:i + 2])
            i += 2
    return "".join(out)


def run_container(container: Mapping[str, Any], cwd: Path, *, wrap: bool,
                  path: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the rendered primary container here as the kubelet would (wrapped or not).

    Args:
        container: The container of :func:`render`'s Job.
        cwd: The working directory; with ``wrap``, the metrics directory too.
        wrap: Apply the StdOut collector's wrapper first.
        path: ``PATH`` for the container (default: this Python's folder first).
    """
    variables: dict[str, str] = {}
    for e in container.get("env", []):
        variables[e["name"]] = expand(e["value"], variables)
    argv = wrap_stdout(container, cwd) if wrap else [*container["command"],
                                                      *container.get("args", [])]
    argv = [expand(a, variables) for a in argv]
    env = {**variables, "PATH": path or f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ['PATH']}"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
