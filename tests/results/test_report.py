"""The HTML report (rendered by headless Chromium), the Optuna study it plots, the dashboard."""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from automl.errors import AutomlError
from automl.results import Results, load_results
from automl.results.dashboard import serve_dashboard
from automl.results.report import PLOTS, write_report
from automl.results.schema import observations_frame, trials_frame
from automl.results.study import to_study
from automl.spec import ExperimentSpec
from tests.local.helpers import records, run, spec

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
                  "--v=0", "--virtual-time-budget=5000", "--window-size=1280,2400",
                  "--hide-scrollbars"]
BLANK_PNG_BYTES = 14_000  # a blank 1280x2400 page's screenshot, for scale


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one finished 4-trial local experiment named ``t``."""
    folder = tmp_path_factory.mktemp("experiment")
    run(spec(), folder)
    return folder


@pytest.fixture(scope="module")
def results(root: Path) -> Results:
    return load_results("t", root=root / ".automl")


@pytest.fixture(scope="module")
def curved(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """A finished 4-trial experiment whose trials report 3 epochs (learning curves)."""
    folder = tmp_path_factory.mktemp("curved")
    run(spec(args=["--epochs=3"], objective={
        "metric": "loss", "type": "minimize", "additional_metrics": ["accuracy"],
        "metric_strategies": {"accuracy": "max"}}), folder)  # a direction: a Pareto front
    return load_results("t", root=folder / ".automl")


@pytest.fixture(scope="module")
def report(curved: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(curved, tmp_path_factory.mktemp("report") / "t.html")


def test_to_study_carries_params_values_and_direction(results: Results, root: Path) -> None:
    study = to_study(results)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert study.study_name == "t"
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    for trial, record, row in zip(study.trials, records(root), results.trials.itertuples(),
                                  strict=True):
        assert trial.user_attrs["trial"] == record["name"] == row.trial
        assert trial.value == pytest.approx(record["objective"])
        assert trial.params == {"x": pytest.approx(float(record["params"]["x"])),
                                "y": int(record["params"]["y"])}
        assert trial.distributions == {"x": FloatDistribution(0.0, 1.0),
                                       "y": IntDistribution(0, 4)}
        assert trial.intermediate_values == {0: pytest.approx(record["objective"])}


def _synthetic() -> Results:
    """Five trials, one per way a trial ends, over log, discrete and categorical parameters."""
    experiment = ExperimentSpec.model_validate({
        "name": "s", "objective": {"metric": "acc", "type": "maximize"},
        "parameters": [
            {"name": "lr", "type": "double", "min": 1e-4, "max": 1.0,
             "distribution": "logUniform"},
            {"name": "n", "type": "discrete", "list": [8, 16, 32]},
            {"name": "opt", "type": "categorical", "list": ["sgd", "adam"]}],
        "trial": {"command": ["true"]}})
    params = {"lr": "0.01", "n": "16", "opt": "adam"}
    rows = [{"experiment": "s", "trial": f"s-{i}", "status": status, "objective": objective,
             "params": params, "metrics": {"acc": objective}}
            for i, (status, objective) in enumerate([
                ("Succeeded", 0.9), ("Failed", None), ("EarlyStopped", 0.5),
                ("Succeeded", None), ("Running", None)])]
    rows[1]["params"] = {}  # failed before it was assigned
    observations = observations_frame({"experiment": ["s", "s"], "trial": ["s-0", "s-0"],
                                       "metric": ["acc", "acc"], "step": [0, 1],
                                       "value": [0.8, 0.9], "timestamp": [None, None]})
    return Results(experiment, trials_frame(rows, experiment), observations)


def test_to_study_states_and_distributions() -> None:
    study = to_study(_synthetic())
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.FAIL,
                      TrialState.RUNNING]
    assert [t.value for t in study.trials] == [0.9, None, 0.5, None, None]
    first = study.trials[0]
    assert first.params == {"lr": 0.01, "n": 16, "opt": "adam"}
    assert type(first.params["n"]) is int  # the list's choice, not the table's 16.0
    assert first.distributions == {"lr": FloatDistribution(1e-4, 1.0, log=True),
                                   "n": CategoricalDistribution([8, 16, 32]),
                                   "opt": CategoricalDistribution(["sgd", "adam"])}
    assert first.intermediate_values == {0: 0.8, 1: 0.9}
    assert study.trials[1].params == {}
    assert study.trials[3].user_attrs == {"trial": "s-3", "status": "Succeeded"}


def test_a_succeeded_trial_with_a_non_finite_objective_ranks_nowhere(tmp_path: Path) -> None:
    """A cluster's Trial can be Succeeded with inf or nan: not the best, not a plotted point."""
    base = _synthetic()
    rows = [{"experiment": "s", "trial": f"s-{i}", "status": "Succeeded", "objective": value,
             "params": {"lr": "0.01", "n": "16", "opt": "adam"}, "metrics": {"acc": value}}
            for i, value in enumerate(["inf", 0.5, "nan", 0.9, 0.9])]
    results = Results(base.spec, trials_frame(rows, base.spec), base.observations.head(0))
    assert results.best(5)["trial"].tolist() == ["s-3", "s-4", "s-1"]  # ties: first first
    assert results.trials.automl.best()["trial"].tolist() == ["s-3"]
    study = to_study(results)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE,
                                               TrialState.FAIL, TrialState.COMPLETE,
                                               TrialState.COMPLETE]
    assert study.best_trial.user_attrs["trial"] == "s-3"
    body = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<strong class="best-trial">s-3</strong>' in body


def test_report_content(report: Path, curved: Results) -> None:
    from plotly.offline import get_plotlyjs

    text = report.read_text(encoding="utf-8")
    body = text[text.index("<body>"):]
    tbody = re.search(r'<table class="trials">.*?<tbody>(.*?)</tbody>', body, re.S)
    assert tbody is not None
    assert tbody.group(1).count("<tr") == len(curved.trials) == 4
    for name in curved.trials["trial"]:
        assert f"<td>{name}</td>" in tbody.group(1)
    best = curved.best().iloc[0]
    assert f'<strong class="best-trial">{best["trial"]}</strong>' in body
    assert re.search(rf'<tr class="best"><td>t</td><td>{best["trial"]}</td>', body)
    assert "Succeeded: 4" in body
    for div_id, title in PLOTS.items():
        assert f"<h2>{title}</h2>" in body
        assert f'<div id="{div_id}" class="plotly-graph-div"' in body
    assert text.count(get_plotlyjs()) == 1  # inline, once
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)  # nothing fetched
    assert 'class="main-svg"' not in text  # so the browser test below sees a real rendering


def test_report_degrades_without_enough_trials(tmp_path: Path) -> None:
    text = write_report(_synthetic(), tmp_path / "s.html").read_text(encoding="utf-8")
    assert '<div id="history" class="plotly-graph-div"' in text
    assert '<div id="importance"' not in text
    assert "Parameter importance needs two completed trials" in text
    assert '<div id="curves" class="plotly-graph-div"' in text  # s-0 reported twice
    failed = _synthetic()
    failed.trials = failed.trials.iloc[[1]]
    failed._observations = failed.observations.head(0)
    text = write_report(failed, tmp_path / "f.html").read_text(encoding="utf-8")
    assert "plotly-graph-div" not in text
    assert text.count("No trial has an objective value yet.") == 3
    assert "No trial reported acc as a number yet." in text
    assert "none yet" in text


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("/usr/bin/chromium")
    if chromium is None:
        pytest.fail("Chromium is needed to check that the report renders: "
                    "apt-get install -y chromium chromium-driver")
    screenshot = tmp_path / "report.png"
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={screenshot}", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # Chromium logs every console message, whatever its level, as INFO:CONSOLE.
    console = [line for line in done.stderr.splitlines()
               if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = done.stdout
    starts = sorted((dom.index(f'id="{div_id}"'), div_id) for div_id in PLOTS)
    ends = [s for s, _ in starts[1:]] + [dom.index("</body>")]
    for (start, div_id), end in zip(starts, ends, strict=True):
        rendered = dom[start:end]
        assert 'class="main-svg"' in rendered, f"{div_id} was not drawn"
        assert re.search(r'class="trace (scatter|bars)', rendered), f"{div_id} has no trace"
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 2400)
    assert len(png) > 5 * BLANK_PNG_BYTES
    # Many distinct byte values once inflated: text and plots, not a blank or one-colour page.
    assert len(set(_pixels(png))) > 64


def _pixels(png: bytes) -> bytes:
    """The inflated image data of a PNG (filter bytes included; enough to gauge variety)."""
    data, at = b"", 8
    while at < len(png):
        (length,), kind = struct.unpack(">I", png[at:at + 4]), png[at + 4:at + 8]
        if kind == b"IDAT":
            data += png[at + 8:at + 8 + length]
        at += 12 + length
    return zlib.decompress(data)


def test_dashboard_refuses_a_folder_without_runs(tmp_path: Path) -> None:
    with pytest.raises(AutomlError, match="no local runs"):
        serve_dashboard(None, tmp_path / ".automl")
    assert not (tmp_path / ".automl").exists()


def test_dashboard_serves_the_local_storage(root: Path) -> None:
    # run_server gives no handle to stop it, so the server runs in a child process that this
    # test ends; the child also exits when its stdin closes, should pytest itself die.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = ("import os, sys, threading; from pathlib import Path\n"
            "threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True)"
            ".start()\n"
            "from automl.results.dashboard import serve_dashboard\n"
            f"serve_dashboard(None, Path({str(root / '.automl')!r}), port={port})\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith(f"optuna-dashboard: http://127.0.0.1:{port}/")
        studies = _get(f"http://127.0.0.1:{port}/api/studies", child)
        assert '"study_name": "t"' in studies or '"study_name":"t"' in studies
        assert "<html" in _get(f"http://127.0.0.1:{port}/", child).lower()
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _get(url: str, child: subprocess.Popen[str]) -> str:
    """The body at ``url``, retried while the server starts."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode("utf-8")
        except OSError:
            if child.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_summary_says_status_goal_and_duration(report: Path, curved: Results) -> None:
    body = report.read_text(encoding="utf-8")
    assert ('<dt>Status</dt><dd><strong class="status">Succeeded</strong> '
            "(ExperimentMaxTrialsReached: 4 trials completed)</dd>") in body
    assert "<dt>Goal</dt><dd>none (runs until max_trials)</dd>" in body
    trials = curved.trials
    seconds = round((trials["completion_time"].max() - trials["start_time"].min())
                    .total_seconds())
    assert f"<dt>Duration</dt><dd>{seconds} s</dd>" in body  # a run of under a minute


def test_a_reached_goal_and_an_unfinished_run_are_the_status(tmp_path: Path) -> None:
    import dataclasses

    running = write_report(_synthetic(), tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<strong class="status">Running</strong> (1 trial not finished)' in running
    reached = _synthetic()
    reached = dataclasses.replace(reached, spec=reached.spec.model_copy(update={
        "objective": reached.spec.objective.model_copy(update={"goal": 0.8})}))
    text = write_report(reached, tmp_path / "g.html").read_text(encoding="utf-8")
    assert ('<strong class="status">Succeeded</strong> (ExperimentGoalReached: acc=0.9)'
            in text)
    assert "<dt>Goal</dt><dd>acc &gt;= 0.8</dd>" in text


def test_no_pareto_section_when_nothing_gives_the_metric_a_direction(
        curved: Results, tmp_path: Path) -> None:
    import dataclasses

    objective = curved.spec.objective.model_copy(update={"metric_strategies": {}})
    undirected = dataclasses.replace(curved, spec=curved.spec.model_copy(
        update={"objective": objective}))
    text = write_report(undirected, tmp_path / "u.html").read_text(encoding="utf-8")
    assert "Pareto" not in text and 'id="section-pareto"' not in text
    assert '<div id="history" class="plotly-graph-div"' in text  # the other plots stay


def test_clicking_a_trials_header_sorts_the_table_and_again_the_other_way(
        report: Path, tmp_path: Path) -> None:
    """Headless Chromium runs the report's own script; the test only clicks, then reads."""
    text = report.read_text(encoding="utf-8")
    header = ('Array.from(document.querySelectorAll("#trials th"))'
              '.find(h => h.textContent === "{}")')
    trials = ('Array.from(document.querySelectorAll("#trials tbody tr"))'
              ".map(r => r.cells[1].textContent)")
    # Rows start out best first (sorted by objective), not in trial order; then trial, twice.
    clicks = (f"<script>{header.format('objective')}.click(); {header.format('trial')}.click();"
              f"document.body.dataset.first = {trials}.join(' ');"
              f"{header.format('trial')}.click();"
              f"document.body.dataset.second = {trials}.join(' ');</script>")
    clicked = tmp_path / "clicked.html"
    clicked.write_text(text.replace("</body>", clicks + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [shutil.which("chromium") or "chromium", *CHROMIUM_FLAGS,
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", clicked.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    orders = re.search(r'<body data-first="([^"]*)" data-second="([^"]*)"', done.stdout)
    assert orders is not None
    assert orders.group(1).split() == ["t-0000", "t-0001", "t-0002", "t-0003"]
    assert orders.group(2).split() == ["t-0003", "t-0002", "t-0001", "t-0000"]
    table = done.stdout[done.stdout.index('<section id="trials">'):]
    assert re.search(r'<th[^>]*aria-sort="descending"[^>]*>trial</th>', table)
