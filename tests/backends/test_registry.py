"""Every caller reaches a backend through the registry: a new target is one class away."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import automl
from automl.backends import BACKENDS, Backend, KatibBackend, LocalBackend, get_backend
from automl.cli import app
from automl.errors import AutomlError
from automl.pipelines.step import TuningTimeout, run_tuning
from tests.local.helpers import spec


class Recording(LocalBackend):
    """A second target that runs locally and notes each call: stands in for a new cluster."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    def run(self, spec, *, progress=True, resume=False, timeout=None):
        self.calls.append(("run", spec.name))
        return super().run(spec, progress=False, timeout=timeout)

    def results(self, name):
        self.calls.append(("results", name))
        return super().results(name)

    def print_status(self, name, *, every=False, wide=False):
        self.calls.append(("print_status", name))
        super().print_status(name, every=every, wide=wide)

    def delete(self, name):
        self.calls.append(("delete", name))
        super().delete(name)


@pytest.fixture
def recording(monkeypatch, tmp_path):
    """The ``katib`` name bound to a Recording backend whose root is a temporary folder."""
    Recording.calls = []
    root = tmp_path / ".automl"
    monkeypatch.setitem(BACKENDS, "katib",
                        type("Target", (Recording,), {"options": frozenset({"runner"}),
                                                      "__init__": _rooted(root)}))
    return Recording.calls


def _rooted(root):
    def __init__(self, **options):
        LocalBackend.__init__(self, root=root, **options)
    return __init__


def test_every_registered_backend_implements_the_interface() -> None:
    assert {"local": LocalBackend, "katib": KatibBackend} == BACKENDS
    for cls in BACKENDS.values():
        assert issubclass(cls, Backend)
        assert not cls.__abstractmethods__
        assert cls.options, cls


@pytest.mark.parametrize("call", [
    lambda: automl.run(spec(), backend="slurm"),
    lambda: automl.tune("t", lambda p: 1.0, {"x": {"type": "double", "min": 0, "max": 1}},
                        backend="slurm"),
    lambda: run_tuning("{}", trials_path="t.csv", tensorboard_dir="tb",
                       summary_path="s.md", backend="slurm"),
])
def test_an_unknown_backend_is_refused_naming_the_registered_ones(call) -> None:
    with pytest.raises(AutomlError, match="unknown backend 'slurm'; expected one of: "
                                          "local, katib"):
        call()


def test_each_backend_gets_only_its_own_options(tmp_path) -> None:
    local = get_backend("local", storage=str(tmp_path / "j"), namespace="ns", seed=None)
    assert isinstance(local, LocalBackend)
    assert (local.storage, local.seed) == (str(tmp_path / "j"), None)
    katib = get_backend("katib", storage="ignored", namespace="ns", db_manager="db:6789")
    assert (katib.namespace, katib.context, katib.db_manager) == ("ns", None, "db:6789")


def test_run_tune_and_the_pipeline_step_go_through_the_registered_backend(
        recording, tmp_path) -> None:
    summary = automl.run(spec(name="a"), backend="katib")
    assert summary.counts == {"Succeeded": 4}
    automl.tune("b", lambda p: float(p["x"]), {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=2,
                backend="katib", progress=False)
    result = run_tuning(json.dumps(spec(name="c").model_dump(mode="json", by_alias=True)),
                        trials_path=tmp_path / "t.csv", tensorboard_dir=tmp_path / "tb",
                        summary_path=tmp_path / "s.md", backend="katib")
    assert result.trials == 4
    assert recording == [("run", "a"), ("run", "b"), ("run", "c"), ("results", "c")]


def test_cli_status_trials_best_and_delete_go_through_the_registered_backend(
        recording) -> None:
    automl.run(spec(name="a"), backend="katib")
    cli = CliRunner()
    for argv in (["status", "a"], ["trials", "a", "--format", "csv"], ["best", "a"],
                 ["delete", "a", "--yes"]):
        result = cli.invoke(app, [*argv, "--backend", "katib"])
        assert result.exit_code == 0, (argv, result.output)
    assert [c for c, _ in recording] == ["run", "print_status", "results", "results",
                                         "delete"]


def test_a_local_timeout_keeps_the_finished_trials_and_says_they_were_stopped(
        tmp_path) -> None:
    slow = spec(name="slow", args=["--sleep=5"],
                budget={"max_trials": 4, "parallel_trials": 1})
    with pytest.raises(TimeoutError, match=r"did not finish within .* running trials killed"):
        LocalBackend(root=tmp_path).run(slow, progress=False, timeout=1.0)
    assert LocalBackend(root=tmp_path).results("slow").trials["status"].tolist() == ["Killed"]
    with pytest.raises(TuningTimeout, match=r"within 1 s; .* \(2 trials recorded\)"):
        run_tuning(json.dumps(slow.model_dump(mode="json", by_alias=True)),
                   trials_path=tmp_path / "t.csv", tensorboard_dir=tmp_path / "tb",
                   summary_path=tmp_path / "s.md", timeout_minutes=1 / 60, root=tmp_path)
