"""The command Katib runs in a trial's primary container: its words joined under ``sh -c``.

For the StdOut, File and TensorFlowEvent collectors Katib's pod webhook
(pkg/webhook/v1beta1/pod/utils.go ``wrapWorkerContainer``, the kinds in pod/const.go
``NeedWrapWorkerMetricsCollectorList``) replaces the primary container's command by ``sh -c``
(kept as written when the command already starts ``sh -c`` or ``bash -c``) and one argument:
the remaining command and args joined with single spaces, then, for StdOut only,
``1>/var/log/katib/metrics.log 2>&1``; ``|| <early-stopping check>`` when the trial has
early-stopping rules; and ``&& echo completed > <metrics dir>/$$$$.pid`` (Kubernetes turns
``$$`` into ``$``). So the shell splits, expands and runs what the local engine passes as
argument lists, and with StdOut only the last command of a ``;`` list is collected.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from automl.spec.errors import Finding
from automl.spec.trial import PLACEHOLDER

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["SHELL_WRAPPED", "STDOUT_FILE", "katib_command", "render_word", "shell_findings",
           "stdout_redirect", "wrap_in_shell"]

SHELL_WRAPPED = ("StdOut", "File", "TensorFlowEvent")
"""The collector kinds whose trials Katib runs under ``sh -c``."""

STDOUT_FILE = "/var/log/katib/metrics.log"
"""Where Katib sends a StdOut trial's output (common_types.go ``DefaultFilePath``)."""

_EARLY_STOPPED = ("if test -f {pid} && [ $(head -n 1 {cond}) = early-stopped ]; then echo "
                  "Training Container was Early Stopped; else echo Training Container was "
                  "Failed; exit 1; fi")
"""utils.go ``getEarlyStoppingCommand``."""

# What sh reads as more than a word: operators, expansions, globs, comments, line breaks.
_SHELL_SYNTAX = re.compile(r"[;&|<>()$`*?\[\]~#\n{}]")


def stdout_redirect(path: str) -> str:
    """Katib's redirect of a StdOut trial's output to ``path`` (utils.go)."""
    return f"1>{path} 2>&1"


def wrap_in_shell(words: Sequence[str], tail: Sequence[str] = ()) -> list[str]:
    """``[sh, -c, "<words> <tail>"]``, keeping a leading ``sh -c``/``bash -c`` as Katib does."""
    shell, args = ["sh", "-c"], list(words)
    if len(args) >= 2 and args[0] in ("sh", "bash") and args[1] == "-c":
        shell, args = args[:2], args[2:]
    return [*shell, " ".join([*args, *tail])]


def katib_command(words: Sequence[str], kind: str, path: str | None,
                  early_stopping: bool) -> list[str]:
    """The primary container's command and args once Katib's webhook has wrapped them.

    Args:
        words: The container's command then args, parameters substituted.
        kind: The metrics collector kind (one of :data:`SHELL_WRAPPED`).
        path: The collector's path (the File collector's file, TensorFlowEvent's folder).
        early_stopping: Whether the trial has early-stopping rules.

    Example:
        >>> katib_command(["python", "-c", "print(1); print(2)"], "StdOut", None, False)[2]
        'python -c print(1); print(2) 1>/var/log/katib/metrics.log 2>&1 && echo completed > /var/log/katib/$$$$.pid'
    """  # noqa: E501
    tail = []
    if kind == "StdOut":
        tail.append(stdout_redirect(STDOUT_FILE))
    folder = (posixpath.dirname(path or STDOUT_FILE) if kind != "TensorFlowEvent"
              else posixpath.normpath(path or "/var/log/katib/tfevent/"))
    if early_stopping:
        tail += ["||", _EARLY_STOPPED.format(pid=posixpath.join(folder, "$$$$.pid"),
                                             cond=posixpath.join(folder, "$$.pid"))]
    tail += ["&&", f"echo completed > {posixpath.join(folder, '$$$$.pid')}"]
    return wrap_in_shell(words, tail)


def render_word(word: str, values: Mapping[str, str], *, unquote: bool) -> str:
    """One template word with ``${trialParameters.x}`` replaced by its value.

    Args:
        word: The template word.
        values: Trial parameter name → value; unknown placeholders stay as written.
        unquote: Remove the shell quoting written in the template around the placeholders
            (``--arch="${trialParameters.arch}"``) as sh would, then put the values in
            verbatim, so that no value is ever split or expanded. Without it, plain text
            substitution, as Katib does before its shell reads the result.
    """
    text, names, written = _template(word, unquote)
    for i, (name, placeholder) in enumerate(zip(names, written, strict=True)):
        text = text.replace(f"\x00{i}\x00", values.get(name, placeholder))
    return text


@functools.lru_cache(maxsize=1024)
def _template(word: str, unquote: bool) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``word`` with its placeholders marked (and unquoted), once per word, not per trial.

    Returns:
        The text with the i-th placeholder as ``\\x00i\\x00``, the trial parameter names
        and the placeholders as written.
    """
    names: list[str] = []
    written: list[str] = []

    def mark(match: Any) -> str:
        names.append(match.group(1))
        written.append(match.group(0))
        return f"\x00{len(names) - 1}\x00"

    text = PLACEHOLDER.sub(mark, word)
    if unquote and any(q in text for q in "'\"\\"):
        try:
            parts = shlex.split(text)
        except ValueError:
            parts = []
        if len(parts) == 1:
            text = parts[0]
    return text, tuple(names), tuple(written)


def shell_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Where Katib's ``sh -c`` runs the trial otherwise than as its argument list, and how.

    Each categorical or discrete value is tried in turn (other parameters get a plain value,
    a NAS assignment ``a b``); the first difference is reported with the command Katib
    builds for it.
    """
    mc = spec.trial.metrics_collector
    located = _primary_words(spec)
    if mc.kind not in SHELL_WRAPPED or located is None:
        return
    at, words = located
    for shown, values in _probes(spec):
        local = [render_word(w, values, unquote=True) for w in words]
        katib = [render_word(w, values, unquote=False) for w in words]
        why = _difference(local, katib, mc.kind)
        if why is not None:
            command = katib_command(katib, mc.kind, mc.effective_path,
                                    spec.early_stopping is not None)
            yield Finding(at, f"Katib runs this command under sh -c, which {why}"
                              f"{f' (with {shown})' if shown else ''}: {command[0]} {command[1]} "
                              f"{json.dumps(command[2], ensure_ascii=False)}")
            return


def _difference(local: list[str], katib: list[str], kind: str) -> str | None:
    """How ``sh -c`` reads the joined ``katib`` words otherwise than the argument list
    ``local`` runs (None: the same program gets the same arguments)."""
    script = wrap_in_shell(katib)[2]
    scripted = len(katib) >= 2 and katib[0] in ("sh", "bash") and katib[1] == "-c"
    if scripted and len(katib) > 3:
        return "joins the words after the script into the script"
    syntax = _unquoted_syntax(script)
    if syntax is not None and syntax in ";&|\n" and kind == "StdOut":
        return (f"reads {syntax!r} as a command separator, and only the last command's output "
                "reaches Katib's collector")
    if scripted:  # a shell reads the script locally too
        return None
    try:
        words = shlex.split(script)
    except ValueError:
        return "cannot read it: its quotes are unbalanced"
    if words != local:
        return "splits it into other words than the argument list the local engine runs"
    if syntax is not None:
        return f"reads {syntax!r} in it as shell syntax"
    return None


def _unquoted_syntax(script: str) -> str | None:
    """The first character sh reads as syntax rather than text (quotes aside), if any."""
    quote = None
    escaped = False
    for char in script:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = None if char == "'" else quote
        elif char == "\\":
            escaped = True
        elif quote == '"':
            if char == '"':
                quote = None
            elif char in "$`":
                return char
        elif char in "'\"":
            quote = char
        elif _SHELL_SYNTAX.match(char):
            return char
    return None


def _probes(spec: ExperimentSpec) -> Iterator[tuple[str, dict[str, str]]]:
    """Trial-parameter values to render the template with: plain ones, then each choice."""
    params = {p.name: p for p in spec.parameters}
    plain: dict[str, str] = {}
    choices: list[tuple[str, str]] = []
    for tp in spec.trial_parameters:
        param = params.get(tp.reference)
        if param is None:  # a NAS assignment (JSON-like text) or trial metadata
            plain[tp.name] = "trial" if tp.reference.startswith("${") else "a b"
        elif param.values:
            plain[tp.name] = str(param.values[0])
            choices += [(tp.name, str(v)) for v in param.values[1:]]
        else:
            plain[tp.name] = "1"
    yield ", ".join(f"{k}={v!r}" for k, v in plain.items() if v == "a b"), plain
    for name, value in choices:
        yield f"{name}={value!r}", {**plain, name: value}


def _primary_words(spec: ExperimentSpec) -> tuple[tuple[Any, ...], list[str]] | None:
    """Where the primary container's command is written, and its command and args."""
    trial = spec.trial
    if trial.is_container:
        return ("trial", "command"), [*trial.command, *trial.args]
    if trial.trial_spec is None:
        return None
    for path, container in _containers(trial.trial_spec, ("trial", "trial_spec")):
        if container.get("name") == trial.primary_container_name:
            words = [*(container.get("command") or []), *(container.get("args") or [])]
            field = "command" if container.get("command") else "args"
            return (*path, field), [str(w) for w in words] if words else None
    return None


def _containers(node: Any, at: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], dict]]:
    """Each container in a Kubernetes object with its path, in :func:`find_containers` order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (((*at, key, i), c) for i, c in enumerate(value)
                            if isinstance(c, dict))
            else:
                yield from _containers(value, (*at, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _containers(item, (*at, i))
