"""Ray Tune as a baseline for per-trial overhead (part a), imported only when installed.

Ray is not a dependency of automl (``pip install 'ray[tune]'`` to include it). Trials run
one at a time (``max_concurrent_trials=1``) with ``reuse_actors=True``, Ray's fastest setting
for short function trials (without it each trial starts a new worker actor, seconds each).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["available", "function_trials", "start", "stop", "subprocess_trials", "warm_up"]


def available() -> str | None:
    """Ray's version, or None when ``ray[tune]`` is not importable."""
    try:
        import ray
        from ray import tune  # noqa: F401
    except ImportError:
        return None
    return ray.__version__


def start() -> float:
    """Start a local Ray instance on this machine's CPUs; seconds it took."""
    # No usage report and no token prompt: the bench runs offline.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    # Ray's workers unpickle the trainables by module name: they need bench/ on their path.
    path = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent),
                                         os.environ.get("PYTHONPATH")]))
    begin = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             logging_level="ERROR", runtime_env={"env_vars": {"PYTHONPATH": path}})
    return time.perf_counter() - begin


def stop() -> None:
    """Shut the local Ray instance down."""
    import ray

    ray.shutdown()


def _fit(trainable: Any, n: int, workdir: Path, name: str,
         constants: dict[str, Any] | None = None) -> float:
    from ray import tune

    tuner = tune.Tuner(
        trainable,
        param_space={"x": tune.uniform(0, 1), **(constants or {})},
        tune_config=tune.TuneConfig(num_samples=n, metric="loss", mode="min",
                                    max_concurrent_trials=1, reuse_actors=True),
        run_config=tune.RunConfig(name=name, storage_path=str(workdir / "ray"), verbose=0),
    )
    begin = time.perf_counter()
    # Tune prints a configuration box and a results path on stdout even at verbose=0.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        results = tuner.fit()
    elapsed = time.perf_counter() - begin
    if results.num_errors:
        raise RuntimeError(f"Ray Tune: {results.num_errors} of {n} trials failed: "
                           f"{results.errors[0]}")
    return elapsed


def _noop(config: dict[str, float]) -> dict[str, float]:
    return {"loss": config["x"]}


def _two_sizes(trainable: Any, n: int, workdir: Path, name: str,
               **constants: Any) -> tuple[float, float]:
    # Each Tuner.fit costs seconds before its first trial (controller, trial actors), so
    # runs of n/2 and n trials tell the cost per trial from the cost per run.
    half = _fit(trainable, n // 2, workdir, f"{name}-half", constants)
    full = _fit(trainable, n, workdir, f"{name}-full", constants)
    return half, full


def warm_up(workdir: Path) -> float:
    """One 1-trial run, so that worker start-up is not charged to the first measurement."""
    return _fit(_noop, 1, workdir, "warm-up")


def function_trials(n: int, workdir: Path) -> tuple[float, float]:
    """No-op Python-function trials: seconds for runs of ``n // 2`` and of ``n`` trials."""
    return _two_sizes(_noop, n, workdir, "fn")


def _process_trial(config: dict[str, Any]) -> dict[str, float]:
    out = subprocess.run([sys.executable, config["script"], str(config["x"])],
                         capture_output=True, text=True, check=True).stdout
    return {"loss": float(out.strip().split("=")[1])}


def subprocess_trials(n: int, script: Path, workdir: Path) -> tuple[float, float]:
    """Trials that each run ``script`` as a process: seconds for ``n // 2`` and ``n``."""
    return _two_sizes(_process_trial, n, workdir, "proc", script=str(script))
