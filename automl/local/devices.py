"""GPUs for local trials: each running trial gets the devices its pod would be given.

On Katib a trial's pod asks for ``nvidia.com/gpu`` in its limits and the kubelet's device
plugin gives it that many devices of its own; a pod that cannot get them stays Pending until
another pod frees them. Locally the devices are the ones this process may use
(``CUDA_VISIBLE_DEVICES`` when set, else those ``nvidia-smi`` lists), each trial is started
with ``CUDA_VISIBLE_DEVICES`` naming its own, and no more trials run at once than the devices
allow. A trial that asks for none keeps the environment it inherits: what a GPU-less pod sees
depends on its image and the node's runtime, which the local engine cannot know.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from automl.errors import AutomlError
from automl.spec import ExperimentSpec
from automl.spec.trial import find_containers

__all__ = ["GPU", "DevicePool", "gpus_per_trial", "visible_gpus"]

logger = logging.getLogger(__name__)

GPU = "nvidia.com/gpu"
"""The extended resource NVIDIA's device plugin serves, as a Kubernetes pod asks for it."""

VISIBLE = "CUDA_VISIBLE_DEVICES"


def gpus_per_trial(spec: ExperimentSpec) -> int:
    """How many GPUs each trial's primary container asks for (its ``limits``, as Kubernetes
    takes extended resources; ``requests`` alone when no limit is given)."""
    trial = spec.trial
    resources: Any = trial.resources
    if trial.trial_spec is not None:
        resources = next((c.get("resources") for c in find_containers(trial.trial_spec)
                          if c.get("name") == trial.primary_container_name), None)
    if not isinstance(resources, Mapping):
        return 0
    for part in ("limits", "requests"):
        value = (resources.get(part) or {}).get(GPU)
        if value is not None:
            try:
                return int(str(value))
            except ValueError:  # the spec rules refuse it; a count of none here
                return 0
    return 0


def visible_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs this process may hand to trials, by the ids ``CUDA_VISIBLE_DEVICES`` takes.

    ``CUDA_VISIBLE_DEVICES`` wins when set (``""`` or ``-1``: none); otherwise the indexes
    ``nvidia-smi`` lists, or none where it is missing or fails.
    """
    environ = os.environ if environ is None else environ
    if VISIBLE in environ:
        ids = [d.strip() for d in environ[VISIBLE].split(",") if d.strip()]
        # CUDA stops at the first invalid id; "-1" is the customary way to hide every device
        return [] if not ids or ids[0] == "-1" else ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listed = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("nvidia-smi failed (%s): no GPUs for trials", exc)
        return []
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


class DevicePool:
    """The GPUs that running trials hold, ``per_trial`` each.

    Args:
        devices: The ids trials may be given.
        per_trial: How many each trial takes (0: trials take none and the pool never limits).
    """

    def __init__(self, devices: list[str], per_trial: int) -> None:
        self.per_trial = per_trial
        self.devices = list(devices)
        self._free = list(devices)

    @classmethod
    def for_spec(cls, spec: ExperimentSpec) -> DevicePool:
        """The pool for ``spec``'s trials on this machine.

        Raises:
            AutomlError: When one trial asks for more GPUs than this machine shows: on
                Katib its pod would wait, Pending, for a node that has them.
        """
        per_trial = gpus_per_trial(spec)
        if not per_trial:
            return cls([], 0)
        devices = visible_gpus()
        if per_trial > len(devices):
            shown = ", ".join(devices) or "none"
            raise AutomlError(
                f"each trial asks for {per_trial} {GPU} (trial resources) but this machine "
                f"shows {len(devices)} GPU(s) ({VISIBLE} or nvidia-smi: {shown}); on Katib "
                "the trial's pod would stay Pending: ask for fewer, or run on a cluster")
        pool = cls(devices, per_trial)
        if pool.slots < spec.budget.parallel_trials:
            logger.warning("%d GPU(s), %d per trial: %d trial(s) at a time instead of "
                           "parallel_trials %d (on Katib the others would wait Pending)",
                           len(devices), per_trial, pool.slots, spec.budget.parallel_trials)
        return pool

    @property
    def slots(self) -> int:
        """How many trials the devices let run at once (0 when trials take none)."""
        return len(self.devices) // self.per_trial if self.per_trial else 0

    def limit(self, wanted: int) -> int:
        """How many of ``wanted`` new trials the free devices let start now."""
        return min(wanted, len(self._free) // self.per_trial) if self.per_trial else wanted

    def take(self) -> list[str] | None:
        """The devices for a trial starting now (None when trials take none)."""
        if not self.per_trial:
            return None
        if len(self._free) < self.per_trial:
            raise RuntimeError("no free devices: the engine started more trials than slots")
        taken, self._free = self._free[:self.per_trial], self._free[self.per_trial:]
        return taken

    def give(self, devices: list[str] | None) -> None:
        """Devices a trial held, free again once it ended."""
        if devices:
            self._free += devices

    def environment(self, devices: list[str] | None) -> dict[str, str]:
        """The variables a trial holding ``devices`` starts with."""
        return {} if devices is None else {VISIBLE: ",".join(devices)}
