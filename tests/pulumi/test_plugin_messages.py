"""The provider plugin over real gRPC: a failure or a log line quoting a secret of the request hides it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from spcs_iac.drivers.pulumi.plugin import Servicer
from spcs_iac.drivers.pulumi.wire import Sealed, encode

VALUE = "it's a \\ multi\nline sëcret"


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("SPCS_IAC_TARGETS", "echo=tests.support.echoing_provider:EchoingProvider")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Servicer(None), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(args=encode({"target": "echo", "stateDir": str(tmp_path)})))
    yield stub
    channel.close()
    server.stop(None)


def test_a_failed_create_and_its_log_hide_the_secret_value(plugin: Any, capfd: pytest.CaptureFixture[str]) -> None:
    urn = "urn:pulumi:dev::proj::spcs-iac:index:Secret::key"
    inputs = {"name": "KEY", "database": "DB", "type": "GENERIC_STRING", "secret_string": Sealed(VALUE)}
    with pytest.raises(grpc.RpcError) as caught:
        plugin.Create(provider_pb2.CreateRequest(urn=urn, type="spcs-iac:index:Secret", properties=encode(inputs)))
    message = caught.value.details()
    assert message.startswith("syntax error at position 40 near '(sensitive)"), message
    said = capfd.readouterr().err  # without an engine, the plugin's log lines go to stderr
    assert "creating with SECRET_STRING = '(sensitive)'" in said
    for text in (message, said):
        assert "it''s a" not in text and "sëcret" not in text and "multi" not in text
