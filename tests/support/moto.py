"""Fixtures of the moto seam: moto in server mode on loopback (boto3 speaks HTTP to it, as to AWS), a
seeded world, and the CLI run in-process with its stdout, stderr and exit status captured."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto.settings
import pytest

from migrator.cli.environment import Environment
from migrator.cli.main import main
from migrator_sandbox.moto_server import MotoServer, SandboxSession, reset_moto_state
from migrator_sandbox.world import World
from tests.support import botocore_classes
from tests.support.worlds import seeded

REGION = "ap-northeast-1"
botocore_classes.install()


@pytest.fixture(scope="session", autouse=True)
def aws_calls() -> Iterator[set[tuple[str, str]]]:
    """Every (botocore service, operation) the tool's own clients call during the whole run;
    the session-end check of tests/support/iam_recording.py holds them against the IAM policy."""
    from tests.support.iam_recording import recording_session

    with recording_session() as calls:
        yield calls


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The session's moto server (the sandbox's MotoServer, shared: tests reset it themselves,
    and a test may start a sandbox beside it)."""
    server = MotoServer(acm_delay=1, exclusive=False)
    server.start()
    yield server.endpoint_url
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> str:
    """A fresh, empty moto account; boto3 configured for it through standard variables only."""
    reset_moto_state()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                 "MIGRATOR_NAMESERVERS", "MIGRATOR_CONNECT_TO", "MIGRATOR_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 1)
    return moto_endpoint


class SharedSession(SandboxSession):
    """The tests' own view of the moto account (seeding, ``account_state``), independent of the
    tool's: dummy credentials and the endpoint given, not read from the environment, and each
    client made once for the whole run (a new session and clients per test were a good share of
    the suite's CPU). A test must not register event handlers on these shared clients."""

    def __init__(self, endpoint_url: str, region_name: str) -> None:
        super().__init__(endpoint_url, region_name)
        self._clients: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def client(self, *args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an argument that cannot be a key (a dict): a client of its own
            return super().client(*args, **kwargs)
        with self._lock:
            made = self._clients.get(key)
            if made is None:
                made = self._clients[key] = super().client(*args, **kwargs)
        return made


@pytest.fixture(scope="session")
def tests_session(moto_endpoint: str) -> SharedSession:
    return SharedSession(moto_endpoint, REGION)


@pytest.fixture
def session(aws: str, tests_session: SharedSession) -> boto3.Session:
    """A boto3 session on the fresh account of ``aws``."""
    return tests_session


@pytest.fixture
def world(session: boto3.Session) -> World:
    """The seeded "before" world (``WorldSpec()``) in the fresh account."""
    return seeded(session)


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """Run `migrator ARGS` in-process (cwd = a temp dir) and capture what it printed."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str, env: dict[str, str] | None = None) -> Result:
        import os

        out, err = io.StringIO(), io.StringIO()
        variables = {**os.environ, **(env or {})}
        status = main(list(argv), Environment(stdout=out, stderr=err, stdin_isatty=False,
                                              variables=variables, width=100))
        return Result(status, out.getvalue(), err.getvalue())

    return run
