"""A fork server for tests that start `migrator` as a real process many times (the crash suite
kills one at every step).

Each `python -m migrator` pays about 1.3 s of CPU before its first AWS call: importing boto3 and
parsing botocore's service models. The server is one process that has done that once (it
imported the CLI and built every client the tool uses, so botocore's shared loader holds the
parsed models); each `spawn` forks it, and the child runs `migrator.cli.main.main` in its own working
directory and environment. The children are real processes: their own pid, killable with
SIGKILL at any instant, their stderr in a file. The server is single-threaded, so forking it is
safe; it reaps the children and writes each exit status to a file the test reads.

Run as `python -m tests.support.forkserver`; requests are JSON lines on its stdin, answered with the
child's pid on its stdout.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """A process the server forked: the subset of subprocess.Popen the crash suite uses."""

    def __init__(self, pid: int, status_file: Path, stderr_file: Path) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status_file = status_file
        self._stderr_file = stderr_file

    def poll(self) -> int | None:
        if self.returncode is None and self._status_file.exists():
            self.returncode = int(self._status_file.read_text())
        return self.returncode

    def wait(self, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} still running after {timeout} s")
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def stderr_text(self) -> str:
        return self._stderr_file.read_text(errors="replace")


class ForkServer:
    """The server process, started once; `spawn` makes a child."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="migrator-forks-"))
        self._count = 0
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver"], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline().strip()
        assert ready == "ready", f"the fork server did not start: {ready!r}"

    def spawn(self, args: list[str], cwd: Path, env: dict[str, str]) -> Child:
        self._count += 1
        status, stderr = self._dir / f"{self._count}.status", self._dir / f"{self._count}.err"
        # Made here, not only by the child: a child killed before it opens it has said nothing.
        stderr.touch()
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env,
                                           "status": str(status), "stderr": str(stderr)}) + "\n")
        self._proc.stdin.flush()
        return Child(int(self._proc.stdout.readline()), status, stderr)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@contextlib.contextmanager
def fork_server() -> Iterator[ForkServer]:
    server = ForkServer()
    try:
        yield server
    finally:
        server.close()


# --- the server side ------------------------------------------------------------------------


def _warm_up() -> None:
    """Import what `migrator apply` / `rollback` import and build the clients they build, so
    botocore's shared loader holds every parsed service model, and tests/support/botocore_classes
    every client class, before any fork."""
    import migrator.cli.commands  # noqa: F401  (the whole CLI, as a run imports it)
    from migrator.aws.session import connect
    from tests.support import botocore_classes

    botocore_classes.install()  # the client classes built below are the children's too

    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": "warm", "AWS_SECRET_ACCESS_KEY": "warm",
                       "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    try:
        aws = connect(region="ap-northeast-1")
        for service in ("sts", "ec2", "elbv2", "acm", "route53"):
            getattr(aws, service)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become `migrator ARGS` in the request's directory and environment."""
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(err, 2)
        from migrator.cli.main import main

        code = main(request["args"])
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # the child must never return into the server's loop
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        code = 70
    os._exit(code)


def _write_status(path: str, code: int) -> None:
    temporary = path + ".tmp"
    Path(temporary).write_text(str(code))
    os.replace(temporary, path)  # the test never reads half a number


def serve(stdin: IO[bytes], stdout: IO[str]) -> None:
    _warm_up()
    # Every object made so far goes to the collector's permanent generation: a child's
    # collections then never walk (and so never copy-on-write) the server's heap -- a third of
    # a short child's CPU.
    gc.freeze()
    stdout.write("ready\n")
    stdout.flush()
    children: dict[int, str] = {}
    buffer = b""
    fd = stdin.fileno()
    open_input = True
    while open_input or children:
        readable = select.select([fd], [], [], 0.01)[0] if open_input else []
        if not open_input:
            time.sleep(0.01)
        if readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_input = False
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children[pid] = request["status"]
                stdout.write(f"{pid}\n")
                stdout.flush()
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            _write_status(children.pop(pid), os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout)
