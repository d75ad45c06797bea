"""TensorBoard logs of results, read back only with TensorBoard's own readers."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from google.protobuf import json_format
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import (
    api_pb2,
    backend_context,
    get_experiment,
    list_session_groups,
    metadata,
)

import automl
from automl.results import Results
from automl.results.schema import observations_frame, trials_frame
from automl.results.tensorboard import SUFFIX, write_tensorboard
from tests.local.helpers import run, spec

# What the dashboard asks for (TensorBoard 2.20's frontend), so a test sees what a user sees.
DASHBOARD_STATUSES = ["STATUS_FAILURE", "STATUS_RUNNING", "STATUS_SUCCESS", "STATUS_UNKNOWN"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    """A local run of 4 trials reporting loss and accuracy 3 times each, and its logs."""
    root = tmp_path_factory.mktemp("real")
    run(spec(args=["--epochs=3"], budget={"max_trials": 4, "parallel_trials": 2}), root)
    results = automl.load_results("t", root=root / ".automl")
    return results, write_tensorboard(results, root / "tb")


T0 = 1_750_000_000.0
KINDS = [{"name": "lr", "type": "double", "min": 0.001, "max": 0.1},
         {"name": "layers", "type": "int", "min": 1, "max": 4},
         {"name": "batch", "type": "discrete", "list": [16, 32, 64]},
         {"name": "optimizer", "type": "categorical", "list": ["sgd", "adam"]}]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    """Results built from tables: every parameter type and status, timestamps, NaN values."""
    experiment = spec(parameters=KINDS)

    def trial(i: int, status: str, params: dict[str, str], metrics: dict[str, Any],
              end: bool = True) -> dict[str, Any]:
        return {"experiment": "t", "trial": f"t-{i:04d}", "status": status,
                "objective": metrics.get("loss"), "params": params, "metrics": metrics,
                "start": T0 + 10 * i, "end": T0 + 10 * i + 5 if end else None}

    full = {"lr": "0.01", "layers": "2", "batch": "32", "optimizer": "adam"}
    rows = [trial(0, "Succeeded", full, {"loss": 0.25, "accuracy": 0.75}),
            trial(1, "Failed", {**full, "optimizer": "sgd"}, {"accuracy": 0.5}),
            trial(2, "Killed", {**full, "optimizer": None}, {"loss": 0.5, "accuracy": 0.5}),
            trial(3, "EarlyStopped", {**full, "batch": "64"}, {"loss": 0.4, "accuracy": 0.6}),
            trial(4, "MetricsUnavailable", full, {}),
            trial(5, "Running", full, {"loss": 0.3, "accuracy": 0.7}, end=False),
            {"experiment": "t", "trial": "t-0006", "status": "Pending", "params": full}]
    obs: dict[str, list[Any]] = {k: [] for k in ("experiment", "trial", "metric", "step",
                                                  "value", "timestamp")}
    for i in (0, 1, 2, 3, 5):
        for step in range(3):
            for metric, value in (("loss", 1.0 / (step + i + 1)), ("accuracy", 0.1 * step)):
                if i == 1 and step == 1 and metric == "loss":
                    value = math.nan  # a NaN report: left out of the curve
                # Trial 0 stamps its reports; the others fall back on their completion time.
                stamp = T0 + 1 + step if i == 0 else None
                for key, v in zip(obs, ("t", f"t-{i:04d}", metric, step, value, stamp),
                                  strict=True):
                    obs[key].append(v)
    results = Results(experiment, trials_frame(rows, experiment), observations_frame(obs))
    return results, write_tensorboard(results, tmp_path_factory.mktemp("made") / "tb")


def _accumulator(run: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(run))
    accumulator.Reload()
    return accumulator


def _curve(run: Path, tag: str) -> tuple[list[int], list[float], list[float]]:
    """Steps, values and wall times of one scalar tag of a run."""
    events = _accumulator(run).Scalars(tag)
    return [e.step for e in events], [e.value for e in events], [e.wall_time for e in events]


def _hparams(run: Path) -> dict[str, bytes]:
    """The HParams plugin's summaries of a run: tag → plugin content."""
    return _accumulator(run).PluginTagToContent(metadata.PLUGIN_NAME)


def _experiment(logdir: Path) -> api_pb2.Experiment:
    return metadata.parse_experiment_plugin_data(_hparams(logdir)[metadata.EXPERIMENT_TAG])


def _dashboard(logdir: Path) -> tuple[api_pb2.Experiment, dict[str, api_pb2.SessionGroup]]:
    """The experiment and session groups the HParams dashboard gets, by group name."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    tb_context = base_plugin.TBContext(
        logdir=str(logdir), multiplexer=multiplexer,
        data_provider=data_provider.MultiplexerDataProvider(multiplexer, str(logdir)))
    backend = backend_context.Context(tb_context)
    request_context = context.RequestContext()
    experiment = get_experiment.Handler(
        request_context, backend, "", api_pb2.GetExperimentRequest(include_metrics=True)).run()
    request = json_format.ParseDict(
        {"allowedStatuses": DASHBOARD_STATUSES, "startIndex": 0, "sliceSize": 1000,
         "includeMetrics": True,
         "colParams": [{"hparam": h.name} for h in experiment.hparam_infos]
         + [{"metric": {"tag": m.name.tag}} for m in experiment.metric_infos]},
        api_pb2.ListSessionGroupsRequest())
    groups = list_session_groups.Handler(request_context, backend, "", request).run()
    return experiment, {g.name: g for g in groups.session_groups}


def _plain(value: Any) -> float | str:
    """A protobuf Value as Python: a string stays a string, a number a float."""
    return value.string_value if value.WhichOneof("kind") == "string_value" else value.number_value


# --- a real local run ---------------------------------------------------------------------


def test_each_trial_run_holds_the_curve_of_every_metric(real) -> None:
    results, logdir = real
    obs = results.observations
    assert len(obs) == 4 * 2 * 3
    for (trial, metric), points in obs.groupby(["trial", "metric"]):
        steps, values, _ = _curve(logdir / trial, metric)
        assert steps == points["step"].tolist() == [0, 1, 2]
        # simple_value is a 32-bit float.
        assert values == pytest.approx(points["value"].tolist(), rel=1e-6)


def test_final_metric_values_are_scalars_at_the_last_step(real) -> None:
    results, logdir = real
    for row in results.trials.to_dict("records"):
        for metric in ("loss", "accuracy"):
            steps, values, _ = _curve(logdir / row["trial"], f"metrics.{metric}")
            assert steps == [2]
            assert values == pytest.approx([row[f"metrics.{metric}"]], rel=1e-6)


def test_sessions_of_a_real_run_hold_its_parameters_as_numbers(real) -> None:
    results, logdir = real
    experiment = _experiment(logdir)
    assert [(h.name, h.type) for h in experiment.hparam_infos] == [
        ("x", api_pb2.DATA_TYPE_FLOAT64), ("y", api_pb2.DATA_TYPE_FLOAT64)]
    assert [m.name.tag for m in experiment.metric_infos] == ["metrics.loss", "metrics.accuracy"]
    for row in results.trials.to_dict("records"):
        content = _hparams(logdir / row["trial"])
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG])
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        assert start.group_name == row["trial"]
        assert {k: v.WhichOneof("kind") for k, v in start.hparams.items()} == {
            "x": "number_value", "y": "number_value"}
        assert start.hparams["x"].number_value == row["params.x"]
        assert start.hparams["y"].number_value == row["params.y"]
        assert end.status == api_pb2.STATUS_SUCCESS
        assert start.start_time_secs == pytest.approx(row["start_time"].timestamp())
        assert end.end_time_secs == pytest.approx(row["completion_time"].timestamp())


def test_the_hparams_dashboard_shows_each_trial_with_its_final_metrics(real) -> None:
    results, logdir = real
    _, groups = _dashboard(logdir)
    assert sorted(groups) == sorted(results.trials["trial"])
    for row in results.trials.to_dict("records"):
        group = groups[row["trial"]]
        assert group.hparams["x"].number_value == row["params.x"]
        metrics = {m.name.tag: m.value for m in group.metric_values}
        assert metrics == pytest.approx({"metrics.loss": row["metrics.loss"],
                                         "metrics.accuracy": row["metrics.accuracy"]}, rel=1e-6)


# --- results built from tables -------------------------------------------------------------


def test_the_experiment_lists_every_parameter_with_its_domain(made) -> None:
    _, logdir = made
    infos = {h.name: h for h in _experiment(logdir).hparam_infos}
    assert list(infos) == ["lr", "layers", "batch", "optimizer"]
    for name, low, high in (("lr", 0.001, 0.1), ("layers", 1, 4)):
        assert infos[name].type == api_pb2.DATA_TYPE_FLOAT64
        assert infos[name].WhichOneof("domain") == "domain_interval"
        assert (infos[name].domain_interval.min_value,
                infos[name].domain_interval.max_value) == (low, high)
    assert infos["batch"].type == api_pb2.DATA_TYPE_FLOAT64
    assert [_plain(v) for v in infos["batch"].domain_discrete.values] == [16.0, 32.0, 64.0]
    assert infos["optimizer"].type == api_pb2.DATA_TYPE_STRING
    assert [_plain(v) for v in infos["optimizer"].domain_discrete.values] == ["sgd", "adam"]


def test_the_experiment_describes_the_objective_and_the_other_metrics(made) -> None:
    _, logdir = made
    metrics = _experiment(logdir).metric_infos
    assert [(m.name.tag, m.display_name) for m in metrics] == [
        ("metrics.loss", "loss"), ("metrics.accuracy", "accuracy")]
    assert metrics[0].description.startswith("The objective (minimize)")


def test_sessions_hold_typed_parameter_values_and_the_mapped_status(made) -> None:
    results, logdir = made
    expected_status = {"Succeeded": "STATUS_SUCCESS", "Failed": "STATUS_FAILURE",
                       "Killed": "STATUS_UNKNOWN", "EarlyStopped": "STATUS_UNKNOWN",
                       "MetricsUnavailable": "STATUS_FAILURE", "Running": "STATUS_RUNNING",
                       "Pending": "STATUS_UNKNOWN"}
    for row in results.trials.to_dict("records"):
        content = _hparams(logdir / row["trial"])
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG])
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        values = {k: _plain(v) for k, v in start.hparams.items()}
        wanted = {name: row[f"params.{name}"] for name in ("lr", "layers", "batch", "optimizer")
                  if not _na(row[f"params.{name}"])}
        assert values == wanted
        assert isinstance(values["layers"], float) and isinstance(values["batch"], float)
        assert api_pb2.Status.Name(end.status) == expected_status[row["status"]]
    killed = metadata.parse_session_start_info_plugin_data(
        _hparams(logdir / "t-0002")[metadata.SESSION_START_INFO_TAG])
    assert "optimizer" not in killed.hparams  # a missing value is left out, not "nan"


def test_nan_reports_and_metrics_are_left_out(made) -> None:
    _, logdir = made
    steps, values, _ = _curve(logdir / "t-0001", "loss")
    assert steps == [0, 2]
    assert not any(math.isnan(v) for v in values)
    tags = _accumulator(logdir / "t-0001").Tags()["scalars"]
    assert "metrics.loss" not in tags and "metrics.accuracy" in tags
    assert _accumulator(logdir / "t-0004").Tags()["scalars"] == []


def test_curves_are_stamped_by_their_reports_else_by_the_completion_time(made) -> None:
    _, logdir = made
    assert _curve(logdir / "t-0000", "loss")[2] == pytest.approx([T0 + 1, T0 + 2, T0 + 3])
    assert _curve(logdir / "t-0003", "loss")[2] == pytest.approx([T0 + 35] * 3)
    assert _curve(logdir / "t-0005", "loss")[2] == pytest.approx([T0 + 50] * 3)  # its start


def test_the_dashboard_lists_every_trial_whatever_its_status(made) -> None:
    results, logdir = made
    _, groups = _dashboard(logdir)
    assert sorted(groups) == sorted(results.trials["trial"])
    assert {m.name.tag: m.value for m in groups["t-0003"].metric_values} == pytest.approx(
        {"metrics.loss": 0.4, "metrics.accuracy": 0.6})
    assert groups["t-0000"].hparams["optimizer"].string_value == "adam"


# --- rewriting, serving --------------------------------------------------------------------


def test_writing_again_replaces_only_the_files_it_wrote(made, tmp_path) -> None:
    results, _ = made
    logdir = write_tensorboard(results, tmp_path / "tb")
    foreign = logdir / "t-0000" / "events.out.tfevents.1.host.trial"
    foreign.write_bytes(b"")
    write_tensorboard(results, logdir)
    assert len(list((logdir / "t-0000").glob(f"*{SUFFIX}"))) == 1
    assert len(list(logdir.glob(f"*{SUFFIX}"))) == 1
    assert foreign.exists()
    assert _curve(logdir / "t-0000", "loss")[0] == [0, 1, 2]


def test_serve_runs_tensorboard_on_loopback_until_ctrl_c(made) -> None:
    _, logdir = made
    with socket.socket() as probe:  # a free port on the loopback address
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from pathlib import Path; from automl.results.tensorboard import serve; " \
           f"serve(Path({str(logdir)!r}), port={port})"
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert server.stdout.readline().strip() == (
            f"TensorBoard at http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        deadline, page = time.time() + 60, b""
        while time.time() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugins_listing",
                                            timeout=5) as response:
                    page = response.read()
            except OSError:
                time.sleep(0.3)
        assert b'"hparams"' in page and b'"scalars"' in page
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        server.wait(timeout=30)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # stopped


def _na(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
