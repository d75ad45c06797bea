"""The experiment model: typed, validated with Katib's semantics, free of I/O beyond YAML.

Public names live in the modules of this package and are re-exported here.
"""

from automl.spec.algorithm import AlgorithmSpec, EarlyStoppingSpec
from automl.spec.algorithms import ALGORITHMS, EARLY_STOPPING, Algorithm
from automl.spec.build import build
from automl.spec.dump import spec_to_yaml
from automl.spec.errors import Issue, SpecError
from automl.spec.experiment import Budget, ExperimentSpec
from automl.spec.load import spec_from_data
from automl.spec.nas import GraphConfig, NasConfig, Operation
from automl.spec.objective import Objective
from automl.spec.parameters import Parameter
from automl.spec.rules import check
from automl.spec.search_space import available_search_spaces
from automl.spec.trial import ConfigMapSource, MetricsCollector, TrialParameter, TrialTemplate

__all__ = [
    "ALGORITHMS",
    "EARLY_STOPPING",
    "Algorithm",
    "AlgorithmSpec",
    "Budget",
    "ConfigMapSource",
    "EarlyStoppingSpec",
    "ExperimentSpec",
    "GraphConfig",
    "Issue",
    "MetricsCollector",
    "NasConfig",
    "Objective",
    "Operation",
    "Parameter",
    "SpecError",
    "TrialParameter",
    "TrialTemplate",
    "available_search_spaces",
    "build",
    "check",
    "spec_from_data",
    "spec_to_yaml",
]
