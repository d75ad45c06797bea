"""Write docs/reference.md from the code, so the reference cannot drift from it.

Run ``python docs/generate_reference.py`` after changing a spec model, an algorithm's settings,
a local sampler or a CLI option; ``tests/test_reference.py`` fails until you do.

Generated from the code: the experiment-file table (walking ``ExperimentSpec.model_fields``),
the algorithm tables (``ALGORITHMS``, ``EARLY_STOPPING``, ``SAMPLERS``) and the CLI reference
(``--help`` of every command, rendered in-process). The prose and the field → Katib mapping
below are hand-written; a model field without an entry in ``FIELDS`` (or an entry for a field
that no longer exists) stops the generator with an error.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from typer.main import get_command
from typer.testing import CliRunner

from automl.cli import app
from automl.local import medianstop, samplers
from automl.spec import ExperimentSpec
from automl.spec._base import Number, Scalar
from automl.spec.algorithms import ALGORITHMS, EARLY_STOPPING
from automl.spec.deviations import DEVIATIONS
from automl.spec.settings import Setting

OUTPUT = Path(__file__).resolve().parent / "reference.md"

# ---- the experiment file: our field path → (Katib field, notes) ---------------------------
# Paths use YAML names (aliases); "[]" marks a list item. Katib fields are paths in the
# Experiment (kubeflow.org/v1beta1); "—" means the field has no Katib counterpart.

_JOB = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0]"
FIELDS: dict[str, tuple[str, str]] = {
    "name": ("metadata.name", "lower-case letters, digits and `-`, at most 40 characters"),
    "namespace": ("metadata.namespace", "katib backend: `--namespace` or the kubeconfig "
                  "context's when omitted"),
    "objective": ("spec.objective", ""),
    "objective.metric": ("spec.objective.objectiveMetricName",
                         "the name exactly as the trial reports it"),
    "objective.type": ("spec.objective.type", ""),
    "objective.goal": ("spec.objective.goal",
                       "the experiment succeeds once the best trial reaches it"),
    "objective.additional_metrics": ("spec.objective.additionalMetricNames",
                                     "collected and stored, not optimised"),
    "objective.metric_strategies": (
        "spec.objective.metricStrategies[]",
        "`{metric: strategy}` becomes `{name, value}` items; how one value per trial is "
        "taken from the reports; default `min` when minimising, "
        "`max` when maximising (Katib's webhook default); an entry is written for every metric"),
    "algorithm": ("spec.algorithm", "see [Algorithms](#3-algorithms)"),
    "algorithm.name": ("spec.algorithm.algorithmName", "a name from the algorithm table"),
    "algorithm.settings": ("spec.algorithm.algorithmSettings[]",
                           "`{name: value}` becomes `{name, value}` items, values as strings; "
                           "Katib's setting names, checked against the algorithm table"),
    "early_stopping": ("spec.earlyStopping", "omit for none"),
    "early_stopping.name": ("spec.earlyStopping.algorithmName", "`medianstop`"),
    "early_stopping.settings": ("spec.earlyStopping.algorithmSettings[]",
                                "see the early-stopping table"),
    "budget": ("—", "three fields of the Experiment's spec"),
    "budget.max_trials": ("spec.maxTrialCount",
                          "completed trials after which the experiment succeeds; none: no limit"),
    "budget.parallel_trials": ("spec.parallelTrialCount", "trials running at once"),
    "budget.max_failed_trials": ("spec.maxFailedTrialCount",
                                 "failed (or MetricsUnavailable) trials after which it fails"),
    "parameters": ("spec.parameters[]", "the search space (hyperparameter algorithms)"),
    "parameters[].name": ("spec.parameters[].name",
                          "filled into `${trialParameters.<name>}` by default"),
    "parameters[].type": ("spec.parameters[].parameterType",
                          "`double`/`int` take min, max (step); `discrete` and `categorical` "
                          "take list"),
    "parameters[].min": ("spec.parameters[].feasibleSpace.min",
                         "written as a string; what each algorithm draws from min..max: "
                         "section 3"),
    "parameters[].max": ("spec.parameters[].feasibleSpace.max",
                         "written as a string; what each algorithm draws from min..max: "
                         "section 3"),
    "parameters[].step": ("spec.parameters[].feasibleSpace.step",
                          "needed by grid for doubles, by pbt for int and double; each service "
                          "reads it its own way (section 3)"),
    "parameters[].list": ("spec.parameters[].feasibleSpace.list",
                          "the choices, kept as text: a trial receives the item as written "
                          "(`\"0.10\"` stays `0.10`; an unquoted YAML number as compile "
                          "writes it, `5.0` as `5`); Python attribute: `values`"),
    "parameters[].distribution": ("spec.parameters[].feasibleSpace.distribution",
                                  "read by hyperopt (random, tpe) and the Optuna service (grid, "
                                  "multivariate-tpe: uniform and logUniform only); cmaes, "
                                  "sobol, bayesianoptimization and hyperband ignore it"),
    "nas": ("spec.nasConfig", "neural-architecture search (enas, darts) instead of parameters"),
    "nas.graph": ("spec.nasConfig.graphConfig", ""),
    "nas.graph.num_layers": ("spec.nasConfig.graphConfig.numLayers", "required by enas and darts"),
    "nas.graph.input_sizes": ("spec.nasConfig.graphConfig.inputSizes", "required by enas"),
    "nas.graph.output_sizes": ("spec.nasConfig.graphConfig.outputSizes", "required by enas"),
    "nas.operations": ("spec.nasConfig.operations[]", "at least one"),
    "nas.operations[].type": ("spec.nasConfig.operations[].operationType",
                              "free text the trial code interprets"),
    "nas.operations[].parameters": ("spec.nasConfig.operations[].parameters[]",
                                    "at least one; int parameters need a step"),
    "trial": ("spec.trialTemplate", "the short form (image, command, ...) or trial_spec or "
              "config_map"),
    "trial.image": (f"{_JOB}.image", "the short form is a batch/v1 Job with one container; "
                    "required on a cluster, ignored locally"),
    "trial.command": (f"{_JOB}.command", "an argument list with `${trialParameters.x}` "
                      "placeholders; run without a shell locally"),
    "trial.args": (f"{_JOB}.args", "appended to command"),
    "trial.env": (f"{_JOB}.env[]", "`{NAME: value}` becomes `{name, value}` items"),
    "trial.resources": (f"{_JOB}.resources", "e.g. `{limits: {cpu: \"1\", memory: 2Gi}}`; "
                        "locally `nvidia.com/gpu` gives each running trial that many GPUs of "
                        "its own (`CUDA_VISIBLE_DEVICES`), and no more trials run at once than "
                        "the GPUs this process sees allow"),
    "trial.working_dir": (f"{_JOB}.workingDir", ""),
    "trial.active_deadline_seconds": (
        "spec.trialTemplate.trialSpec.spec.activeDeadlineSeconds",
        "a trial running longer fails; with trial_spec, set it in the Job"),
    "trial.trial_spec": ("spec.trialTemplate.trialSpec",
                         "any Kubernetes object Katib runs (Job, TFJob, PyTorchJob, TrainJob, "
                         "...)"),
    "trial.config_map": ("spec.trialTemplate.configMap", "a template stored in a ConfigMap"),
    "trial.config_map.name": ("spec.trialTemplate.configMap.configMapName", ""),
    "trial.config_map.namespace": ("spec.trialTemplate.configMap.configMapNamespace", ""),
    "trial.config_map.template_path": ("spec.trialTemplate.configMap.templatePath", ""),
    "trial.primary_container_name": ("spec.trialTemplate.primaryContainerName",
                                     "also the container's name in the short form"),
    "trial.primary_pod_labels": ("spec.trialTemplate.primaryPodLabels",
                                 "defaulted per kind as Katib does (e.g. the master replica)"),
    "trial.success_condition": ("spec.trialTemplate.successCondition",
                                "GJSON; defaulted per kind as Katib does"),
    "trial.failure_condition": ("spec.trialTemplate.failureCondition",
                                "GJSON; defaulted per kind as Katib does"),
    "trial.trial_parameters": ("spec.trialTemplate.trialParameters[]",
                               "default: one per parameter (or NAS assignment), named like it"),
    "trial.trial_parameters[].name": ("spec.trialTemplate.trialParameters[].name",
                                      "written `${trialParameters.<name>}`"),
    "trial.trial_parameters[].reference": (
        "spec.trialTemplate.trialParameters[].reference",
        "a parameter, a NAS assignment or trial metadata such as `${trialSpec.Name}`"),
    "trial.trial_parameters[].description": ("spec.trialTemplate.trialParameters[].description",
                                             ""),
    "trial.retain": ("spec.trialTemplate.retain", "keep the trial's resources after it ends"),
    "trial.metrics_collector": ("spec.metricsCollectorSpec", ""),
    "trial.metrics_collector.kind": (
        "spec.metricsCollectorSpec.collector.kind",
        "`None` collects nothing (local only); PrometheusMetric is refused (not in Katib's "
        "default katib-config)"),
    "trial.metrics_collector.path": (
        "spec.metricsCollectorSpec.source.fileSystemPath.path",
        "File: default `/var/log/katib/metrics.log`; TensorFlowEvent: default "
        "`/var/log/katib/tfevent/`; absolute; locally each trial gets its own, put where "
        "the command, args or the env the trial writes name the path whole (`/out/m`, "
        "`/out/m/x`, `--f=/out/m`; not `/out/model.pt`)"),
    "trial.metrics_collector.path_kind": ("spec.metricsCollectorSpec.source.fileSystemPath.kind",
                                          "Custom only (File for File, Directory for "
                                          "TensorFlowEvent)"),
    "trial.metrics_collector.format": ("spec.metricsCollectorSpec.source.fileSystemPath.format",
                                       "File only; default TEXT"),
    "trial.metrics_collector.filter": (
        "spec.metricsCollectorSpec.source.filter.metricsFormat",
        "RE2 regexes (Go's, as Katib's collector) with two groups, name then value, "
        "no `;`; default Katib's `name=value` regex"),
    "trial.metrics_collector.container": ("spec.metricsCollectorSpec.collector.customCollector",
                                          "Custom only: a Kubernetes Container"),
    "trial.local": ("metadata.annotations[\"automl.kubeflow.org/local-trial\"]",
                    "JSON; what the local engine runs instead; Katib ignores it"),
    "trial.local.command": ("—", "as trial.command, locally"),
    "trial.local.args": ("—", "as trial.args, locally"),
    "trial.local.env": ("—", "as trial.env, locally"),
    "trial.local.working_dir": ("—", "as trial.working_dir, locally"),
    "resume_policy": ("spec.resumePolicy", "pbt needs FromVolume"),
}

# Keys the loader reads that are not model fields.
LOADER_KEYS = [
    ("search_space", "string", "—", "—",
     "a file of `parameters` (and/or `nas`): a path, or a short name such as `sklearn/svm` "
     "looked up in `search_spaces/` folders (the file's folder and its parents, the current "
     "folder, then the library shipped with automl: `automl spaces list`); inline parameters "
     "override it by name. Read by `automl.load`, not a field of `ExperimentSpec`"),
]


class UndocumentedField(RuntimeError):
    """A model field has no entry in FIELDS, or an entry names no field."""


def _type(annotation: Any) -> str:
    """A type annotation as a reader would write it."""
    if annotation is Number:
        return "number"
    if annotation is Scalar:
        return "string \\| number"
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type(a) for a in args)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list[{_type(args[0])}]"
    if origin is dict:
        return f"map[{_type(args[0])}, {_type(args[1])}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"object ({annotation.__name__})"
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__)
    return str(annotation)


def _models(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside an annotation (``X``, ``X | None``, ``list[X]``), and whether listed."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for a in args:
            model, listed = _models(a)
            if model is not None:
                return model, listed
    if origin is list and args:
        model, _ = _models(args[0])
        return model, True
    return None, False


def _yaml(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        data = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return f"`{_yaml(data)}`" if data else "its fields' defaults"
    if value is None:
        return "none"
    return f"`{_yaml(value)}`"


def field_rows(model: type[BaseModel] = ExperimentSpec, prefix: str = "",
               seen: dict[type, str] | None = None) -> list[tuple[str, str, str, str, str]]:
    """(path, type, default, Katib field, notes) for every field, depth first.

    Raises:
        UndocumentedField: For a field without an entry in FIELDS.
    """
    seen = {} if seen is None else seen
    rows = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        if path not in FIELDS:
            raise UndocumentedField(
                f"{model.__name__}.{name}: no entry {path!r} in FIELDS of {__file__}; add its "
                "Katib field and notes there")
        katib, notes = FIELDS[path]
        inner, listed = _models(field.annotation)
        below = f"{path}[]." if listed else f"{path}."
        if inner is not None and inner in seen:
            notes = "; ".join(n for n in (notes, f"each with the fields of `{seen[inner]}`") if n)
        rows.append((path, _type(field.annotation), _default(field), katib, notes))
        if inner is not None and inner not in seen:
            seen[inner] = below.rstrip(".")
            rows += field_rows(inner, below, seen)
    return rows


def _check_fields(rows: list[tuple[str, ...]]) -> None:
    stale = sorted(set(FIELDS) - {r[0] for r in rows})
    if stale:
        raise UndocumentedField(f"FIELDS in {__file__} names fields that no longer exist: "
                                + ", ".join(stale))


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if "\\|" not in text else text


def experiment_table() -> str:
    rows = field_rows()
    _check_fields(rows)
    lines = ["| field | type | default | Katib field | notes |", "| --- | --- | --- | --- | --- |"]
    for path, kind, default, katib, notes in [*rows, *LOADER_KEYS]:
        katib_cell = katib if katib == "—" else f"`{katib}`"
        lines.append(f"| `{path}` | {kind} | {_cell(default)} | {katib_cell} | {notes} |")
    return "\n".join(lines)


# ---- algorithms ------------------------------------------------------------------------------

_CALL = re.compile(r"\b(_\w+)\(")
_SAMPLER = re.compile(r"\b(?:optuna\.samplers\.)?(\w*Sampler)\(")

# Extra words for the local column, by algorithm (the sampler itself is read from the code).
LOCAL_NOTES = {
    "tpe": "as hyperopt: its gamma and prior weight, no endpoints, univariate, no constant "
           "liar, a random first batch of `parallel_trials`",
    "multivariate-tpe": "Katib's arguments (multivariate, constant liar) and Optuna 3.3.0's "
                        "defaults for the rest",
    "cmaes": "no IPOP/BIPOP restarts (a warning says so); a `sigma` <= 0 or a `random_state` "
             "outside 0..2**32-1, which goptuna takes, is replaced (a warning says so)",
    "bayesianoptimization": "needs PyTorch: `pip install -e '.[gp]'`",
    "hyperband": "configurations sampled at random, in Katib's brackets of successive halving "
                 "(`automl.local.hyperband`)",
    "pbt": "nothing sampled by Optuna: the population of Katib's pbt service decides every "
           "value (`automl.local.pbt_queue`); each trial's checkpoint folder is "
           "`<trial>/checkpoint` in the experiment's run folder (e.g. "
           "`.automl/runs/<experiment>/<trial>/checkpoint`), put where the trial names "
           "`suggestion_trial_dir` and in `$AUTOML_CHECKPOINT_DIR` (`automl.local.pbt`)",
    "enas": "multivariate, constant liar, over one choice per layer (`layer_<i>`: an operation "
            "id) and per possible skip (`skip_<i>_<j>`), turned into Katib's `architecture` and "
            "`nn_config` (`automl.spec.nas_assignments`); the controller settings apply on Katib "
            "only; "
            "seed with `automl run --seed`",
    "darts": "nothing to sample: every trial gets Katib's three arguments and trains the "
             "supernet itself",
}

# Modules besides the sampler factory that read an algorithm's settings locally.
LOCAL_MODULES = {
    "hyperband": ["automl.local.hyperband"],
    "pbt": ["automl.local.pbt", "automl.local.pbt_queue"],
}


def _source(function: Any, depth: int = 0) -> str:
    """A factory's source and that of the module functions it calls (two levels)."""
    text = textwrap.dedent(inspect.getsource(function))
    if depth < 2:
        for name in dict.fromkeys(_CALL.findall(text)):
            callee = getattr(samplers, name, None)
            if inspect.isfunction(callee) and callee is not function:
                text += "\n" + _source(callee, depth + 1)
    return text


def _strings(source: str) -> list[str]:
    """The string constants in Python source, in order."""
    return list(dict.fromkeys(node.value for node in ast.walk(ast.parse(source))
                              if isinstance(node, ast.Constant) and isinstance(node.value, str)))


def _sampler_names(text: str) -> list[str]:
    names = []
    for name in dict.fromkeys(_SAMPLER.findall(text)):
        found = getattr(samplers, name, None)
        if inspect.isclass(found):  # a local subclass: name the Optuna class it extends
            base = next(b for b in found.__mro__[1:] if b.__module__.startswith("optuna"))
            name = base.__name__
        names.append(name)
    return names


def local_sampler(name: str) -> str:
    factory = samplers.SAMPLERS.get(name)
    if factory is None:
        return "not run locally"
    text = _source(factory)
    classes_text = text
    if name in LOCAL_MODULES:
        text += "".join(inspect.getsource(importlib.import_module(m))
                        for m in LOCAL_MODULES[name])
    classes = ", ".join(f"`{n}`" for n in _sampler_names(classes_text)) or f"`{factory.__name__}`"
    settings = ALGORITHMS[name].settings if name in ALGORITHMS else {}
    read = [s for s in settings if s in _strings(text)]
    parts = [classes]
    if name in LOCAL_NOTES:
        parts.append(LOCAL_NOTES[name])
    parts.append("reads " + ", ".join(f"`{s}`" for s in read) if read else "reads no setting")
    return "; ".join(parts)


def _settings(settings: dict[str, Setting]) -> str:
    if not settings:
        return "none"
    return "<br>".join(f"`{n}`: {s.expected}{' (**required**)' if s.required else ''}"
                       for n, s in settings.items())


def algorithm_table() -> str:
    lines = ["| algorithm | Katib suggestion service | kind | settings (what the service "
             "accepts) | local (Optuna) |", "| --- | --- | --- | --- | --- |"]
    for name, a in ALGORITHMS.items():
        kind = f"NAS (assigns {', '.join(a.assignments)})" if a.nas else "hyperparameters"
        lines.append(f"| `{name}` | {a.service} | {kind} | {_settings(a.settings)} | "
                     f"{local_sampler(name)} |")
    unknown = sorted(set(samplers.SAMPLERS) - set(ALGORITHMS))
    if unknown:
        raise UndocumentedField(f"SAMPLERS has algorithms ALGORITHMS lacks: {unknown}")
    return "\n".join(lines)


DEVIATIONS_INTRO = """\
## 6. Where a local run differs from Katib

Katib's behaviour is the specification. Where it is a defect of Katib (it stalls, or a value
that is not a number becomes the best), a local run does the sane thing instead, and says
what Katib will do: `validate --katib` and `compile` warn when the experiment file shows it,
and the trial's line says it when only a run shows it.
Anything else runs locally as Katib runs it, except the search itself where section 3 names
an Optuna stand-in (tpe, cmaes, bayesianoptimization, enas): it draws from the same values,
but learns from the results its own way. Generated from `automl.spec.deviations.DEVIATIONS`.
"""


def deviations_table() -> str:
    lines = ["| what | Katib | locally | Katib source | warned |",
             "| --- | --- | --- | --- | --- |"]
    for d in DEVIATIONS:
        warned = "at validate --katib / compile" if d.check else "on the trial's line"
        lines.append(f"| `{d.key}` | {d.katib} | {d.local} | `{d.source}` | {warned} |")
    if not DEVIATIONS:
        lines.append("| — | none known | | | |")
    return "\n".join(lines)


def early_stopping_table() -> str:
    local_source = inspect.getsource(medianstop)
    lines = ["| early stopping | settings (what the service accepts) | local |",
             "| --- | --- | --- |"]
    for name, settings in EARLY_STOPPING.items():
        local = (f"Katib's rule (`{medianstop.__name__}`)" if f'"{name}"' in local_source
                 else "not run locally")
        lines.append(f"| `{name}` | {_settings(settings)} | {local} |")
    return "\n".join(lines)


# ---- the successor: OptimizationJob (docs/optimization_job.yaml) ---------------------------

SUCCESSOR = OUTPUT.parent / "optimization_job.yaml"


def successor_section() -> str:
    """Section 7; every row names a spec field, and every top-level field has a row."""
    data = yaml.safe_load(SUCCESSOR.read_text(encoding="utf-8"))
    rows = data["rows"]
    unknown = [r["automl"] for r in rows if r["automl"] not in FIELDS]
    covered = {r["automl"].split(".")[0].removesuffix("[]") for r in rows}
    missing = sorted({f.alias or n for n, f in ExperimentSpec.model_fields.items()} - covered)
    if unknown or missing:
        raise UndocumentedField(f"{SUCCESSOR.name}: rows for no spec field {unknown}; "
                                f"top-level fields without a row {missing}")
    lines = [data["intro"], "| automl | OptimizationJob (trainer.kubeflow.org/v1alpha1) | "
             "`OptimizerClient.optimize()` (kubeflow 0.5) |", "| --- | --- | --- |"]
    others = ", ".join(n for n in ALGORITHMS if n not in ("random", "grid"))
    lines += [f"| `{r['automl']}` | {_cell(r['job'].replace('OTHER_ALGORITHMS', others))} | "
              f"{_cell(r['sdk'])} |" for r in rows]
    return "\n".join(lines)


# ---- the CLI ---------------------------------------------------------------------------------

HELP_ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "FORCE_COLOR": None,
            "CLICOLOR_FORCE": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None,
            "LINES": None, "JUPYTER_COLUMNS": None, "KFP_TOKEN": None}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def commands() -> list[list[str]]:
    """Every command path, in the order the app lists them: [], ["run"], ["pipeline", ...]."""
    root = get_command(app)
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        if hasattr(command, "list_commands"):  # a group (typer vendors click: no isinstance)
            ctx = command.context_class(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

    walk(root, [])
    return found


def help_text(path: list[str]) -> str:
    """The help as a terminal 100 columns wide shows it (a pipe gets Click's plain text)."""
    from unittest import mock

    with mock.patch("automl._cli_help.on_terminal", lambda stream: True):
        result = CliRunner().invoke(app, [*path, "--help"], env=HELP_ENV)
    if result.exit_code != 0:
        raise RuntimeError(f"automl {' '.join(path)} --help exited {result.exit_code}:\n"
                           f"{result.output}")
    lines = [line.rstrip() for line in _ANSI.sub("", result.output).splitlines()]
    return "\n".join(lines).strip("\n")


def cli_reference() -> str:
    parts = []
    for path in commands():
        title = " ".join(["automl", *path])
        parts.append(f"### `{title}`\n\n```text\n{help_text(path)}\n```")
    return "\n\n".join(parts)


# ---- the document ----------------------------------------------------------------------------

HEADER = """\
# automl reference

<!-- Generated by docs/generate_reference.py: edit that file, then run
     `python docs/generate_reference.py`. tests/test_reference.py checks this file is current. -->

1. [Concepts](#1-concepts)
2. [The experiment file](#2-the-experiment-file)
3. [Algorithms](#3-algorithms)
4. [CLI reference](#4-cli-reference)
5. [From local to Katib to a pipeline](#5-from-local-to-katib-to-a-pipeline)
6. [Where a local run differs from Katib](#6-where-a-local-run-differs-from-katib)
7. [Katib's successor: OptimizationJob](#7-katibs-successor-optimizationjob-and-the-kubeflow-sdk)
"""

CONCEPTS = """\
## 1. Concepts

- **Experiment** — one tuning job: an objective, a search space, an algorithm, a budget and a
  trial template (Katib's `Experiment`, `kubeflow.org/v1beta1`). automl reads its own format
  or any Katib Experiment YAML into one model, `automl.ExperimentSpec`, and checks Katib's rules
  (the admission webhook and each suggestion service's checks) before anything runs.
- **Search space** — `parameters` (hyperparameters) or `nas` (an architecture graph and
  operations, for enas and darts). `search_space:` pulls parameters from a reusable file.
- **Neural-architecture search** — an operation's parameter values multiply into operation
  ids. With `enas` each trial receives `architecture` (per layer `[op_id, skip_0, ...]`, a
  skip flag for each earlier layer) and `nn_config` (the graph sizes and the chosen
  operations by id), written exactly as Katib's ENAS service writes them: JSON with single
  quotes (`json.loads(value.replace("'", '"'))` reads them). With `darts` every trial receives
  `algorithm-settings`, `search-space` (e.g. `['max_pooling_3x3', 'skip_connection']`) and
  `num-layers`, trains the supernet itself and prints `Best-Genotype=Genotype(...)`. The
  trials table then has an `architecture` column: the ENAS layers in words, or the genotype.
- **Population-based training** — `pbt` trains a population of `n_population` trials a few
  epochs at a time: each trial resumes from the checkpoint folder it finds at
  `suggestion_trial_dir` (filled with its parent's), trains and saves. Once more than
  `n_population` trials have completed, the next generation is made: the bottom
  `truncation_threshold` of them copy a top trial, values and checkpoint, and the rest go on
  from their own with values moved by ×0.8 or ×1.2 (or resampled with `resample_probability`).
  Locally a trial's folder is `<trial>/checkpoint` in the experiment's run folder (e.g.
  `.automl/runs/<experiment>/<trial>/checkpoint`), put where the command or env names
  `suggestion_trial_dir` and in `$AUTOML_CHECKPOINT_DIR`; the trials table
  has `generation` and `parent` columns, and learning curves follow each lineage. A child's
  copy of its parent's folder keeps symlinks as links (a link to a dataset is not copied); a
  FIFO, socket, device or unreadable file in it is skipped with a warning naming it.
- **Parameters** — Katib's four types: `double` and `int` (a range `min`..`max`, an optional
  `step`), `discrete` and `categorical` (a `list`); `distribution` is `uniform`, `logUniform`,
  `normal` or `logNormal`. Which values a range gives depends on the algorithm's Katib
  service, and a local run draws them the same way ([section 3](#3-algorithms)): with `random`
  an `int` 1..10 step 2 gives 2, 4, 6, 8 and 10; with `multivariate-tpe` 1, 3, 5, 7 and 9.
  Trials receive values as strings, as on Katib: a list item as written (`"0.10"`, `"1e-3"`).
- **Objective** — the metric to optimise (`metric`), `minimize` or `maximize`, an optional
  `goal`, `additional_metrics` to collect. A **metric strategy** (`min`, `max` or `latest`)
  says how one value per trial is taken from its reports; the default is the best value
  (`min` when minimising, `max` when maximising), not the last.
- **Algorithm** — a Katib algorithm name and its settings, as the suggestion service takes
  them ([table](#3-algorithms)); locally an Optuna sampler stands in for the service.
- **Early stopping** — `medianstop` (Katib's only one): once `min_trials_required` trials
  (default 3) have succeeded, each new trial gets a rule: the mean over succeeded trials of
  their first `start_step` (default 4) objective values. At its `start_step`-th report a trial
  whose best value so far is worse than the rule is stopped (EarlyStopped). Despite the name,
  a mean, not a median.
- **Budget** — `max_trials` (Katib's maxTrialCount: completed trials after which the
  experiment succeeds), `parallel_trials` (parallelTrialCount, default 3),
  `max_failed_trials` (maxFailedTrialCount: the experiment fails past it). The experiment also
  succeeds when the goal is reached. Locally, a trial cut short by the engine's own stop
  (Ctrl-C, SIGTERM, kill -9) counts toward neither limit and is replaced on resume, since on
  Katib it would have run to its end (deviation `cut-trials-uncounted`).
- **Trial template** — what each trial runs: the short form (`image`, `command`, `args`,
  `env`, `resources`, `working_dir`: a `batch/v1` Job with one container), a whole Kubernetes
  object (`trial_spec`) or a `config_map`. Placeholders `${trialParameters.x}` in the command,
  args or env are replaced by the value of trial parameter `x`; by default there is one trial
  parameter per search-space parameter (or NAS assignment), with the same name.
- **Metrics collectors** — how metrics leave a trial: `StdOut` (default; lines such as
  `accuracy=0.98`), `File` (`TEXT` or `JSON`), `TensorFlowEvent` (event files in a folder),
  `Push` (the trial calls `automl.report({...})`, Katib's `report_metrics`), `Custom` (your
  collector container, cluster only); `None` collects nothing (local runs only).
- **Trials and their conditions** — Katib's trial conditions, which every backend reports in
  the `status` column: `Pending` (created, not started), `Running`, `Succeeded` (ended with the
  objective metric), `Failed`, `EarlyStopped` (stopped by early stopping; its value counts),
  `MetricsUnavailable` (ended without the objective metric, or with a value that is not a
  finite number such as `nan`, `inf`, `abc` or the `-` Katib's default filter reads from
  `-inf`; the reason names the value; counts as failed) and `Killed` (stopped from outside,
  e.g. Ctrl-C or a deleted pod).
- **The best trial** — one rule for the run summary, progress, `automl status`, `automl best`,
  `Results.best()`, `df.automl.best()`, the report and the pipeline step, on either backend:
  Katib's currentOptimalTrial among Succeeded and EarlyStopped trials (the strictly best
  finite objective; the first trial keeps a tie). A text objective wins only for DARTS (its
  genotype; the last one reported); Katib would let any text win.
- **Backends** — `local` (this machine: trials are processes, the study is an Optuna storage,
  `.automl/studies.journal` by default), `katib` (the Experiment is created on a cluster and
  followed) and the **pipeline step** (a Kubeflow Pipelines v2 component that runs the
  experiment with either backend and outputs the best parameters, the trials table,
  TensorBoard logs, a Markdown summary and Metrics).
- **Local files** — `.automl/studies.journal` holds every experiment (Optuna's journal: one
  line per change, fsynced; a damaged line is skipped with a warning naming it), and
  `.automl/runs/<experiment>/` the trials' folders (logs, `observations.jsonl`), the engine's
  lock while it runs (what `logs -f` and `status --watch` follow), pbt's `pbt.json` and
  `status.json`. A run's folder belongs to its experiment in its storage, and is absolute, so
  commands in any folder given the same `--storage` read the same files
  (`automl.local.paths.runs_folder`): beside another storage file `F`, `F.runs/<experiment>/`
  (`runs/<experiment>/` only for a `studies.journal` in a folder named `.automl`: a
  project's own `runs/` is never written; `automl delete` removes only what automl wrote);
  for a database server, `.automl/runs-<scheme>-<hash of the URL without its password>/`
  of the folder the study was created from, its absolute path recorded in the study (on
  another machine it is absent: the tables load, `automl logs` names where the logs were).
  `status.json` is what `automl status` shows, saved by the engine as trials start and end. It
  is used only while the journal is the one it was saved from and nothing written since
  concerns the experiment (a checksum and a look at the records after it); otherwise status
  reads the journal, which takes about a second per 10,000 trials.
"""

EXPERIMENT_INTRO = """\
## 2. The experiment file

Every field of automl's format (YAML, or a mapping for `automl.load`), generated from the
pydantic models. Unknown keys are errors. "Katib field" is where `automl compile` writes it
in the Experiment; defaults Katib's webhook would fill in are written out explicitly. A
Katib Experiment YAML is accepted as well (`automl import` converts it).
"""

ALGORITHMS_INTRO = """\
## 3. Algorithms

Generated from `automl.spec.algorithms.ALGORITHMS` and `automl.local.samplers.SAMPLERS`.
Settings use Katib's names, and values are checked as the suggestion service checks them
(Katib passes them as strings); a name the service does not know is refused, except by
cmaes, sobol and hyperband (they ignore it; a warning says so) and darts (it hands it to the
trial in `algorithm-settings`). A value the service accepts and then fails on is refused
here, naming the field; one it replaces is run as replaced, with a warning. "local" names the
Optuna sampler `automl run` uses and the settings it reads; the others are accepted and sent
to Katib only.

Each service draws a parameter its own way, and a local run draws it from the same values
with the same weights and text (`automl.spec.draws`; `validate --katib` names, per
parameter, what Katib draws where it differs from the file):

"""


# How each suggestion service draws a parameter (automl.spec.draws): service, int/double, lists
_DRAWS = [
    ("hyperopt (random, tpe)",
     "a step (an int's is 1) rounds a draw to a multiple of it counted from 0: "
     "`round(x / step) * step`, the end values at the share of their cell inside min..max; "
     "logUniform draws `x` log-uniformly; normal / logNormal from "
     "N((min+max)/2, (max-min)/6)",
     "an item, each alike"),
    ("Optuna (grid, multivariate-tpe)",
     "Optuna's: from min by step (a step beyond max - min gives min); logUniform ignores the "
     "step, min raised to 1 (int) or 1e-10; grid: `range` / `numpy.arange`",
     "an item, each alike"),
    ("goptuna (cmaes, sobol)", "linear whatever the distribution; from min by step",
     "an item, each alike"),
    ("skopt (bayesianoptimization)",
     "int: every integer alike (step, distribution ignored); double: log-uniform always",
     "an item, each alike"),
    ("hyperband", "uniform within min..max (step, distribution ignored), an int rounded",
     "discrete: the item nearest a uniform draw (read with `int()`, written `str(int)`); "
     "categorical: each alike"),
]
ALGORITHMS_INTRO += "\n".join(
    ["| service (algorithms) | int / double | discrete, categorical |", "| --- | --- | --- |",
     *(f"| {a} | {b} | {c} |" for a, b, c in _DRAWS)]) + "\n"


CLI_INTRO = """\
## 4. CLI reference

The `--help` of every command, as `automl <command> --help` prints it (100 columns).
"""

STEPS = """\
## 5. From local to Katib to a pipeline

**1. On this machine.** Trials run as processes; results go to `.automl/`:

```console
$ automl validate examples/quickstart/experiment.yaml
$ automl run examples/quickstart/experiment.yaml
$ automl trials digits-svm --sort objective --top 5
```

**2. On a Katib cluster.** The same file, once `trial.image` holds what the trial's command
names: a file of the project (`examples/quickstart/train.py`) is in no stock image such as
`python:3.11-slim`, so `validate --katib` and `run --backend katib` refuse that (exit 2;
`run --force` submits anyway) and `--dry-run` and `compile` warn; `automl pipeline image
EXPERIMENT -o DIR --tag IMAGE` writes the build context of an image that holds it
(automl.trial_image). The cluster comes from the kubeconfig (or the
in-cluster service account; `--context` picks a kubeconfig context), the namespace from
`--namespace`, else the context's, else `default`. `--dry-run` prints the Experiment and
creates nothing; Ctrl-C stops following and leaves it running:

```console
$ automl run examples/quickstart/experiment.yaml --backend katib --dry-run
$ automl run examples/quickstart/experiment.yaml --backend katib --namespace team-a
$ automl status digits-svm --backend katib --namespace team-a
$ automl run examples/quickstart/experiment.yaml --backend katib --namespace team-a --resume
$ automl compile examples/quickstart/experiment.yaml -o katib.yaml   # or: kubectl apply -f
```

**3. As a Kubeflow Pipelines step.** An experiment file compiles to a tuning-only pipeline;
a Python file defining `pipeline` adds steps after it:

```console
$ automl pipeline compile examples/quickstart/experiment.yaml -o pipeline.yaml
$ automl pipeline run examples/pipeline/pipeline.py --local
$ automl pipeline submit examples/pipeline/pipeline.py --host http://localhost:8080 \\
    --experiment hpo --wait
```

```python
from automl.pipelines import tuning_pipeline

# then: a component taking best_params (JSON); backend="katib" tunes on the cluster
pipeline = tuning_pipeline("examples/quickstart/experiment.yaml", then=train, backend="katib")
```

The experiment, `backend` (default `local`: the trials run inside the step's pod) and
`timeout_minutes` are pipeline parameters of the compiled pipeline.
"""


def render() -> str:
    """The whole of docs/reference.md."""
    sections = [
        HEADER,
        CONCEPTS,
        EXPERIMENT_INTRO + "\n" + experiment_table() + "\n",
        ALGORITHMS_INTRO + "\n" + algorithm_table() + "\n\n" + early_stopping_table() + "\n",
        CLI_INTRO + "\n" + cli_reference() + "\n",
        STEPS,
        DEVIATIONS_INTRO + "\n" + deviations_table() + "\n",
        successor_section() + "\n",
    ]
    return "\n".join(sections)


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
