"""TensorBoard logs of an experiment: a run per trial with its metric curves, and HParams.

Written with TensorBoard's own record writer and protos, so TensorFlow is not needed. The
layout is the one TensorBoard's HParams dashboard reads::

    logdir/
        events.out.tfevents.*.automl           the experiment: parameters and their domains,
                                               the metrics
        <trial>/events.out.tfevents.*.automl   the trial's curves (tag = metric, by step),
                                               its session (parameter values, status) and
                                               its final metrics (tag = metrics.<name>)

Example:
    >>> results = automl.load_results("digits-svm")
    >>> write_tensorboard(results, Path("tb"))
    PosixPath('tb')
    >>> serve(Path("tb"))  # http://127.0.0.1:6006/ until Ctrl-C
"""

from __future__ import annotations

import io
import math
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from automl._lifetime import ends_with_this_process
from automl._output import check_folder, outputs
from automl.results.lineage import continued_steps
from automl.spec._base import is_number

if TYPE_CHECKING:
    import pandas as pd

    from automl.results._results import Results

__all__ = ["SESSION_STATUS", "SUFFIX", "serve", "write_tensorboard"]

_Value = summary_pb2.Summary.Value

SESSION_STATUS: dict[str, int] = {
    "Succeeded": api_pb2.STATUS_SUCCESS,
    "Failed": api_pb2.STATUS_FAILURE,
    "MetricsUnavailable": api_pb2.STATUS_FAILURE,
    # TensorBoard's Status has no "aborted" (only unknown, success, failure, running):
    # unknown keeps stopped trials apart from finished and failed ones, and shown, as the
    # dashboard lists all four statuses by default.
    "Killed": api_pb2.STATUS_UNKNOWN,
    "EarlyStopped": api_pb2.STATUS_UNKNOWN,
    "Running": api_pb2.STATUS_RUNNING,
}
"""The HParams session status of each Katib trial condition; others (Pending) are unknown."""

SUFFIX = ".automl"
"""Ends the name of every event file written here, so that a rewrite replaces only those."""

_EPOCH_NS = np.datetime64(0, "ns")


def write_tensorboard(results: Results, logdir: Path) -> Path:
    """Write an experiment's results as TensorBoard logs.

    Each trial becomes a run (a folder named after it) holding the curve of every metric it
    reported (tag = the metric, one point per step) and, for the HParams dashboard, its
    parameter values, status and final metric values (tag ``metrics.<name>``, the value
    after Katib's metric strategy, as in the trials table). The experiment's parameters, with
    their domains, and its metrics are written at the top of ``logdir``. NaN values are left
    out. Scalars are stored as 32-bit floats, as TensorBoard's ``simple_value`` is.

    Writing again into the same ``logdir`` replaces the files an earlier call wrote for the
    same trials (those ending in ``.automl``); other event files are kept. A write that fails
    (a full disk) leaves ``logdir`` as it was.

    Args:
        results: The experiment's results.
        logdir: The folder to write to (created if missing).

    Returns:
        ``logdir``, for ``tensorboard --logdir``.

    Raises:
        OutputError: When ``logdir`` is a file or lies under one, or cannot be written.

    Example:
        >>> write_tensorboard(automl.load_results("digits-svm"), Path("tb"))
        PosixPath('tb')
    """
    logdir = Path(logdir)
    trials = results.trials
    hparams = _hparams(results)
    metric_names = [c[len("metrics."):] for c in trials.columns if c.startswith("metrics.")]
    now = time.time()
    start = _seconds(trials["start_time"])
    end = _seconds(trials["completion_time"])
    created = np.nanmin(start) if np.isfinite(start).any() else now
    experiment = api_pb2.Experiment(
        name=results.spec.name, time_created_secs=float(created),
        hparam_infos=[h.info for h in hparams],
        metric_infos=[_metric_info(results, name) for name in metric_names])
    runs = {logdir: [(0, float(created), _plugin_value(
        metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment)))]}

    # a pbt trial's curve goes on from its parent's last step (automl.results.lineage)
    curves = _curves(continued_steps(trials, results.observations))
    names = trials["trial"].astype(str).tolist()
    statuses = trials["status"].astype(object).tolist()
    values = {h.column: trials[h.column].tolist() for h in hparams}
    finals = {m: trials[f"metrics.{m}"].to_numpy(dtype="float64", na_value=np.nan).tolist()
              for m in metric_names}
    for i, trial in enumerate(names):
        # A trial without times still needs wall times; the nearest known one keeps the
        # dashboards' "relative" axis sensible.
        began = _first_finite(start[i], end[i], now)
        ended = _first_finite(end[i], began)
        points = [(0, began, _session_start(trial, began, hparams, values, i))]
        last_step = 0
        for metric, steps, scalars, stamps in curves.get(trial, ()):
            walls = np.where(np.isnan(stamps), ended, stamps)
            points.extend((step, wall, _scalar(metric, value)) for step, wall, value
                          in zip(steps.tolist(), walls.tolist(), scalars.tolist(), strict=True))
            last_step = max(last_step, int(steps[-1]))
        # The final values and the status at the last step, after the curves they sum up.
        points.extend((last_step, ended, _scalar(f"metrics.{m}", finals[m][i]))
                      for m in metric_names if not math.isnan(finals[m][i]))
        points.append((last_step, _first_finite(end[i], now), _session_end(statuses[i], end[i])))
        runs[logdir / _run_name(trial)] = points
    _write_runs(logdir, runs)
    return logdir


def serve(logdir: Path, port: int = 6006, host: str = "127.0.0.1") -> int:
    """Run TensorBoard on ``logdir`` until Ctrl-C; return its exit status.

    TensorBoard's own command runs in a child process (it starts its own data server, which
    then ends with it); the child ends with this process however it ends (SIGTERM, SIGINT,
    kill -9: ``PR_SET_PDEATHSIG``). It listens on the loopback address by default: the logs name
    parameters and metrics, which another machine should not see unless asked for
    (``host="0.0.0.0"``).

    Args:
        logdir: The folder ``write_tensorboard`` wrote.
        port: The port to listen on.
        host: The address to listen on.

    Example:
        >>> serve(Path("tb"), port=6007)
        TensorBoard at http://127.0.0.1:6007/ (Ctrl-C to stop)
    """
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
               "--host", host, "--port", str(port)]
    print(f"TensorBoard at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    # The kernel ends the board with this process, even one killed by SIGTERM or kill -9.
    with subprocess.Popen(command, preexec_fn=ends_with_this_process()) as board:
        try:
            return board.wait()
        except KeyboardInterrupt:
            board.terminate()
            board.wait(timeout=30)
            return 0


@dataclass(frozen=True)
class _HParam:
    """A parameter as the HParams plugin sees it."""

    name: str
    column: str
    numeric: bool
    info: api_pb2.HParamInfo


def _hparams(results: Results) -> list[_HParam]:
    """The hparams: the spec's parameters with their domains, then any other params column."""
    trials = results.trials
    out: list[_HParam] = []
    for p in results.spec.parameters:
        column = f"params.{p.name}"
        if column not in trials.columns:
            continue
        info = api_pb2.HParamInfo(name=p.name, display_name=p.name, description=p.type)
        numbers = p.type in ("double", "int", "discrete")
        if p.type == "discrete" and not all(is_number(v) for v in p.values or []):
            numbers = False  # a discrete list the rules reject; its column holds NaN
        if not numbers:
            info.type = api_pb2.DATA_TYPE_STRING
            info.domain_discrete.extend(str(v) for v in p.values or [])
        elif p.type == "discrete":
            info.type = api_pb2.DATA_TYPE_FLOAT64
            info.domain_discrete.extend(float(v) for v in p.values or [])
        else:
            info.type = api_pb2.DATA_TYPE_FLOAT64
            if p.min is not None and p.max is not None:
                info.domain_interval.min_value = float(p.min)
                info.domain_interval.max_value = float(p.max)
        out.append(_HParam(p.name, column, numbers, info))
    known = {h.column for h in out}
    if "architecture" in trials.columns:
        # A NAS experiment: its architecture in words, not Katib's long JSON assignments.
        info = api_pb2.HParamInfo(name="architecture", display_name="architecture",
                                  type=api_pb2.DATA_TYPE_STRING)
        out.append(_HParam("architecture", "architecture", False, info))
        known |= {c for c in trials.columns if c.startswith("params.")}
    for column in trials.columns:
        # Parameters the spec does not list, typed by their column.
        if not column.startswith("params.") or column in known:
            continue
        name = column[len("params."):]
        numeric = _numeric_dtype(trials[column])
        info = api_pb2.HParamInfo(name=name, display_name=name, type=api_pb2.DATA_TYPE_FLOAT64
                                  if numeric else api_pb2.DATA_TYPE_STRING)
        out.append(_HParam(name, column, numeric, info))
    return out


def _metric_info(results: Results, name: str) -> api_pb2.MetricInfo:
    objective = results.spec.objective
    role = (f"The objective ({objective.type})" if name == objective.metric
            else "An additional metric")
    return api_pb2.MetricInfo(
        name=api_pb2.MetricName(tag=f"metrics.{name}"), display_name=name,
        description=f"{role}: the {objective.strategy(name)} of the reported values, as Katib "
                    "takes it.")


def _curves(observations: pd.DataFrame) -> dict[str, list[tuple[str, Any, Any, Any]]]:
    """Trial → [(metric, steps, values, epoch seconds)], NaN values and steps left out.

    Grouped with numpy on whole columns: a pandas operation per point would dominate the
    time for thousands of trials.
    """
    if observations.empty:
        return {}
    steps = observations["step"].to_numpy(dtype="float64", na_value=np.nan)
    values = observations["value"].to_numpy(dtype="float64", na_value=np.nan)
    stamps = _seconds(observations["timestamp"])
    keep = ~(np.isnan(steps) | np.isnan(values))
    out: dict[str, list[tuple[str, Any, Any, Any]]] = {}
    groups = observations.groupby(["trial", "metric"], sort=False, observed=True).indices
    for (trial, metric), rows in groups.items():
        rows = rows[keep[rows]]
        if not len(rows):
            continue
        rows = rows[np.argsort(steps[rows], kind="stable")]
        out.setdefault(str(trial), []).append((str(metric), steps[rows].astype(np.int64),
                                               values[rows], stamps[rows]))
    return out


def _session_start(trial: str, began: float, hparams: list[_HParam],
                   values: dict[str, list[Any]], i: int) -> _Value:
    info = plugin_data_pb2.SessionStartInfo(group_name=trial, start_time_secs=began)
    for h in hparams:
        value = values[h.column][i]
        if _missing(value):
            continue
        info.hparams[h.name].CopyFrom(_value(float(value) if h.numeric else str(value),
                                             h.numeric))
    return _plugin_value(metadata.SESSION_START_INFO_TAG,
                         plugin_data_pb2.HParamsPluginData(session_start_info=info))


def _session_end(status: Any, end: float) -> _Value:
    info = plugin_data_pb2.SessionEndInfo(
        status=SESSION_STATUS.get(str(status), api_pb2.STATUS_UNKNOWN))
    if math.isfinite(end):
        info.end_time_secs = end
    return _plugin_value(metadata.SESSION_END_INFO_TAG,
                         plugin_data_pb2.HParamsPluginData(session_end_info=info))


def _plugin_value(tag: str, data: plugin_data_pb2.HParamsPluginData) -> _Value:
    """An HParams summary value, shaped as the plugin's own summary_v2 writes it."""
    return _Value(tag=tag, metadata=metadata.create_summary_metadata(data),
                  tensor=metadata.NULL_TENSOR)


def _scalar(tag: str, value: float) -> _Value:
    return _Value(tag=tag, simple_value=value)


def _write_runs(logdir: Path, runs: dict[Path, list[tuple[int, float, _Value]]]) -> None:
    """Write each run's values in a fresh event file, replacing those of an earlier write.

    All files are renamed into place once all are written (automl._output): a write that
    fails (a full disk) leaves the logdir as it was.
    """
    check_folder(logdir)
    # An earlier write of these runs: TensorBoard would show both.
    old = [f for folder in runs for f in folder.glob(f"events.out.tfevents.*{SUFFIX}")]
    written = set()
    with outputs(logdir) as out:
        for number, (folder, points) in enumerate(runs.items()):
            out.folder(folder)
            # TensorBoard's EventFileWriter names its files so; a number keeps them apart.
            name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                    f"{os.getpid()}.{number}{SUFFIX}")
            out.add(folder / name, _events(points))
            written.add(folder / name)
    for file in old:
        if file not in written:  # a rewrite within the same second has the same name
            file.unlink(missing_ok=True)


def _events(points: list[tuple[int, float, _Value]]) -> bytes:
    """One run's event file: its values, each at its (step, wall time)."""
    # One event per (step, wall time), holding every value there, so that readers take each
    # value alike; in step order, as TensorBoard reads a step going back as a restart and
    # warns. The file starts with the version record TensorBoard's writers put first.
    grouped: dict[tuple[int, float], list[_Value]] = {}
    for step, wall, value in points:
        grouped.setdefault((step, wall), []).append(value)
    events = [event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")]
    events += [event_pb2.Event(step=step, wall_time=wall, summary=summary_pb2.Summary(value=v))
               for (step, wall), v in sorted(grouped.items(), key=lambda item: item[0])]
    buffer = io.BytesIO()
    writer = RecordWriter(buffer)
    for event in events:
        writer.write(event.SerializeToString())
    return buffer.getvalue()


def _run_name(trial: str) -> str:
    """The trial's folder: its name, with anything that is not safe in a path replaced."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", trial)
    return name if name.strip(".") else f"_{name}"


def _value(value: float | str, numeric: bool) -> struct_pb2.Value:
    return (struct_pb2.Value(number_value=float(value)) if numeric
            else struct_pb2.Value(string_value=str(value)))


def _seconds(column: pd.Series) -> Any:
    """Epoch seconds of a UTC datetime column, NaN for NaT."""
    import pandas as pd

    stamps = pd.to_datetime(column, utc=True).dt.tz_localize(None)
    nanos = stamps.to_numpy(dtype="datetime64[ns]")
    out = (nanos - _EPOCH_NS).astype("float64") / 1e9
    out[np.isnat(nanos)] = np.nan
    return out


def _first_finite(*values: float) -> float:
    return next((float(v) for v in values if math.isfinite(v)), math.nan)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _numeric_dtype(column: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
