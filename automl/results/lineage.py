"""pbt lineages: a trial's learning curve goes on where its parent's ended.

A pbt trial starts from its parent's checkpoint, so its first report is the step after its
parent's last. The observations table keeps each trial's own steps (0, 1, ...); the report's
learning curves and the TensorBoard export shift them by the steps of every ancestor, so that
a lineage reads as one curve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["continued_steps", "lineage_roots", "parents", "step_offsets"]


def parents(trials: pd.DataFrame) -> dict[str, str | None]:
    """Trial → its parent (None in generation 0); empty for other algorithms."""
    if "parent" not in trials.columns:
        return {}
    parents = trials["parent"].astype(object).where(trials["parent"].notna(), None)
    return {str(t): (None if p is None else str(p))
            for t, p in zip(trials["trial"].astype(object), parents, strict=True)}


def step_offsets(trials: pd.DataFrame, observations: pd.DataFrame) -> dict[str, int]:
    """Trial → the steps its ancestors reported before it (empty for other algorithms).

    A trial's length is one more than the last step it reported of any metric; an ancestor
    missing from the table counts as none.
    """
    parent_of = parents(trials)
    if not parent_of:
        return {}
    lengths = (observations.groupby("trial", observed=True)["step"].max() + 1).to_dict()
    offsets: dict[str, int] = {}
    for trial in parent_of:
        chain, node = [], trial
        while node is not None and node not in offsets and node not in chain:
            chain.append(node)
            node = parent_of.get(node)
        # the first ancestor already placed ends where this chain begins
        base = (offsets[node] + int(lengths.get(node, 0) or 0)) if node in offsets else 0
        for member in reversed(chain):  # from the oldest ancestor down to ``trial``
            offsets[member] = base
            base += int(lengths.get(member, 0) or 0)
    return offsets


def continued_steps(trials: pd.DataFrame, observations: pd.DataFrame) -> pd.DataFrame:
    """``observations`` with each pbt trial's steps shifted past its ancestors' steps."""
    offsets = step_offsets(trials, observations)
    if not offsets:
        return observations
    shifted = observations.copy()
    shift = shifted["trial"].astype(object).map(offsets).fillna(0).astype("int64")
    shifted["step"] = shifted["step"] + shift.to_numpy()
    return shifted


def lineage_roots(trials: pd.DataFrame) -> dict[str, str]:
    """Trial → its generation-0 ancestor (itself for a trial without a parent)."""
    parent_of = parents(trials)
    roots: dict[str, str] = {}
    for trial in parent_of:
        seen, node = {trial}, trial
        while parent_of.get(node) is not None and parent_of[node] not in seen:
            node = parent_of[node]  # type: ignore[assignment]
            seen.add(node)
        roots[trial] = node
    return roots
