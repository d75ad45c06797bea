"""kubectl habits in the automl command: one meaning per short flag, ``-o`` never a format,
``logs TRIAL`` and ``get``."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from automl._cli_shared import experiment_of
from automl.cli import app
from automl.errors import AutomlError
from tests.faults.helpers import automl_each, finished_experiment


def _options() -> list[tuple[str, str, list[str]]]:
    """(command words, the option's long name, its short names) for every option."""
    found = []

    def walk(group, words):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*words, name])
                continue
            for param in command.params:
                if param.param_type_name == "option":
                    names = param.opts + param.secondary_opts
                    found.append((" ".join([*words, name]),
                                  next((n for n in names if n.startswith("--")), names[0]),
                                  [n for n in names if not n.startswith("--")]))
    walk(typer.main.get_command(app), [])
    return found


def test_each_short_flag_has_one_meaning_in_every_command() -> None:
    meanings: dict[str, set[str]] = {}
    for _, long, shorts in _options():
        for short in shorts:
            meanings.setdefault(short, set()).add(long)
    assert meanings == {"-o": {"--output"}, "-f": {"--follow"}, "-q": {"--quiet"},
                        "-y": {"--yes"}, "-w": {"--watch"}}


_WITH_O = sorted({words for words, _, shorts in _options() if "-o" in shorts})


def test_every_command_writing_a_file_takes_o() -> None:
    assert _WITH_O == ["compare", "compile", "import", "pipeline compile", "pipeline image",
                       "report", "trials"]


_FORMATS = ["json", "yaml", "wide", "name", "go-template", "go-template-file", "template",
            "templatefile", "jsonpath", "jsonpath-file", "jsonpath-as-json", "custom-columns",
            "custom-columns-file", "table", "csv", "parquet", "markdown", "text"]
_WITH_ARGUMENT = ["jsonpath={.items}", "jsonpath={.items[*].metadata.name}", "jsonpath-file=f.txt",
                  "jsonpath-as-json={.a}", "custom-columns=A:.a", "custom-columns-file=c.txt",
                  "go-template={{.name}}", "go-template-file=t.tmpl", "template={{.x}}",
                  "templatefile=t.tmpl", "=json", "=x.csv"]
# (argv words, the value click gives -o): -o=json and -ojson are kubectl's spellings too
_SPELLINGS = [(["-o", v], v) for v in [*_FORMATS, *_WITH_ARGUMENT]] + [
    (["-o=json"], "=json"), (["-o=wide"], "=wide"), (["-ojson"], "json"),
    (["--output=yaml"], "yaml"), (["--output=jsonpath={.a}"], "jsonpath={.a}")]


def test_o_with_any_spelling_of_an_output_format_is_refused_in_one_line_and_writes_nothing(
        tmp_path) -> None:
    commands = [[*words.split(), *spelling, "x"] for words in _WITH_O for spelling, _ in _SPELLINGS]
    values = [value for _ in _WITH_O for _, value in _SPELLINGS]
    for argv, value, (code, out, err) in zip(commands, values, automl_each(tmp_path, commands),
                                             strict=True):
        assert (code, out) == (2, ""), argv
        assert err == (f"error: -o {value}: -o names the file to write here, not kubectl's "
                       "output format (trials, best and compare take --format; tables "
                       "--wide)\n"), argv
    assert list(tmp_path.iterdir()) == []


def test_o_with_a_file_name_that_looks_like_a_format_is_still_a_file(tmp_path) -> None:
    example = Path(__file__).parent.parent / "examples/quickstart/experiment.yaml"
    names = ("json.yaml", "out/json", "jsonpath.yaml", "my=json.yaml")
    commands = [["compile", str(example), "-o", name] for name in names]
    (tmp_path / "out").mkdir()
    assert [c for c, _, _ in automl_each(tmp_path, commands)] == [0] * len(names)
    for name in names:
        assert (tmp_path / name).read_text().startswith("apiVersion: kubeflow.org/v1beta1")


@pytest.mark.parametrize(("trial", "backend", "experiment"), [
    ("digits-svm-0003", "local", "digits-svm"), ("run-0001-0012", "local", "run-0001"),
    ("t-10000", "local", "t"), ("digits-svm-x7k2m9qp", "katib", "digits-svm")])
def test_a_trial_name_says_its_experiment(trial, backend, experiment) -> None:
    assert experiment_of(trial, backend) == experiment


@pytest.mark.parametrize(("name", "backend"), [
    ("digits-svm", "local"), ("t-12", "local"), ("0003", "local"), ("-0003", "local"),
    ("digits-svm-0003", "katib"), ("digits-svm-x7k2m9qp", "local")])
def test_a_name_that_is_no_trial_name_is_refused(name, backend) -> None:
    with pytest.raises(AutomlError, match=f"^{name!r} is not a trial name"):
        experiment_of(name, backend)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return finished_experiment(tmp_path_factory.mktemp("habits"), max_trials=2,
                               parallel_trials=2)


def test_logs_of_a_trial_alone_finds_its_experiment(finished) -> None:
    alone, both, experiment = automl_each(finished, [["logs", "t-0001"],
                                                     ["logs", "t", "t-0001"], ["logs", "t"]])
    assert alone == both
    assert alone[0] == 0 and "loss=" in alone[1]
    assert experiment == (2, "", "error: 't' is not a trial name (<experiment>-NNNN); give "
                                 "the experiment and the trial: automl logs t TRIAL (automl "
                                 "status t --all lists them)\n")


def test_get_experiments_and_trials_show_what_list_status_and_trials_show(finished) -> None:
    shown = automl_each(finished, [["get", "experiments"], ["list"],
                                   ["get", "experiment", "t"], ["status", "t"],
                                   ["get", "trials", "t"], ["trials", "t"]])
    assert all(code == 0 for code, _, _ in shown), shown
    assert shown[0] == shown[1] and shown[2] == shown[3] and shown[4] == shown[5]
    assert "t-0001" in shown[4][1]


@pytest.mark.parametrize("argv", [["get", "pods"], ["get", "trials"]])
def test_get_of_anything_else_says_what_it_takes_in_one_line(finished, argv) -> None:
    [(code, out, err)] = automl_each(finished, [argv])
    assert (code, out) == (2, "")
    assert err == (f"error: automl {' '.join(argv)}: expected 'get experiments [NAME]' or "
                   "'get trials EXPERIMENT' (or automl list, status NAME, trials NAME)\n")


def test_get_trial_by_its_name_shows_that_trials_row_alone(finished) -> None:
    one, plural, whole, table = automl_each(finished, [
        ["get", "trial", "t-0001"], ["get", "trials", "t-0001"], ["get", "trial", "t"],
        ["trials", "t"]])
    assert one == plural and whole == table
    header, *rows = table[1].splitlines()
    assert (one[0], one[2]) == (0, "")
    assert one[1].splitlines() == [header, next(r for r in rows if r.startswith("t-0001 "))]


def test_logs_tail_minus_one_prints_every_line_as_kubectl(finished) -> None:
    every, all_lines, below = automl_each(finished, [
        ["logs", "t-0001"], ["logs", "t-0001", "--tail=-1"],
        ["logs", "t-0001", "--tail", "-2"]])
    assert every[0] == 0 and all_lines == every
    assert below[0] == 2 and "greater than or equal to -1" in below[2]
