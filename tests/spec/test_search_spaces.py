"""The search-space library: every space loads, passes Katib's rules, compiles, and ships."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import automl
from automl.spec.search_space import available_search_spaces, search_space_file
from tests.conftest import REPO

SPACES = available_search_spaces(REPO)
NAS_ASSIGNMENTS = {"enas": ["architecture", "nn_config"],
                   "darts": ["algorithm-settings", "search-space", "num-layers"]}


def _experiment(name: str) -> dict:
    space = search_space_file(name, REPO)
    nas = name.startswith("nas/")
    algorithm = "darts" if "darts" in name else "enas" if nas else "random"
    import yaml

    params = [p["name"] for p in yaml.safe_load(space.read_text()).get("parameters", [])]
    names = NAS_ASSIGNMENTS[algorithm] if nas else params
    return {"name": "space-check", "objective": {"metric": "loss", "type": "minimize"},
            "algorithm": {"name": algorithm},
            "budget": {"max_trials": 2, "parallel_trials": 1},
            "search_space": str(space),
            "trial": {"image": "python:3.11-slim",
                      "command": ["python", "train.py",
                                  *(f"--{n}=${{trialParameters.{n}}}" for n in names)]}}


def test_the_library_has_the_spaces_users_look_for() -> None:
    assert set(SPACES) >= {
        "sklearn/svm", "sklearn/random_forest", "sklearn/hist_gradient_boosting",
        "sklearn/logistic_regression", "sklearn/mlp", "xgboost/gbtree", "lightgbm/gbdt",
        "pytorch/training", "transformers/fine_tuning", "nas/enas_cnn", "nas/darts_cell",
        "nas/nasbench201"}


@pytest.mark.parametrize("name", SPACES)
def test_every_space_loads_passes_katibs_rules_and_compiles(name: str) -> None:
    text = search_space_file(name, REPO).read_text()
    assert text.startswith("# "), "the header comment says where the ranges come from"
    assert "\ndescription: " in text
    spec = automl.load(_experiment(name))
    experiment = automl.to_katib(spec)
    assert experiment.spec.parameters or experiment.spec.nas_config


def test_the_svm_space_runs_two_trials_with_the_quickstart_program(tmp_path, monkeypatch):
    from automl.local import LocalEngine

    monkeypatch.chdir(REPO)
    spec = automl.load(REPO / "examples/quickstart/experiment.yaml")
    spec = spec.model_copy(update={"budget": spec.budget.model_copy(
        update={"max_trials": 2, "parallel_trials": 2, "max_failed_trials": 2})})
    summary = LocalEngine(spec, root=tmp_path / ".automl", progress=False).run()
    assert summary.counts.get("Succeeded", 0) + summary.counts.get("Killed", 0) == 2
    trials = automl.load_results(spec.name, root=tmp_path / ".automl").trials
    assert trials["objective"].between(0, 1).all()


def test_the_wheel_ships_the_library_and_short_names_resolve_from_it(tmp_path) -> None:
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheel_dir), str(REPO)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheel_dir.glob("automl-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    probe = ("import automl.spec.search_space as s; "
             "print(s.search_space_file('sklearn/svm'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={"PYTHONPATH": str(target)})
    assert out.returncode == 0, out.stderr
    found = Path(out.stdout.strip())
    assert found == target / "automl" / "search_spaces" / "sklearn" / "svm.yaml"


def test_pyproject_lists_every_package() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    present = {".".join(p.relative_to(REPO).parent.parts)
               for p in (REPO / "automl").rglob("__init__.py")}
    assert listed == present | {"automl.search_spaces"}
