"""Results of a local run, read from its Optuna storage and its trials' folders."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from automl.errors import AutomlError
from automl.local.paths import RUNS_KEY, runs_folder
from automl.local.storage_faults import storage_command
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, stored_spec
from automl.local.trial_files import UnreadableFile, open_trial_file, read_lines
from automl.results._results import Results
from automl.results.schema import observations_frame, trials_frame
from automl.state.metric import MetricValue

__all__ = ["load_results"]

logger = logging.getLogger(__name__)

_MAX_LINE = 1 << 20
"""A longer line of ``observations.jsonl`` is not one the engine wrote."""


@storage_command
def load_results(name: str, storage: str | None = None,
                 root: str | Path = DEFAULT_ROOT) -> Results:
    """The results of a local experiment.

    Args:
        name: The experiment.
        storage: The Optuna storage URL or journal file it ran with (default
            ``<root>/studies.journal``).
        root: The folder of the default storage. The trials' files are read from the
            experiment's runs folder of that storage (:func:`runs_folder`), whichever folder
            this runs in.

    Raises:
        AutomlError: When the storage holds no such experiment (the message lists those it
            holds).

    Example:
        >>> results = automl.load_results("digits-svm")
        >>> results.trials[["trial", "objective", "params.C"]]
    """
    store = open_storage(storage, Path(root), existing=True)
    try:
        study = optuna.load_study(study_name=name, storage=store)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(store)]
        raise AutomlError(f"no experiment {name!r} in this storage; it holds: "
                          + (", ".join(names) or "none")) from None
    if ATTR not in study.user_attrs:
        raise AutomlError(f"study {name!r} was not made by automl")
    spec = stored_spec(study)
    # not the trials' recorded log_dir: older runs recorded it relative to the folder they
    # ran in, which names another folder's trials when read from elsewhere
    runs = runs_folder(name, storage, Path(root), recorded=study.user_attrs[ATTR].get(RUNS_KEY))
    from automl.local.status import cut_off, run_is_active

    rows: list[dict[str, Any]] = []
    folders: list[tuple[str, Path]] = []
    trials = study.get_trials(deepcopy=False)
    # a trial recorded as running that no engine runs: shown as the next run records it
    held = not any(ATTR not in t.user_attrs and t.state == TrialState.RUNNING
                   for t in trials) or run_is_active(
        name, storage, Path(root), recorded=study.user_attrs[ATTR].get(RUNS_KEY))
    for t in trials:
        record = t.user_attrs.get(ATTR)
        if record is None:  # running, or cut off before automl recorded it
            record = {"name": f"{name}-{t.number:04d}",
                      "status": "Running" if t.state == TrialState.RUNNING else "Failed",
                      "params": {k: str(v) for k, v in t.params.items()},
                      "start": t.datetime_start.timestamp() if t.datetime_start else None}
            if record["status"] == "Running" and not held:
                record = cut_off(record)
        rows.append(_row(name, record, spec))
        if record.get("log_dir"):
            folders.append((record["name"], runs / record["name"]))

    def observations() -> Any:
        obs: dict[str, list[Any]] = {k: [] for k in ("experiment", "trial", "metric", "step",
                                                      "value", "timestamp")}
        for trial, folder in folders:
            _observations(name, trial, folder, obs)
        return observations_frame(obs)

    return Results(spec, trials_frame(rows, spec), observations)


def _row(name: str, record: dict[str, Any], spec: Any) -> dict[str, Any]:
    metrics = {metric: MetricValue(metric, v.get("min"), v.get("max"), v.get("latest")).value(
                   spec.objective.strategy(metric))
               for metric, v in (record.get("metrics") or {}).items()}
    return {"experiment": name, "trial": record["name"], "status": record["status"],
            "objective": record.get("objective"), "params": record.get("params", {}),
            "metrics": metrics, "start": record.get("start"), "end": record.get("end"),
            "backend": "local", "pbt": record.get("pbt"),
            "reason": record.get("reason")}


def _observations(name: str, trial: str, folder: Path, out: dict[str, list[Any]]) -> None:
    """Add the trial's observations from its ``observations.jsonl``.

    A file that cannot be read (not a regular file, too large) and a line that is not a
    whole observation (cut short by an engine killed while writing it) are left out with a
    warning that names them: the other trials' and lines' observations are still read.
    """
    path = folder / "observations.jsonl"
    try:
        file = open_trial_file(path)
    except FileNotFoundError:
        return
    except UnreadableFile as exc:
        logger.warning("observations of %s left out: %s", trial, exc)
        return
    steps: dict[str, int] = {}
    with file:
        for number, line, whole in read_lines(file, _MAX_LINE):
            o = _observation(line) if whole else None
            if o is None:
                logger.warning("%s line %d: not a whole observation (%r), left out", path,
                               number, line[:80].decode("utf-8", errors="replace"))
                continue
            step = steps.get(o["metric"], 0)
            steps[o["metric"]] = step + 1
            out["experiment"].append(name)
            out["trial"].append(trial)
            out["metric"].append(o["metric"])
            out["step"].append(step)
            out["value"].append(o["value"])
            out["timestamp"].append(o.get("timestamp"))


def _observation(line: bytes) -> dict[str, Any] | None:
    """One line of ``observations.jsonl`` as the engine wrote it, or None."""
    try:
        o = json.loads(line)
    except ValueError:
        return None
    if not isinstance(o, dict) or not isinstance(o.get("metric"), str) or "value" not in o:
        return None
    return o
