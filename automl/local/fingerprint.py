"""What a Python-function trial runs, as a short digest the study keeps.

A notebook user edits the function, or a helper it calls, or data it reads, and calls
:func:`automl.tune` again with the same name. The experiment file of a command trial changes
with its command, which the study compares; a function's trial template is the same whatever
the function does, so the study keeps this digest beside it and a changed function is refused
instead of answered from old trials.

The digest covers the function's source (its bytecode where no source can be read), the fixed
values given to every call, and what it reads from its closure, defaults and module globals:
plain values (numbers, text, and containers of them), numpy arrays (dtype, shape, bytes),
pandas objects (their hash, columns and index), and, followed :data:`_DEPTH` steps deep, the
user's own functions, classes, modules and objects (those defined outside the standard library,
site-packages and automl): a helper the function calls, a class's methods and attributes, an
object's attributes, a module's attributes the code names. The text holds no address, so the
digest is the same in every process.

Still not followed: objects of library classes other than numpy's and pandas' (an sklearn
estimator, a torch model: known by their type only), code reached only through such objects,
files the function opens, attributes reached through a module global by a name the function's
code does not spell (``getattr(mod, name)``), and anything deeper than :data:`_DEPTH` steps.
"""

from __future__ import annotations

import datetime
import decimal
import fractions
import functools
import hashlib
import inspect
import pathlib
import sys
import sysconfig
import textwrap
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["function_fingerprint"]

_DEPTH = 4
"""How many steps from the trial function (function → helper → object → ...) are followed."""

_PLAIN = (int, float, complex, str, bytes, bool, type(None))
# library values whose repr is their value, and the same in every process
_BY_REPR = (pathlib.PurePath, datetime.date, datetime.time, datetime.timedelta,
            decimal.Decimal, fractions.Fraction, uuid.UUID)
_LIBRARY_DIRS = tuple({p for k, p in sysconfig.get_paths().items()
                       if k in ("stdlib", "platstdlib", "purelib", "platlib")})
_BOOKKEEPING = {"__dict__", "__weakref__", "__module__", "__doc__", "__qualname__",
                "__annotations__", "__slots__"}


def function_fingerprint(function: Callable[..., Any], fixed: Mapping[str, Any]) -> str:
    """A digest of ``function`` and ``fixed``: equal for the same code and values.

    Args:
        function: The trial function (a ``def``, a lambda, a ``functools.partial``, a bound
            method, or a callable object).
        fixed: The values :func:`automl.tune` passes to every call.
    """
    digest = _Digest()
    parts = [digest.value(dict(fixed), _DEPTH), digest.trial_function(function, _DEPTH)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


class _Digest:
    """Text for values and code; ``_open`` holds the ids being described, to stop at cycles."""

    def __init__(self) -> None:
        self._open: set[int] = set()

    def trial_function(self, function: Any, depth: int) -> str:
        """The trial function itself, followed whoever defined it."""
        if isinstance(function, (functools.partial, types.FunctionType, types.MethodType)):
            return self._followed(function, depth, self._function)
        return self._followed(function, depth, self._object)  # a callable object

    def value(self, value: Any, depth: int, names: frozenset[str] = frozenset()) -> str:
        """``value`` as text; ``names``: the attributes the referring code spells (modules)."""
        if isinstance(value, _PLAIN):
            return repr(value)
        if isinstance(value, _BY_REPR):
            return f"{type(value).__qualname__}:{value!r}"
        module = type(value).__module__ or ""
        if module.startswith("numpy"):
            return _numpy(value)
        if module.startswith("pandas"):
            return _pandas(value)
        if isinstance(value, (list, tuple, set, frozenset, dict)):
            return self._followed(value, depth, self._container)
        if isinstance(value, types.ModuleType):
            if not _is_users(value.__name__) or depth <= 0:
                return f"module {value.__name__}"
            return self._followed(value, depth, lambda m, d: self._module(m, d, names))
        if isinstance(value, (types.FunctionType, types.MethodType, functools.partial, type)):
            if depth <= 0 or not _is_users(_module_of(value)):
                return _named(value)
            describe = self._class if isinstance(value, type) else self._function
            return self._followed(value, depth, describe)
        if depth <= 0 or not _is_users(type(value).__module__):
            return _named(value)
        return self._followed(value, depth, self._object)

    def _followed(self, value: Any, depth: int, describe: Callable[[Any, int], str]) -> str:
        if id(value) in self._open:  # a cycle: its first visit describes it
            return "<cycle>"
        self._open.add(id(value))
        try:
            return describe(value, depth)
        finally:
            self._open.discard(id(value))

    def _container(self, value: Any, depth: int) -> str:
        if isinstance(value, dict):
            items = sorted(f"{self.value(k, depth)}:{self.value(v, depth)}"
                           for k, v in value.items())
            return "{" + ",".join(items) + "}"
        texts = [self.value(v, depth) for v in value]
        if isinstance(value, (set, frozenset)):
            texts.sort()  # a set's order changes with the process's hash seed
        return f"{type(value).__name__}[" + ",".join(texts) + "]"

    def _function(self, function: Any, depth: int) -> str:
        if isinstance(function, functools.partial):
            return (f"partial({self.trial_function(function.func, depth)},"
                    f"{self.value(function.args, depth)},{self.value(function.keywords, depth)})")
        if isinstance(function, types.MethodType):
            return (f"method({self._function(function.__func__, depth)},"
                    f"{self.value(function.__self__, depth - 1)})")
        inner = inspect.unwrap(function)
        code = getattr(inner, "__code__", None)
        if code is None:
            return _named(inner)
        names = frozenset(_names(code))
        namespace = getattr(inner, "__globals__", {})
        cells = [_cell(c) for c in getattr(inner, "__closure__", None) or ()]
        parts = [_source(inner, code), self.value(getattr(inner, "__defaults__", None), depth),
                 self.value(getattr(inner, "__kwdefaults__", None), depth),
                 self.value(cells, depth - 1),
                 ",".join(f"{n}={self.value(namespace[n], depth - 1, names)}"
                          for n in sorted(names) if n in namespace)]
        return "|".join(parts)

    def _class(self, cls: type, depth: int) -> str:
        parts = [f"{_module_of(b)}.{b.__qualname__}" for b in cls.__bases__]
        for name, member in sorted(vars(cls).items()):
            if name not in _BOOKKEEPING:
                parts += [f"{name}={self.value(m, depth - 1)}" for m in _members(member)]
        return f"class {cls.__qualname__}(" + ",".join(parts) + ")"

    def _object(self, value: Any, depth: int) -> str:
        state = dict(getattr(value, "__dict__", {}))
        for name in getattr(type(value), "__slots__", ()):
            if hasattr(value, name):
                state[name] = getattr(value, name)
        return f"{self.value(type(value), depth)}{self.value(state, depth - 1)}"

    def _module(self, module: types.ModuleType, depth: int, names: frozenset[str]) -> str:
        spelled = sorted(n for n in names if n in vars(module))
        return (f"module {module.__name__}{{"
                + ",".join(f"{n}={self.value(vars(module)[n], depth - 1)}" for n in spelled)
                + "}")


def _members(member: Any) -> Iterator[Any]:
    """What a class attribute holds: the functions behind a property or a static method."""
    if isinstance(member, (staticmethod, classmethod)):
        yield member.__func__
    elif isinstance(member, property):
        yield from (f for f in (member.fget, member.fset, member.fdel) if f is not None)
    else:
        yield member


def _numpy(value: Any) -> str:
    if hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "tobytes"):
        if value.dtype.hasobject:  # the bytes are addresses: the values instead
            return f"ndarray{value.shape}:{_Digest().value(value.tolist(), _DEPTH)}"
        data = hashlib.sha256(value.tobytes()).hexdigest()
        return f"ndarray:{value.dtype.str}{value.shape}:{data}"
    return _named(value)


def _pandas(value: Any) -> str:
    pandas = sys.modules["pandas"]
    kind = type(value).__qualname__
    if not isinstance(value, (pandas.DataFrame, pandas.Series, pandas.Index)):
        return f"{kind}:{value!r}"  # a Timestamp, a Timedelta, NA: their repr is their value
    try:
        hashed = pandas.util.hash_pandas_object(value, index=True).to_numpy()
    except TypeError:  # values pandas cannot hash (lists in cells): their text
        hashed = value.to_string()
    index = value if isinstance(value, pandas.Index) else value.index
    columns = list(map(str, value.columns)) if isinstance(value, pandas.DataFrame) else []
    dtypes = value.dtypes if isinstance(value, pandas.DataFrame) else value.dtype
    hashed = _numpy(hashed) if hasattr(hashed, "dtype") else hashed
    return f"{kind}:{columns}:{dtypes!s}:{list(map(str, index.names))}:{hashed}"


def _named(value: Any) -> str:
    """A library object by its name where it has one (``numpy.exp``, ``math.sqrt``: a global
    rebound to another function is another function), else by its type."""
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(name, str):
        return f"{getattr(value, '__module__', None)}.{name}"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _module_of(value: Any) -> str | None:
    return getattr(value, "__module__", None)


@functools.lru_cache(maxsize=1024)
def _is_users(module_name: str | None) -> bool:
    """Whether a module is the user's own code: not the standard library, a package, automl."""
    if module_name is None:  # code compiled at a prompt or by exec()
        return True
    top = module_name.partition(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names or top == "automl":
        return False
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if path is None:  # __main__ at a prompt, a notebook
        return True
    parts = pathlib.PurePath(path).parts
    return not ("site-packages" in parts or "dist-packages" in parts
                or any(path.startswith(d + "/") for d in _LIBRARY_DIRS))


def _source(function: Any, code: types.CodeType) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):  # typed at a prompt: no file to read the source from
        return _code_text(code)


def _code_text(code: types.CodeType) -> str:
    """The bytecode and constants, without file names or line numbers (which move)."""
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c)
              for c in code.co_consts]
    return f"{code.co_code.hex()}|{consts}|{code.co_names}|{code.co_varnames}"


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _cell(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not yet filled
        return None
