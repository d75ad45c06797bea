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
_LITERAL = re.compile(r"[^\s'\"\\;&|<>()$`*?\[\]~#{}\x00]+")
"""Text sh reads as itself wherever it stands: not empty (an empty word vanishes), no space,
quote, backslash or syntax."""


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

    Every placeholder is replaced in one pass over the word as written, so a value is put in
    verbatim and never read again: one holding ``${trialParameters.y}``, ``$`` or anything
    else is passed through literally.

    Args:
        word: The template word.
        values: Trial parameter name → value; unknown placeholders stay as written.
        unquote: Remove the shell quoting written in the template around the placeholders
            (``--arch="${trialParameters.arch}"``) as sh would, then put the values in
            verbatim, so that no value is ever split or expanded. Without it, plain text
            substitution, as Katib does before its shell reads the result.
    """
    parts, names, written = _template(word, unquote)
    return "".join(part if isinstance(part, str) else values.get(names[part], written[part])
                   for part in parts)


@functools.lru_cache(maxsize=8192)
def _template(word: str, unquote: bool) -> tuple[tuple[str | int, ...], tuple[str, ...],
                                                 tuple[str, ...]]:
    """``word`` cut at its placeholders (and unquoted), once per word, not per trial.

    Returns:
        The word's pieces: text, or the index of a placeholder; the trial parameter names
        and the placeholders as written, by index.
    """
    names: list[str] = []
    written: list[str] = []
    # A character the word does not hold marks the placeholders through shlex's unquoting.
    mark = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in word)

    def placeholder(match: Any) -> str:
        names.append(match.group(1))
        written.append(match.group(0))
        return f"{mark}{len(names) - 1}{mark}"

    text = PLACEHOLDER.sub(placeholder, word)
    if unquote and any(q in text for q in "'\"\\"):
        try:
            parts = shlex.split(text)
        except ValueError:
            parts = []
        if len(parts) == 1:
            text = parts[0]
    pieces = text.split(mark)  # text, index, text, index, ..., text
    return (tuple(int(p) if i % 2 else p for i, p in enumerate(pieces) if i % 2 or p),
            tuple(names), tuple(written))


def shell_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Where Katib's ``sh -c`` runs the trial otherwise than as its argument list, and how.

    Each categorical or discrete value is tried in turn (other parameters get a plain value,
    a NAS assignment ``a b``); the first difference is reported with the command Katib
    builds for it. The whole command is rendered for the plain values, then only where a
    value could change what sh reads (more than :data:`_LITERAL` text, in a word sh does not
    read alone as the local one), so the cost grows with the parameters, not their square.
    """
    mc = spec.trial.metrics_collector
    located = _primary_words(spec)
    if mc.kind not in SHELL_WRAPPED or located is None:
        return
    at, words = located
    uses: dict[str, list[int]] = {}  # trial parameter → the words that hold it
    for i, word in enumerate(words):
        for name in _template(word, False)[1]:
            uses.setdefault(name, []).append(i)
    scripted = len(words) >= 2 and words[0] in ("sh", "bash") and words[1] == "-c"
    plain: Mapping[str, str] = {}
    alone = False  # whether sh reads each word of the plain rendering alone as the local one
    for shown, values, changed in _probes(spec):
        if changed is None:
            plain = values
        elif _LITERAL.fullmatch(values[changed]) and _LITERAL.fullmatch(plain[changed]):
            # The plain values passed: one text sh reads as itself in any context put in for
            # another cannot make a difference.
            continue
        elif alone and all(_reads_alone(render_word(words[i], values, unquote=True),
                                        render_word(words[i], values, unquote=False))
                           for i in uses.get(changed, ())):
            continue  # the other words are the plain ones, each read alone as it should
        local = [render_word(w, values, unquote=True) for w in words]
        katib = [render_word(w, values, unquote=False) for w in words]
        why = _difference(local, katib, mc.kind)
        if changed is None:
            alone = not scripted and all(map(_reads_alone, local, katib))
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


def _reads_alone(local: str, katib: str) -> bool:
    """Whether sh reads the word ``katib`` by itself, quotes balanced and without syntax, as
    the one word ``local``: then it reads it so wherever it stands among such words."""
    try:
        return _unquoted_syntax(katib) is None and shlex.split(katib) == [local]
    except ValueError:  # unbalanced quotes
        return False


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


def _probes(spec: ExperimentSpec) -> Iterator[tuple[str, dict[str, str], str | None]]:
    """Trial-parameter values to render the template with: plain ones, then each choice.

    Yields:
        How to show the values, the values, and the trial parameter whose value differs
        from the plain ones (None for the plain ones, which come first).
    """
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
    yield ", ".join(f"{k}={v!r}" for k, v in plain.items() if v == "a b"), plain, None
    for name, value in choices:
        yield f"{name}={value!r}", {**plain, name: value}, name


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
