"""Katib's NAS assignments: what ENAS and DARTS trials receive, and how to read them back.

The formats are those of Katib's suggestion services (``pkg/suggestion/v1beta1/nas``): JSON
with ``"`` turned into ``'``, which trial programs turn back with ``.replace("'", '"')``.

* ENAS numbers every combination of an operation's parameter values (the operation ids), and
  proposes per layer ``[op_id, skip_0, ..., skip_{i-1}]`` (``architecture``) with the chosen
  operations spelled out (``nn_config``). The local engine's sampler makes those choices as
  ``layer_<i>`` (an operation id) and ``skip_<i>_<j>`` (0 or 1).
* DARTS gives every trial the same three arguments; the trial trains the supernet itself.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from automl.spec import ExperimentSpec, Operation
from automl.spec.draws import katib_arange
from automl.spec.settings import setting_text

__all__ = ["DARTS_DEFAULTS", "darts_assignments", "describe_architecture", "enas_assignments",
           "enas_choices", "enas_operations", "shown_params"]

DARTS_DEFAULTS: dict[str, Any] = {
    "num_epochs": 50, "w_lr": 0.025, "w_lr_min": 0.001, "w_momentum": 0.9,
    "w_weight_decay": 3e-4, "w_grad_clip": 5.0, "alpha_lr": 3e-4, "alpha_weight_decay": 1e-3,
    "batch_size": 128, "num_workers": 4, "init_channels": 16, "print_step": 50, "num_nodes": 4,
    "stem_multiplier": 3,
}
"""Katib's DARTS settings with their defaults, in the order its service writes them."""


def _katib_text(value: Any) -> str:
    return json.dumps(value).replace('"', "'")


def _values(p: Any) -> list[Any]:
    """One operation parameter's values as Katib's ENAS service enumerates them."""
    if p.type == "categorical":
        return [str(v) for v in p.values or []]
    if p.type == "int":
        return list(range(int(p.min), int(p.max) + 1, int(p.step)))
    if p.type == "double":
        return katib_arange(p)  # the rules refuse a range whose arange passes max
    return []  # Katib's service skips discrete parameters; the rules refuse them first


def enas_operations(operations: list[Operation]) -> list[dict[str, Any]]:
    """Katib's operation-id table: every combination of each operation's parameter values.

    Example:
        >>> ops = enas_operations(spec.nas.operations)
        >>> ops[0]
        {'opt_id': 0, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', ...}}
    """
    table: list[dict[str, Any]] = []
    for op in operations:
        names = [p.name for p in op.parameters]
        for combo in itertools.product(*(_values(p) for p in op.parameters)):
            table.append({"opt_id": len(table), "opt_type": op.type,
                          "opt_params": dict(zip(names, combo, strict=True))})
    return table


def enas_assignments(spec: ExperimentSpec, choices: dict[str, Any]) -> dict[str, str]:
    """``architecture`` and ``nn_config`` for sampled choices, exactly as Katib writes them."""
    assert spec.nas is not None and spec.nas.graph.num_layers is not None
    graph = spec.nas.graph
    table = enas_operations(spec.nas.operations)
    architecture = [[int(choices[f"layer_{i}"])]
                    + [int(choices[f"skip_{i}_{j}"]) for j in range(i)]
                    for i in range(graph.num_layers)]
    nn_config = {"num_layers": graph.num_layers, "input_sizes": list(graph.input_sizes),
                 "output_sizes": list(graph.output_sizes), "embedding": {}}
    for layer in architecture:
        # json writes the int keys as strings, as Katib's service does
        nn_config["embedding"][layer[0]] = table[layer[0]]
    return {"architecture": _katib_text(architecture), "nn_config": _katib_text(nn_config)}


def darts_assignments(spec: ExperimentSpec) -> dict[str, str]:
    """``algorithm-settings``, ``search-space`` and ``num-layers``, as Katib's DARTS gives them.

    Settings the spec gives arrive as the strings Katib stores (``'1'``), the rest as
    Katib's numeric defaults; ``None`` becomes null.
    """
    assert spec.nas is not None
    settings = dict(DARTS_DEFAULTS)
    for name, value in spec.algorithm.settings.items():
        text = setting_text(value)
        settings[name] = None if text == "None" else text
    search_space = []
    for op in spec.nas.operations:
        if op.type == "skip_connection":
            search_space.append(op.type)
            continue
        sizes = op.parameters[0].values or [] if op.parameters else []
        search_space.extend(f"{op.type}_{s}x{s}" for s in map(setting_text, sizes))
    return {"algorithm-settings": _katib_text(settings),
            "search-space": _katib_text(search_space),
            "num-layers": str(spec.nas.graph.num_layers)}


def enas_choices(architecture: str, nn_config: str) -> dict[str, str | int]:
    """An ENAS architecture as one value per choice: ``layer_<i>`` in words, ``skip_<i>_<j>``.

    Example:
        >>> enas_choices("[[0], [4, 1]]", nn_config)
        {'layer_0': 'convolution(filter_size=3,num_filter=16)', 'layer_1': 'reduction(...)',
         'skip_1_0': 1}
    """
    layers = json.loads(architecture.replace("'", '"'))
    embedding = json.loads(nn_config.replace("'", '"'))["embedding"]
    choices: dict[str, str | int] = {}
    for i, layer in enumerate(layers):
        op = embedding[str(layer[0])]
        values = op["opt_params"]
        params = (setting_text(next(iter(values.values()))) if len(values) == 1
                  else ",".join(f"{k}={setting_text(v)}" for k, v in values.items()))
        choices[f"layer_{i}"] = f"{op['opt_type']}({params})"
        choices.update({f"skip_{i}_{j}": int(flag) for j, flag in enumerate(layer[1:])})
    return choices


def describe_architecture(architecture: str, nn_config: str) -> str:
    """An ENAS architecture in words, one layer after another, with its skip connections.

    Example:
        >>> describe_architecture("[[0], [4, 1]]", nn_config)
        'convolution(filter_size=3,num_filter=16) | reduction(max_pooling) +L0'
    """
    choices = enas_choices(architecture, nn_config)
    words = []
    for i in range(sum(k.startswith("layer_") for k in choices)):
        skips = ",".join(f"L{j}" for j in range(i) if choices[f"skip_{i}_{j}"])
        words.append(str(choices[f"layer_{i}"]) + (f" +{skips}" if skips else ""))
    return " | ".join(words)


def shown_params(algorithm: str, params: dict[str, str]) -> dict[str, str]:
    """A trial's assignments for people: an ENAS architecture in words, DARTS's none.

    DARTS's arguments are the same for every trial, and its result is the genotype it prints.
    """
    if algorithm == "enas" and {"architecture", "nn_config"} <= params.keys():
        return {"architecture": describe_architecture(params["architecture"],
                                                      params["nn_config"])}
    if algorithm == "darts":
        return {}
    return params
