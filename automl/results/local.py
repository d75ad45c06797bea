"""Results of a local run, read from its Optuna storage and its trials' folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from automl.errors import AutomlError
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, stored_spec
from automl.results._results import Results
from automl.results.schema import observations_frame, trials_frame
from automl.state.metric import MetricValue

__all__ = ["load_results"]


def load_results(name: str, storage: str | None = None,
                 root: str | Path = DEFAULT_ROOT) -> Results:
    """The results of a local experiment.

    Args:
        name: The experiment.
        storage: The Optuna storage URL or journal file it ran with (default
            ``<root>/studies.journal``).
        root: The folder of the default storage and of the trials' logs.

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
    rows: list[dict[str, Any]] = []
    folders: list[tuple[str, Path]] = []
    for t in study.get_trials(deepcopy=False):
        record = t.user_attrs.get(ATTR)
        if record is None:  # running, or cut off before automl recorded it
            record = {"name": f"{name}-{t.number:04d}",
                      "status": "Running" if t.state == TrialState.RUNNING else "Failed",
                      "params": {k: str(v) for k, v in t.params.items()},
                      "start": t.datetime_start.timestamp() if t.datetime_start else None}
        rows.append(_row(name, record, spec))
        if record.get("log_dir"):
            folders.append((record["name"], Path(record["log_dir"])))

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
    path = folder / "observations.jsonl"
    if not path.exists():
        return
    steps: dict[str, int] = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            o = json.loads(line)
            step = steps.get(o["metric"], 0)
            steps[o["metric"]] = step + 1
            out["experiment"].append(name)
            out["trial"].append(trial)
            out["metric"].append(o["metric"])
            out["step"].append(step)
            out["value"].append(o["value"])
            out["timestamp"].append(o.get("timestamp"))
