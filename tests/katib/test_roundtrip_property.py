"""Property: every valid ExperimentSpec survives ``from_katib(to_katib(spec)) == spec``.

The strategy below builds only specs Katib accepts (``automl.spec.check(spec) == []`` is
asserted, so the strategy cannot drift into invalid input unnoticed). The round-trip test runs
once per algorithm: random, tpe, multivariate-tpe, grid, cmaes, sobol, bayesianoptimization and
(for NAS) enas, with settings drawn from the registry in ``automl.spec.algorithms``. Around
that it varies the four parameter types with ranges, steps and uniform/logUniform
distributions; objectives with goals, additional metrics and metric strategies; budgets;
medianstop early stopping; the StdOut, File, TensorFlowEvent and Push collectors; and trials
in the short container form, as a raw ``trial_spec`` (PyTorchJob, a labelled Job, an Argo
Workflow) or from a ConfigMap, with default or explicit trial parameters (fresh names, the
assignment names shuffled, trial-metadata references such as ``${trialSpec.Name}``).
test_strategy_reaches_every_listed_feature checks that the strategy reaches each of these.

Left out on purpose:

* algorithm and early-stopping settings written as numeric strings (``random_state: "7"``):
  the model types them, so they equal the typed spelling; the test at the end covers them;
* a raw ``trial_spec`` that is exactly the one-container Job the short form compiles to:
  from_katib reads that Job back in the short form by design, so it is not a round trip of
  the same spelling (the labelled Job drawn here has metadata and so stays raw).
"""

from __future__ import annotations

import contextlib
import copy
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from automl.katib import from_katib, katib_dict, to_katib
from automl.spec import ALGORITHMS, EARLY_STOPPING, ExperimentSpec, check
from automl.spec.settings import Setting

HPO_ALGORITHMS = ("random", "tpe", "multivariate-tpe", "grid", "cmaes", "sobol",
                  "bayesianoptimization")
ALGORITHM_NAMES = (*HPO_ALGORITHMS, "enas")
NAS_ASSIGNMENTS = ALGORITHMS["enas"].assignments  # ("architecture", "nn_config")

PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---- small building blocks ------------------------------------------------------------------

LOWER, DIGITS = string.ascii_lowercase, string.digits


def _joined(first: str, rest: str, max_size: int, last: str = "") -> st.SearchStrategy[str]:
    """``first`` char, up to ``max_size`` ``rest`` chars, then (if the middle is not empty)
    one ``last`` char: a regex such as ``[a-z]([-a-z0-9]*[a-z0-9])?`` without from_regex."""
    middle = st.text(rest, max_size=max_size)
    if not last:
        return st.builds(str.__add__, st.sampled_from(first), middle)
    return st.builds(lambda f, m, e: f + (m + e if m else ""), st.sampled_from(first), middle,
                     st.sampled_from(last))


DNS_NAMES = _joined(LOWER, LOWER + DIGITS + "-", 14, LOWER + DIGITS)
EXPERIMENT_NAMES = _joined(LOWER, LOWER + DIGITS + "-", 38, LOWER + DIGITS)
IDENTIFIERS = _joined(string.ascii_letters, string.ascii_letters + DIGITS + "_-", 11)
METRICS = _joined(string.ascii_letters, string.ascii_letters + DIGITS + "_. -", 14,
                  string.ascii_letters + DIGITS)
ENV_NAMES = _joined(string.ascii_uppercase + "_", string.ascii_uppercase + DIGITS + "_", 10)
ABSOLUTE_PATHS = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + slash,
    st.lists(st.text(string.ascii_letters + DIGITS + "_.-", min_size=1, max_size=10),
             min_size=1, max_size=4),
    st.sampled_from(["", "/"]))
OPERATION_TYPES = _joined(LOWER, LOWER + "_", 15)
# Free text for command tokens, env values, descriptions and categorical values: any
# encodable character (non-ASCII included); "$" is left out so no token forms a placeholder.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="$"), max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
IMAGES = st.sampled_from(["python:3.11-slim", "ghcr.io/kubeflow/katib/pytorch-mnist-cpu:latest",
                          "registry.example.com:5000/team/trainer@sha256:" + "a" * 64])
QUANTITIES = st.sampled_from(["1", "500m", "2", "512Mi", "2Gi", "0.5"])
# Regexes with two groups (metric name, then value), as Katib's metricsFormat wants.
FILTERS = st.sampled_from([
    r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)",
    r"(\w+):\s*([+-]?\d+(?:\.\d+)?)",
    r"\{metricName: ([\w|-]+), metricValue: ([+-]?\d*(\.\d+)?)\}",
    r"(?P<name>[A-Za-z_ ]+)\s+(?P<value>[\d.eE+-]+)",
])
CONDITIONS = st.sampled_from([
    'status.conditions.#(type=="Complete")#|#(status=="True")#',
    'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
    'status.[@this].#(phase=="Succeeded")#',
    'status.[@this].#(phase=="Failed")#',
])


def placeholder(name: str) -> str:
    return "${trialParameters." + name + "}"


def setting_values(setting: Setting) -> st.SearchStrategy[Any]:
    """Typed values the setting accepts (the registry's own ``problem`` is the judge)."""
    expected = setting.expected
    if expected.startswith("one of "):
        base: st.SearchStrategy[Any] = st.sampled_from(
            expected.removeprefix("one of ").split(", "))
    elif expected.startswith("an integer"):
        base = st.integers(0, 10**9)
    elif expected.startswith("a number"):
        base = st.one_of(st.floats(0, 1), st.floats(0, 1e6))
    else:
        base = st.text(min_size=1, max_size=10)
    if setting.none_allowed:
        base = st.one_of(base, st.just("None"))
    return base.filter(lambda v: setting.problem(v) is None)


@st.composite
def algorithm_settings(draw: st.DrawFn, known: dict[str, Setting]) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(known)), unique=True)) if known else []
    return {name: draw(setting_values(known[name])) for name in names}


# ---- search space ---------------------------------------------------------------------------


@st.composite
def double_parameter(draw: st.DrawFn, name: str, algorithm: str) -> tuple[dict[str, Any], int]:
    """A double parameter and a lower bound on its number of grid points."""
    distribution = draw(st.sampled_from(["uniform", "logUniform"]))
    positive = distribution == "logUniform" or algorithm == "bayesianoptimization"
    p: dict[str, Any] = {"name": name, "type": "double", "distribution": distribution}
    if algorithm == "grid":
        # Decimal grids: min + n*step is n+1 points even after float rounding.
        low = draw(st.integers(1 if positive else -1000, 1000)) / 100
        step = draw(st.integers(1, 200)) / 100
        n = draw(st.integers(0, 5))
        p.update(min=low, max=low + n * step, step=step)
        return p, n + 1
    # 1e-10: Katib's Optuna service raises a log scale's min to it, and fails below
    bounds = st.floats(min_value=1e-10, max_value=1e15) if positive else \
        st.floats(min_value=-1e15, max_value=1e15)
    low, high = sorted(draw(st.lists(bounds, min_size=2, max_size=2)))
    p.update(min=low, max=high)
    step = draw(st.none() | st.floats(min_value=0.0, max_value=1e6, exclude_min=True))
    # Optuna (Katib's Optuna service too) cannot round to a step finer than span / 10**27
    if step is not None and (high - low) / step <= 10**27:
        p["step"] = step
    return p, 1


@st.composite
def int_parameter(draw: st.DrawFn, name: str, algorithm: str) -> tuple[dict[str, Any], int]:
    distribution = draw(st.sampled_from(["uniform", "logUniform"]))
    positive = distribution == "logUniform"
    p: dict[str, Any] = {"name": name, "type": "int", "distribution": distribution}
    if algorithm == "grid":
        low = draw(st.integers(1 if positive else -50, 50))
        span = draw(st.integers(0, 30))
        step = draw(st.none() | st.integers(1, 10))
        p.update(min=low, max=low + span)
        if step is not None:
            p["step"] = step
        return p, span // (step or 1) + 1
    low, high = sorted(draw(st.lists(st.integers(1 if positive else -10**9, 10**9),
                                     min_size=2, max_size=2)))
    p.update(min=low, max=high)
    step = draw(st.none() | st.integers(1, 10**6))
    if step is not None:
        p["step"] = step
    return p, 1


@st.composite
def discrete_parameter(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], int]:
    numbers = st.one_of(st.integers(-10**6, 10**6), FINITE)
    values = draw(st.lists(numbers, min_size=1, max_size=5, unique_by=float))
    return {"name": name, "type": "discrete", "list": values}, len(values)


@st.composite
def categorical_parameter(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], int]:
    values = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    return {"name": name, "type": "categorical", "list": values}, len(values)


@st.composite
def search_space(draw: st.DrawFn, algorithm: str) -> tuple[list[dict[str, Any]], int]:
    """Parameters for ``algorithm`` and their number of grid combinations (a lower bound)."""
    numeric_needed = 2 if algorithm == "cmaes" else 0
    count = draw(st.integers(max(1, numeric_needed), 4))
    names = draw(st.lists(IDENTIFIERS, min_size=count, max_size=count, unique=True))
    types = ["numeric"] * numeric_needed + draw(st.lists(
        st.sampled_from(["double", "int", "discrete", "categorical"]),
        min_size=count - numeric_needed, max_size=count - numeric_needed))
    types = draw(st.permutations(types))
    parameters, combinations = [], 1
    for name, kind in zip(names, types, strict=True):
        if kind == "numeric":
            kind = draw(st.sampled_from(["double", "int"]))
        if kind == "double":
            p, size = draw(double_parameter(name, algorithm))
        elif kind == "int":
            p, size = draw(int_parameter(name, algorithm))
        elif kind == "discrete":
            p, size = draw(discrete_parameter(name))
        else:
            p, size = draw(categorical_parameter(name))
        parameters.append(p)
        combinations *= size
    return parameters, combinations


@st.composite
def nas_config(draw: st.DrawFn) -> dict[str, Any]:
    """ENAS: a graph and operations, each with at least one categorical parameter.

    The other parameters are of the kinds Katib's ENAS service enumerates: categorical, int and
    double with a step (it skips discrete ones, which the rules refuse).
    """
    graph = {
        "num_layers": draw(st.integers(1, 12)),
        "input_sizes": draw(st.lists(st.integers(1, 512), min_size=1, max_size=4)),
        "output_sizes": draw(st.lists(st.integers(1, 1000), min_size=1, max_size=2)),
    }
    types = draw(st.lists(OPERATION_TYPES, min_size=1, max_size=4, unique=True))
    operations = []
    for op_type in types:
        names = draw(st.lists(IDENTIFIERS, min_size=1, max_size=3, unique=True))
        parameters = [draw(categorical_parameter(names[0]))[0]]
        for name in names[1:]:
            kind = draw(st.sampled_from(["categorical", "int", "double"]))
            if kind == "categorical":
                parameters.append(draw(categorical_parameter(name))[0])
            elif kind == "double":
                # binary fractions: numpy's arange(min, max + step, step) ends at max, where
                # Katib's ENAS SearchSpace fails on one that passes it (0.1 + 3 * 0.1)
                low, step = draw(st.sampled_from([0.0, 0.5, 1.5])), draw(st.sampled_from(
                    [0.125, 0.25, 1.0]))
                parameters.append({"name": name, "type": "double", "min": low,
                                   "max": low + step * draw(st.integers(1, 4)), "step": step})
            else:  # int operation parameters need a step
                low = draw(st.integers(1, 10))
                parameters.append({"name": name, "type": "int", "min": low,
                                   "max": low + draw(st.integers(0, 10)),
                                   "step": draw(st.integers(1, 3))})
        operations.append({"type": op_type, "parameters": parameters})
    return {"graph": graph, "operations": operations}


# ---- objective, budget, collector -----------------------------------------------------------


@st.composite
def objective(draw: st.DrawFn) -> dict[str, Any]:
    metric = draw(METRICS)
    additional = draw(st.lists(METRICS.filter(lambda m: m != metric), max_size=3, unique=True))
    o: dict[str, Any] = {"metric": metric, "type": draw(st.sampled_from(["minimize",
                                                                         "maximize"]))}
    goal = draw(st.none() | FINITE)
    if goal is not None:
        o["goal"] = goal
    if additional:
        o["additional_metrics"] = additional
    strategies = {m: draw(st.sampled_from(["min", "max", "latest"]))
                  for m in draw(st.lists(st.sampled_from([metric, *additional]), unique=True))}
    if strategies:
        o["metric_strategies"] = strategies
    return o


@st.composite
def budget(draw: st.DrawFn, combinations: int | None) -> dict[str, Any]:
    """Katib's rules: parallel and failed trials at most max trials; grid: max <= combinations."""
    if combinations is None:
        max_trials = draw(st.none() | st.integers(1, 200))
    else:  # grid: always bounded, so that the combinations rule is exercised
        max_trials = draw(st.integers(1, min(200, combinations)))
    b: dict[str, Any] = {}
    if max_trials is None:
        parallel = draw(st.none() | st.integers(1, 20))
        failed = draw(st.none() | st.integers(0, 50))
    else:
        b["max_trials"] = max_trials
        parallel = draw(st.integers(1, max_trials))
        if max_trials >= 3 and draw(st.booleans()):
            parallel = None  # Katib's default, 3
        failed = draw(st.none() | st.integers(0, max_trials))
    if parallel is not None:
        b["parallel_trials"] = parallel
    if failed is not None:
        b["max_failed_trials"] = failed
    return b


@st.composite
def metrics_collector(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["StdOut", "File", "TensorFlowEvent", "Push"]))
    mc: dict[str, Any] = {"kind": kind}
    if kind in ("File", "TensorFlowEvent"):
        path = draw(st.none() | ABSOLUTE_PATHS | st.just(
            "/var/log/katib/metrics.log" if kind == "File" else "/var/log/katib/tfevent/"))
        if path is not None:
            mc["path"] = path
    if kind == "File":
        fmt = draw(st.sampled_from([None, "TEXT", "JSON"]))
        if fmt is not None:
            mc["format"] = fmt
    if kind == "StdOut" or (kind == "File" and mc.get("format") != "JSON"):
        filters = draw(st.lists(FILTERS, max_size=2, unique=True))
        if filters:
            mc["filter"] = filters
    return mc


# ---- trial ----------------------------------------------------------------------------------

META_REFERENCES = ("${trialSpec.Name}", "${trialSpec.Namespace}", "${trialSpec.Kind}",
                   "${trialSpec.APIVersion}")


@st.composite
def trial_parameters(draw: st.DrawFn, assignments: list[str],
                     labels: dict[str, str]) -> list[dict[str, Any]] | None:
    """None (one per assignment, same name) or explicit ones: fresh names, or the assignment
    names shuffled (``a`` fills ``${trialParameters.b}``), plus trial-metadata references."""
    if not draw(st.booleans()):
        return None
    if draw(st.booleans()):
        fresh = draw(st.lists(IDENTIFIERS, min_size=len(assignments),
                              max_size=len(assignments), unique=True))
        names = [f"tp-{name}" for name in fresh]
    else:
        names = draw(st.permutations(assignments))
    tps = []
    for name, reference in zip(names, assignments, strict=True):
        tp = {"name": name, "reference": reference}
        description = draw(st.none() | TEXT)
        if description is not None:
            tp["description"] = description
        tps.append(tp)
    metadata = list(META_REFERENCES) + [f"${{trialSpec.Labels[{k}]}}" for k in labels]
    for i, reference in enumerate(draw(st.lists(st.sampled_from(metadata), max_size=2,
                                                unique=True))):
        tps.append({"name": f"meta{i}", "reference": reference})
    return draw(st.permutations(tps))


@st.composite
def container_fields(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    """command/args/env that between them use every placeholder of ``names``."""
    command = ["python", *draw(st.lists(TEXT, max_size=2))]
    args = draw(st.lists(TEXT, max_size=2))
    env_names = draw(st.lists(ENV_NAMES, min_size=len(names), max_size=len(names) + 2,
                              unique=True))
    env = {n: draw(TEXT) for n in env_names[len(names):]}
    for name, env_name in zip(names, env_names[:len(names)], strict=True):
        where = draw(st.sampled_from(["command", "args", "env"]))
        text = draw(st.sampled_from(["{}", "--{name}={}", "{name}:{}"])).format(
            placeholder(name), name=name)
        if where == "command":
            command.append(text)
        elif where == "args":
            args.append(text)
        else:
            env[env_name] = text
    fields: dict[str, Any] = {"command": command}
    if args or draw(st.booleans()):
        fields["args"] = args
    if env or draw(st.booleans()):
        fields["env"] = env
    return fields


@st.composite
def container_trial(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    trial = {"image": draw(IMAGES), **draw(container_fields(names))}
    # a GPU count is a whole number (Kubernetes refuses "500m" of an extended resource)
    amounts = st.dictionaries(st.sampled_from(["cpu", "memory"]), QUANTITIES, max_size=2) | \
        st.fixed_dictionaries({"nvidia.com/gpu": st.sampled_from(["1", "2", "8"])})
    resources = {kind: draw(amounts)
                 for kind in draw(st.lists(st.sampled_from(["limits", "requests"]),
                                           unique=True))}
    if resources:
        trial["resources"] = resources
    working_dir = draw(st.none() | ABSOLUTE_PATHS)
    if working_dir is not None:
        trial["working_dir"] = working_dir
    return trial


def _k8s_container(name: str, image: str, fields: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, "command": fields["command"]}
    if fields.get("args"):
        c["args"] = fields["args"]
    if fields.get("env"):
        c["env"] = [{"name": k, "value": v} for k, v in fields["env"].items()]
    return c


@st.composite
def raw_trial_spec(draw: st.DrawFn, form: str, primary: str, names: list[str],
                   labels: dict[str, str]) -> dict[str, Any]:
    container = _k8s_container(primary, draw(IMAGES), draw(container_fields(names)))
    if form == "pytorchjob":
        replicas = {"Master": {"replicas": 1, "restartPolicy": "OnFailure",
                               "template": {"spec": {"containers": [container]}}}}
        workers = draw(st.integers(0, 3))
        if workers:
            replicas["Worker"] = {"replicas": workers, "restartPolicy": "OnFailure",
                                  "template": {"spec": {"containers": [
                                      copy.deepcopy(container)]}}}
        return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
                "spec": {"pytorchReplicaSpecs": replicas}}
    if form == "job":  # not the short form: it has metadata and more Job fields
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"labels": labels, "annotations": {"team": "automl"}},
                "spec": {"backoffLimit": draw(st.integers(0, 3)),
                         "template": {"spec": {"containers": [container],
                                               "restartPolicy": "Never"}}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "spec": {"entrypoint": "main",
                     "templates": [{"name": "main", "container": container}]}}


@st.composite
def trial(draw: st.DrawFn, assignments: list[str], collector: dict[str, Any]) -> dict[str, Any]:
    form = draw(st.sampled_from(["container", "pytorchjob", "container", "job", "container",
                                 "configmap", "workflow"]))
    labels = draw(st.dictionaries(st.sampled_from(["app", "team", "tier"]), DNS_NAMES,
                                  max_size=2)) if form == "job" else {}
    tps = draw(trial_parameters(assignments, labels))
    names = [tp["name"] for tp in tps] if tps is not None else list(assignments)
    t: dict[str, Any] = {"metrics_collector": collector}
    if tps is not None:
        t["trial_parameters"] = tps
    if form == "container":
        t.update(draw(container_trial(names)))
        if draw(st.booleans()):
            t["primary_container_name"] = draw(DNS_NAMES)
    elif form == "configmap":
        t["config_map"] = {"name": draw(DNS_NAMES), "namespace": draw(DNS_NAMES),
                           "template_path": draw(st.sampled_from(["trial.yaml",
                                                                  "defaultTrialTemplate.yaml"]))}
    else:
        primary = draw(st.sampled_from(["training-container", "pytorch", "main"]))
        t["primary_container_name"] = primary
        t["trial_spec"] = draw(raw_trial_spec(form, primary, names, labels))
    # Katib defaults the conditions only for the kinds it knows.
    needs_conditions = form in ("workflow", "configmap")
    for key in ("success_condition", "failure_condition"):
        value = draw(CONDITIONS) if needs_conditions else draw(st.none() | CONDITIONS)
        if value is not None:
            t[key] = value
    pod_labels = draw(st.none() | st.dictionaries(st.sampled_from(["job-role", "replica"]),
                                                  DNS_NAMES, max_size=2))
    if pod_labels is not None:
        t["primary_pod_labels"] = pod_labels
    if draw(st.booleans()):
        t["retain"] = draw(st.booleans())
    return t


# ---- the experiment -------------------------------------------------------------------------


@st.composite
def experiment_specs(draw: st.DrawFn, algorithm: str | None = None) -> ExperimentSpec:
    """A valid ExperimentSpec for ``algorithm`` (drawn when None): one of the seven
    hyperparameter-tuning algorithms, or ENAS."""
    data: dict[str, Any] = {"name": draw(EXPERIMENT_NAMES), "objective": draw(objective())}
    namespace = draw(st.none() | DNS_NAMES)
    if namespace is not None:
        data["namespace"] = namespace
    name = algorithm or draw(st.sampled_from(ALGORITHM_NAMES))
    if name == "enas":
        data["nas"] = draw(nas_config())
        assignments = list(NAS_ASSIGNMENTS)
        combinations = None
    else:
        data["parameters"], combinations = draw(search_space(name))
        assignments = [p["name"] for p in data["parameters"]]
        if name != "grid":
            combinations = None
    data["algorithm"] = {"name": name,
                         "settings": draw(algorithm_settings(ALGORITHMS[name].settings))}
    data["budget"] = draw(budget(combinations))
    collector = draw(metrics_collector())
    if collector["kind"] in ("StdOut", "File") and draw(st.booleans()):
        data["early_stopping"] = {
            "name": "medianstop",
            "settings": draw(algorithm_settings(EARLY_STOPPING["medianstop"])),
        }
    resume = draw(st.sampled_from([None, "Never", "LongRunning", "FromVolume"]))
    if resume is not None:
        data["resume_policy"] = resume
    data["trial"] = draw(trial(assignments, collector))
    return ExperimentSpec.model_validate(data)


# ---- the properties -------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHM_NAMES)
@settings(PROPERTY_SETTINGS, max_examples=32)
@given(data=st.data())
def test_valid_spec_round_trips_through_the_katib_experiment(algorithm: str,
                                                             data: st.DataObject) -> None:
    spec = data.draw(experiment_specs(algorithm), label="spec")
    assert check(spec) == []  # the strategy builds only specs Katib accepts
    experiment = to_katib(spec)
    assert experiment.to_dict() == katib_dict(spec)
    assert from_katib(experiment) == spec


def features(spec: ExperimentSpec) -> set[str]:
    """What a spec exercises, in the words of the module docstring."""
    t, mc = spec.trial, spec.trial.metrics_collector
    found = {f"collector:{mc.kind}",
             *(f"type:{p.type}" for p in spec.parameters),
             *(f"distribution:{p.distribution}" for p in spec.parameters)}
    if mc.format == "JSON":
        found.add("collector:File:JSON")
    if mc.filter:
        found.add(f"collector:{mc.kind}:filter")
    if spec.early_stopping is not None:
        found.add("early_stopping")
    if t.is_container:
        found.add("trial:container")
        found.update(f"trial:container:{f}" for f in ("args", "env", "resources", "working_dir")
                     if getattr(t, f))
    elif t.config_map is not None:
        found.add("trial:config_map")
    else:
        found.add(f"trial:{t.trial_spec['kind']}")
    if t.trial_parameters is not None:
        found.add("trial:explicit_parameters")
        for tp in t.trial_parameters:
            if tp.reference.startswith("${"):
                found.add("trial:metadata_reference")
            elif tp.name in spec.assignment_names and tp.name != tp.reference:
                found.add("trial:shuffled_names")
            elif tp.name != tp.reference:
                found.add("trial:fresh_names")
    if spec.objective.goal is not None:
        found.add("objective:goal")
    if spec.objective.additional_metrics:
        found.add("objective:additional_metrics")
    if spec.objective.metric_strategies:
        found.add("objective:metric_strategies")
    if spec.budget.max_trials is not None and spec.algorithm.name == "grid":
        found.add("budget:grid_max_trials")
    return found


# Each algorithm is a case of the round-trip test; these are the other features.
EXPECTED_FEATURES = {
    *(f"type:{t}" for t in ("double", "int", "discrete", "categorical")),
    "distribution:uniform", "distribution:logUniform",
    *(f"collector:{k}" for k in ("StdOut", "File", "TensorFlowEvent", "Push")),
    "collector:File:JSON", "collector:StdOut:filter", "collector:File:filter",
    "early_stopping",
    "trial:container", "trial:container:args", "trial:container:env",
    "trial:container:resources", "trial:container:working_dir",
    "trial:PyTorchJob", "trial:Job", "trial:Workflow", "trial:config_map",
    "trial:explicit_parameters", "trial:metadata_reference", "trial:shuffled_names",
    "trial:fresh_names",
    "objective:goal", "objective:additional_metrics", "objective:metric_strategies",
    "budget:grid_max_trials",
}


def test_strategy_reaches_every_listed_feature() -> None:
    seen: set[str] = set()

    def saw_everything(spec: ExperimentSpec) -> bool:
        seen.update(features(spec))
        return seen >= EXPECTED_FEATURES

    # Generate (no shrinking) until every feature has turned up, for up to 1000 specs.
    search = settings(PROPERTY_SETTINGS, max_examples=1000, phases=[Phase.generate])
    with contextlib.suppress(NoSuchExample):
        find(experiment_specs(), saw_everything, settings=search)
    assert EXPECTED_FEATURES - seen == set()


# ---- settings written as strings (Katib's spelling) ------------------------------------------


@pytest.mark.parametrize("where", ["algorithm", "early_stopping"])
def test_numeric_setting_written_as_string_round_trips(where: str) -> None:
    data: dict[str, Any] = {
        "name": "demo",
        "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random"},
        "budget": {"max_trials": 10, "parallel_trials": 2},
        "parameters": [{"name": "lr", "type": "double", "min": 0.001, "max": 0.1}],
        "trial": {"image": "python:3.11-slim",
                  "command": ["python", "train.py", "--lr=${trialParameters.lr}"]},
    }
    if where == "algorithm":
        data["algorithm"]["settings"] = {"random_state": "7"}
    else:
        data["early_stopping"] = {"name": "medianstop", "settings": {"start_step": "2"}}
    spec = ExperimentSpec.model_validate(data)
    assert check(spec) == []
    assert from_katib(to_katib(spec)) == spec

