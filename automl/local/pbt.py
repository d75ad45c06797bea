"""Katib's pbt on this machine: the population's queue, its checkpoints and its resume.

On Katib each trial's primary container gets the suggestion volume's sub-path
``<experiment>/<trial>`` mounted at the ``suggestion_trial_dir`` setting (the pod webhook's
mutateSuggestionVolume), and the pbt service fills that folder with a copy of the parent's
before the trial starts. Here the folder is ``<trial>/checkpoint`` in the experiment's runs
folder (:func:`automl.local.paths.runs_folder`, e.g. ``.automl/runs/<experiment>``):
the engine writes it where the trial's command and environment name ``suggestion_trial_dir``
(and in ``$AUTOML_CHECKPOINT_DIR``), after copying the parent's into it.

Katib's service keeps the population in memory. Here it is saved to ``pbt.json`` in the
runs folder each time it changes, so that a run stopped in any way
resumes the same population: trials that were running are recorded as Failed by the engine
and, as Katib's service does with a failed trial, queued again with their parameters,
generation and parent.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automl._fs import copy_tree, remove_tree
from automl.local.pbt_queue import PbtQueue
from automl.local.schedule import Schedule, Step
from automl.spec import ExperimentSpec

__all__ = ["CHECKPOINT", "STATE_FILE", "Pbt"]

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
"""A trial's checkpoint folder, inside its own folder of the runs folder."""
STATE_FILE = "pbt.json"
"""The population's saved state, in the experiment's runs folder."""


class Pbt(Schedule):
    """The population as a schedule: each trial a job of :class:`PbtQueue`.

    Args:
        spec: A pbt experiment.
        runs: The experiment's runs folder.
        seed: Seeds the population's random choices (a saved state carries its own on).
    """

    key = "pbt"

    def __init__(self, spec: ExperimentSpec, runs: Path, seed: int | None = None) -> None:
        self.queue = PbtQueue(spec, seed)
        self.runs = runs
        self.mount = str(spec.algorithm.settings["suggestion_trial_dir"])
        self.state_file = runs / STATE_FILE
        self._seen = 0  # how many of the finished records the queue has been given

    def begin(self, fresh: bool) -> None:
        """Go on with the saved population, unless the study is new (then it is another's)."""
        if self.state_file.exists() and not fresh:
            self.queue.restore(json.loads(self.state_file.read_text(encoding="utf-8")))

    def take(self, count: int, finished: Sequence[Mapping[str, Any]],
             running: Sequence[Mapping[str, Any]]) -> list[Step]:
        """The next ``count`` jobs of the population, after telling it what finished."""
        # in the order they ended, as Katib's controller reports them; a trial recorded by
        # a resumed run as interrupted has no end and goes first
        new = sorted(finished[self._seen:], key=lambda r: (r.get("end") is not None,
                                                           r.get("end") or 0.0))
        self._seen = len(finished)
        for record in new:
            self.queue.update(dict(record))
        jobs = self.queue.take(count)
        self._save()
        return [Step(dict(job.params), {"generation": job.generation, "parent": job.parent,
                                        "job": job.id}) for job in jobs]

    def start(self, step: Step, trial: str, run_dir: Path) -> dict[str, Path]:
        """Fill the trial's checkpoint folder with its parent's; the mount that stands for it."""
        job = self.queue.started(step.tag["job"], trial)
        folder = run_dir / CHECKPOINT
        remove_tree(folder)
        parent = None if job.parent is None else self.runs / job.parent / CHECKPOINT
        if parent is not None and parent.is_dir():
            # links kept as links; a FIFO or an unreadable file skipped with a warning, or
            # every child of this parent would fail on it, on every resume
            copy_tree(parent, folder)
        else:
            if parent is not None:
                logger.warning("trial %s: the checkpoint of its parent %s is gone (%s); it "
                               "starts from an empty folder", trial, job.parent, parent)
            folder.mkdir(parents=True)
        self._save()
        return {self.mount: folder}

    def _save(self) -> None:
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.queue.state()), encoding="utf-8")
        os.replace(temporary, self.state_file)
