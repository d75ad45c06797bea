"""What needs kubeflow-katib, the Katib SDK (``automl[katib-sdk]``), in an environment of its own.

kubeflow-katib pins protobuf<5, so it cannot sit beside kfp 2.17: ``.ci/run`` installs
``.[katib-sdk]`` in a second virtual environment (where pip takes kfp 2.13) and runs this file
there. Katib's DB manager is a gRPC service; these tests serve Katib's own DBManager proto
(kubeflow-katib's stubs) on 127.0.0.1, so the client side is the real one, on the real wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures

import pytest
import yaml

katib = pytest.importorskip("kubeflow.katib", reason="needs automl[katib-sdk] (see .ci/run)")

import grpc  # noqa: E402  (kubeflow-katib brings grpcio)
from kubeflow.katib import katib_api_pb2 as pb  # noqa: E402
from kubeflow.katib import katib_api_pb2_grpc as pb_grpc  # noqa: E402

import automl  # noqa: E402
from automl.katib import from_katib, katib_dict, to_yaml  # noqa: E402
from automl.katib.backend import collect, run_on_katib  # noqa: E402
from automl.katib.cluster import KatibCluster  # noqa: E402
from tests.conftest import needs_katib  # noqa: E402
from tests.local.helpers import katib_spec as _spec  # noqa: E402


class DBManager(pb_grpc.DBManagerServicer):
    """Katib's DB manager: keeps reported observation logs, answers three per trial asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.reported: list[tuple[str, list[tuple[str, str]]]] = []

    def GetObservationLog(self, request, context):
        self.asked.append(request.trial_name)
        logs = [pb.MetricLog(time_stamp=f"2026-11-29T12:00:0{i}Z",
                             metric=pb.Metric(name="loss", value=str(1.0 / (i + 1))))
                for i in range(3)]
        return pb.GetObservationLogReply(observation_log=pb.ObservationLog(metric_logs=logs))

    def ReportObservationLog(self, request, context):
        self.reported.append((request.trial_name,
                              [(m.metric.name, m.metric.value)
                               for m in request.observation_log.metric_logs]))
        return pb.ReportObservationLogReply()


@pytest.fixture
def db_manager() -> Iterator[tuple[str, DBManager]]:
    service = DBManager()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_DBManagerServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", service
    finally:
        server.stop(None)


@needs_katib
def test_observation_logs_come_from_the_db_manager_over_grpc(tmp_path, db_manager) -> None:
    from tests.katib.kube_server import kube_server  # reads Katib's schema from ../shared

    address, service = db_manager
    with kube_server(tmp_path) as (kubeconfig, _):
        cluster = KatibCluster(config_file=kubeconfig)
        run_on_katib(_spec(), cluster, poll_seconds=0, progress=False)
        results = collect("t", cluster, db_manager=address)
    obs = results.observations
    assert sorted(set(service.asked)) == sorted(results.trials["trial"])
    first = obs[obs["trial"] == service.asked[0]]
    assert list(first["step"]) == [0, 1, 2]
    assert list(first["value"]) == pytest.approx([1.0, 0.5, 1 / 3])
    assert str(first["timestamp"].iloc[2]) == "2026-11-29 12:00:02+00:00"
    local_obs = automl.results.schema.observations_frame({})
    assert dict(obs.dtypes) == dict(local_obs.dtypes)


def test_report_in_a_katib_trial_pushes_to_the_db_manager(db_manager, monkeypatch) -> None:
    address, service = db_manager
    monkeypatch.delenv("AUTOML_METRICS_FILE", raising=False)  # not an automl trial
    monkeypatch.setenv("KATIB_TRIAL_NAME", "digits-svm-x7k2p9qz")
    # Only a pod has these: the DB manager's service name and the service-account namespace.
    monkeypatch.setattr(katib.report_metrics, "__defaults__", (address, 10))
    monkeypatch.setattr("kubeflow.katib.utils.utils.get_current_k8s_namespace", lambda: "team-a")
    automl.report({"accuracy": 0.93, "loss": 0.21})
    assert service.reported == [("digits-svm-x7k2p9qz", [("accuracy", "0.93"), ("loss", "0.21")])]


def test_kubeflow_katib_models_read_and_print_as_their_katib_yaml() -> None:
    """An Experiment built with kubeflow-katib's own models (KatibClient users have them)."""
    spec = _spec()

    class Response:  # kubeflow-katib's ApiClient.deserialize reads a REST response's data
        data = json.dumps(katib_dict(spec))

    experiment = katib.ApiClient().deserialize(Response, "V1beta1Experiment")
    assert isinstance(experiment, katib.V1beta1Experiment)
    assert from_katib(experiment) == spec
    assert yaml.safe_load(to_yaml(experiment)) == katib_dict(spec)


def test_kubeflow_katib_parameter_specs_are_tune_parameters(tmp_path) -> None:
    """KatibClient.tune's ``katib.search.double(...)`` works in automl.tune unchanged."""
    summary = automl.tune("t", _square, {"x": katib.search.double(min=1, max=2)},
                          objective_metric_name="y", max_trial_count=2, progress=False,
                          root=tmp_path / ".automl")
    assert summary.counts == {"Succeeded": 2}
    assert 1 <= float(summary.best["params"]["x"]) <= 2


def _square(params):
    return {"y": float(params["x"]) ** 2}
