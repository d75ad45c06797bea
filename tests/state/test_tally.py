"""Tally keeps, one trial at a time, what recounting every record would give."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from automl.state import Tally, best_of, ranking
from automl.state.cut import INTERRUPTED, STOPPED, cut_short

STATUSES = ["Succeeded", "Succeeded", "EarlyStopped", "Failed", "MetricsUnavailable", "Killed"]
REASONS = ["", STOPPED, INTERRUPTED, "exit status 1", f"{STOPPED}; a note"]
VALUES = [0.5, 0.5, 0.1, 0.9, -3.0, 7, "0.2", "-", "abc", "Genotype(normal=[])", float("nan"),
          float("inf"), float("-inf"), None, True]


@pytest.mark.parametrize("algorithm", ["random", "darts"])
@pytest.mark.parametrize("maximize", [False, True])
def test_after_every_trial_the_best_and_counts_are_those_of_all_records(
        algorithm, maximize) -> None:
    rng = random.Random(f"{algorithm}{maximize}")
    for _ in range(200):
        tally = Tally(maximize=maximize, algorithm=algorithm)
        records = []
        for i in range(rng.randint(0, 12)):
            record = {"name": f"t-{i}", "status": rng.choice(STATUSES),
                      "objective": rng.choice(VALUES), "params": {"i": str(i)},
                      "reason": rng.choice(REASONS)}
            records.append(record)
            tally.add(record)
            assert tally.best is best_of(records, maximize=maximize, algorithm=algorithm)
            assert tally.counts == Counter(r["status"] for r in records)
            assert tally.total == len(records)
            assert tally.count("Failed", "Killed") == sum(
                r["status"] in ("Failed", "Killed") for r in records)
            # the budget leaves out the trials a stopped engine cut short
            assert tally.counted(*set(STATUSES)) == sum(not cut_short(r) for r in records)
            assert tally.counted("Failed") == sum(
                r["status"] == "Failed" and not cut_short(r) for r in records)


@pytest.mark.parametrize("algorithm", ["random", "darts"])
@pytest.mark.parametrize("maximize", [False, True])
def test_whatever_order_trials_end_in_the_best_is_that_of_trial_order(algorithm,
                                                                      maximize) -> None:
    rng = random.Random(f"order{algorithm}{maximize}")
    for _ in range(200):
        records = [{"name": f"t-{i}", "status": rng.choice(STATUSES),
                    "objective": rng.choice(VALUES), "params": {}} for i in range(8)]
        ended = list(enumerate(records))
        rng.shuffle(ended)  # 2 or more in parallel: they end in any order
        tally = Tally(maximize=maximize, algorithm=algorithm, leaders=3)
        for number, record in ended:
            tally.add(record, number)
        assert tally.best is best_of(records, maximize=maximize, algorithm=algorithm)
        order = ranking(((r["status"], r["objective"]) for r in records), maximize=maximize,
                        algorithm=algorithm)
        assert tally.leaders() == [records[i] for i in order[:3]]


def test_a_tie_keeps_the_earlier_trial_and_a_text_wins_only_for_darts() -> None:
    first = {"name": "a", "status": "Succeeded", "objective": 0.5, "params": {}}
    tie = {"name": "b", "status": "Succeeded", "objective": 0.5, "params": {}}
    text = {"name": "c", "status": "Succeeded", "objective": "Genotype()", "params": {}}
    plain = Tally(maximize=True, algorithm="random", records=[first, tie, text])
    assert plain.best_summary() == {"name": "a", "objective": 0.5, "params": {}}
    darts = Tally(maximize=True, algorithm="darts", records=[first, text, tie])
    assert darts.best["name"] == "c"
