"""The values Katib's mutating webhook fills in (FACTS.md, section a), in one place."""

from __future__ import annotations

__all__ = [
    "DEFAULT_PRIMARY_CONTAINER",
    "FILE_METRICS_PATH",
    "PARALLEL_TRIALS",
    "TFEVENT_DIRECTORY",
    "TRIAL_KINDS",
    "TrialKind",
    "trial_kind",
]

PARALLEL_TRIALS = 3
FILE_METRICS_PATH = "/var/log/katib/metrics.log"
TFEVENT_DIRECTORY = "/var/log/katib/tfevent/"
DEFAULT_PRIMARY_CONTAINER = "training-container"


class TrialKind:
    """A trial resource kind Katib knows, with the conditions and labels it defaults."""

    def __init__(
        self,
        api_version: str,
        kind: str,
        success: str,
        failure: str,
        primary_pod_labels: dict[str, str] | None = None,
    ) -> None:
        self.api_version = api_version
        self.kind = kind
        self.success_condition = success
        self.failure_condition = failure
        self.primary_pod_labels = primary_pod_labels


def _conditions(ok: str) -> tuple[str, str]:
    return (
        f'status.conditions.#(type=="{ok}")#|#(status=="True")#',
        'status.conditions.#(type=="Failed")#|#(status=="True")#',
    )


_MASTER = {"training.kubeflow.org/job-role": "master"}

# Katib's default trialResources (katib-config), keyed by kind: the webhook chooses the
# defaults by kind alone (experiment_defaults.go, setDefaultTrialTemplate), so an MPIJob of
# kubeflow.org/v2beta1 gets the same ones as an MPIJob of kubeflow.org/v1.
TRIAL_KINDS: dict[str, TrialKind] = {
    k.kind: k
    for k in (
        TrialKind("batch/v1", "Job", *_conditions("Complete")),
        TrialKind("kubeflow.org/v1", "TFJob", *_conditions("Succeeded"), _MASTER),
        TrialKind("kubeflow.org/v1", "PyTorchJob", *_conditions("Succeeded"), _MASTER),
        TrialKind("kubeflow.org/v1", "XGBoostJob", *_conditions("Succeeded"), _MASTER),
        TrialKind("kubeflow.org/v1", "MPIJob", *_conditions("Succeeded"), _MASTER),
        TrialKind(
            "trainer.kubeflow.org/v1alpha1",
            "TrainJob",
            *_conditions("Complete"),
            {
                "jobset.sigs.k8s.io/replicatedjob-name": "node",
                "batch.kubernetes.io/job-completion-index": "0",
            },
        ),
    )
}


def trial_kind(kind: object) -> TrialKind | None:
    """The known trial kind named ``kind`` (of any apiVersion), or None for any other."""
    return TRIAL_KINDS.get(str(kind))
