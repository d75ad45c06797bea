"""Why trials failed, in one line: how many ended without a value, and the most common reason.

An experiment whose trials all failed has no best trial; ``automl best`` and the run's summary
say this line instead of a bare ``-``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from automl.state.failures import failures_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["failures_line"]


def failures_line(trials: pd.DataFrame) -> str:
    """``3 of 4 trials ended without succeeding (3 Failed); most common reason (3): ...``.

    Args:
        trials: A trials table (``status`` and ``reason`` columns).

    Returns:
        The line, or '' when no trial ended without succeeding.

    Example:
        >>> failures_line(automl.load_results("digits-svm").trials)
        ''
    """
    return failures_text(zip(trials["status"].astype(str), trials["reason"], strict=True),
                         len(trials))
