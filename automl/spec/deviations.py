"""Where a local run knowingly differs from Katib, and the warnings that say so.

Katib's behaviour is the specification. Where it is a defect of Katib (it stalls, or a value
that is not a number becomes the best), the local engine does the sane thing instead, and the
user is told what Katib will do: at ``validate --katib`` / ``compile`` time for what the spec
shows, on the trial's line for what only a run shows. Every such difference is one entry of
:data:`DEVIATIONS`; docs/reference.md lists them (a test keeps the list current).

To add one: write a :class:`Deviation` with the Katib file and function it comes from, and a
``check`` when the spec alone shows that the difference applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automl.spec.algorithms import hyperband_brackets
from automl.spec.draws import draw_findings
from automl.spec.errors import Finding, field_ref
from automl.spec.shell import shell_findings

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["DEVIATIONS", "Deviation", "altered_on_the_way", "deviation_findings"]


@dataclass(frozen=True)
class Deviation:
    """One knowing difference between a local run and Katib.

    Attributes:
        key: A short stable name, used in warnings and tests.
        katib: What Katib does.
        local: What the local engine does instead, and why.
        source: The Katib file and function the behaviour comes from.
        check: The findings for a spec this applies to (``None``: only a run shows it, and
            the trial's line says so).
    """

    key: str
    katib: str
    local: str
    source: str
    check: Callable[[ExperimentSpec], Iterable[Finding]] | None = None


# Katib writes each value into the trial template's JSON text (a quote ends the string, a
# backslash escapes, a control character is invalid JSON); Kubernetes then replaces $$ and
# $(NAME) in command, args and env.
_ALTERED = re.compile(r'["\\\x00-\x1f]|\$\$|\$\([A-Za-z_][A-Za-z0-9_]*\)')


def altered_on_the_way(value: str) -> bool:
    """Whether Katib's substitution or Kubernetes' expansion would change ``value``."""
    return _ALTERED.search(value) is not None


def _altered_values(spec: ExperimentSpec) -> Iterator[Finding]:
    for i, parameter in enumerate(spec.parameters):
        for j, value in enumerate(parameter.values or ()):
            if altered_on_the_way(str(value)):  # a number never is
                yield Finding(("parameters", i, "list", j),
                              f"the value {value!r} reaches local trials as it is, but not "
                              "Katib's")


def _hyperband_stall(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's controller asks for min(parallel, max - completed) - active new trials; the
    # hyperband service answers a following rung with ceil(k / eta) trials for a request of k
    # and the end of the schedule with none, so only a request of 1 is answered in full.
    settings = spec.algorithm.settings
    brackets = (hyperband_brackets(settings.get("r_l", "nan"), settings.get("eta", 3))
                if spec.algorithm.name == "hyperband" else None)
    if brackets is None:
        return
    parallel, max_trials = spec.budget.parallel_trials, spec.budget.max_trials
    limit = parallel + (1 if brackets[2] >= 1 else 0)
    if max_trials is not None and max_trials <= limit:
        return
    runs = ("its first rung, then the best configuration once more" if limit > parallel
            else "its first rung")
    yield Finding(("budget", "max_trials"),
                  f"on Katib this hyperband experiment stays Running after its first "
                  f"{parallel} trials; with {field_ref('budget', 'max_trials')} <= {limit} it "
                  f"ends instead, having run {runs}")


def _trial_name_used(spec: ExperimentSpec) -> Iterator[Finding]:
    # only written trial parameters name metadata (the default ones name the assignments)
    for i, tp in enumerate(spec.trial.trial_parameters or []):
        if tp.reference == "${trialSpec.Name}":
            yield Finding(("trial", "trial_parameters", i, "reference"),
                          f"${{trialParameters.{tp.name}}} is the trial's name: "
                          f"'{spec.name}-0000' here, '{spec.name}-' and 8 random characters on "
                          "Katib")


def _pbt(check: Callable[[ExperimentSpec], Iterable[Finding]]
         ) -> Callable[[ExperimentSpec], Iterable[Finding]]:
    """``check`` for pbt experiments only."""
    def checked(spec: ExperimentSpec) -> Iterable[Finding]:
        return check(spec) if spec.algorithm.name == "pbt" else ()
    return checked


@_pbt
def _pbt_exploit(spec: ExperimentSpec) -> Iterator[Finding]:
    if float(spec.algorithm.settings.get("truncation_threshold", 0)) > 0:
        yield Finding(("algorithm", "settings", "truncation_threshold"),
                      "on Katib a trial that exploits a better one copies its parameters but "
                      "goes on from its own checkpoint, not the better trial's")


@_pbt
def _pbt_resample(spec: ExperimentSpec) -> Iterator[Finding]:
    if "resample_probability" in spec.algorithm.settings:
        yield Finding(("algorithm", "settings", "resample_probability"),
                      "Katib's pbt service refuses every experiment that sets it (its check "
                      "compares the setting's text to numbers): the Suggestion, then the "
                      "Experiment, fail at once")


@_pbt
def _pbt_int_clip(spec: ExperimentSpec) -> Iterator[Finding]:
    for i, parameter in enumerate(spec.parameters):
        if parameter.type == "int":
            yield Finding(("parameters", i),
                          "on Katib a value perturbed past min or max reaches the trial as a "
                          f"float ('{parameter.max}.0'), and the service fails when it perturbs "
                          "that trial again")


@_pbt
def _pbt_push(spec: ExperimentSpec) -> Iterator[Finding]:
    if spec.trial.metrics_collector.kind == "Push":
        yield Finding(("trial", "metrics_collector", "kind"),
                      "with the Push collector Katib mounts no checkpoint folder at "
                      "suggestion_trial_dir: each trial starts from nothing")


@_pbt
def _pbt_request(spec: ExperimentSpec) -> Iterator[Finding]:
    population = int(spec.algorithm.settings.get("n_population", 0))
    if spec.budget.parallel_trials > population:
        yield Finding(("budget", "parallel_trials"),
                      f"on Katib, more parallel trials than n_population ({population}) can "
                      "ask the pbt service for more trials than a new generation holds: it "
                      "raises 'Pending queue is empty!', and the jobs it took for that "
                      "request never run")


@_pbt
def _pbt_restart(spec: ExperimentSpec) -> Iterator[Finding]:
    yield Finding(("resume_policy",),
                  "a pbt experiment on Katib does not continue after a restart: its service "
                  "kept the population in memory and fails on the first trial it does not know")


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "katib-draws",
        "each suggestion service draws a parameter its own way (automl.spec.draws): hyperopt "
        "(random, tpe) rounds to multiples of the step counted from 0, the end values at half "
        "weight, and can give a value outside [min, max] (`qloguniform` gives 0); its `normal` "
        "and `logNormal` are unbounded; goptuna (cmaes, sobol) never reads `distribution`; "
        "skopt ignores an int's step and draws every double log-uniformly; hyperband draws "
        "uniformly, rounds an int and takes the discrete item nearest its draw",
        "draws from the same domain with the same weights and text, except that a value "
        "outside [min, max] becomes the nearest bound, and a normal is kept within "
        "[min, max] (mu ± 3 sigma); `validate --katib` names each parameter's values or "
        "distribution where they differ from what the spec says",
        "pkg/suggestion/v1beta1/hyperopt/base_service.py: create_hyperopt_domain, convert; "
        "optuna/base_service.py: _get_optuna_search_space; goptuna/converter.go: "
        "toGoptunaSearchSpace; skopt/base_service.py: create_optimizer; "
        "hyperband/parsing_util.py: parse_x_next_vector",
        draw_findings),
    Deviation(
        "values-through-json",
        "writes each value into the trial's JSON text, so `\"`, `\\` or a control character "
        "breaks the trial or its arguments, and Kubernetes expands `$$` and `$(NAME)`",
        "passes the value to the trial as it is (an argument list, no JSON, no expansion)",
        "pkg/controller.v1beta1/experiment/manifest/generator.go: applyParameters",
        _altered_values),
    Deviation(
        "text-objective",
        "makes a trial whose objective value `strconv.ParseFloat` cannot read (`-` from "
        "`loss=-inf` under the default filter, `abc`) the best, the last such trial winning",
        "only DARTS's objective (its genotype) may be a text; any other such trial is "
        "MetricsUnavailable and never the best",
        "pkg/controller.v1beta1/experiment/util/status_util.go: updateTrialsSummary"),
    Deviation(
        "non-finite-objective",
        "compares `nan` and `inf` as numbers: an infinite value outranks every finite one, "
        "and a first `nan` is never beaten",
        "a trial whose objective is `nan` or infinite is MetricsUnavailable and never the best",
        "pkg/controller.v1beta1/experiment/util/status_util.go: updateTrialsSummary"),
    Deviation(
        "hyperband-requests",
        "the hyperband service answers a request with another number of trials than the "
        "controller asked for (a following rung, or the end of the schedule), the controller "
        "retries that request forever ('The response contains unexpected trials') and the "
        "experiment stays Running; ExperimentSuggestionEndReached is never set",
        "every rung of every bracket runs, then the experiment ends Succeeded with "
        "ExperimentSuggestionEndReached",
        "pkg/controller.v1beta1/experiment/experiment_controller.go: ReconcileTrials; "
        "pkg/controller.v1beta1/suggestion/suggestionclient/suggestionclient.go: "
        "SyncAssignments; pkg/suggestion/v1beta1/hyperband/service.py: "
        "HyperbandService._make_child_bracket",
        _hyperband_stall,
    ),
    Deviation(
        "hyperband-failed-rung",
        "a rung with a trial that did not succeed stops the schedule: the hyperband service "
        "raises 'There are some trials which are not completed yet' on every request",
        "the best of the rung's Succeeded trials go on; the line of the trial "
        "that did not succeed says what Katib does",
        "pkg/suggestion/v1beta1/hyperband/service.py: HyperbandService._get_top_trial",
    ),
    Deviation(
        "cut-trials-uncounted",
        "an experiment controller that restarts (or is killed) leaves its trials running: "
        "each ends by itself and counts toward maxTrialCount and maxFailedTrialCount with "
        "the condition it ends in, so no trial is cut short by the controller's stop",
        "the engine's stop ends its trials (Ctrl-C or SIGTERM: Killed, 'stopped by the "
        "experiment'; kill -9: Failed, 'interrupted' once a run resumes); those count toward "
        "neither max_trials nor max_failed_trials, and the resumed run replaces them "
        "(hyperband runs them again in their rung, pbt queues them again), so that the "
        "experiment completes as many trials as on Katib; a run that max_trials ends before "
        "hyperband ran every rung says which rungs it did not run",
        "pkg/controller.v1beta1/experiment/experiment_controller.go: ReconcileTrials; "
        "pkg/controller.v1beta1/experiment/util/status_util.go: "
        "UpdateExperimentStatusCondition",
    ),
    Deviation(
        "trial-names",
        "names each trial after the experiment and 8 random characters from "
        "bcdfghjklmnpqrstvwxz2456789 (e.g. 'mnist-x7kq2b9d')",
        "trials are named after the experiment and their number (mnist-0000, mnist-0001, ...): "
        "stable and sortable, so a resumed run finds them",
        "pkg/controller.v1beta1/suggestion/suggestionclient/suggestionclient.go: "
        "SyncAssignments (utilrand.String(8) of k8s.io/apimachinery/pkg/util/rand)",
        _trial_name_used,
    ),
    Deviation(
        key="shell-wrapped-command",
        katib="for the StdOut, File and TensorFlowEvent collectors the primary container's "
              "command and args are joined with spaces and run under sh -c, StdOut's output "
              "redirected to its metrics file after the last command",
        local="each trial runs as its argument list, without a shell, so a value is never "
              "split or expanded; automl run --katib-shell runs it as Katib does",
        source="pkg/webhook/v1beta1/pod/utils.go wrapWorkerContainer",
        check=shell_findings,
    ),
    Deviation(
        "pbt-exploit-checkpoint",
        "an exploit child gets a top trial's parameters but the replaced trial as its parent, "
        "so it starts from the replaced trial's own checkpoint",
        "an exploit child's parent is the top trial it copies: it starts from that trial's "
        "checkpoint with that trial's parameters (population-based training's exploit)",
        "pkg/suggestion/v1beta1/pbt/service.py: PbtJobQueue.generate",
        _pbt_exploit),
    Deviation(
        "pbt-resample-probability",
        "ValidateAlgorithmSettings compares the `resample_probability` text with 0 and 1, "
        "which raises TypeError: the Suggestion fails validation and the Experiment fails",
        "`resample_probability` in [0, 1] resamples each parameter with that probability "
        "instead of perturbing it, as the service's GetSuggestions would",
        "pkg/suggestion/v1beta1/pbt/service.py: PbtService.ValidateAlgorithmSettings",
        _pbt_resample),
    Deviation(
        "pbt-int-clip",
        "an int perturbed past min or max is clipped to a float and sent as `10.0`; "
        "perturbing that trial again raises ValueError (`int('10.0')`) in the service",
        "a clipped int stays an int (`10`)",
        "pkg/suggestion/v1beta1/pbt/service.py: HyperParameterSampler.perturb",
        _pbt_int_clip),
    Deviation(
        "pbt-push-checkpoint",
        "with the Push metrics collector the pod webhook returns before its mutations, the "
        "suggestion volume's mount included: trials get no checkpoint folder to share",
        "every trial gets its checkpoint folder, whatever the collector",
        "pkg/webhook/v1beta1/pod/inject_webhook.go: Mutate, mutateSuggestionVolume",
        _pbt_push),
    Deviation(
        "pbt-request-size",
        "GetSuggestions takes as many jobs from the queue as the controller asks for; when a "
        "new generation (n_population jobs) holds fewer than the free parallel slots it raises "
        "'Pending queue is empty!' for that request, and the jobs it had taken for it never run",
        "the free slots take the jobs there are; the next request makes more from the "
        "generation before, as the service does when its queue runs short",
        "pkg/suggestion/v1beta1/pbt/service.py: PbtService.GetSuggestions, PbtJobQueue.get",
        _pbt_request),
    Deviation(
        "pbt-restart",
        "the pbt service keeps the population in memory: after a restart (a larger "
        "maxTrialCount, FromVolume) the new service raises KeyError on the first finished "
        "trial the controller reports (PbtJobQueue.update pops it from an empty `running`)",
        "the population is saved in `pbt.json` of the experiment's runs folder (e.g. "
        "`.automl/runs/<experiment>/pbt.json`) at each change; a "
        "resumed or continued run goes on with it, trials cut short queued again",
        "pkg/suggestion/v1beta1/pbt/service.py: PbtService.GetSuggestions, "
        "PbtJobQueue.update",
        _pbt_restart),
    Deviation(
        "unreadable-metrics-file",
        "the collector opens and reads a trial's metrics files whole: a FIFO at a File "
        "collector's path or among TensorFlowEvent files blocks it until activeDeadlineSeconds "
        "fails the trial (without a deadline, for ever); a folder at a File path, or a file "
        "larger than the collector's memory limit (100Mi), fails its container and the trial",
        "a File or Push path that is not a regular file (a FIFO, socket, device, folder, a "
        "symbolic link to nothing) or holds more than 1 GiB fails the trial at once, its "
        "reason naming the file; such an event file is skipped with the reason, as Katib's "
        "loader skips any file it cannot read; reading after the trial's exit stops at its "
        "deadline, which then fails it",
        "cmd/metricscollector/v1beta1/file-metricscollector/main.go: reportMetrics; "
        "pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go: "
        "CollectObservationLog; pkg/metricscollector/v1beta1/tfevent-metricscollector/"
        "tfevent_loader.py: MetricsCollector.parse_file"),
)


def deviation_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """The warnings for ``spec``: each deviation that applies, saying what Katib will do.

    Example:
        >>> [str(f) for f in deviation_findings(spec)]
        []
    """
    for deviation in DEVIATIONS:
        if deviation.check is not None:
            for finding in deviation.check(spec):
                # What Katib does and why is in docs/reference.md: the line stays readable.
                yield Finding(finding.path, f"{finding.message} [Katib differs: "
                                            f"{deviation.key}, docs/reference.md section 6]")
