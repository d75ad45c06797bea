"""The automl command as a user runs it: exit codes, output, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.conftest import KATIB, REPO, needs_katib

EXAMPLE = REPO / "examples/quickstart/experiment.yaml"


def automl(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_version() -> None:
    result = automl("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "automl 0.1.0"


@pytest.mark.parametrize("command", [[], ["validate"], ["compile"], ["import"], ["run"],
                                     ["status"], ["list"], ["trials"], ["best"], ["compare"],
                                     ["report"], ["tensorboard"], ["dashboard"],
                                     ["delete"], ["budget"], ["logs"], ["get"],
                                     ["pipeline", "compile"], ["pipeline", "run"],
                                     ["pipeline", "submit"]])
def test_every_command_answers_help_with_an_example(command) -> None:
    result = automl(*command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout
    assert "automl" in result.stdout


@needs_katib
def test_validate_accepts_good_files() -> None:
    result = automl("validate", EXAMPLE, KATIB / "examples/hp-tuning/grid.yaml")
    assert result.returncode == 0, result.stderr
    assert "digits-svm: tpe, 3 parameters" in result.stdout
    assert "grid: grid, 2 parameters" in result.stdout


@needs_katib
def test_validate_reports_located_errors_with_status_2_and_no_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("max_trials: 12", "max_trials: 1"))
    result = automl("validate", bad, KATIB / "examples/nas/darts-gpu.yaml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert f"error: {bad}:14: budget.parallel_trials: 2 must be <= budget.max_trials (1)" in lines
    assert f"error: {bad}:15: budget.max_failed_trials: must be <= budget.max_trials (1)" in lines
    assert any("darts-gpu.yaml:59: spec.nasConfig.operations[4].parameters:" in line
               for line in lines)


def test_compile_writes_katib_yaml(tmp_path) -> None:
    out = tmp_path / "katib.yaml"
    result = automl("compile", EXAMPLE, "-o", out)
    assert result.returncode == 0, result.stderr
    experiment = yaml.safe_load(out.read_text())
    assert experiment["kind"] == "Experiment"
    assert experiment["spec"]["algorithm"] == {"algorithmName": "tpe", "algorithmSettings": [
        {"name": "n_EI_candidates", "value": "24"}, {"name": "random_state", "value": "7"}]}
    assert [p["name"] for p in experiment["spec"]["parameters"]] == ["C", "gamma", "kernel"]


def test_compile_refuses_what_a_cluster_cannot_run(tmp_path) -> None:
    local_only = tmp_path / "e.yaml"
    local_only.write_text(EXAMPLE.read_text().replace("  image: python:3.11-slim", "")
                          .replace("search_space: sklearn/svm", f"search_space: {REPO}/"
                                   "search_spaces/sklearn/svm.yaml"))
    assert automl("validate", local_only).returncode == 0
    result = automl("compile", local_only)
    assert result.returncode == 2
    assert "trial.image: required to run on Katib" in result.stderr
    assert "Traceback" not in result.stderr


@needs_katib
def test_import_turns_katib_yaml_into_our_format(tmp_path) -> None:
    out = tmp_path / "exp.yaml"
    result = automl("import", KATIB / "examples/hp-tuning/hyperband.yaml", "-o", out)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["algorithm"] == {"name": "hyperband",
                                 "settings": {"resource_name": "num-epochs", "eta": 2.0,
                                              "r_l": 2.0}}
    assert automl("validate", out).returncode == 0


@needs_katib
def test_import_refuses_an_experiment_katib_refuses() -> None:
    result = automl("import", KATIB / "examples/tekton/pipeline-run.yaml")
    assert result.returncode == 2
    assert "pipeline-run.yaml:38: spec.trialTemplate.trialParameters[0]" in result.stderr
    assert result.stdout == ""


def test_a_missing_file_is_a_bad_input() -> None:
    result = automl("compile", "nope.yaml")
    assert result.returncode == 2
    assert "nope.yaml: (top level): file not found" in result.stderr


def test_the_readme_shows_what_validate_really_prints() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("$ automl validate examples/quickstart/broken.yaml\n")[1].split("```")[0]
    result = automl("validate", "examples/quickstart/broken.yaml")
    assert result.returncode == 2
    assert result.stderr == block


def test_the_readme_tour_shows_the_quickstart_file_as_it_is(monkeypatch) -> None:
    import automl

    readme = (REPO / "README.md").read_text()
    block = readme.split("An experiment file (`examples/quickstart/experiment.yaml`):\n\n```yaml\n"
                         )[1].split("```")[0]
    monkeypatch.chdir(REPO)
    assert automl.load(yaml.safe_load(block)) == automl.load(EXAMPLE)


def _commands_with(option: str) -> list[list[str]]:
    """Every command (as its words) that takes ``option``."""
    import typer.main

    from automl.cli import app

    found = []

    def walk(group, words):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*words, name])
            elif any(option in p.opts for p in command.params):
                found.append([*words, name])
    walk(typer.main.get_command(app), [])
    return found


def test_backend_is_an_option_of_every_command_that_reads_an_experiment() -> None:
    assert sorted(" ".join(c) for c in _commands_with("--backend")) == [
        "best", "delete", "get", "list", "logs", "report", "run", "status", "tensorboard",
        "trials"]


@pytest.mark.parametrize("command", _commands_with("--backend"), ids=" ".join)
def test_an_unknown_backend_is_refused_naming_the_known_ones(tmp_path, command) -> None:
    arguments = {"run": [EXAMPLE], "list": [], "status": []}.get(command[0], ["some-name"])
    result = automl(*command, *arguments, "--backend", "nonsense", cwd=tmp_path)
    assert result.returncode == 2
    assert "'nonsense' is not one of" in result.stderr
    assert "'local', 'katib'" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing read, nothing made


@pytest.mark.parametrize(("argv", "option"), [
    (["trials", "t", "--top", "0"], "--top"), (["best", "t", "--top", "-1"], "--top"),
    (["budget", "t", "--max-trials", str(2**31)], "--max-trials"),
    (["budget", "t", "--parallel-trials", "0"], "--parallel-trials"),
    (["budget", "t", "--max-failed-trials", "-1"], "--max-failed-trials"),
    (["run", str(EXAMPLE), "--seed", "-1"], "--seed"),
    (["run", str(EXAMPLE), "--backend", "katib", "--poll", "-1"], "--poll"),
    (["tensorboard", "t", "--serve", "--port", "70000"], "--port"),
    (["dashboard", "--port", "0"], "--port")], ids=lambda v: " ".join(v) if isinstance(
        v, list) else v)
def test_a_number_out_of_its_range_is_refused_before_anything_runs(tmp_path, argv,
                                                                   option) -> None:
    result = automl(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_budget_beyond_katibs_int32_is_refused_by_validate_katib_and_compile(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(EXAMPLE.read_text().replace("max_trials: 12", "max_trials: 2147483648")
                   .replace("search_space: sklearn/svm", f"search_space: {REPO}/"
                            "search_spaces/sklearn/svm.yaml"))
    assert automl("validate", big).returncode == 0  # the local engine counts past it
    for argv in (["validate", "--katib", big], ["compile", big]):
        result = automl(*argv)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"error: {big}:13: budget.max_trials: 2147483648 is more than Katib can hold (an "
            "int32: at most 2147483647)"]


def test_validate_warns_in_one_located_line_of_a_metric_katib_never_reads(tmp_path) -> None:
    dotted = tmp_path / "dotted.yaml"
    dotted.write_text(EXAMPLE.read_text().replace("additional_metrics: [train_time]",
                                                  "additional_metrics: [train.time]")
                      .replace("search_space: sklearn/svm", f"search_space: {REPO}/"
                               "search_spaces/sklearn/svm.yaml"))
    result = automl("validate", dotted)
    assert result.returncode == 0
    assert result.stdout == f"{dotted}: ok (digits-svm: tpe, 3 parameters)\n"
    assert result.stderr.splitlines() == [
        f"warning: {dotted}:8: objective.additional_metrics[0]: 'train.time' is never "
        "collected: Katib's default filter reads names of ASCII letters, digits, '_', '|' and "
        "'-' only; rename the metric or give trial.metrics_collector.filter"]


def test_the_readme_tour_names_only_experiments_its_commands_create() -> None:
    """From a fresh clone every command of the tour works: the experiments it reads are
    those the examples define, and no file outside the checkout is needed."""
    import re

    readme = (REPO / "README.md").read_text()
    defined = {yaml.safe_load(p.read_text()).get("name")
               for p in (REPO / "examples").rglob("*.yaml")
               if isinstance(yaml.safe_load(p.read_text()), dict)}
    compared = [n for line in re.findall(r"^\$ automl compare (.+?)(?:\s+#.*)?$", readme, re.M)
                for n in line.split() if not n.startswith("-")]
    compared += re.findall(r'"([\w-]+)"', " ".join(re.findall(r"automl\.compare\((.*)\)",
                                                              readme)))
    assert compared and set(compared) <= defined, set(compared) - defined
    consoles = "\n".join(re.findall(r"```console\n(.*?)```", readme, re.S))
    assert "../shared" not in consoles
