"""A run is tied to the function it runs: an edited function is refused, never answered from
the old trials; the same function (or only a larger budget) continues the study."""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import pandas
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


_PRELUDE = "import numpy as np\nimport pandas as pd\nimport types\n"

# (what the function depends on, the edit a notebook user makes to it): each edit changes what
# the trial computes, so each must change the digest
_EDITS = {
    "helper-edited": (
        "def helper(x):\n    return (x - 2) ** 2\n"
        "def f(p):\n    return helper(float(p['x']))\n",
        "def helper(x):\n    return (x - 4) ** 2\n"),
    "helper-of-a-helper-edited": (
        "def inner(x):\n    return x - 2\n"
        "def helper(x):\n    return inner(x) ** 2\n"
        "def f(p):\n    return helper(float(p['x']))\n",
        "def inner(x):\n    return x - 4\n"),
    "numpy-global-replaced": (
        "target = np.array([2.0])\ndef f(p):\n    return float(p['x']) - target[0]\n",
        "target = np.array([4.0])\n"),
    "numpy-global-changed-in-place": (
        "target = np.zeros(3)\ndef f(p):\n    return float(p['x']) - target.sum()\n",
        "target[1] = 4.0\n"),
    "numpy-global-dtype": (
        "target = np.array([2.0])\ndef f(p):\n    return float(p['x']) - target[0]\n",
        "target = target.astype(np.float32)\n"),
    "dataframe-global-cell": (
        "data = pd.DataFrame({'y': [2.0, 3.0]})\n"
        "def f(p):\n    return float(p['x']) - data['y'].mean()\n",
        "data.loc[0, 'y'] = 4.0\n"),
    "dataframe-global-columns": (
        "data = pd.DataFrame({'y': [2.0, 3.0]})\n"
        "def f(p):\n    return float(p['x']) - data.iloc[:, 0].mean()\n",
        "data.columns = ['z']\n"),
    "series-global-index": (
        "data = pd.Series([2.0, 3.0])\ndef f(p):\n    return float(p['x']) - data[0]\n",
        "data.index = [1, 0]\n"),
    "object-attribute": (
        "class Cfg:\n    pass\ncfg = Cfg()\ncfg.target = 2.0\n"
        "def f(p):\n    return float(p['x']) - cfg.target\n",
        "cfg.target = 4.0\n"),
    "class-attribute": (
        "class Cfg:\n    target = 2.0\ndef f(p):\n    return float(p['x']) - Cfg.target\n",
        "Cfg.target = 4.0\n"),
    "method-replaced": (
        "class Model:\n    def value(self):\n        return 2.0\nmodel = Model()\n"
        "def f(p):\n    return float(p['x']) - model.value()\n",
        "def value(self):\n    return 4.0\nModel.value = value\n"),
    "module-attribute": (
        "cfg = types.ModuleType('cfg')\ncfg.target = 2.0\n"
        "def f(p):\n    return float(p['x']) - cfg.target\n",
        "cfg.target = 4.0\n"),
    "numpy-closure-cell": (
        "def make(target):\n    return lambda p: float(p['x']) - target[0]\n"
        "target = np.array([2.0])\nf = make(target)\n",
        "target[0] = 4.0\n"),
    "dataframe-default": (
        "def f(p, data=pd.DataFrame({'y': [2.0]})):\n    return float(p['x']) - data['y'][0]\n",
        "f.__defaults__[0].loc[0, 'y'] = 4.0\n"),
    "numpy-function-rebound": (
        "act = np.exp\ndef f(p):\n    return float(act(float(p['x'])))\n",
        "act = np.tanh\n"),
    "library-function-rebound": (
        "import math\nact = math.sqrt\ndef f(p):\n    return act(float(p['x']))\n",
        "act = math.exp\n"),
    "bound-method-state": (
        "class Trainer:\n    def __init__(self):\n        self.target = 2.0\n"
        "    def run(self, p):\n        return float(p['x']) - self.target\n"
        "f = Trainer().run\n",
        "f.__self__.target = 4.0\n"),
}


def _notebook(source: str) -> dict:
    """A namespace as a notebook's: its code compiled from text no file holds."""
    namespace: dict = {"__name__": "notebook"}
    exec(compile(_PRELUDE + source, "<ipython-input-2-def>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("setup", "edit"), list(_EDITS.values()), ids=list(_EDITS))
def test_editing_what_the_function_calls_or_reads_changes_the_digest(setup, edit):
    namespace = _notebook(setup)
    before = function_fingerprint(namespace["f"], {})
    assert function_fingerprint(namespace["f"], {}) == before  # nothing edited: the same
    exec(compile(edit, "<ipython-input-3-fed>", "exec"), namespace)
    assert function_fingerprint(namespace["f"], {}) != before


@pytest.mark.parametrize("make", [
    "pd.DataFrame({'y': [2.0]})", "pd.Series([2.0], name='y')", "np.array([[2.0]])",
    "{'y', 'z', 2.0}", "T(2.0)", "[T(2.0), (np.float32(2.0), pd.Index([2.0]))]",
], ids=["dataframe", "series", "ndarray", "set", "user-object", "nested"])
def test_a_fixed_value_edited_changes_the_digest_and_the_same_value_keeps_it(make):
    namespace = _notebook("class T:\n    def __init__(self, v):\n        self.v = v\n"
                          "def f(p):\n    return p\n")
    value = eval(make, namespace)
    again = eval(make, namespace)
    edited = eval(make.replace("2.0", "4.0"), namespace)
    f = namespace["f"]
    assert function_fingerprint(f, {"v": value}) == function_fingerprint(f, {"v": again})
    assert function_fingerprint(f, {"v": value}) != function_fingerprint(f, {"v": edited})


_IN_ANOTHER_PROCESS = """
import numpy as np, pandas as pd
from automl.local.fingerprint import function_fingerprint
class T:
    def __init__(self, v):
        self.v = v
helpers = {"a", "b", "c"}
data = pd.DataFrame({"y": ["a", "b"]})
def helper(x):
    return x in helpers
def f(p):
    return helper(p["x"]) and T(data)
print(function_fingerprint(f, {"t": T(np.arange(3)), "s": frozenset("xyz")}))
"""


def test_the_digest_is_the_same_in_another_process_whatever_its_hash_seed(tmp_path):
    script = tmp_path / "nb.py"
    script.write_text(_IN_ANOTHER_PROCESS)
    digests = {subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                              cwd=tmp_path).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop().strip()) == 16


def test_tune_again_after_the_data_in_a_fixed_dataframe_changed_is_refused(tmp_path):
    def train(params):
        return float(((params["data"]["y"] - float(params["x"])) ** 2).mean())

    def tune_on(target):
        data = pandas.DataFrame({"y": [target] * 3})
        return automl.tune("df", train, {"x": {"type": "double", "min": 0, "max": 10},
                                         "data": data},
                           objective_type="minimize", max_trial_count=2, progress=False,
                           root=tmp_path / ".automl")

    assert tune_on(2.0).counts == {"Succeeded": 2}
    assert tune_on(2.0).counts == {"Succeeded": 2}  # the same data: the same study
    with pytest.raises(AutomlError, match="different function"):
        tune_on(8.0)
