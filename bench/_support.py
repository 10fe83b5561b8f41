"""Helpers shared by the bench scripts (not a bench itself): moto in server mode on loopback
(the sandbox's MotoServer, as the tests use it), which API calls are scans (tests/support),
the process environment pointed at it, API calls counted on the tool's own clients, the CLI run
in-process, and small text tables.

Everything here talks to 127.0.0.1 only: the AWS endpoint is always a moto server started by
the bench itself, and the credentials are dummies.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The benches run as scripts (bench/ is sys.path[0]); the repository root makes tests.support
# importable, which they share with the tests (bench imports from it, never the reverse).
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from tests.support.api_scans import is_scan

REGION = "ap-northeast-1"

# Variables that could point boto3 somewhere else than the bench's moto server.
_FOREIGN = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
            "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "MIGRATOR_NAMESERVERS",
            "MIGRATOR_CONNECT_TO", "MIGRATOR_CA_BUNDLE")


def deadline(seconds: float) -> None:
    """Stop the whole process (with a traceback of every thread) if it is still running after
    `seconds`: every bench ends by itself, whatever hangs."""
    import faulthandler

    faulthandler.dump_traceback_later(seconds, exit=True)


def ensure_loopback_url(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"refusing to use {url}: the benches only talk to loopback")
    return url


@contextlib.contextmanager
def moto_server(acm_wait: float = 5.0) -> Iterator[str]:
    """The sandbox's MotoServer on 127.0.0.1 (a free port, moto_fixes installed, state reset at
    start and stop); yields its endpoint URL. acm_wait: seconds a requested certificate stays
    PENDING_VALIDATION (moto's ACM_VALIDATION_WAIT, read in-process by the server)."""
    from migrator_sandbox.moto_server import MotoServer

    server = MotoServer(acm_delay=acm_wait)
    server.start()
    try:
        yield ensure_loopback_url(server.endpoint_url)
    finally:
        server.stop()


def reset_moto() -> None:
    """Forget every resource (moto's state lives in this process, behind the server)."""
    from migrator_sandbox.moto_server import reset_moto_state

    reset_moto_state()


@contextlib.contextmanager
def aws_environment(extra: Mapping[str, str] | None = None, *,
                    endpoint: str | None = None) -> Iterator[dict[str, str]]:
    """os.environ pointed at a loopback endpoint with dummy credentials and no config files
    (boto3 reads the process environment, not migrator's Environment); restored afterwards."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as tmp:
        for name in _FOREIGN:
            os.environ.pop(name, None)
        values = {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.path.join(tmp, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if endpoint:
            values["AWS_ENDPOINT_URL"] = endpoint
        values.update(extra or {})
        ensure_loopback_url(values["AWS_ENDPOINT_URL"])
        os.environ.update(values)
        try:
            yield dict(os.environ)
        finally:
            os.environ.clear()
            os.environ.update(saved)


# -- counting API calls ----------------------------------------------------------------------


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    seconds: float = 0.0
    at: float = 0.0  # wall clock (time.time()) when the call started
    # The pagination token the answer gave for the next page (NextToken, NextRecordName, ...).
    next_page: str | None = None

    @property
    def name(self) -> str:
        return f"{self.service} {self.operation}"


@dataclass
class CallLog:
    """Every API call the tool's own clients made (before-call), with its API parameters
    (before-parameter-build) and duration (to after-call), and every HTTP request sent
    (before-send: retries included)."""

    calls: list[Call] = field(default_factory=list)
    http_requests: int = 0
    clients: int = 0
    client_seconds: float = 0.0  # creating clients (botocore loads and parses service models)

    def per_operation(self) -> Counter[str]:
        return Counter(c.name for c in self.calls)

    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    def scans(self) -> list[tuple[Call, int]]:
        """Each unfiltered call with the number of further pages read after it."""
        found: list[tuple[Call, int]] = []
        tokens: dict[str, int] = {}  # next-page token of a scan -> its index in found
        for call in self.calls:
            continued = _page_token(call)
            if continued is not None and continued in tokens:
                index = tokens.pop(continued)
                found[index] = (found[index][0], found[index][1] + 1)
            elif unfiltered(call):
                found.append((call, 0))
                index = len(found) - 1
            else:
                continue
            if call.next_page:
                tokens[call.next_page] = index
        return found


_TOKENS_IN = ("NextToken", "Marker", "StartRecordName")
_TOKENS_OUT = ("NextToken", "NextMarker", "NextRecordName")


def _page_token(call: Call) -> str | None:
    for key in _TOKENS_IN:
        if call.params.get(key):
            return str(call.params[key])
    return None


def unfiltered(call: Call) -> bool:
    """Whether the call reads a whole collection of the account instead of named resources."""
    return is_scan(call.service, call.operation, call.params)


@contextlib.contextmanager
def counting() -> Iterator[CallLog]:
    """Count the calls of every client migrator.aws.session.Aws creates while active (the tool's
    clients only; the bench's own seeding session is not counted)."""
    from migrator.aws.session import Aws

    log = CallLog()
    original = Aws._client

    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        client = original(self, *args, **kwargs)
        log.clients += 1
        log.client_seconds += time.perf_counter() - began
        # botocore passes one request context dict to every event of one call.
        pending: dict[int, dict[str, Any]] = {}
        started: dict[int, Call] = {}

        def params_of(params: dict[str, Any], context: Any = None, **_: Any) -> None:
            pending[id(context)] = _plain(params)

        def before_call(model: Any, context: Any = None, **_: Any) -> None:
            key = id(context)
            call = Call(model.service_model.service_name, model.name, pending.pop(key, {}))
            call.seconds, call.at = time.perf_counter(), time.time()
            started[key] = call
            log.calls.append(call)

        def after_call(context: Any = None, parsed: Any = None, **_: Any) -> None:
            call = started.pop(id(context), None)
            if call is None:
                return
            call.seconds = time.perf_counter() - call.seconds
            if isinstance(parsed, dict):
                call.next_page = next((str(parsed[k]) for k in _TOKENS_OUT if parsed.get(k)),
                                      None)

        def before_send(**_: Any) -> None:
            log.http_requests += 1

        client.meta.events.register("before-parameter-build.*.*", params_of)
        client.meta.events.register("before-call.*.*", before_call)
        client.meta.events.register("after-call.*.*", after_call)
        client.meta.events.register("after-call-error.*.*", after_call)
        client.meta.events.register("before-send.*.*", before_send)
        return client

    Aws._client = hooked  # type: ignore[method-assign]
    try:
        yield log
    finally:
        Aws._client = original  # type: ignore[method-assign]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- the CLI in-process ----------------------------------------------------------------------


@dataclass
class CliResult:
    status: int
    output: str
    seconds: float


def run_cli(argv: Sequence[str], variables: Mapping[str, str] | None = None) -> CliResult:
    """migrator.cli.main.main(argv) with captured output, timed."""
    from migrator.cli.environment import Environment
    from migrator.cli.main import main

    out = io.StringIO()
    env = Environment(stdout=out, stderr=out, stdin_isatty=False,
                      variables=dict(variables if variables is not None else os.environ),
                      width=120)
    began = time.perf_counter()
    status = main(list(argv), env)
    return CliResult(status, out.getvalue(), time.perf_counter() - began)


def plan_with_states(plan_file: Path) -> dict[str, Any]:
    """The plan file's JSON with each step's journaled state (from its state file, beside it)
    under step["state"] and the journal under "journal", as plan files held them before state
    files existed."""
    import json

    from migrator.core import planfile

    plan = json.loads(plan_file.read_text())
    state_file = planfile.state_path(plan_file)
    saved = json.loads(state_file.read_text()) if state_file.exists() else {}
    states = saved.get("steps", {})
    for step in plan["steps"]:
        step["state"] = states.get(step["id"], {"status": "pending"})
    plan["journal"] = saved.get("journal", [])
    return plan


def require_ok(result: CliResult, what: str) -> None:
    if result.status != 0:
        raise SystemExit(f"{what} failed (exit {result.status}):\n{result.output[-4000:]}")


# -- output ------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
          align: str | None = None) -> str:
    """A plain text table; align is one of l/r per column (default: l then r)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(row, widths, align, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def min_median(values: Sequence[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def machine() -> str:
    """nproc, CPU model and Python version, for the header of every bench."""
    import platform

    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for text in info:
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    return (f"machine: nproc {len(os.sched_getaffinity(0))} ({model}), "
            f"Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at start")
