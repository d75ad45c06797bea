"""Katib: the Experiment format (to_katib / from_katib).

The Katib models (kubeflow-katib-api) are imported only by the functions that need them.
"""

from automl.katib.from_katib import from_katib
from automl.katib.to_katib import katib_dict, to_katib, to_yaml

__all__ = ["from_katib", "katib_dict", "to_katib", "to_yaml"]
