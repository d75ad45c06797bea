"""Katib: the Experiment format (to_katib / from_katib).

The kubeflow-katib package is imported only by the functions that need its models.
"""

from automl.katib.from_katib import from_katib
from automl.katib.to_katib import katib_dict, to_katib, to_yaml

__all__ = ["from_katib", "katib_dict", "to_katib", "to_yaml"]
