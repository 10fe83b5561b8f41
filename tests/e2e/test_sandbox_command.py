"""Starting and stopping: ``sandbox_up`` as a foreground process stopped by a signal, and the
Sandbox object leaving nothing behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from migrator_sandbox.runner import Sandbox
from tests.support.sandbox import addresses, connect_to_map, loopback_guard, nameserver, request

ROOT = Path(__file__).resolve().parents[2]
UP = (
    "import sys\n"
    "from rich.console import Console\n"
    "from migrator_sandbox.command import sandbox_up\n"
    "sys.exit(sandbox_up(sys.argv[1], 1.0, Console(width=160, force_terminal=False)))\n"
)
CLI = "from migrator.cli.main import main; raise SystemExit(main())"


def _sourced(env_file: Path) -> dict[str, str]:
    """What a shell gets from ``source FILE`` (only the variables the file sets)."""
    out = subprocess.run(
        ["bash", "-c", 'set -e; source "$1"; env -0', "bash", str(env_file)],
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    ).stdout.decode()
    found = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {k: v for k, v in found.items() if k.startswith(("AWS_", "MIGRATOR_"))}


def _open_sockets() -> set[str]:
    """Inodes of the sockets this process has open (Linux /proc)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _listening_in_this_process() -> set[tuple[str, int]]:
    """(address, port) of every TCP socket this process has listening (Linux /proc).

    Asking the process itself, rather than connecting, keeps the check immune to other processes
    (e.g. another test run's sandbox) taking the same ports a moment later.
    """
    inodes = _open_sockets()
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and inode in inodes:  # 0A = LISTEN
            hex_ip, hex_port = local.split(":")
            ip = socket.inet_ntoa(bytes.fromhex(hex_ip)[::-1])
            found.add((ip, int(hex_port, 16)))
    return found


@pytest.mark.parametrize(
    ("sig", "via_cli"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sandbox_up-SIGTERM", "migrator-sandbox-up-SIGINT"],
)
def test_sandbox_up_runs_until_signalled(
    tmp_path: Path, sig: signal.Signals, via_cli: bool
) -> None:
    env_file = tmp_path / "custom.env"
    log = tmp_path / "up.log"
    if via_cli:  # exactly what a user types: migrator sandbox up --env-file FILE
        argv = ["-c", CLI, "sandbox", "up", "--env-file", str(env_file), "--acm-delay", "1"]
    else:
        argv = ["-c", UP, str(env_file)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), log.read_text()
        env = _sourced(env_file)
        assert env["MIGRATOR_SANDBOX_DOMAIN"] == "www.example.com"
        with loopback_guard() as violations:
            assert addresses(env, "www.example.com") == ["127.0.0.10"]
            assert request(env, "127.0.0.10", "www.example.com").status == 200
        assert violations == []
        printed = log.read_text()
        assert f"source {env_file}" in printed
        assert env["AWS_ENDPOINT_URL"] in printed

        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "sandbox stopped" in log.read_text()
    assert not env_file.exists()  # it would point at nothing now
    assert not Path(env["MIGRATOR_CA_BUNDLE"]).exists()


def test_sandbox_object_cleans_up_after_itself() -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.elbv2.models import ELBv2Backend, FakeTargetGroup
    from moto.route53.models import route53_backends

    original_health_for = FakeTargetGroup.health_for
    original_create_listener = ELBv2Backend.create_listener
    before = {t.ident for t in threading.enumerate()}
    sockets_before = _open_sockets()
    sandbox = Sandbox(acm_delay=1)
    with sandbox:
        assert sandbox.startup_seconds < 10
        env = sandbox.env
        workdir = sandbox.workdir
        assert workdir is not None and workdir.exists()
        assert FakeTargetGroup.health_for is not original_health_for  # health is simulated
        assert ELBv2Backend.create_listener is not original_create_listener  # hooked
        # a second sandbox in the same process is refused and does not disturb the first
        with pytest.raises(RuntimeError):
            Sandbox(acm_delay=1).start()
        assert addresses(env, "www.example.com") == ["127.0.0.10"]
        listening_while_up = _listening_in_this_process()
        # one socket per connect-to entry (listening or held), plus DNS, moto, wake-up pairs
        assert len(_open_sockets() - sockets_before) > len(connect_to_map(env))
    assert not workdir.exists()
    assert FakeTargetGroup.health_for is original_health_for
    assert ELBv2Backend.create_listener is original_create_listener
    assert not dict.get(route53_backends, DEFAULT_ACCOUNT_ID) or not any(
        backend.zones for backend in dict.values(route53_backends[DEFAULT_ACCOUNT_ID])
    )
    host, port = nameserver(env)
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("example.com", "SOA"), host, port=port, timeout=1)
    moto_host, moto_port = env["AWS_ENDPOINT_URL"].removeprefix("http://").split(":")
    table = connect_to_map(env)
    ours = {
        table[("127.0.0.10", 443)],
        table[("127.0.0.10", 80)],
        nameserver(env),
        (moto_host, int(moto_port)),
    }
    assert ours <= listening_while_up  # the check below can see them ...
    assert not ours & _listening_in_this_process()  # ... and they are all closed now
    assert not _open_sockets() - sockets_before  # nothing held either (LB pool ports)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [
            t.name
            for t in threading.enumerate()
            if t.ident not in before and t.name.startswith("sandbox-")
        ]
        if not left:
            break
        time.sleep(0.1)
    assert not left, left
