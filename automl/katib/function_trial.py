"""The container that runs a Python function as a Katib trial (``tune(backend="katib")``).

Text in a trial's container passes through four interpreters before Python sees it: Katib writes
each tuned value into the trial template's JSON text, Kubernetes expands ``$(VAR)`` and ``$$``
in command, args and env values, Katib's StdOut collector joins command and args with spaces
into one ``sh -c`` text, and the shell parses that. So nothing of the user's reaches the shell:

- the program (the function's source and its call) travels base64-encoded in one argument,
  which no level can read as anything but letters;
- each tuned value goes into an environment variable (the placeholder sits in the env value)
  and reaches the program as an argv element through a double-quoted ``"$VAR"``, whose result
  the shell never parses again.

What is left are the two levels Katib and Kubernetes own: :func:`check_values` refuses the
values they would change.
"""

from __future__ import annotations

import base64
import inspect
import shlex
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from automl.errors import AutomlError
from automl.katib.to_katib import katib_str
from automl.spec import Parameter
from automl.spec.deviations import altered_on_the_way

__all__ = ["BOOTSTRAP", "check_values", "function_program", "trial_container"]

BOOTSTRAP = (
    "import base64, linecache, sys, traceback; "
    "sys.excepthook = traceback.print_exception; "
    "source = base64.b64decode(sys.argv[1]).decode(); "
    'linecache.cache["<automl.tune>"] = (len(source), None, source.splitlines(True), '
    '"<automl.tune>"); '
    'exec(compile(source, "<automl.tune>", "exec"), {"__name__": "__main__"})'
)
"""``python3 -c BOOTSTRAP <base64 program> <value>...`` runs the program with the values.

The program goes into ``linecache``, and tracebacks are printed by the ``traceback`` module,
which reads it there: a failing trial's log shows the function's lines."""



def function_program(objective: Callable[..., Any], names: Sequence[str],
                     fixed: Mapping[str, Any], metric: str) -> str:
    """The Python a cluster trial runs: the function's source, a call, its result printed.

    Args:
        objective: The function; it must be a ``def`` whose source ``inspect`` can read.
        names: The tuned parameters, in the order their values follow the program in argv.
        fixed: Values passed unchanged (they must be Python literals).
        metric: The objective metric, printed when the function returns a number.

    Raises:
        AutomlError: When the function's source cannot be read or called by its name.
    """
    name = getattr(objective, "__name__", "")
    try:
        source = textwrap.dedent(inspect.getsource(objective))
    except (OSError, TypeError) as e:
        _no_source(objective, str(e) or type(e).__name__)
    if not name.isidentifier():
        _no_source(objective, f"its source does not define a function named {name!r}")
    return (f"{source}\n"
            "import sys as _sys\n"
            f"_values = dict(zip({list(names)!r}, _sys.argv[2:]))\n"
            f"_result = {name}({{**_values, **{dict(fixed)!r}}})\n"
            # The StdOut collector reads name=value lines: print what the function returns.
            "if isinstance(_result, dict):\n"
            "    for _name, _value in _result.items():\n"
            "        print(f'{_name}={float(_value)!r}')\n"
            "elif _result is not None:\n"
            f"    print(f'{metric}={{float(_result)!r}}')\n")


def _no_source(objective: Callable[..., Any], why: str) -> None:
    raise AutomlError(f"cannot read the source of {objective!r}: {why}; backend='katib' ships "
                      "the function's source to the trial container; define it with def in a "
                      "file or notebook cell (imports inside), or run it with backend='local'")


def trial_container(program: str | None, names: Sequence[str], packages: Sequence[str],
                    index_urls: Sequence[str]) -> dict[str, Any]:
    """The trial's ``command``, ``args`` and ``env``: install packages, run the program.

    Args:
        program: What :func:`function_program` wrote; None when the spec never reaches a
            cluster (local trials call the function in a forked process).
        names: The tuned parameters; ``${trialParameters.<name>}`` fills one variable each.
        packages: pip packages to install first (KatibClient.tune's ``packages_to_install``).
        index_urls: The pip index, then extra indexes.
    """
    env = {f"AUTOML_VALUE_{i}": f"${{trialParameters.{n}}}" for i, n in enumerate(names)}
    run = ["python3", "-u", "-c", BOOTSTRAP]
    if program is not None:
        run.append(base64.b64encode(program.encode()).decode())
    # Katib's collector appends its redirection to the end of this text: keep the program last.
    text = shlex.join(run) + "".join(f' "${v}"' for v in env)
    if packages:
        urls = [f"--index-url={index_urls[0]}", *(f"--extra-index-url={u}"
                                                  for u in index_urls[1:])]
        pip = ["python3", "-m", "pip", "install", "--prefer-binary", "--quiet",
               "--no-warn-script-location", "--disable-pip-version-check", *urls, *packages]
        text = f"{shlex.join(pip)} && {text}"
    # Every $ here is ours: $$ keeps it from Kubernetes' $(VAR) expansion.
    return {"command": ["sh", "-c"], "args": [text.replace("$", "$$")], "env": env}


def check_values(parameters: Iterable[Parameter]) -> None:
    """Refuse listed values that Katib or Kubernetes would change on their way to a trial.

    Raises:
        AutomlError: For a value with ``"``, ``\\``, a control character (Katib writes values
            into the trial's JSON text), ``$$`` or ``$(NAME)`` (Kubernetes expands them).
    """
    for p in parameters:
        for value in map(katib_str, p.values or ()):
            if altered_on_the_way(value):
                raise AutomlError(
                    f"parameter {p.name!r}: the value {value!r} cannot reach a Katib trial as "
                    "it is: Katib writes values into the trial's JSON text (no \", \\ or "
                    "control characters) and Kubernetes expands $$ and $(NAME) in them")
