"""Build the real control plane's binaries from pinned Go module versions, once per machine.

One command: ``python tests/cluster/build.py`` prints the folder holding ``etcd``,
``kube-apiserver``, ``katib-controller``, ``katib-db-manager``, ``goptuna-suggestion`` and
``file-metricscollector``. They are built from the Go module in ``tests/cluster/gomod`` (its
``go.mod``/``go.sum`` pin Kubernetes v1.34, Katib v0.19.0 and etcd v3.6 exactly; no source of
theirs is kept in this repository) through the Go module proxy, each ``go build`` under
``nice -n 19``. The binaries are cached under
``${XDG_CACHE_HOME:-~/.cache}/automl-cluster/<hash of the pins and the Go version>/``, so a
second run costs nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

MODULE = Path(__file__).resolve().parent / "gomod"

#: Binary name -> Go package (each is a ``tool`` of the module, so ``go mod tidy`` keeps it).
BINARIES: dict[str, str] = {
    "etcd": "automl.test/cluster/etcd",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "katib-controller": "github.com/kubeflow/katib/cmd/katib-controller/v1beta1",
    "katib-db-manager": "github.com/kubeflow/katib/cmd/db-manager/v1beta1",
    "goptuna-suggestion": "github.com/kubeflow/katib/cmd/suggestion/goptuna/v1beta1",
    "file-metricscollector":
        "github.com/kubeflow/katib/cmd/metricscollector/v1beta1/file-metricscollector",
}


class BuildError(Exception):
    """The binaries cannot be built here (no Go, no module proxy, a compile error)."""


def go_executable() -> str:
    """The ``go`` command to build with.

    Raises:
        BuildError: No ``go`` on PATH.
    """
    go = shutil.which("go")
    if go is None:
        raise BuildError("no Go toolchain (go) on PATH: install Go >= 1.24 to build the "
                         "control plane")
    return go


def _go_version(go: str) -> str:
    done = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                          env=_go_env(), check=False)
    if done.returncode != 0:
        raise BuildError(f"`go env GOVERSION` failed: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    # The committed go.mod/go.sum decide, as they are (readonly: a build never edits them);
    # never download another toolchain.
    env["GOTOOLCHAIN"] = "local"
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -mod=readonly").strip()
    # Static binaries: no C toolchain needed, as Kubernetes' own release builds.
    env["CGO_ENABLED"] = "0"
    return env


def cache_dir(go_version: str) -> Path:
    """The folder for binaries built from the current pins with this Go version."""
    digest = hashlib.sha256()
    for path in sorted(MODULE.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(MODULE).as_posix().encode())
            digest.update(path.read_bytes())
    digest.update(go_version.encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "automl-cluster" / digest.hexdigest()[:16]


def build(out: Path | None = None) -> Path:
    """Build every missing binary and return the folder that holds them all.

    Args:
        out: Where to put the binaries; the machine's cache folder when None.

    Raises:
        BuildError: Go is missing or a build failed (the message names the binary and the
            last lines of Go's output).
    """
    go = go_executable()
    folder = out or cache_dir(_go_version(go))
    folder.mkdir(parents=True, exist_ok=True)
    nice = ["nice", "-n", "19"] if shutil.which("nice") else []
    for name, package in BINARIES.items():
        target = folder / name
        if target.exists():
            continue
        partial = folder / f".{name}.partial"
        started = time.monotonic()
        done = subprocess.run([*nice, go, "build", "-trimpath", "-o", str(partial), package],
                              cwd=MODULE, env=_go_env(), capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-5:])
            raise BuildError(f"go build {package} failed: {tail}")
        # Only a complete binary takes the final name, so a broken run never looks cached.
        partial.replace(target)
        log.info("built %s in %.0f s", name, time.monotonic() - started)
    return folder


def main() -> int:
    """Build (or find cached) binaries; print their folder. Exit 1 with one line on failure."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.monotonic()
    try:
        folder = build()
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    log.info("control plane binaries ready in %.0f s", time.monotonic() - started)
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
