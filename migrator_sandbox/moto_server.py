"""moto in server mode, in this process, on a free loopback port.

Running it in-process lets the other sandbox parts (DNS, load-balancer data plane, origin
firewall) read moto's state straight from its backends. The ACM issuance delay is moto's
``settings.ACM_VALIDATION_WAIT``, read at call time: a requested certificate turns ISSUED on the
first describe after that many seconds.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from . import moto_fixes

SANDBOX_ACCESS_KEY_ID = "AKIASANDBOX000000000"
SANDBOX_SECRET_ACCESS_KEY = "sandbox-secret-access-key"


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def shared_botocore_session() -> botocore.session.Session:
    """A new botocore session whose loader is shared by every such session of the process, so
    each service model (EC2's is large) is parsed once, not once per session."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return core


class SandboxSession(boto3.Session):
    """A boto3 Session whose clients and resources default to the sandbox endpoint.

    Code that only takes a session (like ``world.seed_world``) then cannot reach real AWS.
    """

    def __init__(self, endpoint_url: str, region_name: str, **kwargs: Any):
        kwargs.setdefault("botocore_session", shared_botocore_session())
        super().__init__(
            aws_access_key_id=SANDBOX_ACCESS_KEY_ID,
            aws_secret_access_key=SANDBOX_SECRET_ACCESS_KEY,
            region_name=region_name,
            **kwargs,
        )
        self.endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["endpoint_url"] = kwargs.get("endpoint_url") or self.endpoint_url
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["endpoint_url"] = kwargs.get("endpoint_url") or self.endpoint_url
        return super().resource(*args, **kwargs)


_running_lock = threading.Lock()
_shortcuts_lock = threading.Lock()
_shortcuts_users = 0
_shortcuts_saved: dict[str, Any] = {}


def _dispatch_shortcuts_on() -> None:
    """Two things moto's server recomputes on every request although they cannot change while
    the process runs, computed once while any MotoServer runs: the listing of moto's package
    directory (a listdir and some 150 isdir calls, under the dispatcher's one lock) and the
    method names of a response class (inspect.getmembers over the class)."""
    global _shortcuts_users
    import moto.backends
    import moto.core.responses

    with _shortcuts_lock:
        _shortcuts_users += 1
        if _shortcuts_users > 1:
            return
        listing = tuple(moto.backends.list_of_moto_modules())
        names_of = moto.core.responses.method_names_from_class
        _shortcuts_saved.update(listing=moto.backends.list_of_moto_modules, names=names_of)
        moto.backends.list_of_moto_modules = lambda: listing
        moto.core.responses.method_names_from_class = functools.cache(names_of)


def _dispatch_shortcuts_off() -> None:
    global _shortcuts_users
    import moto.backends
    import moto.core.responses

    with _shortcuts_lock:
        if _shortcuts_users == 0:  # a start that failed before _dispatch_shortcuts_on
            return
        _shortcuts_users -= 1
        if _shortcuts_users == 0:
            moto.backends.list_of_moto_modules = _shortcuts_saved.pop("listing")
            moto.core.responses.method_names_from_class = _shortcuts_saved.pop("names")


def reset_moto_state() -> None:
    """Forget every resource in every moto backend (moto's state is process-wide)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def set_acm_delay(seconds: float) -> None:
    """How long a requested ACM certificate stays PENDING_VALIDATION."""
    from moto import settings

    settings.ACM_VALIDATION_WAIT = seconds  # type: ignore[assignment]  # moto declares int; it only compares it


class MotoServer:
    """``moto.server.ThreadedMotoServer`` on 127.0.0.1 (port 0 = let the OS choose), with
    ``moto_fixes`` installed while it runs.

    moto keeps its state in module globals, so every server of a process serves the same
    accounts. An exclusive server (the default: the sandbox's, a bench's) owns that state: its
    backends are reset when it starts and when it stops, and one process runs at most one
    exclusive server at a time. A shared one (``exclusive=False``: the test suite's, whose
    tests reset the state themselves) neither resets nor excludes, so a test may still start a
    sandbox beside it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, acm_delay: float = 5.0,
                 exclusive: bool = True):
        from .ports import ensure_loopback

        self.host = ensure_loopback(host)
        self._port = port
        self.acm_delay = acm_delay
        self.exclusive = exclusive
        self._server: Any = None
        self._werkzeug_level: int | None = None
        self._previous_acm_delay: float | None = None

    def start(self) -> None:
        from moto import settings
        from moto.server import ThreadedMotoServer

        if self.exclusive and not _running_lock.acquire(blocking=False):
            raise RuntimeError("a sandbox moto server already runs in this process")
        try:
            if self.exclusive:
                reset_moto_state()
            moto_fixes.install()
            _dispatch_shortcuts_on()
            # werkzeug logs every request to stderr; the sandbox prints its own summary.
            wz = logging.getLogger("werkzeug")
            self._werkzeug_level = wz.level
            wz.setLevel(logging.ERROR)
            self._previous_acm_delay = settings.ACM_VALIDATION_WAIT
            set_acm_delay(self.acm_delay)
            # port 0: the OS picks a free port at bind time, so start() cannot race for it
            server = ThreadedMotoServer(ip_address=self.host, port=self._port, verbose=False)
            server.start()
        except BaseException:
            moto_fixes.uninstall()
            _dispatch_shortcuts_off()
            self._restore()
            if self.exclusive:
                _running_lock.release()
            raise
        self._server = server

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("moto is not running")
        return int(self._server.get_host_and_port()[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def session(self, region: str) -> SandboxSession:
        return SandboxSession(self.endpoint_url, region)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        if self.exclusive:
            reset_moto_state()
        moto_fixes.uninstall()
        _dispatch_shortcuts_off()
        self._restore()
        if self.exclusive:
            _running_lock.release()

    def _restore(self) -> None:
        if self._werkzeug_level is not None:
            logging.getLogger("werkzeug").setLevel(self._werkzeug_level)
            self._werkzeug_level = None
        if self._previous_acm_delay is not None:
            set_acm_delay(self._previous_acm_delay)
            self._previous_acm_delay = None
