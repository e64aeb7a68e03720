"""Delivery test fixtures: a moto server on 127.0.0.1, AWS settings pointing at it, local HTTP servers.

Nothing here reaches beyond 127.0.0.1: boto3 is pointed at moto through ``AWS_ENDPOINT_URL`` and
the instance metadata lookup is switched off.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import boto3
import botocore.session
import pytest

MOTO_START_TIMEOUT_S = 30
# moto reports this many running tasks for every ECS service it creates: services that want one
# task are stable, services that want more never are.
MOTO_RUNNING_TASKS = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory) -> Iterator[str]:
    """A moto server in its own process (server mode), reset before each test by ``aws``."""
    port = _free_port()
    env = {
        **os.environ,
        "MOTO_ECS_SERVICE_RUNNING": str(MOTO_RUNNING_TASKS),
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    moto_server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_START_TIMEOUT_S
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on port {port} (see {log.name})")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def _botocore_session():
    """One botocore session for all tests: clients then share its loaded service models (much faster)."""
    return botocore.session.Session()


@pytest.fixture(scope="session")
def _fresh_regions(moto_url, _botocore_session) -> Iterator[str]:
    """Endless region names, each unused in moto so far (a moto reset, which is slow, only when all were).

    moto keeps its state per account and region, so a test in an unused region starts clean.
    """
    regions = _botocore_session.get_available_regions("ecs")

    def cycle() -> Iterator[str]:
        while True:
            yield from regions
            request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
            with urllib.request.urlopen(request, timeout=30):
                pass

    return cycle()


@pytest.fixture(scope="session")
def _boto3_session(_botocore_session) -> boto3.Session:
    """One boto3 session over it: each new one would register S3's client customisations again."""
    return boto3.Session(botocore_session=_botocore_session)


@pytest.fixture
def aws(moto_url, _boto3_session, _fresh_regions, monkeypatch, tmp_path) -> boto3.Session:
    """A boto3 session whose every client talks to moto, in a region no other test has used."""
    region = next(_fresh_regions)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID", "IMAGE_TAG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    assert _boto3_session.region_name == region, "the session reads the region from the environment"
    return _boto3_session


@pytest.fixture
def no_aws(monkeypatch, tmp_path) -> dict[str, str]:
    """An environment with no AWS credentials anywhere (returned for subprocesses too)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    return dict(os.environ)


def _create_services(session: boto3.Session, desired: dict[str, int], cluster: str = "objdepth") -> list[str]:
    """Create an ECS cluster and one Fargate service per entry with that desired count (moto)."""
    # moto checks the subnet exists and fails without security groups: use the default VPC's.
    ec2 = session.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    task = ecs.register_task_definition(
        family="objdepth",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "example:1", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    for name, count in desired.items():
        ecs.create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=task,
            desiredCount=count,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]},
            },
        )
    return list(desired)


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, "not found"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server():
    """Factory: start a local HTTP server answering ``{path: (status, body)}``, get its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, tuple[int, str]]) -> str:
        handler = type("Handler", (_Handler,), {"routes": routes})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            server.shutdown()
            server.server_close()


@pytest.fixture
def make_services(aws):
    """``make_services({"ui": 1, ...})`` creates those ECS services in moto; returns their names."""
    return lambda desired, cluster="objdepth": _create_services(aws, desired, cluster)


@pytest.fixture
def healthy_routes() -> dict[str, tuple[int, str]]:
    """What the three health routes answer when every service is up (edit a copy to break one)."""
    return {
        "/yoloapi/health": (200, '{"status": "ok"}'),
        "/depthapi/health": (200, '{"status": "ok"}'),
        "/_stcore/health": (200, "ok"),
    }
