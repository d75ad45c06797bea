"""The public surface is small, exact, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import automl
import automl.katib
import automl.spec
from tests.conftest import KATIB, REPO, needs_katib

HEAVY = ("kubeflow", "kubernetes", "kfp", "optuna", "pandas", "tensorboard")


def test_top_level_all_is_exactly_the_public_names() -> None:
    assert sorted(automl.__all__) == ["AutomlError", "ExperimentSpec", "Results", "SpecError",
                                      "__version__", "compare", "from_katib", "load",
                                      "load_results", "report", "run", "to_katib", "to_yaml",
                                      "tune"]
    for name in automl.__all__:
        assert getattr(automl, name) is not None


def test_every_name_in_all_of_subpackages_exists() -> None:
    for module in (automl.spec, automl.katib):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_spec_errors_are_automl_errors_and_value_errors() -> None:
    assert issubclass(automl.SpecError, automl.AutomlError)
    assert issubclass(automl.SpecError, ValueError)


def _heavy_modules_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])


def test_import_automl_imports_no_heavy_library() -> None:
    assert _heavy_modules_after("import automl") == []


def test_help_and_validate_import_no_heavy_library() -> None:
    run_cli = ("from automl.cli import app\n"
               "for argv in (['--help'], ['validate', 'examples/quickstart/experiment.yaml']):\n"
               "    try:\n"
               "        app(argv)\n"
               "    except SystemExit as exc:\n"
               "        assert exc.code == 0, exc.code\n")
    assert _heavy_modules_after(run_cli) == []


@needs_katib
def test_validating_a_katib_file_imports_no_heavy_library() -> None:
    code = f"import automl\nautoml.load({str(KATIB / 'examples/hp-tuning/random.yaml')!r})\n"
    assert _heavy_modules_after(code) == []


def test_a_local_nas_run_and_its_results_never_import_torch(tmp_path) -> None:
    # torch is the `nas` extra, for trial programs; the engine and the tables never need it.
    code = (
        "import automl\n"
        "from pathlib import Path\n"
        "from automl.local import LocalEngine\n"
        "from automl.local.function import FunctionRunner\n"
        "spec = automl.load({'name': 'n', 'objective': {'metric': 'acc', 'type': 'maximize'},\n"
        "    'algorithm': {'name': 'enas'}, 'budget': {'max_trials': 2, 'parallel_trials': 1},\n"
        "    'search_space': 'nas/enas_cnn', 'trial': {'command': ['t',\n"
        "    '--a=${trialParameters.architecture}', '--n=${trialParameters.nn_config}']}})\n"
        f"root = Path({str(tmp_path)!r})\n"
        "LocalEngine(spec, root=root, runner=FunctionRunner(lambda p: {'acc': 0.5}),\n"
        "            progress=False, seed=0).run()\n"
        "assert automl.load_results('n', root=root).trials['architecture'].notna().all()\n"
        "import sys\n"
        "print(['torch'] if 'torch' in sys.modules else [])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_spec_error_keeps_its_message_across_processes() -> None:
    import pickle

    try:
        automl.load({"name": "x"})
    except automl.SpecError as exc:
        error = exc
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.issues == error.issues
