"""Bad input: any YAML either loads or is refused with our located error, never a crash."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import automl
from automl.spec import SpecError

KEYS = ["name", "objective", "metric", "type", "goal", "algorithm", "settings", "budget",
        "max_trials", "parallel_trials", "parameters", "min", "max", "step", "list",
        "distribution", "trial", "command", "image", "env", "metrics_collector", "kind",
        "filter", "path", "nas", "graph", "operations", "search_space", "trial_parameters",
        "early_stopping", "resume_policy", "random_state", "reference", "additional_metrics"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12),
                    st.sampled_from(["double", "int", "categorical", "discrete", "minimize",
                                     "maximize", "tpe", "grid", "random", "hyperband",
                                     "logUniform", "StdOut", "File", "${trialParameters.x}",
                                     "sklearn/svm", "../../etc/passwd", "([\\w]+)=(.*)"]))
DOCS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6)),
    max_leaves=30)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(doc=DOCS)
def test_any_document_loads_or_gets_a_located_spec_error(doc, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "e.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        automl.load(path)
    except SpecError as exc:
        assert exc.issues
        assert all(i.file == str(path) and i.message for i in exc.issues)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(text=st.text(max_size=200))
def test_any_text_loads_or_gets_a_located_spec_error(text, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "e.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        automl.load(path)
    except SpecError as exc:
        assert exc.issues and all(i.file == str(path) for i in exc.issues)


VALUES = [None, True, -1, 0, 1, 2.5, 1e308, float("nan"), float("inf"), "x", "", [], {}, [1],
          {"a": 1}, "${trialParameters.lr}", "../x", "0.1", "-1e400", "$(rm -rf /)"]


def _paths(node, path=()):
    """Every key path in nested dicts and lists."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else []
    for key, value in items:
        yield (*path, key)
        yield from _paths(value, (*path, key))


def _mutated(rng, base):
    import copy

    doc = copy.deepcopy(base)
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(list(_paths(doc)))
        node = doc
        for key in parents:
            node = node[key]
        node[last] = rng.choice(VALUES)
    return doc


def test_near_valid_experiments_load_or_get_a_spec_error() -> None:
    """Valid experiments with one to three fields replaced by odd values (seeded)."""
    import random

    from tests.spec.helpers import BASE

    rng = random.Random(1)
    loaded = 0
    for _ in range(1500):
        try:
            automl.load(_mutated(rng, BASE))
            loaded += 1
        except SpecError as exc:
            assert exc.issues and all(i.message for i in exc.issues)
    assert 0 < loaded < 1500  # both outcomes were exercised
