"""ExperimentSpec → YAML in automl's own format, leaving out what is default."""

from __future__ import annotations

from typing import Any

import yaml

from automl.spec.experiment import ExperimentSpec

__all__ = ["spec_to_yaml"]


class _Dumper(yaml.SafeDumper):
    """Short lists of scalars on one line (``list: ['3', '5']``), everything else in blocks."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    short = all(isinstance(v, (str, int, float)) for v in data) and sum(
        len(str(v)) + 2 for v in data) <= 60
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


_Dumper.add_representer(list, _represent_list)


def spec_to_yaml(spec: ExperimentSpec) -> str:
    """The experiment file that loads back as ``spec`` (defaults left out).

    Example:
        >>> print(spec_to_yaml(automl.from_katib(Path("random.yaml"))))
        name: random
        ...
    """
    full = spec.model_dump(mode="json", by_alias=True)
    short = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # The algorithm is worth reading even when it is the default; the trial is required.
    data = {k: v for k, v in full.items() if k in short or k in ("algorithm", "trial")}
    data["algorithm"] = short.get("algorithm", full["algorithm"])
    data["trial"] = short.get("trial", {})
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
