"""Options that change how trials run are kept with the study: a resume cannot mix two ways."""

from __future__ import annotations

import pytest

from automl.errors import AutomlError
from automl.local.store import RUN_OPTIONS
from tests.faults.helpers import automl_each, write_experiment
from tests.local.helpers import records, run, spec


@pytest.mark.parametrize("option", list(RUN_OPTIONS))
@pytest.mark.parametrize("first", [False, True], ids=["off-then-on", "on-then-off"])
def test_a_resume_with_another_value_of_a_run_option_is_refused(tmp_path, option,
                                                                 first) -> None:
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    run(experiment, tmp_path, **{option: first})
    flag = RUN_OPTIONS[option]
    was = "with" if first else "without"
    with pytest.raises(AutomlError) as caught:
        run(experiment, tmp_path, **{option: not first})
    assert str(caught.value) == (
        f"experiment 't' was started {was} {flag}, and its trials must all run one way: run "
        f"it again {was} {flag}, or start fresh (automl delete t, or another name)")
    assert len(records(tmp_path)) == 1  # nothing ran with the other value
    run(experiment, tmp_path, **{option: first})  # the same value resumes


def test_automl_run_refuses_a_changed_katib_shell_in_one_line(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    (_, _, _), (code, out, err) = automl_each(tmp_path, [
        ["run", "exp.yaml", "-q"], ["run", "exp.yaml", "-q", "--katib-shell"]])
    assert code == 2 and out == ""
    assert err == ("error: experiment 't' was started without --katib-shell, and its trials "
                   "must all run one way: run it again without --katib-shell, or start fresh "
                   "(automl delete t, or another name)\n")
