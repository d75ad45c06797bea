"""A run is tied to the function it runs: an edited function is refused, never answered from
the old trials; the same function (or only a larger budget) continues the study."""

from __future__ import annotations

import functools

import pytest

import automl
from automl.errors import AutomlError
from automl.local.fingerprint import function_fingerprint

TARGET = 2.0


def _compiled(source: str):
    """A function compiled from text no file holds, as a notebook cell or a prompt makes it."""
    namespace: dict = {"TARGET": TARGET}
    exec(compile(source, "<ipython-input-1-abc>", "exec"), namespace)
    return namespace["f"]


def _tune(tmp_path, fn, trials=3):
    return automl.tune("quad", fn, {"x": {"type": "double", "min": 0, "max": 5}},
                       objective_type="minimize", max_trial_count=trials, progress=False,
                       root=tmp_path / ".automl")


def quad_at_2(params):
    return (float(params["x"]) - 2) ** 2


def quad_at_target(params):
    return (float(params["x"]) - TARGET) ** 2


def test_an_edited_function_under_the_same_name_is_refused_naming_the_function(tmp_path):
    first = _compiled("def f(p):\n    return (float(p['x']) - 2) ** 2\n")
    edited = _compiled("def f(p):\n    return (float(p['x']) - 4) ** 2\n")
    assert _tune(tmp_path, first).counts == {"Succeeded": 3}
    with pytest.raises(AutomlError) as caught:
        _tune(tmp_path, edited)
    message = str(caught.value)
    assert "'quad' already exists" in message and "different function (f:" in message
    assert "automl delete quad" in message and "\n" not in message


def test_a_module_value_the_function_reads_changing_is_a_different_function(tmp_path,
                                                                           monkeypatch):
    _tune(tmp_path, quad_at_target)
    monkeypatch.setattr(f"{__name__}.TARGET", 4.0)
    with pytest.raises(AutomlError, match="different function"):
        _tune(tmp_path, quad_at_target)


def test_the_same_function_again_continues_its_study(tmp_path):
    first = _tune(tmp_path, quad_at_2)
    again = _tune(tmp_path, quad_at_2)
    assert again.best == first.best and again.counts == {"Succeeded": 3}


@pytest.mark.parametrize("make", [
    lambda: _compiled("def f(p):\n    return float(p['x'])\n"),
    lambda: functools.partial(_compiled("def f(p, s):\n    return s\n"), s=3),
    lambda: (lambda marker: (lambda p: marker is None))(object()),  # an object's address
], ids=["no-source", "partial", "closure-object"])
def test_the_digest_is_the_same_for_the_same_code_made_twice(make):
    assert function_fingerprint(make(), {}) == function_fingerprint(make(), {})


@pytest.mark.parametrize(("a", "b"), [
    (lambda: _compiled("def f(p):\n    return 1\n"),
     lambda: _compiled("def f(p):\n    return 2\n")),
    (lambda: functools.partial(quad_at_2), lambda: functools.partial(quad_at_target)),
    (lambda: (lambda k: (lambda p: k))(1), lambda: (lambda k: (lambda p: k))(2)),
], ids=["constant", "partial-target", "closure-number"])
def test_the_digest_differs_when_the_code_or_its_plain_values_differ(a, b):
    assert function_fingerprint(a(), {}) != function_fingerprint(b(), {})


def test_fixed_values_are_part_of_the_digest():
    assert function_fingerprint(quad_at_2, {"epochs": 3}) != function_fingerprint(
        quad_at_2, {"epochs": 4})
