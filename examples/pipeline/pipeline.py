"""Tune an SVM on scikit-learn's digits, then train the final model on the best parameters.

automl's tuning component runs a small experiment (at most 6 random trials, 2 at a time, over
search_spaces/sklearn/svm.yaml, each trial running examples/quickstart/train.py, stopping at
accuracy 0.97). Only if it reached that goal (``dsl.If``), the ``train`` component below fits
an SVC with the best parameters on three train/test splits at once (``dsl.ParallelFor`` over
seeds), each reporting its test accuracy (Metrics) and the pickled model (Artifact). Whatever
happened, ``record_outcome`` runs last (``dsl.ExitHandler``) and prints how the run ended.

Run it here with kfp.local (kfp 2.16 or newer; about 30 s on 2 cores):
    python examples/pipeline/pipeline.py
or
    python -c "from automl.pipelines.local import run_local; \
print(run_local('examples/pipeline/pipeline.py', '/tmp/kfp-root'))"

No ``from __future__ import annotations``: kfp reads the annotations as objects.
"""

from pathlib import Path

from kfp import dsl
from kfp.dsl import Artifact, Metrics, Output

from automl.pipelines.builder import tuning_pipeline

REPO = Path(__file__).resolve().parents[2]

# Paths are absolute so the steps find them from any folder: kfp.local writes each step's code
# to a temporary folder and runs it from the caller's working directory. The program is
# `python` (this environment's, as kfp.local runs steps here), not sys.executable: kfp.local
# rewrites every "python3" in a step's command line, inputs included, which would mangle a path
# such as .../bin/python3.11. On a cluster the command would name a path inside the image.
EXPERIMENT = {
    "name": "digits-svm-pipeline",
    "objective": {"metric": "accuracy", "type": "maximize", "goal": 0.97,
                  "additional_metrics": ["train_time"]},
    # Random search, seeded: with 6 trials TPE would still be in its random start-up phase.
    "algorithm": {"name": "random", "settings": {"random_state": 7}},
    "budget": {"max_trials": 6, "parallel_trials": 2, "max_failed_trials": 3},
    "search_space": str(REPO / "search_spaces" / "sklearn" / "svm.yaml"),
    "trial": {
        "image": "python:3.11-slim",
        "command": ["python", str(REPO / "examples" / "quickstart" / "train.py"),
                    "--C=${trialParameters.C}", "--gamma=${trialParameters.gamma}",
                    "--kernel=${trialParameters.kernel}"],
    },
}


@dsl.component(base_image="python:3.11-slim")
def train(best_params: str, metrics: Output[Metrics], model: Output[Artifact],
          seed: int = 0) -> None:
    """Fit SVC on the digits training split with the tuned parameters; score the test split.

    Args:
        best_params: JSON of {name: value-as-string} from the tuning step.
        metrics: ``test_accuracy``.
        model: The fitted SVC, pickled.
        seed: The split's seed; 0 is the split the trials scored on (train.py's default).
    """
    # Self-contained: kfp ships this function's source alone. On a cluster the image needs
    # scikit-learn (add packages_to_install=["scikit-learn"] there; here it is installed).
    import json
    import pickle

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    params = json.loads(best_params)
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    svc = SVC(C=float(params["C"]), gamma=float(params["gamma"]), kernel=params["kernel"])
    svc.fit(x_train, y_train)
    metrics.log_metric("test_accuracy", float(svc.score(x_test, y_test)))
    with open(model.path, "wb") as file:
        pickle.dump(svc, file)
    model.metadata.update({"framework": "scikit-learn", "class": "SVC", **params})


@dsl.component(base_image="python:3.11-slim")
def record_outcome(status: dsl.PipelineTaskFinalStatus) -> str:
    """Runs last, failed or not: where a team would notify or clean up. Returns the state."""
    print(f"pipeline {status.pipeline_job_resource_name} ended {status.state}"
          + (f": {status.error_message}" if status.error_message else ""))
    return status.state


pipeline = tuning_pipeline(EXPERIMENT, then=train, name="digits-svm-tune-train",
                           require_goal=True, seeds=[0, 1, 2], on_exit=record_outcome,
                           timeout_minutes=10)


if __name__ == "__main__":
    import tempfile
    import time

    from automl.pipelines.local import run_local

    start = time.perf_counter()
    out = run_local(pipeline, Path(tempfile.mkdtemp(prefix="kfp-digits-")), quiet=True)
    print(f"{time.perf_counter() - start:.1f} s; outputs under {out['run_dir']}")
    print("best params:", out["best_params"])
    for task, metrics in sorted(out["metrics"].items()):
        print(f"{task}: {metrics}")
    print("ended:", out["outputs"]["record-outcome"]["Output"])
