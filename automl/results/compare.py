"""Several experiments in one table, their parameters aligned."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from automl.local.store import DEFAULT_ROOT
from automl.results._results import Results
from automl.results.local import load_results

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare"]


def compare(experiments: Sequence[str | Results], storage: str | None = None,
            root: str | Path = DEFAULT_ROOT) -> pd.DataFrame:
    """Stack the trials tables of several experiments.

    Rows keep their ``experiment`` column; ``params.*`` and ``metrics.*`` columns are the union
    of all experiments' (empty where an experiment has no such parameter).

    Args:
        experiments: Names of local experiments, or Results (from any backend).
        storage: The storage the named experiments are in.
        root: The folder of the default storage.

    Example:
        >>> table = automl.compare(["digits-svm", "digits-svm-random"])
        >>> table.groupby("experiment")["objective"].max()
    """
    import pandas as pd

    results = [e if isinstance(e, Results) else load_results(e, storage, root)
               for e in experiments]
    frames = [r.trials for r in results]
    fixed = ["experiment", "trial", "status", "objective"]
    varying = list(dict.fromkeys(c for f in frames for c in f.columns
                                 if c.startswith(("params.", "metrics."))))
    tail = ["start_time", "completion_time", "duration_s", "backend"]
    table = pd.concat(frames, ignore_index=True, sort=False)
    table["status"] = pd.Categorical(table["status"],
                                     categories=frames[0]["status"].cat.categories)
    # what df.automl.best() reads: kept when every experiment agrees on it
    table.attrs = {}
    for key, values in (("automl.direction", {r.spec.objective.type for r in results}),
                        ("automl.algorithm", {r.spec.algorithm.name for r in results})):
        if len(values) == 1:
            table.attrs[key] = values.pop()
    return table[fixed + varying + tail]
