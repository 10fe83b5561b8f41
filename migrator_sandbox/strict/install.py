"""``StrictAWS``: turns the strict rules on over the in-process moto, and off again.

    with StrictAWS(StrictConfig.fast()) as strict:
        ...                      # every moto server in this process now behaves like AWS
        with strict.relaxed():   # seed a world: no errors, nothing counts as new
            seed_world(session)
        strict.config.floor      # the least time an apply can take here

Installing patches moto's classes in this process (so it applies to every moto server the
process runs, in-process or threaded) and registers with ``moto_state`` so the sandbox's own
readers agree; uninstalling restores every attribute exactly, in reverse order, and plain moto
is unchanged. ``clock`` (default ``time.monotonic``) is what every rule reads; tests may pass a
``ManualClock``. One StrictAWS is installed at a time per process. Install it before other patches
of the same moto classes (the sandbox's data plane and health checker) and uninstall it after
they are removed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from .. import moto_fixes, moto_state
from . import errors
from .acm import ACMRules
from .config import StrictConfig
from .ec2 import EC2Rules
from .elbv2 import ELBv2Rules
from .ledger import Ledger
from .patching import Patcher
from .route53 import Route53Rules
from .target_health import TargetHealthRules

_installed = threading.Lock()


class StrictAWS:
    """The strict AWS layer: ``install()`` / ``uninstall()`` or a ``with`` block."""

    def __init__(
        self,
        config: StrictConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config = config or StrictConfig.fast()
        self.clock = clock
        self.ledger = Ledger(clock=clock)
        self._patcher: Patcher | None = None
        self._acm: ACMRules | None = None
        self._added_codes: list[str] = []

    # -- state --------------------------------------------------------------------------------

    @property
    def installed(self) -> bool:
        return self._patcher is not None

    @property
    def floor(self) -> float:
        """The critical-path floor of an apply (see ``StrictConfig.critical_path_floor``)."""
        return self.config.floor

    @contextlib.contextmanager
    def relaxed(self) -> Iterator[StrictAWS]:
        """No strict errors or throttling inside; what is created counts as old (visible,
        provisioned) -- for seeding a world."""
        with self.ledger.relaxing():
            yield self

    # -- moto_state view ----------------------------------------------------------------------

    def certificate_status(self, bundle: Any) -> str | None:
        if self._acm is None:
            return None
        return self._acm.status_of(bundle)

    # -- install ------------------------------------------------------------------------------

    def install(self) -> StrictAWS:
        if self.installed:
            raise RuntimeError("this StrictAWS is already installed")
        if not _installed.acquire(blocking=False):
            raise RuntimeError("another StrictAWS is installed in this process")
        patcher = Patcher()
        fixes_installed = False
        try:
            self.ledger = Ledger(clock=self.clock)
            ledger, config = self.ledger, self.config
            ec2 = EC2Rules(ledger, config)
            acm = ACMRules(ledger, config)
            moto_fixes.install()  # groups on interfaces, which the EC2 rules build on
            fixes_installed = True
            ec2.install(patcher)
            ELBv2Rules(ledger, config, ec2, acm).install(patcher)
            TargetHealthRules(ledger, config).install(patcher)
            acm.install(patcher)
            Route53Rules(ledger, config).install(patcher)
            self._allow_unmodelled_codes()
        except BaseException:
            patcher.restore()
            if fixes_installed:
                moto_fixes.uninstall()
            self._forget_unmodelled_codes()
            _installed.release()
            raise
        self._patcher, self._acm = patcher, acm
        moto_state.set_strict_view(self)
        return self

    def uninstall(self) -> None:
        """Restore plain moto (idempotent)."""
        patcher = self._patcher
        if patcher is None:
            return
        try:
            moto_state.set_strict_view(None)
            patcher.restore()
            moto_fixes.uninstall()
            self._forget_unmodelled_codes()
        finally:
            self._patcher = self._acm = None
            _installed.release()

    def __enter__(self) -> StrictAWS:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()

    # -- moto's serializer --------------------------------------------------------------------

    def _allow_unmodelled_codes(self) -> None:
        """moto warns for error codes missing from botocore's model; AWS sends these two."""
        from moto.core import errors as moto_errors

        for code in errors.UNMODELLED_CODES:
            if code not in moto_errors.COMMON_ERROR_CODES:
                moto_errors.COMMON_ERROR_CODES.append(code)
                self._added_codes.append(code)

    def _forget_unmodelled_codes(self) -> None:
        from moto.core import errors as moto_errors

        for code in self._added_codes:
            with contextlib.suppress(ValueError):
                moto_errors.COMMON_ERROR_CODES.remove(code)
        self._added_codes.clear()
