"""Compare the random and tpe experiments after both have run (this script runs nothing).

    automl run examples/compare/random.yaml
    automl run examples/compare/tpe.yaml
    python examples/compare/compare.py
"""

from __future__ import annotations

import automl

EXPERIMENTS = ["digits-compare-random", "digits-compare-tpe"]


def main() -> None:
    table = automl.compare(EXPERIMENTS)  # one row a trial, with its "experiment"
    print(table.groupby("experiment", observed=True)["objective"].agg(["max", "mean", "count"]))
    print()
    best = table.automl.best(3)  # the 3 best trials of both, best first
    print(best[["experiment", "trial", "objective", "params.C", "params.gamma"]].to_string())


if __name__ == "__main__":
    main()
